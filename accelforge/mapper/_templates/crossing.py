"""Spatial/temporal crossing (docs/MAPPER.md §3.8): drop loops that would split a holder's tile.

A spatial loop replicates its component and everything below it, so in a tensor's view it acts
just above the topmost holder it replicates (docs/MODEL.md §1.5). When the storage order is relaxed,
a holder of an inner memory can sit above the spatial loops of its own fanout; a temporal loop
between them over a rank variable that a spatial loop also splits, and that indexes the holder's
tensor, would make the holder's tile non-contiguous (the model rejects such a path).

Each holder's window runs from the holder down to, and including, the last spatial loop whose
fanout is at or above the holder (its arch level is not below the holder's). For every rank
variable of the holder's tensor that both a spatial and a temporal loop of the window use, one
side must go. AccelForge 1.0.467 ends the window one loop early, so it misses the crossing with
that last spatial loop and keeps paths our model rejects; the window here includes it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping

from accelforge.model.access import TensorInfo
from accelforge.model.paths import EinsumPath, Hold, Loop

__all__ = ["Conflict", "crossing_conflicts", "crossing_variants"]

Conflict = tuple[frozenset[int], frozenset[int]]
"""Positions in ``path.nodes`` of (the spatial loops, the temporal loops) of one conflict."""


def _window_end(path: EinsumPath, start: int, top: int, level: Mapping[str, int]) -> int:
    """Position of the last spatial loop below ``path.nodes[start]`` that replicates it.

    ``top`` is the arch level of the holder at ``start``.
    """
    end = start
    for position in range(start + 1, len(path.nodes)):
        node = path.nodes[position]
        if isinstance(node, Loop) and node.spatial:
            if node.component is None:
                raise ValueError(f"spatial loop over {node.rank_variable} has no component")
            if level[node.component] <= top:
                end = position
    return end


def crossing_conflicts(
    path: EinsumPath, level: Mapping[str, int], infos: Mapping[str, TensorInfo]
) -> list[Conflict]:
    """Every (holder, rank variable) conflict of ``path``, top-down, variables sorted."""
    conflicts: list[Conflict] = []
    for start, hold in enumerate(path.nodes):
        if not isinstance(hold, Hold):
            continue
        window = range(start + 1, _window_end(path, start, level[hold.component], level) + 1)
        for var in sorted(infos[hold.tensor].projection_variables):
            loops = [
                (p, node.spatial)
                for p in window
                if isinstance(node := path.nodes[p], Loop) and node.rank_variable == var
            ]
            spatial = frozenset(p for p, is_spatial in loops if is_spatial)
            temporal = frozenset(p for p, is_spatial in loops if not is_spatial)
            if spatial and temporal:
                conflicts.append((spatial, temporal))
    return conflicts


def _without(path: EinsumPath, removed: frozenset[int]) -> EinsumPath:
    """``path`` without the nodes at positions ``removed``."""
    nodes = [n for p, n in enumerate(path.nodes) if p not in removed]
    return EinsumPath(path.einsum, nodes, [(i, isinstance(n, Loop)) for i, n in enumerate(nodes)])


def crossing_variants(
    path: EinsumPath,
    level: Mapping[str, int],
    infos: Mapping[str, TensorInfo],
    remove_spatials: bool,
) -> Iterator[EinsumPath]:
    """``path`` with every conflict resolved: its temporal loops removed, first.

    With ``remove_spatials`` every combination of per-conflict choices follows (remove the
    temporal or the spatial loops); combinations may coincide, the caller deduplicates.
    """
    conflicts = crossing_conflicts(path, level, infos)
    if not conflicts:
        yield path
        return
    choices = [
        (temporal, spatial) if remove_spatials else (temporal,) for spatial, temporal in conflicts
    ]
    for combo in itertools.product(*choices):
        yield _without(path, frozenset().union(*combo))
