"""Fused loops as ordered blocks (MAPPER.md §5): loops between two consecutive storage nodes
of a pmapping may be permuted freely, so two pmappings can share their loops when one common
order is allowed by both block structures.

A loop is described by ``(rank variable, spatial, component, dimension, tile)``; a partition is
a tuple of blocks, each a tuple of descriptions in canonical order (loops over one rank
variable keep their nesting: the larger tile first).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from accelforge.model.paths import Hold, Loop

__all__ = ["Partition", "canonical", "meet", "partition_of", "truncate"]

Description = tuple[str, bool, Any, Any, float]
Partition = tuple[tuple[Description, ...], ...]


def _key(description: Description) -> tuple:
    var, spatial, component, dimension, tile = description
    return (var, -tile, spatial, str(component), str(dimension))


def canonical(block: Sequence[Description]) -> tuple[Description, ...]:
    """A block in canonical order (rank variable, then larger tile first)."""
    return tuple(sorted(block, key=_key))


def partition_of(nodes: Sequence[Any], tiles: Sequence[float], depth: int) -> Partition:
    """The first ``depth`` loops of a path, cut into blocks at every storage node."""
    blocks: list[list[Description]] = [[]]
    index = 0
    for node in nodes:
        if index >= depth:
            break
        if isinstance(node, Hold):
            if blocks[-1]:
                blocks.append([])
        elif isinstance(node, Loop):
            blocks[-1].append(
                (
                    node.rank_variable,
                    node.spatial,
                    node.component,
                    node.dimension,
                    float(tiles[index]),
                )
            )
            index += 1
    return tuple(canonical(b) for b in blocks if b)


def meet(left: Partition, right: Partition) -> Partition | None:
    """The coarsest ordered partition refining both, or None when no common order exists."""
    left_items = Counter(d for block in left for d in block)
    right_items = Counter(d for block in right for d in block)
    if left_items != right_items:
        return None
    position_left = {d: i for i, block in enumerate(left) for d in block}
    position_right = {d: j for j, block in enumerate(right) for d in block}
    cells: dict[tuple[int, int], list[Description]] = {}
    for d in left_items:
        cells.setdefault((position_left[d], position_right[d]), []).append(d)
    ordered = sorted(cells)
    if any(b[1] < a[1] for a, b in zip(ordered, ordered[1:], strict=False)):
        return None
    return tuple(canonical(cells[cell]) for cell in ordered)


def truncate(partition: Partition, depth: int) -> Partition:
    """The blocks covering the first ``depth`` loops (``depth`` must fall on a boundary)."""
    out = []
    count = 0
    for block in partition:
        if count >= depth:
            break
        out.append(block)
        count += len(block)
    return tuple(out)


def order(partition: Partition) -> list[Description]:
    """One loop order allowed by the partition (blocks in order, canonical within)."""
    return [d for block in partition for d in block]
