"""The right-hand side of a join step (docs/MAPPER.md §4.7, §6.3).

One Einsum's pmappings cut into groups of equal fused-loop tiles, merged across templates with
equal interfaces, and the per-memory reservation sums each group brings to the §6.3 update.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from accelforge.mapper._join.loop_blocks import (
    Description,
    Indexing,
    Label,
    Partition,
    Skeleton,
    descriptions,
    fill,
    rank_labels,
    skeleton_of,
)
from accelforge.mapper._pmappings.make import (
    Pmappings,
    backing_depths,
    reservation_columns,
)
from accelforge.mapper._tiles.rows import TemplateRows
from accelforge.mapper.objectives import Objectives
from accelforge.pareto import group_ids, pareto_mask_grouped

__all__ = [
    "RightGroup",
    "RightMemory",
    "loops_shared_onward",
    "merged_across_templates",
    "right_groups",
    "right_memory",
]


@dataclass
class RightGroup:
    """Rows of one template table with equal fused-loop tiles: one side of a join pair."""

    table_index: int
    table: TemplateRows
    rows: np.ndarray
    indexing: Indexing
    """The Einsum's tensors: rank -> rank variable indexing it directly."""
    previous: set[str]
    """Tensors shared with the previous Einsum."""
    following: set[str]
    """Tensors shared with the next Einsum."""
    backing: dict[str, tuple[str, bool, int]]
    d_left: int
    d_right: int
    shared: dict[tuple, Any]
    """Label functions by tensor set and loop skeletons by (table, tensor set, depth), shared
    by the groups of one Einsum."""
    _cache: dict[Hashable, Any] = field(init=False, default_factory=dict)
    """This group's partitions, objectives and per-memory reservations, once computed."""
    tiles: np.ndarray = field(init=False)
    """The group's loop tiles (its rows share those of the fused loops)."""

    def __post_init__(self) -> None:
        self.tiles = self.table.tiles[:, self.rows[0]]

    @property
    def shared_left(self) -> Partition:
        """The loops shared with the previous Einsum, labelled for ``previous`` (§5)."""
        return self.blocks(self.previous, self.d_left)

    @property
    def shared_right(self) -> Partition:
        """The loops shared with the next Einsum, labelled for ``following``."""
        return self.blocks(self.following, self.d_right)

    def objectives(self, names: Sequence[str]) -> np.ndarray:
        """Rows x objectives: the objective values of the group's rows."""
        key = ("objectives", *names)
        if key not in self._cache:
            columns = [getattr(self.table, name)[self.rows] for name in names]
            self._cache[key] = np.column_stack(columns) if names else np.zeros((len(self.rows), 0))
        return self._cache[key]

    def low(self, names: Sequence[str]) -> np.ndarray:
        """Per objective, the lowest value of the group's rows."""
        key = ("low", *names)
        if key not in self._cache:
            self._cache[key] = self.objectives(names).min(axis=0)
        return self._cache[key]

    @property
    def to_right(self) -> dict[Description, Description]:
        """Each loop of ``shared_left`` to its description in ``shared_right``'s labels."""
        if "to_right" not in self._cache:
            self._cache["to_right"] = dict(
                zip(
                    self._describe(self.previous, self.d_left),
                    self._describe(self.following, self.d_left),
                    strict=True,
                )
            )
        return self._cache["to_right"]

    def blocks(self, tensors: set[str], depth: int) -> Partition:
        """The first ``depth`` loops in freely permutable blocks.

        Each loop is labelled by the ranks of ``tensors`` it indexes (§5).
        """
        key = (tuple(sorted(tensors)), depth)
        if key not in self._cache:
            self._cache[key] = fill(self.skeleton(tensors, depth), self.tiles)
        return self._cache[key]

    def skeleton(self, tensors: set[str], depth: int) -> Skeleton:
        """:meth:`blocks` without tile shapes (the same for every group of the table)."""
        key = ("skeleton", self.table_index, tuple(sorted(tensors)), depth)
        if key not in self.shared:
            self.shared[key] = skeleton_of(self._nodes, depth, self._label(tensors))
        return self.shared[key]

    def _describe(self, tensors: set[str], depth: int) -> list[Description]:
        return descriptions(self._nodes, self.tiles, depth, self._label(tensors))

    def _label(self, tensors: set[str]) -> Label:
        key = ("label", *sorted(tensors))
        if key not in self.shared:
            self.shared[key] = rank_labels(self.indexing, tensors)
        return self.shared[key]

    @property
    def _nodes(self) -> list:
        return self.table.template.path.nodes


def right_groups(
    tables: list[TemplateRows],
    indexing: Indexing,
    previous: set[str],
    following: set[str],
    onward: set[str],
    nested: bool = False,
) -> list[RightGroup]:
    """One Einsum's tables cut into groups of equal fused-loop tiles.

    ``previous`` and ``following`` are the tensors it shares with its neighbours in the join
    order, ``onward`` those of its tensors a later Einsum uses: it shares with the next Einsum
    the loops above their backing (:func:`loops_shared_onward`). With ``nested`` (a tensor
    stays live across this Einsum without being used by it, docs/MAPPER.md §6.2) a group is
    offered once per number of loops it could share with the previous Einsum, from what the
    tensors it shares require up to all its fused loops; otherwise only the first.
    """
    out = []
    shared: dict[tuple, Any] = {}
    for index, table in enumerate(tables):
        if table.n == 0:
            continue
        backing = backing_depths(table)
        least = max((backing[t][2] for t in previous if t in backing), default=0)
        d_right = loops_shared_onward(backing, onward)
        lefts = range(least, max(least, table.fused_loops) + 1) if nested else [least]
        groups = group_ids(table.tiles[: table.fused_loops].T)
        for group in np.unique(groups):
            rows = np.flatnonzero(groups == group)
            for d_left in lefts:
                out.append(
                    RightGroup(
                        index,
                        table,
                        rows,
                        indexing,
                        previous,
                        following,
                        backing,
                        d_left,
                        d_right,
                        shared,
                    )
                )
    return out


def loops_shared_onward(backing: dict[str, tuple[str, bool, int]], onward: set[str]) -> int:
    """Loops an Einsum shares with the next one: those above the backing of ``onward``.

    ``onward`` are its tensors a later Einsum uses; each must stay under all the loops above
    its backing until its last user runs (§6.2 rule 3), so the next Einsum shares them.
    """
    return max((backing[t][2] for t in onward if t in backing), default=0)


def merged_across_templates(groups: list[RightGroup], pmappings: Pmappings) -> list[RightGroup]:
    """Groups of one Einsum that the join cannot tell apart, Pareto-pruned together (§4.7).

    Groups of different templates with the same interface (backing of every fusable tensor,
    fused loops with their tiles, shared depths) combine with the same partners in the same
    way, so a row dominated by a row of another such group (objectives, and per tracked
    memory the persistent, total and above-each-depth bits the join reads) is dropped.
    """
    buckets: dict[tuple, list[RightGroup]] = {}
    for group in groups:
        buckets.setdefault(_interface(group, pmappings.fusable), []).append(group)
    shared = [members for members in buckets.values() if len(members) > 1]
    if not shared:
        return groups
    objectives, tracked = pmappings.objectives, sorted(pmappings.tracked)
    blocks, bucket_of = [], []
    for bucket, members in enumerate(shared):
        for group in members:  # one interface: one depth max(d_left, d_right) per bucket
            blocks.append(_comparison_columns(group, objectives, tracked)[group.rows])
            bucket_of.append(np.full(len(group.rows), bucket))
    values = np.zeros((sum(len(b) for b in blocks), max(b.shape[1] for b in blocks)))
    start = 0
    for block in blocks:  # buckets never meet: each is padded with zero columns
        values[start : start + len(block), : block.shape[1]] = block
        start += len(block)
    keep = pareto_mask_grouped(values, np.concatenate(bucket_of))
    start = 0
    for group in (g for members in shared for g in members):
        mine = keep[start : start + len(group.rows)]
        start += len(group.rows)
        group.rows = group.rows[mine]
    return [g for g in groups if len(g.rows)]


def _interface(group: RightGroup, fusable: set[str]) -> tuple:
    """What the join sees of a group.

    That is: shared depths, backings of fusable tensors, and the loops over which each is
    shared (structure per template, then the tile shapes).
    """
    key = ("interface", group.table_index, group.d_left)
    if key not in group.shared:
        backed = sorted((t, b) for t, b in group.backing.items() if t in fusable)
        parts = [(group.previous, group.d_left), (group.following, group.d_right)]
        parts += [({t}, depth) for t, (_, _, depth) in backed]
        structure: list[tuple | None] = []
        loops: list[int] = []
        for tensors, depth in parts:
            skeleton = group.skeleton(tensors, depth)
            for block in skeleton:
                ordered = sorted(block, key=lambda entry: _structure_key(entry[1:]))
                structure.append(tuple(entry[1:] for entry in ordered))
                loops += [entry[0] for entry in ordered]
            structure.append(None)  # end of this part
        group.shared[key] = (
            (group.d_left, group.d_right, tuple(backed), tuple(structure)),
            np.array(loops, dtype=int),
        )
    structure, loops = group.shared[key]
    return structure, tuple(group.tiles[loops].tolist())


def _structure_key(entry: tuple) -> tuple:
    label, spatial, component, dimension = entry
    return (str(label), spatial, str(component), str(dimension))


def _comparison_columns(
    group: RightGroup, objectives: Objectives, tracked: list[str]
) -> np.ndarray:
    """Every row of the group's table: objectives and the reservation columns the join reads.

    The reservations are read down to depth max(d_left, d_right); computed once per table.
    """
    key = ("columns", group.table_index, group.d_left)
    if key not in group.shared:
        table = group.table
        columns = objectives.comparison_columns(table)
        depth = max(group.d_left, group.d_right)
        columns += [column for _, column in reservation_columns(table, tracked, depth)]
        group.shared[key] = np.column_stack(columns)
    return group.shared[key]


@dataclass
class RightMemory:
    """A group's reservations in one tracked memory, sorted for the §6.3 update.

    One value per row of the group.
    """

    persistent: np.ndarray
    own: np.ndarray
    """Bits of this Einsum's own reservations (not of fused tensors arriving live)."""
    shallow: np.ndarray
    """rows x (d_left + 1): own bits above each depth 0 .. d_left."""
    keep: np.ndarray
    """rows x (d_right + 1): bits that stay held above each depth for the next Einsum."""
    entering: dict[tuple[str, str], np.ndarray]
    """Fused tensors first backed here and live afterwards."""
    leaving: set[tuple[str, str]]
    """Fused tensors whose last user this is."""


def right_memory(
    group: RightGroup, memory: str, k: int, users: dict[str, list[int]]
) -> RightMemory:
    """The group's :class:`RightMemory` for ``memory`` (computed once per group)."""
    key = ("memory", memory)
    if key in group._cache:
        return group._cache[key]
    d, d_next, rows = group.d_left, group.d_right, group.rows
    out = RightMemory(
        np.zeros(len(rows)),
        np.zeros(len(rows)),
        np.zeros((len(rows), d + 1)),
        np.zeros((len(rows), d_next + 1)),
        {},
        set(),
    )
    for r in group.table.reservations:
        if r.memory != memory:
            continue
        bits = r.bits[rows]
        if r.depth < 0:
            out.persistent += bits
            continue
        spans = users.get(r.tensor, [k])
        fused = r.backing and len(spans) > 1
        above_next = bits[:, None] * (r.depth < np.arange(d_next + 1))[None, :]
        if fused and min(spans) < k:
            if max(spans) == k:
                out.leaving.add((memory, r.tensor))
                out.keep += above_next
            continue
        out.own += bits
        out.shallow += bits[:, None] * (r.depth < np.arange(d + 1))[None, :]
        if fused and max(spans) > k:
            out.entering[(memory, r.tensor)] = bits
        else:
            out.keep += above_next
    group._cache[key] = out
    return out
