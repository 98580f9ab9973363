"""Tile shapes of one template (MAPPER.md §4): enumerate, evaluate vectorised, prune.

Every candidate is a column of a tile array; the model's own formulas
(:func:`~accelforge.model.einsum_eval.einsum_quantities`) evaluate all of them at once.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from accelforge.errors import MapspaceTooLargeError
from accelforge.frontend.evaluate_arch import EvaluatedArch
from accelforge.frontend.evaluate_workload import EinsumFacts
from accelforge.frontend.mapper.ffm import FFM
from accelforge.mapper.templates import Template
from accelforge.model.einsum_eval import einsum_quantities
from accelforge.model.occupancy import bits_by_memory
from accelforge.model.paths import Hold, Loop, assign_factors
from accelforge.model.result import leak_energy

__all__ = [
    "ReservationColumn",
    "TemplateRows",
    "search_template",
    "imperfect_candidates",
    "split_trivial_fused_loops",
    "tile_chains",
]

MAX_CANDIDATES = 2_000_000


@dataclass
class ReservationColumn:
    """One reservation of the template: where it sits and its bits for every row."""

    memory: str
    tensor: str
    depth: int
    backing: bool
    bits: np.ndarray


@dataclass
class TemplateRows:
    """Surviving rows of one template."""

    template: Template
    tiles: np.ndarray
    """Loops x rows: the tile shape of every loop of the template."""
    energy: np.ndarray
    latency: np.ndarray
    dynamic_energy: np.ndarray
    leak_energy: np.ndarray
    reservations: list[ReservationColumn]
    fused_loops: int
    """Loops above the deepest backing of a fusable tensor (the shared prefix)."""
    spatial_usage: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    evaluated: int = 0
    valid: int = 0

    @property
    def n(self) -> int:
        """Number of rows."""
        return self.tiles.shape[1]

    def take(self, mask: np.ndarray) -> TemplateRows:
        """The rows selected by ``mask``."""
        return TemplateRows(
            template=self.template,
            tiles=self.tiles[:, mask],
            energy=self.energy[mask],
            latency=self.latency[mask],
            dynamic_energy=self.dynamic_energy[mask],
            leak_energy=self.leak_energy[mask],
            reservations=[
                ReservationColumn(r.memory, r.tensor, r.depth, r.backing, r.bits[mask])
                for r in self.reservations
            ],
            fused_loops=self.fused_loops,
            spatial_usage={k: v[mask] for k, v in self.spatial_usage.items()},
            evaluated=self.evaluated,
            valid=self.valid,
        )


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def imperfect_candidates(bound: int, coarseness: int = 1) -> list[int]:
    """Outermost-loop tiles allowed to leave a remainder: for each iteration count
    ceil(bound / n) only the smallest n (§4.2); steps grow by ``coarseness``."""
    by_count: dict[int, int] = {}
    n = 1
    while n <= bound:
        by_count.setdefault(-(-bound // n), n)
        n = n * coarseness if coarseness > 1 else n + 1
    by_count.setdefault(1, bound)
    return sorted(set(by_count.values()))


def tile_chains(
    bound: int, n_loops: int, coarseness: int = 1, imperfect_first: bool = False
) -> list[tuple[int, ...]]:
    """Tile chains t1, t2 | t1, ..., the innermost tile fixed to 1 (§4.2).

    ``t1`` divides ``bound`` unless ``imperfect_first``, which allows a remainder for the
    outermost loop only; every inner tile divides its enclosing tile.
    """
    if n_loops == 0:
        return [()]
    if bound == 1:
        return [(1,) * n_loops]

    def candidates(outer: int) -> list[int]:
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
        first = not prefix and imperfect_first
        for tile in imperfect_candidates(outer, coarseness) if first else candidates(outer):
            walk(tile, (*prefix, tile))

    walk(bound, ())
    return chains


def _candidate_tiles(
    loops: list[Loop], bounds: Mapping[str, int], ffm: FFM, simple: set[str]
) -> np.ndarray:
    by_variable: dict[str, list[int]] = {}
    for index, loop in enumerate(loops):
        by_variable.setdefault(loop.rank_variable, []).append(index)
    per_variable = []
    for var, indices in sorted(by_variable.items()):
        first = loops[indices[0]]
        imperfect = var in simple and (
            ffm.explore_imperfect_spatial_loops
            if first.spatial
            else ffm.explore_imperfect_temporal_loops
        )
        chains = tile_chains(bounds[var], len(indices), int(ffm.tiling_coarseness), imperfect)
        per_variable.append((indices, np.array(chains, dtype=float).reshape(len(chains), -1)))
    total = math.prod(len(chains) for _, chains in per_variable)
    if total > MAX_CANDIDATES:
        raise MapspaceTooLargeError(
            f"{total:,} tile-shape candidates exceed the exhaustive search's limit of "
            f"{MAX_CANDIDATES:,}; use tiling_coarseness > 1 or smaller shapes"
        )
    tiles = np.ones((len(loops), total))
    grids = np.meshgrid(*[np.arange(len(chains)) for _, chains in per_variable], indexing="ij")
    for (indices, chains), grid in zip(per_variable, grids, strict=True):
        tiles[indices, :] = chains[grid.reshape(-1)].T
    return tiles


def _fused_loop_count(template: Template, fusable: set[str]) -> int:
    depth = 0
    loops = 0
    backed: set[str] = set()
    for node in template.path.nodes:
        if isinstance(node, Loop):
            loops += 1
        elif isinstance(node, Hold) and node.tensor not in backed:
            backed.add(node.tensor)
            if node.tensor in fusable:
                depth = loops
    return depth


def search_template(
    template: Template,
    facts: EinsumFacts,
    arch: EvaluatedArch,
    variables: Mapping[str, Any],
    ffm: FFM,
    fusable: set[str],
    simple: set[str],
) -> TemplateRows:
    """Evaluate every tile-shape candidate of ``template``; keep the valid rows."""
    path = template.path
    loops = path.loops
    bounds = facts.rank_variable_bounds
    tiles = _candidate_tiles(loops, bounds, ffm, simple)
    for loop, row in zip(loops, tiles, strict=True):
        loop.tile = row
    valid = np.asarray(assign_factors(path, bounds, simple), dtype=bool) & np.ones(
        tiles.shape[1], dtype=bool
    )
    result = einsum_quantities(path, facts, arch, variables)
    flat = arch.path_to(path.compute.component)
    for node in flat:
        for dim in node.spatial:
            used = result.spatial_used[(node.name, dim.name)]
            valid &= used <= dim.fanout
            for names, op, value in dim.loop_bounds:
                for loop in loops:
                    if loop.spatial and loop.component == node.name and loop.rank_variable in names:
                        valid &= _compare(loop.factor, op, value)
    for memory, bits in bits_by_memory(result.reservations).items():
        valid &= bits <= arch.components[memory].size
    fused = _fused_loop_count(template, fusable)
    valid &= _loop_limits(loops, fused, bounds, ffm)
    valid &= _tensor_constraints(path, facts, flat, bounds)
    n = tiles.shape[1]
    latency = np.broadcast_to(result.latency, (n,)).astype(float)
    leak = sum((leak_energy(c, arch, result) for c in arch.components.values()), np.zeros(n))
    dynamic = np.broadcast_to(result.dynamic_energy, (n,)).astype(float)
    repeat = facts.einsum.n_instances
    rows = TemplateRows(
        template=template,
        tiles=tiles,
        energy=(dynamic + leak) * repeat,
        latency=latency * repeat,
        dynamic_energy=dynamic * repeat,
        leak_energy=np.broadcast_to(leak, (n,)) * repeat,
        reservations=[
            ReservationColumn(
                r.memory,
                r.tensor,
                r.depth,
                r.key[0] == "backing",
                np.broadcast_to(r.bits, (n,)).astype(float),
            )
            for r in result.reservations
        ],
        fused_loops=fused,
        spatial_usage={
            k: np.broadcast_to(v, (n,)).astype(float) for k, v in result.spatial_usage.items()
        },
        evaluated=n,
    )
    valid &= _min_usage(rows, flat, facts, valid)
    rows.valid = int(valid.sum())
    return rows.take(valid)


def _compare(left: Any, op: str, value: float) -> Any:
    bare = op.removeprefix("product")
    return {
        "==": left == value,
        "<=": left <= value,
        ">=": left >= value,
        "<": left < value,
        ">": left > value,
    }[bare]


def _loop_limits(loops: list[Loop], fused: int, bounds: Mapping[str, int], ffm: FFM) -> Any:
    nontrivial = [np.asarray(loop.factor) > 1 for loop in loops]
    total = sum(nontrivial, np.zeros(1, dtype=int))
    fused_total = sum(nontrivial[:fused], np.zeros(1, dtype=int))
    ok = (total <= ffm.max_loops) & (fused_total <= ffm.max_fused_loops)
    ranks = sum(1 for b in bounds.values() if b > 1)
    ok &= total - ranks <= ffm.max_loops_minus_ranks
    for var in {loop.rank_variable for loop in loops[:fused]}:
        count = sum(
            (
                n
                for n, loop in zip(nontrivial[:fused], loops[:fused], strict=True)
                if loop.rank_variable == var
            ),
            np.zeros(1, dtype=int),
        )
        ok &= count <= ffm.max_fused_loops_per_rank_variable
    return ok


def _tensor_constraints(
    path: Any, facts: EinsumFacts, flat: list, bounds: Mapping[str, int]
) -> Any:
    """``tensors.tile_shape``, ``no_refetch_from_above`` and ``no_resend_to_below`` (§3.7)."""
    ok: Any = True
    nodes = path.nodes
    holders = [(i, n) for i, n in enumerate(nodes) if isinstance(n, Hold)]
    access = {a.name: a for a in facts.einsum.tensor_accesses}
    for memory in (n for n in flat if getattr(n, "kind", "") == "Memory"):
        spec = memory.tensors
        mine = [i for i, n in holders if n.component == memory.name]
        if not mine:
            continue
        if spec.tile_shape:
            shape: dict[str, Any] = {v: float(b) for v, b in bounds.items()}
            for node in nodes[: mine[0]]:
                if isinstance(node, Loop):
                    shape[node.rank_variable] = node.tile
            for variables, op, value in spec.tile_shape:
                names = [v for v in variables if v in shape]
                if op.startswith("product"):
                    ok = ok & _compare(math.prod(shape[v] for v in names), op, value)
                else:
                    for v in names:
                        ok = ok & _compare(shape[v], op, value)
        for tensors, below in (
            (spec.no_refetch_from_above, False),
            (spec.no_resend_to_below, True),
        ):
            for tensor in tensors:
                positions = [i for i, n in holders if n.tensor == tensor]
                here = [i for i in positions if nodes[i].component == memory.name]
                if not here or tensor not in access:
                    continue
                start, end = (
                    (here[0], next((p for p in positions if p > here[0]), len(nodes)))
                    if below
                    else (positions[0], here[0])
                )
                direct = set(access[tensor].directly_indexing.values())
                for node in nodes[start:end]:
                    if (
                        isinstance(node, Loop)
                        and not node.spatial
                        and (node.rank_variable not in direct)
                    ):
                        ok = ok & (np.asarray(node.factor) == 1)
    return ok


def _min_usage(rows: TemplateRows, flat: list, facts: EinsumFacts, valid: np.ndarray) -> Any:
    """``min_usage``; a template none of whose valid rows reaches it keeps its best rows."""
    if facts.einsum.is_copy_operation:
        return True
    ok: Any = True
    for node in flat:
        for dim in node.spatial:
            if dim.min_usage <= 0:
                continue
            usage = rows.spatial_usage[(node.name, dim.name)]
            reaches = usage >= dim.min_usage - 1e-12
            if np.any(reaches & valid):
                ok = ok & reaches
            elif np.any(valid):
                ok = ok & (usage >= usage[valid].max() - 1e-12)
    return ok


def split_trivial_fused_loops(rows: TemplateRows, bounds: Mapping[str, int]) -> list[TemplateRows]:
    """Split rows by which fused loops are trivial (factor 1), dropping those loops (§4.6).

    A fused loop whose tile equals its enclosing tile does not exist; without this split two
    Einsums whose templates differ only in trivial fused loops could never share a tensor.
    """
    fused = rows.fused_loops
    if fused == 0 or rows.n == 0:
        return [rows]
    loops = rows.template.path.loops
    outer = np.empty((fused, rows.n))
    last: dict[str, np.ndarray] = {}
    for index, loop in enumerate(loops[:fused]):
        outer[index] = last.get(
            loop.rank_variable, np.full(rows.n, float(bounds[loop.rank_variable]))
        )
        last[loop.rank_variable] = rows.tiles[index]
    trivial = rows.tiles[:fused] == outer
    patterns, inverse = np.unique(trivial.T, axis=0, return_inverse=True)
    out = []
    for pattern_index, pattern in enumerate(patterns):
        part = rows.take(inverse.reshape(-1) == pattern_index)
        removed = [i for i in range(fused) if pattern[i]]
        if not removed:
            out.append(part)
            continue
        out.append(_without_loops(part, removed))
    return out


def _without_loops(rows: TemplateRows, removed: list[int]) -> TemplateRows:
    template = rows.template
    path = copy.deepcopy(template.path)
    doomed = {id(path.loops[i]) for i in removed}
    path.nodes = [n for n in path.nodes if id(n) not in doomed]
    path.chain = [(i, isinstance(n, Loop)) for i, n in enumerate(path.nodes)]
    keep = [i for i in range(rows.tiles.shape[0]) if i not in removed]
    return TemplateRows(
        template=Template(template.einsum, template.compute, template.ordinal, path),
        tiles=rows.tiles[keep],
        energy=rows.energy,
        latency=rows.latency,
        dynamic_energy=rows.dynamic_energy,
        leak_energy=rows.leak_energy,
        reservations=[
            ReservationColumn(
                r.memory, r.tensor, r.depth - sum(i < r.depth for i in removed), r.backing, r.bits
            )
            for r in rows.reservations
        ],
        fused_loops=rows.fused_loops - len(removed),
        spatial_usage=rows.spatial_usage,
        evaluated=rows.evaluated,
        valid=rows.valid,
    )
