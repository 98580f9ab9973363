"""The FFM join (docs/MAPPER.md §5-§7): combine per-Einsum pmappings into Pareto-optimal mappings.

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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from accelforge.mapper._join.bounds import Bound, rest_points, weightings
from accelforge.mapper._join.groups import (
    RightGroup,
    merged_across_templates,
    right_groups,
)
from accelforge.mapper._join.loop_blocks import (
    Indexing,
    Partition,
    canonical,
)
from accelforge.mapper._join.pair import JoinStats, Partial, Step, concat, join_pair
from accelforge.mapper._pmappings.make import (
    Pmappings,
)
from accelforge.pareto import pareto_mask

__all__ = ["BEAM", "JoinedRows", "JoinStats", "join"]

BEAM = 128
"""Partial joins the bound-finding greedy pass keeps per step (the lowest objective first)."""


@dataclass
class JoinedRows:
    """The final Pareto-optimal full mappings (with one objective: the optimum and its ties).

    Sorted by objectives, then by the template and row chosen for each Einsum.
    """

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
    indexing: Sequence[Indexing],
    *,
    on_step: Callable[[JoinStats, Any], None] | None = None,
) -> JoinedRows:
    """Join every Einsum's pmappings in ``order`` (docs/MAPPER.md §6).

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
        onward = {t for t in used_by[k] if max(users[t]) > k}
        nested = any(min(u) < k < max(u) and k not in u for u in users.values() if u)
        groups = right_groups(
            pmappings.einsums[einsum].tables, indexing[k], previous, following, onward, nested
        )
        right.append(merged_across_templates(groups, pmappings))
    args = (pmappings, order, users, size_of, right)
    bound = _bound(args, pmappings, order) if pmappings.objectives.bound_pruning else None
    return _join(*args, on_step=on_step, greedy=False, bound=bound)


def _bound(args: tuple, pmappings: Pmappings, order: list[str]) -> Bound | None:
    """Complete mappings from greedy passes (one per weighting of the objectives).

    Returned as a :class:`~accelforge.mapper._join.bounds.Bound` for the exact pass; None if
    none completes.
    """
    names = pmappings.objectives.names
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
    if pmappings.objectives.energy_delay_product:
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
    names = pmappings.objectives.names
    tracked = sorted(pmappings.tracked)
    partials: list[Partial] = [
        Partial(
            key=((), 0, ()),
            objectives=np.zeros((1, len(names))),
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
        step = Step(k, users, pmappings.objectives, tracked, size_of, stats, bound)
        by_interface: dict[tuple, list[Partial]] = {}
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
            if bound is None or bound.hopeful(left.low() + group.low(names), k)
        ]
        merged = _join_pairs(pairs, step, beam, weights)
        last = k == len(order) - 1
        partials = []
        for key, parts in merged.items():
            partial = concat(key, parts)
            if greedy and partial.n:
                best = int(np.argmin(partial.objectives @ weights))
                partials.append(partial.take(np.array([best])))
            elif partial.n:
                partials.append(_prune(partial, pmappings, last))
        if beam is not None and weights is not None and len(partials) > beam:
            partials = _beam(partials, beam, weights)
        stats.rows_out = sum(p.n for p in partials)
        steps.append(stats)
        if on_step is not None:
            on_step(stats, partials)
    return _finish(partials, tracked, size_of, steps, pmappings)


def _join_pairs(
    pairs: list[tuple[Partial, RightGroup]],
    step: Step,
    beam: int | None,
    weights: np.ndarray | None,
) -> dict[tuple, list[Partial]]:
    """Every pair joined, by resulting key.

    With ``beam`` (the greedy pass, which keeps the ``beam`` keys lowest in objectives x
    ``weights``), pairs go in order of their lowest possible weighted value and stop once
    ``beam`` keys are known to be no higher than anything the remaining pairs could give.
    """
    merged: dict[tuple, list[Partial]] = {}
    if beam is None or weights is None:
        for left, group in pairs:
            joined = join_pair(left, group, step)
            if joined is not None:
                merged.setdefault(joined.key, []).append(joined)
        return merged
    lows = [
        float((left.low() + group.low(step.objectives.names)) @ weights) for left, group in pairs
    ]
    best: dict[tuple, float] = {}
    threshold = np.inf
    for count, index in enumerate(sorted(range(len(pairs)), key=lows.__getitem__)):
        if lows[index] > threshold:
            break
        joined = join_pair(*pairs[index], step)
        if joined is None:
            continue
        merged.setdefault(joined.key, []).append(joined)
        value = float((joined.objectives @ weights).min())
        best[joined.key] = min(best.get(joined.key, np.inf), value)
        if len(best) >= beam and count % BEAM_REFRESH == 0:
            threshold = float(np.partition(np.array(list(best.values())), beam - 1)[beam - 1])
    return merged


def _beam(partials: list[Partial], beam: int, weights: np.ndarray) -> list[Partial]:
    """The ``beam`` partials (one row each) lowest in objectives x ``weights``.

    Of ties, those holding the fewest bits in tracked memories (the most room left for later
    Einsums).
    """
    values = [float(p.objectives[0] @ weights) for p in partials]
    held = [sum(float(v.sum()) for store in (p.H, p.P, p.F, p.pers) for v in store.values())
            for p in partials]  # fmt: skip
    order = np.lexsort((np.arange(len(partials)), np.asarray(held), np.asarray(values)))
    return [partials[i] for i in order[:beam]]


BEAM_REFRESH = 16
"""Pairs between updates of the greedy pass's stopping value (a stale value only stops later)."""


def _right_interface(group: RightGroup, arriving: set[str]) -> tuple:
    """The key of ``group``'s partners (computed once per group).

    That is the loops shared with the previous Einsum and the backing of the live tensors
    arriving from it.
    """
    if "partners" not in group._cache:
        backed = tuple((t, *group.backing[t]) for t in sorted(arriving & group.backing.keys()))
        group._cache["partners"] = (group.d_left, _loop_multiset(group.shared_left), backed)
    return group._cache["partners"]


def _loop_multiset(partition: Partition) -> tuple:
    """The shared loops as a sorted multiset.

    Pairs can only meet (§6.2) when these agree, so the join looks up partners by it instead
    of trying every pair.
    """
    return canonical(d for block in partition for d in block)


def _prune(partial: Partial, pmappings: Pmappings, final: bool) -> Partial:
    """The rows of one group not dominated in every objective and tracked column.

    Partial joins compare the tolerant view and keep one row of exact ties (interchangeable in
    the search, §4.5); complete mappings (``final``) are compared exactly and keep their ties.
    """
    if final:
        return partial.take(np.flatnonzero(pareto_mask(partial.columns(), keep_ties=True)))
    view = _tolerant(partial, pmappings, partial.objectives.shape[1] + len(partial.spatial))
    return partial.take(np.flatnonzero(pareto_mask(view)))


def _tolerant(partial: Partial, pmappings: Pmappings, n_objectives: int) -> np.ndarray:
    """The columns compared when pruning, rounded by the tolerances (docs/MAPPER.md §8)."""
    columns = partial.columns()
    context = pmappings.context
    if columns.shape[1] == n_objectives:
        return columns
    capacities = []
    for store in (partial.H, partial.P):
        for memory in sorted(store):
            capacities += [context.capacities[memory]] * store[memory].shape[1]
    capacities += [context.capacities[m] for m, _ in sorted(partial.F)]
    capacities += [context.capacities[m] for m in sorted(partial.pers)]
    return pmappings.objectives.prune_view(columns, n_objectives, np.array(capacities, dtype=float))


def _final_order(final: np.ndarray, choices: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Row order of the final front: by objectives, then template (table index), then row."""
    tie_breaks = [column for pair in choices for column in pair]
    return np.lexsort([*tie_breaks[::-1], *final.T[::-1]])


def _finish(
    partials: list[Partial],
    tracked: list[str],
    size_of: Callable[[str], float],
    steps: list[JoinStats],
    pmappings: Pmappings,
) -> JoinedRows:
    """The final front over the metrics' objectives (§7), after the joint capacity check.

    With one objective every row at the optimum is kept (exact ties, distinct mappings); with
    several, one row per front point (the first in :func:`_final_order`).
    """
    goals = pmappings.objectives
    objectives = list(goals.names)
    if not partials:
        return JoinedRows(objectives, np.zeros((0, len(objectives))), {}, [], steps)
    everything = concat(("final",), partials) if len(partials) > 1 else partials[0]
    peaks = {m: everything.P[m].max(axis=1) + everything.pers[m] for m in tracked}
    ok = np.ones(everything.n, dtype=bool)
    for m in tracked:
        ok &= peaks[m] <= size_of(m)
    everything = everything.take(np.flatnonzero(ok))
    peaks = {m: v[ok] for m, v in peaks.items()}
    values = everything.objectives
    final = values
    if goals.resource_usage:
        usage = [peaks[m] / size_of(m) for m in tracked]
        usage += [everything.spatial[k] for k in sorted(everything.spatial)]
        final = np.column_stack([values, *usage])
    if goals.energy_delay_product:
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
