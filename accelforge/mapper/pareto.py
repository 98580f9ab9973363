"""Pareto pruning (minimise every column), exact and deterministic.

Ties: of rows equal in every column only the first (lowest index) is kept, so results do not
depend on worker count or event order when inputs are sorted deterministically.
"""

from __future__ import annotations

import numpy as np

__all__ = ["group_ids", "pareto_mask", "pareto_mask_grouped", "tolerant_view"]


def pareto_mask(values: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``values`` (rows x objectives)."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=bool)
    if values.ndim == 1 or values.shape[1] == 1:
        column = values.reshape(n)
        keep = np.zeros(n, dtype=bool)
        keep[int(np.argmin(column))] = True
        return keep
    order = np.lexsort(values.T[::-1])
    kept: list[int] = []
    kept_values = np.empty((0, values.shape[1]))
    for index in order:
        row = values[index]
        if len(kept) and np.any(np.all(kept_values <= row, axis=1)):
            continue
        kept.append(int(index))
        kept_values = np.vstack([kept_values, row])
    mask = np.zeros(n, dtype=bool)
    mask[kept] = True
    return mask


def group_ids(keys: np.ndarray) -> np.ndarray:
    """Integer group id per row of ``keys`` (rows with equal keys share an id)."""
    if keys.size == 0 or keys.ndim == 1 and len(keys) == 0:
        return np.zeros(len(keys), dtype=int)
    keys = keys.reshape(len(keys), -1)
    if keys.shape[1] == 0:
        return np.zeros(len(keys), dtype=int)
    _, inverse = np.unique(keys, axis=0, return_inverse=True)
    return inverse.reshape(-1)


def pareto_mask_grouped(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Pareto mask computed separately inside each group."""
    mask = np.zeros(len(values), dtype=bool)
    for group in np.unique(groups):
        members = np.flatnonzero(groups == group)
        mask[members[pareto_mask(values[members])]] = True
    return mask


def tolerant_view(
    values: np.ndarray,
    n_objectives: int,
    objective_tolerance: float,
    resource_tolerance: float,
    capacities: np.ndarray | None = None,
    stages: int = 1,
    n_einsums: int = 1,
) -> np.ndarray:
    """The columns Pareto pruning compares, rounded as MAPPER.md §8 allows; values never change.

    The first ``n_objectives`` columns are rounded down to a log grid of ratio (1 + eps) with
    (1 + eps) ** stages = 1 + objective_tolerance, so after every pruning stage a kept row is
    within the tolerance of any row it displaced. The other columns (bits of capacity
    ``capacities``) are rounded up to a step of max(rho * x, rho / n_einsums) of the capacity.
    """
    if objective_tolerance <= 0 and resource_tolerance <= 0:
        return values
    view = np.array(values, dtype=float, copy=True)
    if objective_tolerance > 0:
        eps = (1 + objective_tolerance) ** (1 / max(stages, 1)) - 1
        head = view[:, :n_objectives]
        positive = head > 0
        head[positive] = (1 + eps) ** np.floor(np.log(head[positive]) / np.log1p(eps))
    if resource_tolerance > 0 and capacities is not None and view.shape[1] > n_objectives:
        tail = view[:, n_objectives:]
        caps = np.where(np.isfinite(capacities) & (capacities > 0), capacities, np.nan)
        fraction = tail / caps
        step = np.maximum(resource_tolerance * fraction, resource_tolerance / n_einsums)
        rounded = np.ceil(fraction / step) * step * caps
        view[:, n_objectives:] = np.where(np.isnan(rounded), tail, rounded)
    return view
