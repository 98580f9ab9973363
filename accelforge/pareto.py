"""Pareto pruning (minimise every column), exact and deterministic.

Ties: of rows equal in every column only the first (lowest index) is kept, so results do not
depend on worker count or event order when inputs are sorted deterministically. Inside the search
a tie is interchangeable; the final answer keeps its ties (``keep_ties``, docs/MAPPER.md §7).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "group_ids",
    "pareto_front_2d",
    "pareto_mask",
    "pareto_mask_grouped",
    "pareto_rows",
    "tolerant_view",
    "unique_rows",
]


BLOCK = 32
"""Rows compared against each other at once (a block x block x columns boolean array)."""


def pareto_mask(values: np.ndarray, *, keep_ties: bool = False) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``values`` (rows x objectives).

    Exact ties keep the lowest index, or all of them with ``keep_ties``. Columns that cannot
    separate rows are dropped; rows that equal another in every column but the first and are
    no better in it go next; rows that a few pivot rows dominate go next; the rest are visited
    in lexicographic order (a row's dominators come before it) in blocks checked against the
    kept rows with numpy. With two informative columns one sorted sweep decides every row.
    """
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=bool)
    if keep_ties:
        ids = group_ids(values.reshape(n, -1))
        return np.isin(ids, ids[pareto_mask(values)])
    values = _informative_columns(values.reshape(n, -1))
    mask = np.zeros(n, dtype=bool)
    if values.shape[1] <= 1:
        mask[int(np.argmin(values[:, 0])) if values.shape[1] else 0] = True
        return mask
    if values.shape[1] == 2:
        return _pareto_mask_2d(values)
    rows = _best_in_first_column(values)
    rows = rows[~_dominated_by_pivots(values, rows)]
    ordered_rows = rows[np.lexsort((rows, *values[rows].T[::-1]))]
    ordered = values[ordered_rows]
    kept: list[np.ndarray] = []
    kept_values = np.empty((0, values.shape[1]))
    for start in range(0, len(ordered), BLOCK):
        block = ordered[start : start + BLOCK]
        alive = np.flatnonzero(~_dominated(kept_values, block))
        survivors = block[alive]  # a row a dead row dominates is dead too: compare survivors
        earlier = np.all(survivors[:, None, :] <= survivors[None, :, :], axis=2)
        alive = alive[~np.triu(earlier, 1).any(axis=0)]
        kept.append(start + alive)
        kept_values = np.concatenate([kept_values, block[alive]])
    mask[ordered_rows[np.concatenate(kept)]] = True
    return mask


def _pareto_mask_2d(values: np.ndarray) -> np.ndarray:
    """:func:`pareto_mask` of two columns, by one sorted sweep.

    In (column 0, column 1, index) order, a row is kept when it is lower in column 1 than every
    row before it (those are no worse in column 0).
    """
    n = len(values)
    order = np.lexsort((np.arange(n), values[:, 1], values[:, 0]))
    second = values[order, 1]
    keep = np.ones(n, dtype=bool)
    keep[1:] = second[1:] < np.minimum.accumulate(second)[:-1]
    mask = np.zeros(n, dtype=bool)
    mask[order[keep]] = True
    return mask


def pareto_rows(data: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The rows of ``data`` not dominated in ``columns`` (any number, all minimised).

    The rows keep their index labels and order. Rows missing a value in ``columns`` (NaN) are
    left out; of rows equal in every column only the first is kept (as :func:`pareto_mask`).
    Empty when ``data`` lacks a column. ``Mappings.pareto`` and the explorer's 2-D and 3-D
    views filter with this.
    """
    columns = list(columns)
    if data.empty or not columns or any(c not in data for c in columns):
        return data.iloc[0:0]
    values = data[columns].to_numpy(dtype=float)
    rows = np.flatnonzero(~np.isnan(values).any(axis=1))
    return data.iloc[rows[pareto_mask(values[rows])]]


def pareto_front_2d(data: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """:func:`pareto_rows` on ``x`` and ``y``, sorted by ``x``, then ``y`` (a curve's order)."""
    front = pareto_rows(data, [x, y])
    return front.sort_values([x, y], kind="stable") if len(front) else front


def _informative_columns(values: np.ndarray) -> np.ndarray:
    """``values`` without constant columns and without repeats of an earlier column."""
    keep: list[int] = []
    for j in range(values.shape[1]):
        column = values[:, j]
        if column.min() == column.max():
            continue
        if any(np.array_equal(column, values[:, k]) for k in keep):
            continue
        keep.append(j)
    return values[:, keep]


def _best_in_first_column(values: np.ndarray) -> np.ndarray:
    """Indices of the rows lowest in column 0 (first index on ties) among rows equal elsewhere.

    Every other row is dominated or an exact tie of a later-kept one.
    """
    n = len(values)
    order = np.lexsort((np.arange(n), values[:, 0], *values[:, 1:].T[::-1]))
    rest = values[order, 1:]
    first = np.ones(n, dtype=bool)
    first[1:] = np.any(rest[1:] != rest[:-1], axis=1)
    return np.sort(order[first])


def _dominated_by_pivots(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each of ``rows``: whether a pivot row (best in a column, or in scaled sum) beats it.

    Beating is being no worse everywhere and better somewhere, or an exact tie with a lower
    index.
    """
    part = values[rows]
    span = part.max(axis=0) - part.min(axis=0)
    scaled = (part - part.min(axis=0)) / np.where(span > 0, span, 1.0)
    picks = set(np.argmin(part, axis=0).tolist())
    picks |= set(np.argsort(scaled.sum(axis=1), kind="stable")[:16].tolist())
    pivots = np.array(sorted(picks))
    beaten = np.zeros(len(rows), dtype=bool)
    for p in pivots:
        no_worse = np.all(part[p] <= part, axis=1)
        better = np.any(part[p] < part, axis=1) | (rows[p] < rows)
        beaten |= no_worse & better
    return beaten


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
    return unique_rows(keys)[1]


def unique_rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of ``keys`` in lexicographic order, and each row's index among them.

    Each column is coded by rank and the codes are packed into one integer, so only 1-D
    arrays are sorted (``np.unique(axis=0)`` sorts whole rows and is far slower).
    """
    n, m = keys.shape
    packed = np.zeros(n, dtype=np.int64)
    capacity = 1
    for j in range(m):
        values, codes = np.unique(keys[:, j], return_inverse=True)
        capacity *= len(values)
        if capacity >= 2**62:
            unique, inverse = np.unique(keys, axis=0, return_inverse=True)
            return unique, inverse.reshape(-1)
        packed = packed * len(values) + codes.reshape(-1)
    _, first, inverse = np.unique(packed, return_index=True, return_inverse=True)
    return keys[first], inverse.reshape(-1)


def pareto_mask_grouped(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Pareto mask computed separately inside each group.

    Rows equal to another row of their group in every column but the first, and no better in
    it, are dropped for all groups at once; only groups left with several rows are swept.
    """
    n = len(values)
    mask = np.zeros(n, dtype=bool)
    if n == 0:
        return mask
    values = np.asarray(values, dtype=float).reshape(n, -1)
    groups = np.asarray(groups).reshape(n)
    if values.shape[1] == 0:
        values = np.zeros((n, 1))
    other = values[:, 1:]
    varying = [j for j in range(other.shape[1]) if other[:, j].min() != other[:, j].max()]
    keys = np.column_stack([groups, other[:, varying]])
    order = np.lexsort((np.arange(n), values[:, 0], *keys.T[::-1]))
    sorted_keys = keys[order]
    first = np.ones(n, dtype=bool)
    first[1:] = np.any(sorted_keys[1:] != sorted_keys[:-1], axis=1)
    rows = np.sort(order[first])
    by_group = np.argsort(groups[rows], kind="stable")
    rows = rows[by_group]
    bounds = np.flatnonzero(np.diff(groups[rows])) + 1
    small: dict[int, list[np.ndarray]] = {}
    for members in np.split(rows, bounds):
        if len(members) == 1:
            mask[members] = True
        elif len(members) <= SMALL_GROUP:
            small.setdefault(1 << (len(members) - 1).bit_length(), []).append(members)
        else:
            mask[members[pareto_mask(values[members])]] = True
    for width, batch in small.items():
        _small_groups_mask(values, batch, width, mask)
    return mask


SMALL_GROUP = 32
"""Groups of at most this many rows are pruned together, all pairs at once."""


def _small_groups_mask(
    values: np.ndarray, batch: list[np.ndarray], width: int, mask: np.ndarray
) -> None:
    """Mark the non-dominated rows of each small group (row indices ascending) in ``mask``.

    The groups are padded to ``width`` rows with NaN, which compares false, so padding never
    dominates nor is kept. Exact ties keep the lowest index, as :func:`pareto_mask` does.
    """
    index = np.full((len(batch), width), -1)
    for g, members in enumerate(batch):
        index[g, : len(members)] = members
    padded = np.where((index >= 0)[:, :, None], values[np.maximum(index, 0)], np.nan)
    a, b = padded[:, :, None, :], padded[:, None, :, :]  # a: candidate dominator i, b: row j
    no_worse = np.all(a <= b, axis=3)
    better = np.any(a < b, axis=3) | np.triu(np.ones((width, width), dtype=bool), 1)[None]
    dominated = (no_worse & better).any(axis=1)
    alive = ~dominated & (index >= 0)
    mask[index[alive]] = True


def tolerant_view(
    values: np.ndarray,
    n_objectives: int,
    objective_tolerance: float,
    resource_tolerance: float,
    capacities: np.ndarray | None = None,
    stages: int = 1,
    n_einsums: int = 1,
) -> np.ndarray:
    """The columns Pareto pruning compares, rounded as docs/MAPPER.md §8 allows (values unchanged).

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
