"""Occupancy: reservations, where they sit (lowering), per-Einsum and fused usage.

The rules are docs/MODEL.md §8.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from accelforge.model.access import IRRELEVANT, PARTIAL, TensorInfo, tile_size
from accelforge.model.paths import Compute, EinsumPath, Hold, Loop, shared_loop_count

if TYPE_CHECKING:
    from accelforge.frontend.evaluated_arch import EvaluatedArch

__all__ = [
    "JointUsage",
    "Reservation",
    "bits_by_memory",
    "joint_usage",
    "live_bits",
    "memory_size",
    "reservations",
]


@dataclass(frozen=True)
class Reservation:
    """Space one holder takes in its memory, per instance."""

    key: tuple
    """Identity: a fused tensor's backing reservation is the same on every path."""
    einsum: str
    memory: str
    tensor: str
    bits: Any
    depth: int
    """Loops above the reservation; -1 for persistent reservations (held for the whole run)."""


def reservations(
    path: EinsumPath,
    infos: Mapping[str, TensorInfo],
    bounds: Mapping[str, int],
    bits_per_value: Callable[[str, str], float],
    n_instances: float,
    level: Mapping[str, int] | None = None,
) -> list[Reservation]:
    """The reservations of one path, each lowered as far as docs/MODEL.md §8.2 allows.

    Sizes are per instance: with the arch ``level`` of each component, a spatial loop written
    below a holder but replicating its memory (a fanout at or above the memory) splits the
    holder's tile (§8.1).
    """
    out: list[Reservation] = []
    shape = {v: float(b) for v, b in bounds.items()}
    depth = 0
    pending: list[Hold] = []
    backed: set[str] = set()
    split = _replicating_splits(path, bounds, level) if level is not None else {}

    def bits_of(hold: Hold) -> Any:
        divide = split.get(id(hold), {})
        own = {v: s / divide[v] if v in divide else s for v, s in shape.items()}
        return tile_size(infos[hold.tensor], own) * bits_per_value(hold.component, hold.tensor)

    def settle(holds: list[Hold]) -> None:
        for hold in holds:
            bits = bits_of(hold)
            out.append(
                Reservation(
                    ("holder", hold.node_id, hold.tensor),
                    path.einsum,
                    hold.component,
                    hold.tensor,
                    bits,
                    depth,
                )
            )

    for node in path.nodes:
        if isinstance(node, Hold):
            settle(pending)
            pending = []
            if node.tensor in backed:
                pending.append(node)
                continue
            backed.add(node.tensor)
            bits = bits_of(node)
            if node.persistent:
                out.append(
                    Reservation(
                        ("backing", node.component, node.tensor),
                        path.einsum,
                        node.component,
                        node.tensor,
                        bits * n_instances,
                        -1,
                    )
                )
            else:
                out.append(
                    Reservation(
                        ("backing", node.component, node.tensor),
                        path.einsum,
                        node.component,
                        node.tensor,
                        bits,
                        depth,
                    )
                )
        elif isinstance(node, Loop):
            stays = [h for h in pending if not _passes(h, node, infos)]
            below = [h for h in stays if _stops_below(h, node, infos)]
            settle([h for h in stays if h not in below])
            pending = [h for h in pending if h not in stays]
            shape[node.rank_variable] = node.tile
            depth += 1
            settle(below)
        elif isinstance(node, Compute):
            settle(pending)
            pending = []
    return out


def _replicating_splits(
    path: EinsumPath, bounds: Mapping[str, int], level: Mapping[str, int]
) -> dict[int, dict[str, Any]]:
    """Per holder (by id): rank variable -> product of the spatial factors that split its tile.

    Those are the spatial loops written below the holder that replicate its memory (a fanout at
    or above it); factors come from the loops' tiles.
    """
    tile: dict[str, Any] = {v: float(b) for v, b in bounds.items()}
    factor: dict[int, Any] = {}
    for node in path.nodes:
        if isinstance(node, Loop):
            factor[id(node)] = tile[node.rank_variable] / node.tile
            tile[node.rank_variable] = node.tile
    out: dict[int, dict[str, Any]] = {}
    nodes = path.nodes
    for i, node in enumerate(nodes):
        if not isinstance(node, Hold):
            continue
        home = level[node.component]
        for loop in nodes[i + 1 :]:
            if isinstance(loop, Loop) and loop.spatial and level[loop.component or ""] <= home:
                factors = out.setdefault(id(node), {})
                var = loop.rank_variable
                factors[var] = factors.get(var, 1.0) * factor[id(loop)]
    return out


def bits_by_memory(items: list[Reservation]) -> dict[str, Any]:
    """Sum of reservation bits per memory (floats or arrays)."""
    used: dict[str, Any] = {}
    for r in items:
        used[r.memory] = used.get(r.memory, 0.0) + r.bits
    return used


def memory_size(arch: EvaluatedArch, memory: str) -> float:
    """The size in bits of ``memory`` in ``arch`` (every evaluated Memory has one)."""
    size = arch.components[memory].size
    if size is None:
        raise TypeError(f"component {memory} has no size: it is not a Memory")
    return size


def _passes(hold: Hold, loop: Loop, infos: Mapping[str, TensorInfo]) -> bool:
    if loop.spatial:
        return loop.component == hold.component
    return infos[hold.tensor].relevance(loop.rank_variable) not in (IRRELEVANT, PARTIAL)


def _stops_below(hold: Hold, loop: Loop, infos: Mapping[str, TensorInfo]) -> bool:
    return not loop.spatial and infos[hold.tensor].relevance(loop.rank_variable) == PARTIAL


def live_bits(
    einsum: str,
    paths: Mapping[str, EinsumPath],
    by_einsum: Mapping[str, list[Reservation]],
    memory: str,
    order: list[str],
) -> dict[tuple, Reservation]:
    """Reservations in ``memory`` live while ``einsum`` runs (docs/MODEL.md §8.4), by key."""
    live: dict[tuple, Reservation] = {}
    position = {name: i for i, name in enumerate(order)}
    me = position[einsum]
    users: dict[tuple, list[int]] = {}
    for other, items in by_einsum.items():
        for r in items:
            users.setdefault(r.key, []).append(position[other])
    for other, items in by_einsum.items():
        shared = shared_loop_count(paths[einsum], paths[other]) if other != einsum else None
        for r in items:
            if r.memory != memory:
                continue
            spans = users[r.key]
            keep = (
                other == einsum
                or r.depth < 0
                or (shared is not None and r.depth < shared)
                or (r.key[0] == "backing" and min(spans) < me < max(spans))
            )
            if keep:
                known = live.get(r.key)
                live[r.key] = (
                    r if known is None else replace(r, bits=np.maximum(known.bits, r.bits))
                )
    return live


@dataclass
class JointUsage:
    """One memory across the fused Einsums: peak bits, peak fraction of size, whether it fits.

    Values are floats for one mapping or arrays for a batch of candidates. The size may
    differ per Einsum (it is an expression), so the fraction is the max of live / size.
    """

    bits: Any
    fraction: Any
    fits: Any
    worst: str
    """The Einsum with the highest fraction (the first one, for arrays)."""


def joint_usage(
    order: list[str],
    paths: Mapping[str, EinsumPath],
    by_einsum: Mapping[str, list[Reservation]],
    size_of: Callable[[str, str], float],
) -> dict[str, JointUsage]:
    """Peak usage of every memory while each Einsum runs (docs/MODEL.md §8.4).

    A memory of infinite size never overflows and its usage fraction is 0, so its live sets
    are not computed (its ``bits`` are reported as 0).
    """
    memories = sorted({r.memory for items in by_einsum.values() for r in items})
    out: dict[str, JointUsage] = {}
    for memory in memories:
        usage = JointUsage(bits=0.0, fraction=0.0, fits=True, worst=order[0])
        if all(math.isinf(size_of(e, memory)) for e in order):
            out[memory] = usage
            continue
        for einsum in order:
            live = live_bits(einsum, paths, by_einsum, memory, order)
            bits = sum((r.bits for r in live.values()), 0.0)
            size = size_of(einsum, memory)
            fraction = 0.0 * bits if math.isinf(size) else bits / size if size else bits * math.inf
            if (
                np.ndim(fraction) == 0
                and np.ndim(usage.fraction) == 0
                and fraction > usage.fraction
            ):
                usage.worst = einsum
            usage.bits = np.maximum(usage.bits, bits)
            usage.fraction = np.maximum(usage.fraction, np.nan_to_num(fraction, nan=0.0))
            usage.fits = usage.fits & (bits <= size)
        out[memory] = usage
    return out
