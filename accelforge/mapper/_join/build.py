"""Turn joined pmappings back into one mapping tree (a :class:`Mapping` that the model reads).

Consecutive Einsums that share their first D loops sit under one chain of those loops; a
``!Sequential`` splits the chain where they part. Storage nodes above a shared loop are
written once in the shared chain (every Einsum's path keeps only the tensors it accesses).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from accelforge.frontend import mapping as m
from accelforge.mapper._join.loop_blocks import (
    Description,
    Label,
    Partition,
    descriptions,
    meet,
    order,
    partition_of,
    truncate,
)
from accelforge.model.paths import Compute, EinsumPath, Hold, Loop

__all__ = ["build_mapping"]


def _levels(path: EinsumPath) -> list[list[Any]]:
    """Nodes of a path split at its loops: level i holds the nodes after loop i-1."""
    levels: list[list[Any]] = [[]]
    for node in path.nodes:
        if isinstance(node, Loop):
            levels.append([node])
        else:
            levels[-1].append(node)
    return levels


def _node(
    item: Any, tile: float | None = None, rank_variable: str | dict[str, str] | None = None
) -> m.MappingNode:
    """The mapping node of one path node (a loop with ``tile`` and ``rank_variable``, if given)."""
    if isinstance(item, Hold):
        return m.Storage(
            tensors=[item.tensor], component=item.component, persistent=item.persistent
        )
    if isinstance(item, Loop):
        value = int(round(tile if tile is not None else item.tile))
        variable = rank_variable or item.rank_variable
        if item.spatial:
            return m.Spatial(
                rank_variable=variable,
                tile_shape=value,
                name=item.dimension or "",
                component=item.component or "",
            )
        return m.Temporal(rank_variable=variable, tile_shape=value)
    if isinstance(item, Compute):
        return m.Compute(einsum=item.einsum, component=item.component)
    raise TypeError(item)


def _named_as_first(names: list[dict[str, str]], first: int, index: int) -> Callable[[str], str]:
    """Einsum ``index``'s rank variables as Einsum ``first`` names the loops they share."""

    def name(variable: str) -> str:
        for k in range(index - 1, first - 1, -1):
            variable = names[k].get(variable, variable)
        return variable

    return name


def _align_shared_loops(
    paths: list[tuple[EinsumPath, list[float]]],
    shared: list[int],
    names: list[dict[str, str]],
) -> None:
    """Put the loops neighbouring Einsums share in one order every one of them allows.

    Loops between two storage nodes of a pmapping may be permuted freely (§5); the join only
    joined pmappings whose block structures admit a common order, which is applied here to each
    path (loops move within their blocks, so storage nodes keep their places). Each run of
    Einsums linked by shared loops is aligned on its own (:func:`_align_run`).
    """
    first = 0
    for k in range(len(paths)):
        if k == len(paths) - 1 or shared[k] == 0:
            _align_run(paths, shared, names, first, k)
            first = k + 1


def _align_run(
    paths: list[tuple[EinsumPath, list[float]]],
    shared: list[int],
    names: list[dict[str, str]],
    first: int,
    last: int,
) -> None:
    """Align Einsums first..last, each sharing ``shared[k]`` loops with the next.

    As the join did, a forward pass carries the meet of every constraint so far: Einsum k's own
    blocks (its loops down to the deepest it shares) refined by what the Einsums before it
    allow for the loops it shares with them. A block may straddle a shallower cut of the
    group, so no single prefix order is fixed before every deeper constraint is known. A
    backward pass then fixes the orders: the last Einsum's from what was carried to it, each
    earlier one's shared loops as its successor orders them. Loops are compared with their
    rank variables named as Einsum ``first`` names them (``names``).
    """
    if first == last:
        return
    labels = [_named_as_first(names, first, index) for index in range(first, last + 1)]
    own = []
    for j, (path, tiles) in enumerate(paths[first : last + 1]):
        depth = max(shared[first + j - 1] if j else 0, shared[first + j] if first + j < last else 0)
        own.append(partition_of(path.nodes, tiles, depth, labels[j]))
    carried = [own[0]]
    for j in range(1, len(own)):
        cut = shared[first + j - 1]
        head = _prefix(own[j], cut)
        both = meet(_prefix(carried[-1], cut), head)
        if both is None:
            raise ValueError("joined pmappings admit no common order of their shared loops")
        carried.append(both + own[j][len(head) :])
    target = order(carried[-1])
    _reorder(paths[last], target, labels[-1])
    for j in range(len(own) - 2, -1, -1):
        cut = shared[first + j]
        deeper = carried[j][len(_prefix(carried[j], cut)) :]
        target = target[:cut] + order(deeper)
        _reorder(paths[first + j], target, labels[j])


def _prefix(partition: Partition, depth: int) -> Partition:
    """The blocks of ``partition`` covering exactly its first ``depth`` loops."""
    blocks = truncate(partition, depth)
    if sum(len(block) for block in blocks) != depth:
        raise ValueError("a shared-loop depth falls inside a block of loops")
    return blocks


def _reorder(
    entry: tuple[EinsumPath, list[float]], target: list[Description], label: Label
) -> None:
    """Put the first loops of ``entry`` (a path and its tiles) in the order ``target``."""
    path, tiles = entry
    pool: dict[Description, list[tuple[Loop, float]]] = {}
    described = descriptions(path.nodes, tiles, len(target), label)
    for key, loop, tile in zip(described, path.loops, tiles, strict=False):
        pool.setdefault(key, []).append((loop, tile))
    chosen = [pool[key].pop(0) for key in target]
    positions = [i for i, n in enumerate(path.nodes) if isinstance(n, Loop)][: len(target)]
    for position, (loop, tile), slot in zip(positions, chosen, range(len(target)), strict=True):
        path.nodes[position] = loop
        tiles[slot] = tile


def _shared_loop(
    paths: list[tuple[EinsumPath, list[float]]],
    levels: list[list[list[Any]]],
    first: int,
    last: int,
    level: int,
) -> m.MappingNode:
    """The loop at ``level`` shared by Einsums first..last, over each one's rank variable."""
    per_einsum = {
        paths[e][0].einsum: levels[e][level][0].rank_variable for e in range(first, last + 1)
    }
    names = set(per_einsum.values())
    variable = names.pop() if len(names) == 1 else per_einsum
    return _node(levels[first][level][0], paths[first][1][level - 1], variable)


def build_mapping(
    paths: list[tuple[EinsumPath, list[float]]],
    shared: list[int],
    names: list[dict[str, str]],
    memory_rank: dict[str, int] | None = None,
) -> m.Mapping:
    """One tree from per-Einsum paths (with their loops' tiles) and shared loop counts.

    ``shared[k]`` is the number of loops Einsum k shares with Einsum k + 1; ``names[k]`` maps
    Einsum k + 1's rank variables to Einsum k's for the same loops
    (:func:`~accelforge.mapper._join.loop_blocks.counterparts`). A shared loop whose Einsums name
    its variable differently gives it per Einsum. Storage nodes written once in a
    shared chain are ordered outermost memory first (``memory_rank``); with no loop between
    them their order changes no count.
    """
    _align_shared_loops(paths, shared, names)
    tree = _Tree(
        paths,
        [_levels(path) for path, _ in paths],
        [list(t) for _, t in paths],
        shared,
        memory_rank or {},
    )
    return m.Mapping(nodes=tree.segment(0, len(paths) - 1, 0))


@dataclass
class _Tree:
    """The aligned per-Einsum paths of :func:`build_mapping`, cut into levels at their loops."""

    paths: list[tuple[EinsumPath, list[float]]]
    levels: list[list[list[Any]]]
    tiles: list[list[float]]
    shared: list[int]
    rank: dict[str, int]

    def level_nodes(self, einsum: int, level: int) -> list[m.MappingNode]:
        """Mapping nodes of one level of Einsum ``einsum``'s path."""
        return [
            _node(item, self.tiles[einsum][level - 1]) if isinstance(item, Loop) else _node(item)
            for item in self.levels[einsum][level]
        ]

    def private(self, einsum: int, start: int) -> list[m.MappingNode]:
        """Mapping nodes of Einsum ``einsum``'s path from level ``start`` on."""
        nodes: list[m.MappingNode] = []
        for level in range(start, len(self.levels[einsum])):
            nodes += self.level_nodes(einsum, level)
        return nodes

    def segment(self, first: int, last: int, start: int) -> list[m.MappingNode]:
        """Nodes for Einsums first..last from level ``start`` on (earlier levels are shared).

        Holds above a shared loop are written once. At the deepest shared level, a hold is
        written above the branches only if every Einsum of the segment that uses its tensor
        has it there; otherwise it goes to the top of its own Einsum's branch, so no other
        Einsum sees a copy its pmapping did not have.
        """
        if first == last:
            return self.private(first, start)
        shared = self.shared
        common = min(shared[first:last])
        nodes: list[m.MappingNode] = []
        seen: set[tuple[str, str]] = set()
        for level in range(start, common + 1):
            if level > 0:
                nodes.append(_shared_loop(self.paths, self.levels, first, last, level))
            holds = self.new_holds(first, last, level, seen, common_only=level == common)
            nodes += [_node(h) for h in holds]
        branches: list[m.MappingNode] = []
        begin = first
        for k in range(first, last + 1):
            if k == last or shared[k] == common:
                own = [_node(h) for h in self.new_holds(begin, k, common, seen)]
                branches.append(m.Nested(nodes=own + self.segment(begin, k, common + 1)))
                begin = k + 1
        nodes.append(m.Sequential(nodes=branches))
        return nodes

    def new_holds(
        self,
        first: int,
        last: int,
        level: int,
        seen: set[tuple[str, str]],
        common_only: bool = False,
    ) -> list[Hold]:
        """Holds of Einsums first..last at ``level`` not in ``seen`` (added), outermost first.

        With ``common_only``, only holds that every Einsum of first..last using the tensor has
        at this level.
        """
        at_level = [
            {(h.component, h.tensor) for h in self.levels[e][level] if isinstance(h, Hold)}
            for e in range(first, last + 1)
        ]
        holds = []
        for offset, einsum in enumerate(range(first, last + 1)):
            for item in self.levels[einsum][level]:
                if not isinstance(item, Hold) or (item.component, item.tensor) in seen:
                    continue
                key = (item.component, item.tensor)
                if common_only and any(
                    key not in at_level[other]
                    for other, e in enumerate(range(first, last + 1))
                    if other != offset and item.tensor in self.tensors(e)
                ):
                    continue
                seen.add(key)
                holds.append(item)
        holds.sort(key=lambda h: self.rank.get(h.component, 0))
        return holds

    def tensors(self, einsum: int) -> set[str]:
        """The tensors Einsum ``einsum`` holds anywhere in its path."""
        path, _ = self.paths[einsum]
        return {n.tensor for n in path.nodes if isinstance(n, Hold)}
