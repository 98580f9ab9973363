"""Join and evaluate: the joined rows as evaluated ``Mappings`` (docs/MAPPER.md §6.6).

Shared by the blocking and the streaming runs (``accelforge.mapper._run``), which both sit above
this module.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from accelforge import columns as col
from accelforge.errors import InvalidMappingError
from accelforge.mapper._join.build import build_mapping
from accelforge.mapper._join.groups import loops_shared_onward
from accelforge.mapper._join.join import JoinStats, join
from accelforge.mapper._join.loop_blocks import counterparts
from accelforge.mapper._pmappings.make import Pmappings, backing_depths
from accelforge.model import evaluate_mapping
from accelforge.model.occupancy import memory_size
from accelforge.results import MappedResult, Mappings

if TYPE_CHECKING:
    from accelforge.frontend.spec import Spec

__all__ = ["OnStep", "break_ties", "dropped_message", "join_and_evaluate"]

OnStep = Callable[[JoinStats, Any], None]
"""Called as ``on_step(stats, partials)`` after each Einsum is joined."""


def dropped_message(dropped: list[str]) -> str:
    """The warning for joined mappings dropped by the detailed evaluation."""
    return (
        f"{len(dropped)} joined mapping(s) were rejected by the model's check of the whole "
        f"mapping and dropped from the front; first: {dropped[0]}"
    )


def join_and_evaluate(
    spec: Spec, pmappings: Pmappings, *, on_step: OnStep | None = None, ties: bool = False
) -> tuple[Mappings, list[str]]:
    """Join the pmappings and evaluate every joined mapping with the model.

    Returns the Mappings and the errors of the joined mappings the detailed evaluation dropped
    (``join_pmappings`` warns of them; a streaming run reports them as a ``RunWarning``). With
    one objective the optimum's exact ties are all returned with ``ties``; otherwise one, by
    :func:`break_ties`.
    """
    workload = spec.evaluate_workload()
    order = list(workload.einsums)
    users = {t: sorted(order.index(e) for e in workload.graph.users(t)) for t in workload.tensors}
    archs = {e: spec.evaluate(e, workload=workload) for e in order}

    @functools.cache
    def size_of(memory: str) -> float:
        """The size of ``memory`` in the first Einsum's architecture that has it."""
        return next(memory_size(a, memory) for a in archs.values() if memory in a.components)

    facts = [workload.einsums[e] for e in order]
    indexing = [{a.name: a.directly_indexing for a in f.einsum.tensor_accesses} for f in facts]
    between = [
        {t for t, u in users.items() if k in u and k + 1 in u} for k in range(len(order) - 1)
    ]
    onward = [{t for t, u in users.items() if k in u and max(u) > k} for k in range(len(order))]
    joined = join(pmappings, order, users, size_of, indexing, on_step=on_step)
    names = [
        counterparts(
            indexing[k],
            facts[k].rank_variable_bounds,
            indexing[k + 1],
            facts[k + 1].rank_variable_bounds,
            tensors,
        )
        for k, tensors in enumerate(between)
    ]
    first = archs[order[0]]
    memory_rank = {node.name: i for i, node in enumerate(first.nodes)}
    results: list[MappedResult] = []
    dropped: list[str] = []
    for row in range(len(joined.values)):
        paths, shared = [], []
        for k, einsum in enumerate(order):
            table_index, row_index = joined.choices[k]
            table = pmappings.einsums[einsum].tables[int(table_index[row])]
            path = copy.deepcopy(table.template.path)
            tiles = table.tiles[:, int(row_index[row])]
            for loop, tile in zip(path.loops, tiles, strict=True):
                loop.tile = float(tile)
            paths.append((path, list(tiles)))
            if k + 1 < len(order):
                shared.append(loops_shared_onward(backing_depths(table), onward[k]))
        mapping = build_mapping(paths, shared, names, memory_rank)
        try:
            result = evaluate_mapping(
                spec, mapping, evaluated=(workload, archs), check_min_usage=False
            )
            results.append(MappedResult(mapping, result))
        except InvalidMappingError as err:
            dropped.append(str(err))
    if not ties and pmappings.objectives.single:
        results = break_ties(results)
    objectives = list(joined.objectives)
    if pmappings.objectives.resource_usage:  # the front is non-dominated in these too
        tracked = sorted(pmappings.tracked, key=lambda m: memory_rank.get(m, 0))
        objectives += [col.usage_column(memory) for memory in tracked]
    return Mappings(spec, results, objectives, joined.steps), dropped


def break_ties(results: list[MappedResult]) -> list[MappedResult]:
    """The one mapping kept of a single objective's exact ties (docs/MAPPER.md §7).

    The lowest latency, then the lowest energy, then the lowest summed memory usage; of
    mappings equal in all of those, the first in the join's order (by template and row).
    """
    if len(results) < 2:
        return results

    def key(item: MappedResult) -> tuple[float, float, float]:
        result = item.result
        return (float(result.latency()), float(result.energy()), sum(result.peak_usage.values()))

    return [min(results, key=key)]
