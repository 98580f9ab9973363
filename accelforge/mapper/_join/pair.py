"""One step of the join (docs/MAPPER.md §6.2-§6.3): partial joins and how a pair combines.

A :class:`Partial` holds the rows of partial joins with one interface; :func:`join_pair` joins
it with one right-hand group of the next Einsum, summing objectives and updating the H / F / P
reservation columns of every tracked memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from accelforge.mapper._join.bounds import Bound
from accelforge.mapper._join.groups import RightGroup, RightMemory, right_memory
from accelforge.mapper._join.loop_blocks import Partition, meet, relabel, truncate
from accelforge.mapper._tiles.rows import TemplateRows
from accelforge.mapper.objectives import Objectives

__all__ = ["JoinStats", "Partial", "Step", "concat", "join_pair"]


@dataclass
class Partial:
    """Partial joins with one interface: a row per combination of pmappings so far."""

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
        """Rows."""
        return len(self.objectives)

    def low(self) -> np.ndarray:
        """Per objective, the lowest value of any row."""
        if self._low is None:
            self._low = self.objectives.min(axis=0)
        return self._low

    def take(self, rows: np.ndarray) -> Partial:
        """The partial with only ``rows``."""
        return Partial(
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
        """Every column pruning compares: objectives, fanout usage, then H, P, F, pers."""
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


def blocks_for_next(shared: Partition, group: RightGroup) -> Partition:
    """Blocks of the loops the joined Einsum shares with the next one, labelled for it.

    ``shared`` is the common block structure of the loops shared with the previous Einsum.
    """
    shared = relabel(shared, group.to_right)
    if group.d_right <= group.d_left:
        return truncate(shared, group.d_right)
    right = group.shared_right
    return shared + right[len(truncate(right, group.d_left)) :]


@dataclass
class Step:
    """What joining one Einsum (position ``k``) needs besides the two sides."""

    k: int
    users: dict[str, list[int]]
    objectives: Objectives
    tracked: list[str]
    size_of: Callable[[str], float]
    stats: JoinStats
    bound: Bound | None


def join_pair(left: Partial, group: RightGroup, step: Step) -> Partial | None:
    """Every row of ``left`` joined with every row of ``group`` that fits and may reach the front.

    None if their interfaces do not match or no row is left.
    """
    k, users, stats = step.k, step.users, step.stats
    live, d_next, next_blocks = left.key
    if group.d_left != d_next:
        return None
    shared = meet(next_blocks, group.shared_left)
    if shared is None:
        return None
    new_live = live_after(live, group, users, k)
    if new_live is None:
        return None
    table = group.table
    stats.group_pairs += 1
    n_left, n_right = left.n, len(group.rows)
    stats.candidate_pairs += n_left * n_right
    li = np.repeat(np.arange(n_left), n_right)
    rj = np.tile(np.arange(n_right), n_left)
    objectives = left.objectives[li] + group.objectives(step.objectives.names)[rj]
    if step.bound is not None:
        hopeful = step.bound.keep(objectives, k)
        li, rj, objectives = li[hopeful], rj[hopeful], objectives[hopeful]
    ri = group.rows[rj]
    result = Partial(
        key=(
            tuple(sorted(new_live, key=lambda x: x[0])),
            group.d_right,
            blocks_for_next(shared, group),
        ),
        objectives=objectives,
        H={},
        F={},
        P={},
        pers={},
        choices=[(t[li], r[li]) for t, r in left.choices]
        + [(np.full(len(ri), group.table_index), ri)],
    )
    if step.objectives.resource_usage:
        max_spatial_usage(left, table, li, ri, result)
    ok = np.ones(len(ri), dtype=bool)
    for memory in step.tracked:
        right = right_memory(group, memory, k, users)
        ok &= combine_memory(left, result, memory, li, rj, right, step.size_of(memory))
    stats.capacity_drops += int((~ok).sum())
    stats.rows_in += len(ri)
    if not ok.any():
        return None
    return result.take(np.flatnonzero(ok))


def live_after(
    live: tuple, group: RightGroup, users: dict[str, list[int]], k: int
) -> list[tuple] | None:
    """The live tensors after joining ``group`` (Einsum ``k``) to a partial with ``live``.

    None if a live tensor is backed differently or under loops that do not meet, or if a live
    tensor's loops are not all shared with the next Einsum.
    """
    live_map = {t: rest for t, *rest in live}
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
    return new_live


def max_spatial_usage(
    left: Partial, table: TemplateRows, li: np.ndarray, ri: np.ndarray, out: Partial
) -> None:
    """Set ``out.spatial``: per fanout dimension, the higher usage of the two joined rows."""
    for dim in sorted(set(left.spatial) | set(table.spatial_usage)):
        before = left.spatial.get(dim, np.zeros(left.n))[li]
        mine = table.spatial_usage.get(dim, np.zeros(table.n))[ri]
        out.spatial[dim] = np.maximum(before, mine)


def combine_memory(
    left: Partial,
    out: Partial,
    memory: str,
    li: np.ndarray,
    rj: np.ndarray,
    right: RightMemory,
    size: float,
) -> np.ndarray:
    """The §6.3 update of H, F, P for one tracked memory; returns the rows that fit.

    Row i of the result joins left row ``li[i]`` with row ``rj[i]`` of the group.
    """
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


def concat(key: tuple, parts: list[Partial]) -> Partial:
    """One partial of ``parts`` (same interface ``key``) stacked."""
    if len(parts) == 1:
        return parts[0]
    first = parts[0]

    def stack(name: str) -> dict:
        return {
            c: np.concatenate([getattr(p, name)[c] for p in parts]) for c in getattr(first, name)
        }

    return Partial(
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
