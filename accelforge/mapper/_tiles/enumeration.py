"""Incremental tile-shape enumeration with optimistic pruning (docs/MAPPER.md §4.2-§4.4).

Rank variables are added one at a time: the partial rows are crossed with the next variable's
tile chains and every partial row that fails a constraint even in its most favourable
completion is dropped. The surviving complete rows come out in bounded chunks, so neither
time nor memory follow the size of the raw cross product.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from accelforge.model.paths import Loop
from accelforge.pareto import unique_rows

__all__ = [
    "Pruning",
    "VariableChains",
    "enumerate_tiles",
    "imperfect_candidates",
    "tile_chains",
    "variable_chains",
]

CHUNK_ROWS = 1 << 17
"""Rows handed to the model at once; also the size of one crossing step."""


@functools.lru_cache(maxsize=4096)
def _divisors(n: int) -> tuple[int, ...]:
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return tuple(small + [n // d for d in reversed(small) if d * d != n])


def imperfect_candidates(bound: int, coarseness: int = 1) -> list[int]:
    """Outermost-loop tiles allowed to leave a remainder.

    For each iteration count ceil(bound / n) only the smallest n (§4.2); steps grow by
    ``coarseness``.
    """
    by_count: dict[int, int] = {}
    n = 1
    while n <= bound:
        by_count.setdefault(-(-bound // n), n)
        n = n * coarseness if coarseness > 1 else n + 1
    by_count.setdefault(1, bound)
    return sorted(set(by_count.values()))


@functools.lru_cache(maxsize=1024)
def tile_chains(
    bound: int, n_loops: int, coarseness: int = 1, imperfect: tuple[bool, ...] = ()
) -> tuple[tuple[int, ...], ...]:
    """Tile chains t1, t2 | t1, ..., the innermost tile fixed to 1 (§4.2).

    Every tile divides its enclosing tile, except that a loop flagged in ``imperfect`` may
    leave a remainder when every loop above it is trivial (those vanish, so it is then the
    outermost loop of the variable).
    """
    if n_loops == 0:
        return ((),)
    if bound == 1:
        return ((1,) * n_loops,)

    def candidates(outer: int) -> tuple[int, ...] | list[int]:
        values = _divisors(outer)
        if coarseness <= 1:
            return values
        kept: list[int] = []
        for value in values:
            if not kept or value >= coarseness * kept[-1] or value == outer:
                kept.append(value)
        return kept

    chains: list[tuple[int, ...]] = []

    def walk(outer: int, prefix: tuple[int, ...]) -> None:
        if len(prefix) == n_loops - 1:
            chains.append((*prefix, 1))
            return
        flagged = len(prefix) < len(imperfect) and imperfect[len(prefix)]
        first = flagged and all(t == bound for t in prefix)
        for tile in imperfect_candidates(outer, coarseness) if first else candidates(outer):
            walk(tile, (*prefix, tile))

    walk(bound, ())
    return tuple(chains)


@dataclass
class VariableChains:
    """Every tile chain of one rank variable and what each chain contributes to the limits."""

    variable: str
    loops: list[int]
    """Indices (in the template's loop list) of this variable's loops, outermost first."""
    tiles: np.ndarray
    """Chains x loops: the tile of each loop."""
    spatial: np.ndarray
    """Chains x fanout dimensions: the product of this variable's spatial factors."""
    nontrivial: np.ndarray
    """Chains: number of loops with factor > 1."""
    fused_nontrivial: np.ndarray
    """Chains: number of fused loops (above the fused depth) with factor > 1."""

    def take(self, mask: np.ndarray) -> VariableChains:
        """The chains selected by ``mask``."""
        return VariableChains(
            self.variable,
            self.loops,
            self.tiles[mask],
            self.spatial[mask],
            self.nontrivial[mask],
            self.fused_nontrivial[mask],
        )


def variable_chains(
    loops: list[Loop],
    bounds: Mapping[str, int],
    dimensions: Sequence[tuple[str | None, str | None]],
    fused_depth: int,
    chains_of: Callable[[str, list[Loop]], Sequence[tuple[int, ...]]],
) -> list[VariableChains]:
    """Per rank variable of the template (sorted): its chains and their contributions."""
    by_variable: dict[str, list[int]] = {}
    for index, loop in enumerate(loops):
        by_variable.setdefault(loop.rank_variable, []).append(index)
    out = []
    for var, indices in sorted(by_variable.items()):
        chains = chains_of(var, [loops[i] for i in indices])
        tiles = np.array(chains, dtype=float).reshape(len(chains), len(indices))
        enclosing = np.column_stack([np.full(len(chains), float(bounds[var])), tiles[:, :-1]])
        factors = enclosing / tiles
        spatial = np.ones((len(chains), len(dimensions)))
        for column, index in enumerate(indices):
            loop = loops[index]
            if loop.spatial:
                spatial[:, dimensions.index((loop.component, loop.dimension))] *= factors[:, column]
        nontrivial = factors > 1
        fused = np.array([i < fused_depth for i in indices], dtype=bool)
        out.append(
            VariableChains(
                var,
                indices,
                tiles,
                spatial,
                nontrivial.sum(axis=1),
                nontrivial[:, fused].sum(axis=1),
            )
        )
    return out


@dataclass
class Pruning:
    """Constraints checked on partial rows (each optimistic: only certain failures drop)."""

    fanouts: np.ndarray
    """Per fanout dimension: the instances available."""
    needed: np.ndarray
    """Per fanout dimension: the instances a complete row must use (``min_usage``)."""
    max_loops: float
    max_loops_minus_ranks: float
    max_fused_loops: float
    capacity_ok: Callable[[list[tuple[list[int], np.ndarray]]], np.ndarray] | None = None
    """Given the known variables' (loop indices, tiles as loops x rows), which rows fit every
    memory with the other loops at tile 1 (occupancy grows with every tile: optimistic)."""


def enumerate_tiles(
    chains: list[VariableChains], n_loops: int, pruning: Pruning, bounds: Mapping[str, int]
) -> Iterator[np.ndarray]:
    """Complete rows that pass every optimistic check, as tile arrays (loops x rows) in chunks."""
    order = sorted(chains, key=lambda c: len(c.tiles))
    n_dims = len(pruning.fanouts)
    best_left = np.ones((len(order) + 1, n_dims))
    for i in range(len(order) - 1, -1, -1):
        column_max = order[i].spatial.max(axis=0) if len(order[i].tiles) else 0.0
        best_left[i] = best_left[i + 1] * column_max
    groups = [_ChainGroups.build(_chain_keys(c, bounds[c.variable])) for c in order]
    start = _Partial([], np.concatenate([np.ones((1, n_dims)), np.zeros((1, 3))], axis=1))
    buffer: list[np.ndarray] = []
    buffered = 0
    for rows in _expand(start, order, groups, 0, pruning, best_left):
        tiles = np.ones((n_loops, rows.n))
        for chain, picks in zip(order, rows.picks, strict=True):
            tiles[chain.loops] = chain.tiles[picks].T
        buffer.append(tiles)
        buffered += rows.n
        if buffered >= CHUNK_ROWS:
            yield np.concatenate(buffer, axis=1)
            buffer, buffered = [], 0
    if buffered:
        yield np.concatenate(buffer, axis=1)


def _chain_keys(chain: VariableChains, bound: int) -> np.ndarray:
    """Per chain: spatial factors per dimension, then its loop counts.

    The counts are: total, beyond one per rank variable, fused. Together, everything the
    limits see besides capacity.
    """
    counts = np.column_stack(
        [chain.nontrivial, chain.nontrivial - (bound > 1), chain.fused_nontrivial]
    )
    return np.concatenate([chain.spatial, counts.astype(float)], axis=1)


def _combine(left: np.ndarray, right: np.ndarray, n_dims: int) -> np.ndarray:
    """Keys of joined rows: spatial factors multiply, loop counts add."""
    return np.concatenate(
        [left[..., :n_dims] * right[..., :n_dims], left[..., n_dims:] + right[..., n_dims:]],
        axis=-1,
    )


def _keys_ok(keys: np.ndarray, pruning: Pruning, best_left: np.ndarray) -> np.ndarray:
    """Whether rows with these keys can still meet every fanout and loop limit."""
    n_dims = len(pruning.fanouts)
    spatial = keys[..., :n_dims]
    ok = np.all(spatial <= pruning.fanouts * (1 + 1e-9), axis=-1)
    ok &= np.all(spatial * best_left >= pruning.needed * (1 - 1e-9), axis=-1)
    ok &= keys[..., n_dims] <= pruning.max_loops
    ok &= keys[..., n_dims + 1] <= pruning.max_loops_minus_ranks
    ok &= keys[..., n_dims + 2] <= pruning.max_fused_loops
    return ok


@dataclass
class _Partial:
    """Rows over the first k variables: their chain picks and their keys (see _chain_keys)."""

    picks: list[np.ndarray]
    keys: np.ndarray

    @property
    def n(self) -> int:
        return len(self.keys)

    def take(self, index: np.ndarray) -> _Partial:
        return _Partial([p[index] for p in self.picks], self.keys[index])


@dataclass
class _ChainGroups:
    """One variable's chains grouped by key (computed once per template)."""

    keys: np.ndarray
    """Every chain's key."""
    unique: np.ndarray
    """The distinct keys."""
    members: list[np.ndarray]
    """Per distinct key: the chains that have it."""

    @classmethod
    def build(cls, keys: np.ndarray) -> _ChainGroups:
        unique, group = unique_rows(keys)
        order = np.argsort(group, kind="stable")
        bounds = np.searchsorted(group[order], np.arange(len(unique) + 1))
        return cls(keys, unique, [order[bounds[j] : bounds[j + 1]] for j in range(len(unique))])


def _cross(
    rows: _Partial, chains: _ChainGroups, pruning: Pruning, best_left: np.ndarray
) -> Iterator[_Partial]:
    """Rows joined with every chain whose key keeps them within the limits, in chunks.

    Rows and chains are grouped by key, the limits are checked once per pair of groups, and
    only pairs of compatible groups are expanded.
    """
    n_dims = len(pruning.fanouts)
    row_keys, row_group = unique_rows(rows.keys)
    joined = _combine(row_keys[:, None, :], chains.unique[None, :, :], n_dims)
    allowed = _keys_ok(joined, pruning, best_left)
    row_order = np.argsort(row_group, kind="stable")
    row_bounds = np.searchsorted(row_group[row_order], np.arange(len(row_keys) + 1))
    left_parts: list[np.ndarray] = []
    right_parts: list[np.ndarray] = []
    size = 0
    for group in range(len(row_keys)):
        partners = np.flatnonzero(allowed[group])
        if not len(partners):
            continue
        picks = np.concatenate([chains.members[j] for j in partners])
        members = row_order[row_bounds[group] : row_bounds[group + 1]]
        step = max(1, CHUNK_ROWS // len(picks))
        for start in range(0, len(members), step):
            part = members[start : start + step]
            left_parts.append(np.repeat(part, len(picks)))
            right_parts.append(np.tile(picks, len(part)))
            size += len(part) * len(picks)
            if size >= CHUNK_ROWS:
                yield _joined(rows, chains, left_parts, right_parts, n_dims)
                left_parts, right_parts, size = [], [], 0
    if size:
        yield _joined(rows, chains, left_parts, right_parts, n_dims)


def _joined(
    rows: _Partial,
    chains: _ChainGroups,
    left_parts: list[np.ndarray],
    right_parts: list[np.ndarray],
    n_dims: int,
) -> _Partial:
    left = np.concatenate(left_parts)
    right = np.concatenate(right_parts)
    return _Partial(
        [p[left] for p in rows.picks] + [right],
        _combine(rows.keys[left], chains.keys[right], n_dims),
    )


def _expand(
    rows: _Partial,
    order: list[VariableChains],
    groups: list[_ChainGroups],
    k: int,
    pruning: Pruning,
    best_left: np.ndarray,
) -> Iterator[_Partial]:
    if rows.n == 0:
        return
    if k == len(order):
        yield rows
        return
    for crossed in _cross(rows, groups[k], pruning, best_left[k + 1]):
        kept = crossed.take(_fits(crossed, order[: k + 1], pruning))
        yield from _expand(kept, order, groups, k + 1, pruning, best_left)


def _fits(rows: _Partial, known: list[VariableChains], pruning: Pruning) -> np.ndarray:
    """Rows whose known tiles fit every memory (optimistically, §4.3)."""
    if pruning.capacity_ok is None or rows.n == 0:
        return np.ones(rows.n, dtype=bool)
    tiles = [
        (chain.loops, chain.tiles[picks].T) for chain, picks in zip(known, rows.picks, strict=True)
    ]
    return pruning.capacity_ok(tiles)
