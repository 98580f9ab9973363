"""Fused loops as ordered blocks (docs/MAPPER.md §5).

Loops between two consecutive storage nodes of a pmapping may be permuted freely, so two
pmappings can share their loops when one common order is allowed by both block structures.

A loop is described by ``(label, spatial, component, dimension, tile)``; a partition is a tuple
of blocks, each a tuple of descriptions in canonical order (loops with one label keep their
nesting: the larger tile first). The label names the loop's rank variable in a way two Einsums
agree on: by the ranks of shared tensors that it indexes (:func:`rank_labels`), so Einsums that
name one tensor dimension differently (``K[b, M: p, h, e]`` read with ``p``, written with ``m``)
line up.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from accelforge.model.paths import Hold, Loop

__all__ = [
    "Description",
    "Indexing",
    "Label",
    "Partition",
    "Skeleton",
    "canonical",
    "counterparts",
    "descriptions",
    "fill",
    "meet",
    "order",
    "partition_of",
    "rank_labels",
    "relabel",
    "skeleton_of",
    "truncate",
]

Description = tuple[Hashable, bool, Any, Any, float]
Partition = tuple[tuple[Description, ...], ...]
Indexing = Mapping[str, Mapping[str, str]]
"""One Einsum's tensors: tensor -> rank -> the rank variable indexing that rank directly."""
Label = Callable[[str], Hashable]


def rank_labels(indexing: Indexing, tensors: Iterable[str]) -> Label:
    """Label of a rank variable by the ranks of ``tensors`` it indexes (docs/MAPPER.md §5).

    Per tensor (sorted by name), the ranks the variable indexes directly; ``()`` is the
    "recomputed / no rank" marker. A variable indexing none of the tensors keeps its name, so two
    loops of one Einsum never share a label.
    """
    names = sorted(tensors)
    known: dict[str, tuple[tuple[tuple[str, ...], ...], str]] = {}

    def label(variable: str) -> tuple[tuple[tuple[str, ...], ...], str]:
        if variable not in known:
            ranks = tuple(
                tuple(sorted(r for r, v in indexing[t].items() if v == variable)) for t in names
            )
            known[variable] = (ranks, "" if any(ranks) else variable)
        return known[variable]

    return label


def counterparts(
    indexing: Indexing,
    variables: Iterable[str],
    other_indexing: Indexing,
    other_variables: Iterable[str],
    tensors: Iterable[str],
) -> dict[str, str]:
    """For each rank variable of the other Einsum, this Einsum's variable with its label.

    Labels are for ``tensors``: a loop the two Einsums share is over these two variables.
    """
    tensors = list(tensors)
    label, other_label = rank_labels(indexing, tensors), rank_labels(other_indexing, tensors)
    by_label = {label(v): v for v in variables}
    return {w: by_label[other_label(w)] for w in other_variables if other_label(w) in by_label}


def _key(description: Description) -> tuple:
    label, spatial, component, dimension, tile = description
    return (label, -tile, spatial, str(component), str(dimension))


def canonical(block: Iterable[Description]) -> tuple[Description, ...]:
    """A block in canonical order (label, then larger tile first)."""
    return tuple(sorted(block, key=_key))


def descriptions(
    nodes: Sequence[Any], tiles: Sequence[float] | np.ndarray, depth: int, label: Label
) -> list[Description]:
    """The first ``depth`` loops of a path, top-down, each described with ``label``."""
    loops = [node for node in nodes if isinstance(node, Loop)][:depth]
    return [
        (label(loop.rank_variable), loop.spatial, loop.component, loop.dimension, float(tile))
        for loop, tile in zip(loops, tiles, strict=False)
    ]


Skeleton = tuple[tuple[tuple[int, Hashable, bool, Any, Any], ...], ...]
"""A partition without tile shapes: per block, (loop index, label, spatial, component,
dimension) of each loop."""


def skeleton_of(nodes: Sequence[Any], depth: int, label: Label) -> Skeleton:
    """The block structure of the first ``depth`` loops of a path (cut at storage nodes)."""
    blocks: list[list[tuple[int, Hashable, bool, Any, Any]]] = [[]]
    index = 0
    for node in nodes:
        if index >= depth:
            break
        if isinstance(node, Hold):
            if blocks[-1]:
                blocks.append([])
        elif isinstance(node, Loop):
            blocks[-1].append(
                (index, label(node.rank_variable), node.spatial, node.component, node.dimension)
            )
            index += 1
    return tuple(tuple(b) for b in blocks if b)


def fill(skeleton: Skeleton, tiles: Sequence[float] | np.ndarray) -> Partition:
    """The partition of ``skeleton`` with the loops' tile shapes ``tiles``."""
    return tuple(
        canonical((lab, spatial, component, dimension, float(tiles[i])) for i, lab, spatial,
                  component, dimension in block)
        for block in skeleton
    )  # fmt: skip


def partition_of(
    nodes: Sequence[Any], tiles: Sequence[float] | np.ndarray, depth: int, label: Label
) -> Partition:
    """The first ``depth`` loops of a path, cut into blocks at every storage node."""
    return fill(skeleton_of(nodes, depth, label), tiles)


def relabel(partition: Partition, new: Mapping[Description, Description]) -> Partition:
    """``partition`` with every description replaced by ``new[description]``."""
    return tuple(canonical(new[d] for d in block) for block in partition)


@functools.lru_cache(maxsize=1 << 16)
def meet(left: Partition, right: Partition) -> Partition | None:
    """The coarsest ordered partition refining both, or None when no common order exists.

    Memoised: a join asks for the same pairs many times.
    """
    if left == right:
        return left
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
