"""Pareto pruning (minimise every column), exact and deterministic.

Ties: of rows equal in every column only the first (lowest index) is kept, so results do not
depend on worker count or event order when inputs are sorted deterministically.
"""

from __future__ import annotations

import numpy as np

__all__ = ["group_ids", "pareto_mask", "pareto_mask_grouped", "tolerant_view"]


BLOCK = 256
"""Rows compared against each other at once (a block x block x columns boolean array)."""


def pareto_mask(values: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``values`` (rows x objectives).

    Rows are visited in lexicographic order, so a row's dominators (and its exact ties) come
    before it; a row is kept unless an earlier row is no worse in every column. Blocks of rows
    are checked against the kept rows and against each other with numpy.
    """
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
    ordered = values[order]
    kept: list[np.ndarray] = []
    kept_values = np.empty((0, values.shape[1]))
    for start in range(0, n, BLOCK):
        block = ordered[start : start + BLOCK]
        alive = ~_dominated(kept_values, block)
        earlier = np.all(block[:, None, :] <= block[None, :, :], axis=2)
        alive &= ~np.triu(earlier, 1).any(axis=0)
        kept.append(start + np.flatnonzero(alive))
        kept_values = np.concatenate([kept_values, block[alive]])
    mask = np.zeros(n, dtype=bool)
    mask[order[np.concatenate(kept)]] = True
    return mask


def _dominated(by: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each of ``rows``: whether some row of ``by`` is no worse in every column."""
    out = np.zeros(len(rows), dtype=bool)
    for start in range(0, len(by), 16 * BLOCK):
        part = by[start : start + 16 * BLOCK]
        out |= np.all(part[:, None, :] <= rows[None, :, :], axis=2).any(axis=0)
    return out


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
    if len(values) == 0:
        return mask
    order = np.argsort(groups, kind="stable")
    bounds = np.flatnonzero(np.diff(groups[order])) + 1
    for members in np.split(order, bounds):
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
