"""``make_pmappings``: every Einsum's Pareto-optimal pmappings (TCM, docs/MAPPER.md §2-§4).

Rows of one template are grouped by their compatibility (the tile shapes of the fused loops);
inside a group a row dominated in every objective and every reservation column is dropped.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from accelforge import columns as col
from accelforge.errors import MapspaceTooLargeError, SpecError, SpecWarning
from accelforge.frontend.mapper.metrics import Metrics
from accelforge.mapper._templates.make import Template, TemplateStats, make_templates
from accelforge.mapper._templates.twins import problem_signature
from accelforge.mapper._tiles.rows import TemplateRows, split_trivial_fused_loops
from accelforge.mapper._tiles.search import fused_loop_count, search_template
from accelforge.mapper.executors import interruption
from accelforge.mapper.objectives import Objectives
from accelforge.model.evaluate import simple_variables
from accelforge.model.paths import Hold, Loop
from accelforge.pareto import group_ids, pareto_mask_grouped

if TYPE_CHECKING:
    from accelforge.frontend.spec import Spec

__all__ = [
    "EinsumPmappings",
    "PmappingContext",
    "Pmappings",
    "einsum_templates",
    "make_pmappings",
    "reservation_columns",
    "search_signature",
    "template_pmappings",
    "tracked_memories",
    "twin_pmappings",
]


@dataclass
class EinsumPmappings:
    """One Einsum's surviving pmappings, per template."""

    einsum: str
    tables: list[TemplateRows] = field(default_factory=list)
    stats: dict[str, TemplateStats] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    """Templates whose tile search was not run, by id, with the reason."""

    @property
    def n_rows(self) -> int:
        """Rows over all templates."""
        return sum(t.n for t in self.tables)

    def data(self) -> pd.DataFrame:
        """One row per pmapping: objectives, per-memory reservation bits, template, tiles."""
        frames = []
        for table in self.tables:
            columns: dict[str, Any] = {
                col.TEMPLATE: table.template.id,
                col.COMPUTE: table.template.compute,
                col.ENERGY: table.energy,
                col.LATENCY: table.latency,
                col.FUSED_LOOPS: table.fused_loops,
            }
            for r in table.reservations:
                columns[col.reservation_column(r.memory, r.tensor, r.depth)] = r.bits
            for index, loop in enumerate(table.template.path.loops):
                key = col.tile_column(index, loop.rank_variable, loop.spatial)
                columns[key] = table.tiles[index]
            frames.append(pd.DataFrame(columns))
        if not frames:
            return pd.DataFrame(columns=[col.TEMPLATE, col.COMPUTE, col.ENERGY, col.LATENCY])
        return pd.concat(frames, ignore_index=True)


@dataclass
class Pmappings:
    """Every Einsum's pmappings plus the facts the join needs."""

    einsums: dict[str, EinsumPmappings]
    fusable: set[str]
    tracked: set[str]
    """Memories whose capacity is tracked through the join (finite size)."""
    context: PmappingContext
    """The settings the pmappings were made with (objectives, tolerances, capacities)."""

    @property
    def objectives(self) -> Objectives:
        """What the run optimises (the context's)."""
        return self.context.objectives

    @property
    def metrics(self) -> Metrics:
        """The metrics the objectives were resolved from."""
        return self.context.objectives.metrics

    def __getitem__(self, einsum: str) -> pd.DataFrame:
        return self.einsums[einsum].data()


def _prune(table: TemplateRows, context: PmappingContext) -> TemplateRows:
    if table.n == 0:
        return table
    columns = context.objectives.comparison_columns(table)
    n_objectives = len(columns)
    capacities = []
    for memory, column in reservation_columns(table, context.tracked, table.fused_loops):
        columns.append(column)
        capacities.append(context.capacities[memory])
    values = np.column_stack(columns) if columns else np.zeros((table.n, 1))
    values = context.objectives.prune_view(values, n_objectives, np.array(capacities, dtype=float))
    groups = group_ids(table.tiles[: table.fused_loops].T)
    return table.take(pareto_mask_grouped(values, groups))


def reservation_columns(
    table: TemplateRows, tracked: Iterable[str], depth: int
) -> list[tuple[str, np.ndarray]]:
    """The reservation figures the join reads (§6.3), per tracked memory.

    Per memory: persistent bits, all other bits, and the bits above each loop depth 1 ..
    ``depth``.

    Every quantity the join derives from a pmapping is a sum of these plus reservations of
    fusable tensors, which equal fused tiles make equal; so dominance in these is sound.
    """
    columns = []
    for memory in sorted(tracked):
        mine = [(r.depth, r.bits) for r in table.reservations if r.memory == memory]
        zero = np.zeros(table.n)
        columns.append((memory, sum((b for d, b in mine if d < 0), zero)))
        columns.append((memory, sum((b for d, b in mine if d >= 0), zero)))
        for cut in range(1, depth + 1):
            columns.append((memory, sum((b for d, b in mine if 0 <= d < cut), zero)))
    return columns


def tracked_memories(archs: Any) -> set[str]:
    """Memories whose capacity the join tracks: finite and the same size for every Einsum.

    A memory whose size is an expression that differs between Einsums (a weight register
    sized by the weight's bits) is checked per Einsum in the tile search only.
    """
    sizes: dict[str, set[float]] = {}
    for arch in archs:
        for component in arch.components.values():
            if component.kind == "Memory":
                sizes.setdefault(component.name, set()).add(component.size)
    return {m for m, s in sizes.items() if len(s) == 1 and math.isfinite(next(iter(s)))}


def _has_fanout(archs: Any) -> bool:
    """Whether any component of any evaluated arch has a fanout dimension."""
    return any(node.spatial for arch in archs for node in arch.nodes)


def _size(archs: Any, memory: str) -> float:
    """The size of ``memory`` in the first evaluated arch that has it (tracked: finite)."""
    size = next(a.components[memory].size for a in archs if memory in a.components)
    if size is None:
        raise ValueError(f"memory {memory} has no size")
    return float(size)


@dataclass
class PmappingContext:
    """Everything per-Einsum pmapping work needs, computed once per spec (picklable)."""

    spec: Spec
    objectives: Objectives
    fusable: set[str]
    simple: set[str]
    tracked: set[str]
    capacities: dict[str, float]
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_cache"] = {}  # evaluated objects hold closures; workers rebuild them
        return state

    def evaluated(self, einsum: str) -> tuple[Any, Any, Any]:
        """(evaluated workload, evaluated arch for ``einsum``, FFM settings), cached."""
        if "workload" not in self._cache:
            workload = self.spec.evaluate_workload()
            self._cache["workload"] = workload
            self._cache["ffm"] = self.spec.evaluated_mapper(workload).ffm
        workload = self._cache["workload"]
        key = f"arch:{einsum}"
        if key not in self._cache:
            self._cache[key] = self.spec.evaluate(einsum, workload=workload)
        return workload, self._cache[key], self._cache["ffm"]

    def solved_search(self, signature: tuple) -> Any:
        """What :meth:`remember_search` kept for a tile-search ``signature`` here, or None."""
        return self._cache.get(("rows", signature))

    def remember_search(self, signature: tuple, solved: Any) -> None:
        """Keep a finished tile search's rows for twins with the same ``signature``."""
        self._cache[("rows", signature)] = solved

    @classmethod
    def build(cls, spec: Spec) -> PmappingContext:
        """Evaluate the spec's workload, mapper settings and tracked memories."""
        workload = spec.evaluate_workload()
        mapper = spec.evaluated_mapper(workload)
        archs = [spec.evaluate(name, workload=workload) for name in workload.einsums]
        tracked = tracked_memories(archs)
        context = cls(
            spec=spec,
            objectives=Objectives.resolve(
                mapper.metrics,
                float(mapper.ffm.objective_tolerance),
                float(mapper.ffm.resource_usage_tolerance),
                len(workload.einsums),
            ),
            fusable={t for t in workload.tensors if len(workload.graph.users(t)) > 1},
            simple=simple_variables(spec),
            tracked=tracked,
            capacities={m: _size(archs, m) for m in tracked},
        )
        if not context.objectives.resource_usage:
            context.tracked &= context.shared_memories()
            context.capacities = {m: context.capacities[m] for m in context.tracked}
        elif not context.objectives.names and not tracked and not _has_fanout(archs):
            raise SpecError(
                "RESOURCE_USAGE is the only objective, but this architecture has no memory of "
                "finite size and no fanout, so every mapping uses no resource: add an objective "
                "(ENERGY, LATENCY, DYNAMIC_ENERGY, LEAK_ENERGY or ENERGY_DELAY_PRODUCT).",
                loc=("mapper", "metrics"),
            )
        return context

    def shared_memories(self) -> set[str]:
        """Memories where one Einsum's data may be live while another runs.

        That needs, in some template, a backing of a fusable or persistent tensor in the
        memory, or a hold in it above the last fused loop (a reservation above a loop the
        next Einsum shares stays held while that Einsum runs). A hold under every fused loop
        is released before the next Einsum of the fused group starts, so a memory with only
        such holds (a PE-local buffer under the fused loops) is checked exactly by the tile
        search's per-Einsum capacity check and the join need not track it.
        """
        shared: set[str] = set()
        for einsum in self.spec.workload.einsum_names:
            for _, templates, _ in einsum_templates(self, einsum, warn=False):
                for template in templates:
                    shared |= _shared_in(template, self.fusable)
        return shared


def _shared_in(template: Template, fusable: set[str]) -> set[str]:
    """Memories of ``template`` that may hold data live across Einsums (see shared_memories)."""
    fused = fused_loop_count(template, fusable)
    out = set()
    backed: set[str] = set()
    loops = 0
    for node in template.path.nodes:
        if isinstance(node, Loop):
            loops += 1
            continue
        if not isinstance(node, Hold):
            continue
        first = node.tensor not in backed
        backed.add(node.tensor)
        if loops < fused or (first and (node.persistent or node.tensor in fusable)):
            out.add(node.component)
    return out


def einsum_templates(context: PmappingContext, einsum: str, warn: bool = True) -> list[Any]:
    """(compute unit, template list, stats) for every enabled compute unit of ``einsum``."""
    workload, arch, ffm = context.evaluated(einsum)
    out = []
    for compute in [c.name for c in arch.nodes if c.kind == "Compute" and c.enabled]:
        templates, stats = make_templates(
            arch, compute, workload.einsums[einsum], ffm, context.fusable
        )
        if stats.capped and warn:
            warnings.warn(
                SpecWarning(
                    f"Einsum {einsum} on {compute}: stopped after "
                    f"{ffm.max_pmapping_templates_per_einsum:g} templates "
                    "(max_pmapping_templates_per_einsum); the mapspace was capped"
                ),
                stacklevel=2,
            )
        out.append((compute, templates, stats))
    return out


def template_pmappings(context: PmappingContext, template: Template) -> list[TemplateRows]:
    """One template's tile search, split by trivial fused loops, Pareto-pruned.

    A template whose search problem equals one already solved in this process up to tensor
    and rank-variable names (a twin Einsum, :mod:`~accelforge.mapper._templates.twins`) reuses
    its rows.
    """
    workload, arch, ffm = context.evaluated(template.einsum)
    facts = workload.einsums[template.einsum]
    signature, canonical = problem_signature(template, facts, arch, context.fusable)
    solved = context.solved_search(signature)
    if solved is None:
        rows = search_template(
            template,
            facts,
            arch,
            workload.variables,
            ffm,
            context.fusable,
            context.simple,
            lambda chunk: _prune(chunk, context),
        )
        if interruption() is None:
            context.remember_search(signature, (rows, canonical))
    else:
        source_rows, source_canonical = solved
        target = {c: t for t, c in canonical.items()}
        rows = source_rows.renamed(template, {t: target[c] for t, c in source_canonical.items()})
    bounds = facts.rank_variable_bounds
    return [_prune(part, context) for part in split_trivial_fused_loops(rows, bounds)]


def search_signature(context: PmappingContext, template: Template) -> tuple:
    """The template's tile-search problem up to names.

    Templates with equal signatures (twin Einsums) share one search in a process.
    """
    workload, arch, _ = context.evaluated(template.einsum)
    facts = workload.einsums[template.einsum]
    return problem_signature(template, facts, arch, context.fusable)[0]


def twin_pmappings(context: PmappingContext, templates: list[Template]) -> list[list[TemplateRows]]:
    """:func:`template_pmappings` of each of ``templates`` in turn, in one process.

    Twins after the first reuse its search.
    """
    return [template_pmappings(context, template) for template in templates]


def make_pmappings(
    spec: Spec, *, on_template: Callable[[TemplateRows, int], None] | None = None
) -> Pmappings:
    """Per Einsum, every template's Pareto-optimal pmappings (docs/MAPPER.md §3-§4)."""
    context = PmappingContext.build(spec)
    out: dict[str, EinsumPmappings] = {}
    for name in spec.workload.einsum_names:
        einsum = EinsumPmappings(name)
        for compute, templates, stats in einsum_templates(context, name):
            einsum.stats[compute] = stats
            for template in templates:
                try:
                    tables = template_pmappings(context, template)
                except MapspaceTooLargeError as err:
                    einsum.skipped[template.id] = str(err)
                    continue
                for table in tables:
                    if on_template is not None:
                        on_template(table, len(templates))
                    einsum.tables.append(table)
        if einsum.skipped:
            warnings.warn(
                SpecWarning(
                    f"Einsum {name}: {len(einsum.skipped)} template(s) skipped, so the result "
                    f"may not be optimal: {next(iter(einsum.skipped.values()))}"
                ),
                stacklevel=2,
            )
        out[name] = einsum
    return Pmappings(out, context.fusable, context.tracked, context)


def backing_depths(table: TemplateRows) -> dict[str, tuple[str, bool, int]]:
    """For each tensor: (backing memory, persistent, loops above its backing node)."""
    depths: dict[str, tuple[str, bool, int]] = {}
    loops = 0
    for node in table.template.path.nodes:
        if isinstance(node, Hold):
            depths.setdefault(node.tensor, (node.component, node.persistent, loops))
        elif hasattr(node, "rank_variable"):
            loops += 1
    return depths
