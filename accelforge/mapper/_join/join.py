"""The FFM join (MAPPER.md §5-§7): combine per-Einsum pmappings into Pareto-optimal mappings.

Einsums are joined in workload order. A partial join is grouped by its interface to the rest of
the workload: for every live tensor where it is backed and under which loops (with their tile
shapes), and the loops it shares with the next Einsum. A loop is identified by the ranks of the
shared tensors that its rank variable indexes, not by the variable's name, so Einsums that name
one tensor dimension differently fuse. Only pmappings with an equal interface join. Capacity is
tracked exactly with the H / F / P columns of §6.3; after every step a row dominated in every
objective and every tracked column of its group is dropped (of exact ties one is kept, except
at the last step, whose rows are complete mappings).

Ties: with one objective the result is the optimum and its ties (§7), i.e. every complete
mapping reaching the last step with the minimal value. Earlier pruning (§4.5 within a
template, and each partial join) keeps one row of exact ties, so ties that were
interchangeable there are not all recovered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from accelforge.frontend.mapper.metrics import Metrics
from accelforge.mapper._join.bounds import Bound, rest_points, weightings
from accelforge.mapper._join.groups import (
    RightGroup,
    RightMemory,
    merged_across_templates,
    right_groups,
    right_memory,
)
from accelforge.mapper._join.loop_blocks import (
    Indexing,
    Partition,
    canonical,
    meet,
    relabel,
    truncate,
)
from accelforge.mapper._pmappings.make import (
    Pmappings,
    objective_names,
)
from accelforge.mapper.pareto import pareto_mask, tolerant_view

__all__ = ["BEAM", "JoinedRows", "JoinStats", "join"]

BEAM = 128
"""Partial joins the bound-finding greedy pass keeps per step (the lowest objective first)."""


@dataclass
class _Partial:
    key: tuple
    objectives: np.ndarray
    H: dict[str, np.ndarray]
    F: dict[tuple[str, str], np.ndarray]
    P: dict[str, np.ndarray]
    pers: dict[str, np.ndarray]
    choices: list[tuple[np.ndarray, np.ndarray]]
    """Per joined Einsum: (table index, row index) of every row."""
    spatial: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    """Max usage so far of each fanout dimension (kept only with RESOURCE_USAGE)."""
    _low: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.objectives)

    def low(self) -> np.ndarray:
        """Per objective, the lowest value of any row."""
        if self._low is None:
            self._low = self.objectives.min(axis=0)
        return self._low

    def take(self, rows: np.ndarray) -> _Partial:
        return _Partial(
            self.key,
            self.objectives[rows],
            {m: v[rows] for m, v in self.H.items()},
            {k: v[rows] for k, v in self.F.items()},
            {m: v[rows] for m, v in self.P.items()},
            {m: v[rows] for m, v in self.pers.items()},
            [(t[rows], r[rows]) for t, r in self.choices],
            {k: v[rows] for k, v in self.spatial.items()},
        )

    def columns(self) -> np.ndarray:
        parts = [self.objectives] + [self.spatial[k][:, None] for k in sorted(self.spatial)]
        for store in (self.H, self.P):
            parts += [store[m] for m in sorted(store)]
        parts += [self.F[k][:, None] for k in sorted(self.F)]
        parts += [self.pers[m][:, None] for m in sorted(self.pers)]
        return np.column_stack(parts)


@dataclass
class JoinStats:
    """What one join step did (for events and reports)."""

    einsum: str
    group_pairs: int = 0
    candidate_pairs: int = 0
    rows_in: int = 0
    rows_out: int = 0
    capacity_drops: int = 0


@dataclass
class JoinedRows:
    """The final Pareto-optimal full mappings (with one objective: the optimum and its ties),
    sorted by objectives, then by the template and row chosen for each Einsum."""

    objectives: list[str]
    values: np.ndarray
    peak_bits: dict[str, np.ndarray]
    choices: list[tuple[np.ndarray, np.ndarray]]
    steps: list[JoinStats] = field(default_factory=list)


def join(
    pmappings: Pmappings,
    order: list[str],
    users: dict[str, list[int]],
    size_of: Callable[[str], float],
    indexing: list[Indexing],
    *,
    on_step: Callable[[JoinStats, Any], None] | None = None,
) -> JoinedRows:
    """Join every Einsum's pmappings in ``order`` (MAPPER.md §6).

    ``users`` lists each tensor's Einsums (positions in ``order``), ``indexing`` gives, per
    Einsum, which rank variable indexes each rank of its tensors: fused loops are matched by
    the tensor ranks they iterate over, not by the names of their rank variables (§5).

    Unless RESOURCE_USAGE is asked for, quick greedy joins (per weighting of the objectives,
    the best row per interface, and only the ``BEAM`` best interfaces; all of them if that
    dead-ends) first find complete mappings; the exact join then drops every partial row whose
    optimistic completion one of them beats (:mod:`~accelforge.mapper._join.bounds`, the pruning
    §6.4 permits: it never drops a front point, an optimum or a tie of it).
    """
    used_by = [{t for t, u in users.items() if k in u} for k in range(len(order))]
    right = []
    for k, einsum in enumerate(order):
        previous = used_by[k] & (used_by[k - 1] if k else set())
        following = used_by[k] & (used_by[k + 1] if k + 1 < len(order) else set())
        groups = right_groups(pmappings.einsums[einsum].tables, indexing[k], previous, following)
        right.append(merged_across_templates(groups, pmappings))
    args = (pmappings, order, users, size_of, right)
    bound = _bound(args, pmappings, order) if _boundable(pmappings) else None
    return _join(*args, on_step=on_step, greedy=False, bound=bound)


def _boundable(pmappings: Pmappings) -> bool:
    """Whether every final objective is additive over Einsums or energy x latency of such."""
    return Metrics.RESOURCE_USAGE not in pmappings.metrics


def _bound(args: tuple, pmappings: Pmappings, order: list[str]) -> Bound | None:
    """Complete mappings from greedy passes (one per weighting of the objectives), as a
    :class:`~accelforge.mapper._join.bounds.Bound` for the exact pass; None if none completes."""
    names = objective_names(pmappings.metrics)
    per_einsum = [
        np.concatenate(
            [np.column_stack([getattr(t, name) for name in names]) for t in tables if t.n]
            or [np.zeros((0, len(names)))]
        )
        for tables in (pmappings.einsums[e].tables for e in order)
    ]
    rest = rest_points(per_einsum)
    scale = np.array([v.min(axis=0) if len(v) else np.zeros(len(names)) for v in per_einsum])
    points = []
    for weights in weightings(scale.sum(axis=0)):
        for beam in (BEAM, None):
            greedy = _join(*args, on_step=None, greedy=True, bound=None, beam=beam, weights=weights)
            if len(greedy.values):
                points.append(greedy.values)
                break
    product = None
    if Metrics.ENERGY_DELAY_PRODUCT in pmappings.metrics:
        product = (names.index("energy"), names.index("latency"))
    return Bound.of(points, rest, product) if points else None


def _join(
    pmappings: Pmappings,
    order: list[str],
    users: dict[str, list[int]],
    size_of: Callable[[str], float],
    right: list[list[RightGroup]],
    *,
    on_step: Callable[[JoinStats, Any], None] | None,
    greedy: bool,
    bound: Bound | None,
    beam: int | None = None,
    weights: np.ndarray | None = None,
) -> JoinedRows:
    """One pass of the join over ``right``, each Einsum's groups (§4.7-merged).

    ``greedy`` keeps, per interface, the row lowest in objectives x ``weights`` and, with
    ``beam``, only that many interfaces (the lowest first): a quick way to complete a mapping.
    """
    objectives = objective_names(pmappings.metrics)
    tracked = sorted(pmappings.tracked)
    partials: list[_Partial] = [
        _Partial(
            key=((), 0, ()),
            objectives=np.zeros((1, len(objectives))),
            H={m: np.zeros((1, 1)) for m in tracked},
            F={},
            P={m: np.zeros((1, 1)) for m in tracked},
            pers={m: np.zeros(1) for m in tracked},
            choices=[],
        )
    ]
    steps: list[JoinStats] = []
    for k, einsum in enumerate(order):
        stats = JoinStats(einsum)
        step = _Step(k, users, objectives, tracked, size_of, stats, pmappings.metrics, bound)
        by_interface: dict[tuple, list[_Partial]] = {}
        arriving = {t for t, u in users.items() if k in u and min(u) < k}
        for left in partials:
            live, d_next, next_blocks = left.key
            backed = tuple((t, *rest[:3]) for t, *rest in live if t in arriving)
            interface = (d_next, _loop_multiset(next_blocks), backed)
            by_interface.setdefault(interface, []).append(left)
        pairs = [
            (left, group)
            for group in right[k]
            for left in by_interface.get(_right_interface(group, arriving), [])
            if bound is None or bound.hopeful(left.low() + group.low(objectives), k)
        ]
        merged = _join_pairs(pairs, step, beam, weights)
        last = k == len(order) - 1
        partials = []
        for key, parts in merged.items():
            partial = _concat(key, parts)
            if greedy and partial.n:
                best = int(np.argmin(partial.objectives @ weights))
                partials.append(partial.take(np.array([best])))
            elif partial.n:
                partials.append(_prune(partial, pmappings, last))
        if beam is not None and len(partials) > beam:
            partials = _beam(partials, beam, weights)
        stats.rows_out = sum(p.n for p in partials)
        steps.append(stats)
        if on_step is not None:
            on_step(stats, partials)
    return _finish(partials, objectives, tracked, size_of, steps, pmappings)


def _join_pairs(
    pairs: list[tuple[_Partial, RightGroup]],
    step: _Step,
    beam: int | None,
    weights: np.ndarray | None,
) -> dict[tuple, list[_Partial]]:
    """Every pair joined, by resulting key.

    With ``beam`` (the greedy pass, which keeps the ``beam`` keys lowest in objectives x
    ``weights``), pairs go in order of their lowest possible weighted value and stop once
    ``beam`` keys are known to be no higher than anything the remaining pairs could give.
    """
    merged: dict[tuple, list[_Partial]] = {}
    if beam is None or weights is None:
        for left, group in pairs:
            joined = _join_pair(left, group, step)
            if joined is not None:
                merged.setdefault(joined.key, []).append(joined)
        return merged
    lows = [float((left.low() + group.low(step.objectives)) @ weights) for left, group in pairs]
    best: dict[tuple, float] = {}
    threshold = np.inf
    for count, index in enumerate(sorted(range(len(pairs)), key=lows.__getitem__)):
        if lows[index] > threshold:
            break
        joined = _join_pair(*pairs[index], step)
        if joined is None:
            continue
        merged.setdefault(joined.key, []).append(joined)
        value = float((joined.objectives @ weights).min())
        best[joined.key] = min(best.get(joined.key, np.inf), value)
        if len(best) >= beam and count % BEAM_REFRESH == 0:
            threshold = float(np.partition(np.array(list(best.values())), beam - 1)[beam - 1])
    return merged


def _beam(partials: list[_Partial], beam: int, weights: np.ndarray) -> list[_Partial]:
    """The ``beam`` partials (one row each) lowest in objectives x ``weights``; of ties, those
    holding the fewest bits in tracked memories (the most room left for later Einsums)."""
    values = [float(p.objectives[0] @ weights) for p in partials]
    held = [sum(float(v.sum()) for store in (p.H, p.P, p.F, p.pers) for v in store.values())
            for p in partials]  # fmt: skip
    order = np.lexsort((np.arange(len(partials)), held, values))
    return [partials[i] for i in order[:beam]]


BEAM_REFRESH = 16
"""Pairs between updates of the greedy pass's stopping value (a stale value only stops later)."""


def _right_interface(group: RightGroup, arriving: set[str]) -> tuple:
    """The key of ``group``'s partners: the loops shared with the previous Einsum and the
    backing of the live tensors arriving from it (computed once per group)."""
    if "partners" not in group._cache:
        backed = tuple((t, *group.backing[t]) for t in sorted(arriving & group.backing.keys()))
        group._cache["partners"] = (group.d_left, _loop_multiset(group.shared_left), backed)
    return group._cache["partners"]


def _loop_multiset(partition: Partition) -> tuple:
    """The shared loops as a sorted multiset: pairs can only meet (§6.2) when these agree,
    so the join looks up partners by it instead of trying every pair."""
    return canonical(d for block in partition for d in block)


def _prune(partial: _Partial, pmappings: Pmappings, final: bool) -> _Partial:
    """The rows of one group not dominated in every objective and tracked column.

    Partial joins compare the tolerant view and keep one row of exact ties (interchangeable in
    the search, §4.5); complete mappings (``final``) are compared exactly and keep their ties.
    """
    if final:
        return partial.take(np.flatnonzero(pareto_mask(partial.columns(), keep_ties=True)))
    view = _tolerant(partial, pmappings, partial.objectives.shape[1] + len(partial.spatial))
    return partial.take(np.flatnonzero(pareto_mask(view)))


def _tolerant(partial: _Partial, pmappings: Pmappings, n_objectives: int) -> np.ndarray:
    """The columns compared when pruning, rounded by the tolerances (MAPPER.md §8)."""
    columns = partial.columns()
    context = pmappings.context
    if context is None or columns.shape[1] == n_objectives:
        return columns
    capacities = []
    for store in (partial.H, partial.P):
        for memory in sorted(store):
            capacities += [context.capacities[memory]] * store[memory].shape[1]
    capacities += [context.capacities[m] for m, _ in sorted(partial.F)]
    capacities += [context.capacities[m] for m in sorted(partial.pers)]
    return tolerant_view(
        columns,
        n_objectives,
        *context.tolerances,
        np.array(capacities, dtype=float),
        context.n_einsums + 2,
        context.n_einsums,
    )


def _next_blocks(shared: Partition, group: RightGroup) -> Partition:
    """Blocks of the loops the joined Einsum shares with the next one, labelled for it.

    ``shared`` is the common block structure of the loops shared with the previous Einsum.
    """
    shared = relabel(shared, group.to_right)
    if group.d_right <= group.d_left:
        return truncate(shared, group.d_right)
    right = group.shared_right
    return shared + right[len(truncate(right, group.d_left)) :]


@dataclass
class _Step:
    """What joining one Einsum (position ``k``) needs besides the two sides."""

    k: int
    users: dict[str, list[int]]
    objectives: list[str]
    tracked: list[str]
    size_of: Callable[[str], float]
    stats: JoinStats
    metrics: Metrics
    bound: Bound | None


def _join_pair(left: _Partial, group: RightGroup, step: _Step) -> _Partial | None:
    """Every row of ``left`` joined with every row of ``group`` that fits and may still reach
    the front; None if their interfaces do not match or no row is left."""
    k, users, stats = step.k, step.users, step.stats
    live, d_next, next_blocks = left.key
    if group.d_left != d_next:
        return None
    shared = meet(next_blocks, group.shared_left)
    if shared is None:
        return None
    live_map = {t: rest for t, *rest in live}
    table = group.table
    new_live = []
    for tensor, (memory, persistent, depth, prefix, reach) in live_map.items():
        if tensor in group.backing:
            if (memory, persistent, depth) != group.backing[tensor]:
                return None
            if meet(prefix, group.blocks({tensor}, depth)) is None:
                return None
        if max(users[tensor]) > k:
            new_live.append((tensor, memory, persistent, depth, prefix, min(reach, group.d_right)))
    for tensor, (memory, persistent, depth) in group.backing.items():
        if tensor in live_map or tensor not in users or len(users[tensor]) < 2:
            continue
        if min(users[tensor]) == k and max(users[tensor]) > k:
            new_live.append(
                (
                    tensor,
                    memory,
                    persistent,
                    depth,
                    group.blocks({tensor}, depth),
                    group.d_right,
                )
            )
    if any(depth > reach for _, _, _, depth, _, reach in new_live):
        return None  # a live tensor's loops are not all shared with the next Einsum
    stats.group_pairs += 1
    n_left, n_right = left.n, len(group.rows)
    stats.candidate_pairs += n_left * n_right
    li = np.repeat(np.arange(n_left), n_right)
    rj = np.tile(np.arange(n_right), n_left)
    objectives = left.objectives[li] + group.objectives(step.objectives)[rj]
    if step.bound is not None:
        hopeful = step.bound.keep(objectives, k)
        li, rj, objectives = li[hopeful], rj[hopeful], objectives[hopeful]
    ri = group.rows[rj]
    result = _Partial(
        key=(
            tuple(sorted(new_live, key=lambda x: x[0])),
            group.d_right,
            _next_blocks(shared, group),
        ),
        objectives=objectives,
        H={},
        F={},
        P={},
        pers={},
        choices=[(t[li], r[li]) for t, r in left.choices]
        + [(np.full(len(ri), group.table_index), ri)],
    )
    if Metrics.RESOURCE_USAGE in step.metrics:
        for dim in sorted(set(left.spatial) | set(table.spatial_usage)):
            before = left.spatial.get(dim, np.zeros(left.n))[li]
            mine = table.spatial_usage.get(dim, np.zeros(table.n))[ri]
            result.spatial[dim] = np.maximum(before, mine)
    ok = np.ones(len(ri), dtype=bool)
    for memory in step.tracked:
        right = right_memory(group, memory, k, users)
        ok &= _combine_memory(left, result, memory, li, rj, right, step.size_of(memory))
    stats.capacity_drops += int((~ok).sum())
    stats.rows_in += len(ri)
    if not ok.any():
        return None
    return result.take(np.flatnonzero(ok))


def _combine_memory(
    left: _Partial,
    out: _Partial,
    memory: str,
    li: np.ndarray,
    rj: np.ndarray,
    right: RightMemory,
    size: float,
) -> np.ndarray:
    """The §6.3 update of H, F, P for one tracked memory; returns the rows that fit.

    Row i of the result joins left row ``li[i]`` with row ``rj[i]`` of the group."""
    d, d_next = right.shallow.shape[1] - 1, right.keep.shape[1] - 1
    n = len(rj)
    pers = left.pers[memory][li] + right.persistent[rj]
    f_total = sum((v[li] for (m, _), v in left.F.items() if m == memory), np.zeros(n))
    h = left.H[memory][li]
    live = right.own[rj] + h[:, min(d, h.shape[1] - 1)] + f_total + pers
    p = np.zeros((n, max(left.P[memory].shape[1], d + 1)))
    p[:, : left.P[memory].shape[1]] = left.P[memory][li]
    p[:, : d + 1] += right.shallow[rj]
    ok = (live <= size) & np.all(p + pers[:, None] <= size, axis=1)
    buckets = np.zeros((n, d_next + 1))
    for lam in range(p.shape[1]):
        target = min(lam, d_next)
        buckets[:, target] = np.maximum(buckets[:, target], p[:, lam])
    buckets[:, d_next] = np.maximum(buckets[:, d_next], live - pers)
    columns = [min(x, d, h.shape[1] - 1) for x in range(d_next + 1)]
    out.H[memory] = h[:, columns] + right.keep[rj]
    out.P[memory] = buckets
    out.pers[memory] = pers
    for (m, tensor), values in left.F.items():
        if m == memory and (m, tensor) not in right.leaving:
            out.F[(m, tensor)] = values[li]
    out.F.update({key: bits[rj] for key, bits in right.entering.items()})
    return ok


def _concat(key: tuple, parts: list[_Partial]) -> _Partial:
    if len(parts) == 1:
        return parts[0]
    first = parts[0]

    def stack(name: str) -> dict:
        return {
            c: np.concatenate([getattr(p, name)[c] for p in parts]) for c in getattr(first, name)
        }

    return _Partial(
        key,
        np.concatenate([p.objectives for p in parts]),
        stack("H"),
        stack("F"),
        stack("P"),
        stack("pers"),
        [
            (
                np.concatenate([p.choices[i][0] for p in parts]),
                np.concatenate([p.choices[i][1] for p in parts]),
            )
            for i in range(len(first.choices))
        ],
        {
            k: np.concatenate([p.spatial.get(k, np.zeros(p.n)) for p in parts])
            for k in sorted({k for p in parts for k in p.spatial})
        },
    )


def _final_order(final: np.ndarray, choices: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Row order of the final front: by objectives, then template (table index), then row."""
    tie_breaks = [column for pair in choices for column in pair]
    return np.lexsort([*tie_breaks[::-1], *final.T[::-1]])


def _finish(
    partials: list[_Partial],
    objectives: list[str],
    tracked: list[str],
    size_of: Callable[[str], float],
    steps: list[JoinStats],
    pmappings: Pmappings,
) -> JoinedRows:
    """The final front over the metrics' objectives (§7), after the joint capacity check.

    With one objective every row at the optimum is kept (exact ties, distinct mappings); with
    several, one row per front point (the first in :func:`_final_order`).
    """
    if not partials:
        return JoinedRows(objectives, np.zeros((0, len(objectives))), {}, [], steps)
    everything = _concat(("final",), partials) if len(partials) > 1 else partials[0]
    peaks = {m: everything.P[m].max(axis=1) + everything.pers[m] for m in tracked}
    ok = np.ones(everything.n, dtype=bool)
    for m in tracked:
        ok &= peaks[m] <= size_of(m)
    everything = everything.take(np.flatnonzero(ok))
    peaks = {m: v[ok] for m, v in peaks.items()}
    values = everything.objectives
    final = values
    if Metrics.RESOURCE_USAGE in pmappings.metrics:
        usage = [peaks[m] / size_of(m) for m in tracked]
        usage += [everything.spatial[k] for k in sorted(everything.spatial)]
        final = np.column_stack([values, *usage])
    if Metrics.ENERGY_DELAY_PRODUCT in pmappings.metrics:
        edp = values[:, objectives.index("energy")] * values[:, objectives.index("latency")]
        final = edp[:, None] if final is values else np.column_stack([final, edp])
    order = _final_order(final, everything.choices)
    keep = pareto_mask(final[order], keep_ties=final.shape[1] == 1)
    order = order[keep]
    chosen = everything.take(order)
    return JoinedRows(
        objectives,
        chosen.objectives,
        {m: v[order] for m, v in peaks.items()},
        chosen.choices,
        steps,
    )
