"""Tile shapes of one template (docs/MAPPER.md §4): enumerate, evaluate vectorised, prune.

Every candidate is a column of a tile array; the model's own formulas
(:func:`~accelforge.model.einsum_eval.einsum_quantities`) evaluate all of them at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from accelforge.errors import MapspaceTooLargeError
from accelforge.frontend.evaluate_arch import EvaluatedArch, EvaluatedTensors
from accelforge.frontend.evaluate_workload import EinsumFacts
from accelforge.frontend.mapper.ffm import FFM
from accelforge.frontend.sets import RankVariableSet
from accelforge.frontend.workload import TensorAccess
from accelforge.mapper._templates.make import Template
from accelforge.mapper._tiles.enumeration import (
    Pruning,
    VariableChains,
    enumerate_tiles,
    tile_chains,
    variable_chains,
)
from accelforge.mapper._tiles.rows import ReservationColumn, TemplateRows
from accelforge.mapper.executors import interruption
from accelforge.model.einsum_eval import einsum_quantities, path_reservations
from accelforge.model.occupancy import bits_by_memory
from accelforge.model.paths import Compute, Hold, Loop, assign_factors
from accelforge.model.result import leak_energy

__all__ = ["fused_loop_count", "search_template"]


def fused_loop_count(template: Template, fusable: set[str]) -> int:
    """Loops above the deepest backing node of a fusable tensor (the fused loops, §3.6)."""
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


MAX_EVALUATED = 50_000_000
"""Rows one template may hand to the model (after optimistic pruning) before it is skipped."""


@dataclass
class _Search:
    """One template's fixed facts for the tile search."""

    template: Template
    facts: EinsumFacts
    arch: EvaluatedArch
    variables: Mapping[str, Any]
    ffm: FFM
    simple: set[str]
    fused: int
    dimensions: list[tuple[str, str]]
    fanouts: np.ndarray
    scales: np.ndarray
    min_usage: np.ndarray

    @property
    def limits(self) -> np.ndarray:
        """Instances a mapping may use per dimension (docs/MAPPER.md §3.7).

        Its usage (used / fanout x usage_scale) is at most 1, as in AccelForge 1.0.467, and
        it uses no more instances than exist.
        """
        return np.minimum(self.fanouts, self.fanouts / np.maximum(self.scales, 1e-300))

    @classmethod
    def build(
        cls,
        template: Template,
        facts: EinsumFacts,
        arch: EvaluatedArch,
        variables: Mapping[str, Any],
        ffm: FFM,
        fusable: set[str],
        simple: set[str],
    ) -> _Search:
        """Collect the fanout dimensions on the template's arch path and their limits."""
        flat = arch.path_to(template.path.compute.component)
        dims = [(node, dim) for node in flat for dim in node.spatial]
        copy_einsum = facts.einsum.is_copy_operation
        return cls(
            template,
            facts,
            arch,
            variables,
            ffm,
            simple,
            fused_loop_count(template, fusable),
            [(node.name, dim.name) for node, dim in dims],
            np.array([float(dim.fanout) for _, dim in dims]),
            np.array([float(dim.usage_scale) for _, dim in dims]),
            np.array([0.0 if copy_einsum else float(dim.min_usage) for _, dim in dims]),
        )

    @property
    def loops(self) -> list[Loop]:
        """The template's loops, outermost first."""
        return self.template.path.loops

    def chains(self) -> list[VariableChains]:
        """Every rank variable's tile chains, minus those that fail on their own."""
        bounds = self.facts.rank_variable_bounds
        ffm = self.ffm
        coarseness = int(ffm.tiling_coarseness)

        def chains_of(var: str, loops: list[Loop]) -> Sequence[tuple[int, ...]]:
            # Temporal loops may leave a remainder only as the variable's first loop; a
            # spatial one wherever the loops above it are trivial (docs/MAPPER.md §4.2).
            imperfect = tuple(
                var in self.simple
                and bool(
                    ffm.explore_imperfect_spatial_loops
                    if loop.spatial
                    else ffm.explore_imperfect_temporal_loops and index == 0
                )
                for index, loop in enumerate(loops)
            )
            return tile_chains(bounds[var], len(loops), coarseness, imperfect)

        out = []
        for chain in variable_chains(self.loops, bounds, self.dimensions, self.fused, chains_of):
            ok = np.all(chain.spatial <= self.limits * (1 + 1e-9), axis=1)
            ok &= chain.fused_nontrivial <= ffm.max_fused_loops_per_rank_variable
            out.append(chain.take(ok))
        return out

    def used_levels(self, usage: np.ndarray) -> np.ndarray:
        """Instances per dimension that give spatial usage ``usage``."""
        return usage * self.fanouts / self.scales

    def pruning(self, needed: np.ndarray) -> Pruning:
        """The optimistic checks for partial rows, requiring ``needed`` instances."""
        ffm = self.ffm
        return Pruning(
            self.limits,
            needed,
            float(ffm.max_loops),
            float(ffm.max_loops_minus_ranks),
            float(ffm.max_fused_loops),
            self.fits,
        )

    def fits(self, known: list[tuple[list[int], np.ndarray]]) -> np.ndarray:
        """Whether the per-Einsum occupancy fits every memory with unknown tiles at 1."""
        loops = self.loops
        for loop in loops:
            loop.tile = 1.0
        n = known[0][1].shape[1] if known else 1
        for indices, tiles in known:
            for index, row in zip(indices, tiles, strict=True):
                loops[index].tile = row
        ok = np.ones(n, dtype=bool)
        reserved = path_reservations(self.template.path, self.facts, self.arch)
        for memory, bits in bits_by_memory(reserved).items():
            ok &= np.broadcast_to(bits <= self.arch.components[memory].size, (n,))
        return ok


def search_template(
    template: Template,
    facts: EinsumFacts,
    arch: EvaluatedArch,
    variables: Mapping[str, Any],
    ffm: FFM,
    fusable: set[str],
    simple: set[str],
    prune: Callable[[TemplateRows], TemplateRows] | None = None,
) -> TemplateRows:
    """The valid tile shapes of ``template`` (docs/MAPPER.md §4), pruned by ``prune`` as they come.

    Between chunks it polls :func:`~accelforge.mapper.executors.interruption` and, when told
    to stop, returns the rows found so far.

    ``min_usage`` is first searched as a requirement on every fanout dimension (partial rows
    that cannot reach it are dropped early); only when no valid row reaches it on every
    dimension at once does a second search apply the per-template fallback of §3.7 exactly.
    """
    search = _Search.build(template, facts, arch, variables, ffm, fusable, simple)
    chains = search.chains()
    best = np.ones(len(search.dimensions))
    for chain in chains:
        best *= chain.spatial.max(axis=0) if len(chain.tiles) else 0.0
    wanted = search.used_levels(search.min_usage)
    levels = np.where(best >= wanted * (1 - 1e-9), wanted, np.minimum(best, search.limits))
    rows = _collect(search, chains, levels, prune)
    fallback = rows.valid == 0 and np.any(search.min_usage > 0)
    if fallback and interruption() is None:
        fallback_usage = _best_usage(search, chains)
        if fallback_usage is not None:
            again = _collect(search, chains, search.used_levels(fallback_usage), prune)
            again.evaluated += rows.evaluated
            rows = again
    if rows.valid == 0 and interruption() is None:
        rows.empty_because = _why_empty(search)
    for loop in template.path.loops:  # drop the last chunk's arrays: rows.tiles has them
        loop.tile = loop.factor = loop.padded = 1.0
    return rows


def _why_empty(search: _Search) -> str:
    """The constraint that leaves a template without a valid tile shape, as far as one shows.

    Capacity is to blame when even the smallest tiles (every loop's tile 1) overflow a memory.
    """
    smallest, _ = _evaluate(search, np.ones((len(search.loops), 1)))
    used: dict[str, float] = {}
    for column in smallest.reservations:
        used[column.memory] = used.get(column.memory, 0.0) + float(column.bits[0])
    for memory, bits in used.items():
        size = search.arch.components[memory].size
        if size is not None and bits > size:
            return (
                f"capacity: even the smallest tiles need {bits:g} bits of {memory} (size {size:g})"
            )
    return "no tile shape meets the fanout, min_usage, loop-bound or loop-limit constraints"


def _chunks(
    search: _Search, chains: list[VariableChains], needed: np.ndarray
) -> Iterator[tuple[TemplateRows, np.ndarray]]:
    """Evaluated rows of every candidate that survives the optimistic checks, with validity."""
    bounds = search.facts.rank_variable_bounds
    evaluated = 0
    for tiles in enumerate_tiles(chains, len(search.loops), search.pruning(needed), bounds):
        evaluated += tiles.shape[1]
        if evaluated > MAX_EVALUATED:
            raise MapspaceTooLargeError(
                f"more than {MAX_EVALUATED:,} tile-shape candidates survive pruning in "
                f"template {search.template.id}, above the search's limit; use "
                "tiling_coarseness > 1 or smaller shapes"
            )
        yield _evaluate(search, tiles)


def _collect(
    search: _Search,
    chains: list[VariableChains],
    levels: np.ndarray,
    prune: Callable[[TemplateRows], TemplateRows] | None,
) -> TemplateRows:
    """Valid rows using at least ``levels`` instances per dimension, pruned chunk by chunk."""
    kept: list[TemplateRows] = []
    evaluated = valid = 0
    for rows, ok in _chunks(search, chains, levels):
        evaluated += rows.n
        ok &= _uses_at_least(search, rows, levels)
        valid += int(ok.sum())
        part = rows.take(ok)
        kept.append(prune(part) if prune is not None else part)
        if interruption() is not None:
            break
    if not kept:
        kept.append(_evaluate(search, np.ones((len(search.loops), 0)))[0])
    out = TemplateRows.concat(kept)
    if prune is not None and len(kept) > 1:
        out = prune(out)
    out.evaluated, out.valid = evaluated, valid
    return out


def _uses_at_least(search: _Search, rows: TemplateRows, levels: np.ndarray) -> np.ndarray:
    ok = np.ones(rows.n, dtype=bool)
    usage_levels = levels / search.fanouts * search.scales
    for key, level in zip(search.dimensions, usage_levels, strict=True):
        if level > 0:
            ok &= rows.spatial_usage[key] >= level - 1e-12
    return ok


def _best_usage(search: _Search, chains: list[VariableChains]) -> np.ndarray | None:
    """The usage the §3.7 fallback requires of every dimension; None without a valid row.

    Dimension by dimension, innermost fanout first (as AccelForge 1.0.467 applies its
    per-dimension rules: on tpu_v4i x multi-head attention any other order misses its
    optimum), the valid rows that reach ``min_usage`` are kept if there are any, else those
    at the highest usage among the rows kept so far. That keeps exactly the rows whose usage,
    capped at ``min_usage``, is lexicographically highest in that order, so one pass finds
    that vector and a second search keeps the rows reaching it on every dimension.
    """
    best: np.ndarray | None = None
    inner_first = list(reversed(search.dimensions))
    for rows, ok in _chunks(search, chains, np.zeros(len(search.dimensions))):
        if interruption() is not None:
            break
        if not ok.any():
            continue
        usage = np.column_stack([rows.spatial_usage[key][ok] for key in inner_first])
        capped = np.minimum(usage, search.min_usage[::-1])
        candidates = capped if best is None else np.vstack([best[None, :], capped])
        best = candidates[np.lexsort(candidates.T[::-1])[-1]]
    return None if best is None else best[::-1]


def _evaluate(search: _Search, tiles: np.ndarray) -> tuple[TemplateRows, np.ndarray]:
    """The model's figures for every row of ``tiles`` and which rows are valid (§4.4)."""
    template, facts, arch = search.template, search.facts, search.arch
    path = template.path
    loops = path.loops
    bounds = facts.rank_variable_bounds
    for loop, row in zip(loops, tiles, strict=True):
        loop.tile = row
    n = tiles.shape[1]
    valid = np.asarray(assign_factors(path, bounds, search.simple), dtype=bool) & np.ones(
        n, dtype=bool
    )
    result = einsum_quantities(path, facts, arch, search.variables)
    flat = arch.path_to(path.compute.component)
    for node in flat:
        for dim in node.spatial:
            used = result.spatial_used[(node.name, dim.name)]
            valid &= used <= min(dim.fanout, dim.fanout / dim.usage_scale) * (1 + 1e-9)
            for names, op, value in dim.loop_bounds:
                for loop in loops:
                    if loop.spatial and loop.component == node.name and loop.rank_variable in names:
                        valid &= _compare(loop.factor, op, value)
    for memory, bits in bits_by_memory(result.reservations).items():
        valid &= bits <= arch.components[memory].size
    valid &= _loop_limits(loops, search.fused, bounds, search.ffm)
    valid &= _tensor_constraints(path, facts, flat, bounds)
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
        fused_loops=search.fused,
        spatial_usage={
            k: np.broadcast_to(v, (n,)).astype(float) for k, v in result.spatial_usage.items()
        },
    )
    return rows, valid


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
    # The FFM is evaluated: its limits are numbers (int or inf), not expressions.
    ok = (total <= float(ffm.max_loops)) & (fused_total <= float(ffm.max_fused_loops))
    ranks = sum(1 for b in bounds.values() if b > 1)
    ok &= total - ranks <= float(ffm.max_loops_minus_ranks)
    per_variable = int(ffm.max_fused_loops_per_rank_variable)
    for var in {loop.rank_variable for loop in loops[:fused]}:
        count = sum(
            (
                n
                for n, loop in zip(nontrivial[:fused], loops[:fused], strict=True)
                if loop.rank_variable == var
            ),
            np.zeros(1, dtype=int),
        )
        ok &= count <= per_variable
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
            ok = _tile_shape_ok(ok, nodes[: mine[0]], spec.tile_shape, bounds)
        ok = _unmoved_ok(ok, nodes, holders, memory.name, spec, access)
    return ok


def _tile_shape_ok(
    ok: Any,
    above: Sequence[Hold | Loop | Compute],
    tile_shape: Sequence[tuple[RankVariableSet, str, int]],
    bounds: Mapping[str, int],
) -> Any:
    """``ok`` and a memory's ``tensors.tile_shape``, with ``above`` the nodes over its holds."""
    shape: dict[str, Any] = {v: float(b) for v, b in bounds.items()}
    for node in above:
        if isinstance(node, Loop):
            shape[node.rank_variable] = node.tile
    for variables, op, value in tile_shape:
        names = [v for v in variables if v in shape]
        if op.startswith("product"):
            ok = ok & _compare(math.prod(shape[v] for v in names), op, value)
        else:
            for v in names:
                ok = ok & _compare(shape[v], op, value)
    return ok


def _unmoved_ok(
    ok: Any,
    nodes: Sequence[Hold | Loop | Compute],
    holders: Sequence[tuple[int, Hold]],
    memory: str,
    spec: EvaluatedTensors,
    access: Mapping[str, TensorAccess],
) -> Any:
    """``ok`` and ``memory``'s ``no_refetch_from_above`` and ``no_resend_to_below``.

    A temporal loop that does not index the tensor directly must be trivial between its
    backing hold and its hold in ``memory`` (no refetch), or between that hold and the next
    one below (no resend).
    """
    for tensors, below in (
        (spec.no_refetch_from_above, False),
        (spec.no_resend_to_below, True),
    ):
        for tensor in tensors:
            positions = [i for i, n in holders if n.tensor == tensor]
            here = [i for i in positions if nodes[i].component == memory]
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
