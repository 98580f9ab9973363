"""The blocking mapper entry points: ``join_pmappings`` and ``map_workload_to_arch``."""

from __future__ import annotations

import copy
import warnings
from typing import TYPE_CHECKING

from accelforge.errors import InvalidMappingError, SpecWarning
from accelforge.mapper.build import build_mapping
from accelforge.mapper.join import join
from accelforge.mapper.pmappings import Pmappings, backing_depths, make_pmappings
from accelforge.model import evaluate_mapping
from accelforge.results import MappedResult, Mappings

if TYPE_CHECKING:
    from accelforge.frontend.spec import Spec

__all__ = ["join_pmappings", "map_workload_to_arch"]


def join_pmappings(spec: Spec, pmappings: Pmappings) -> Mappings:
    """Join per-Einsum pmappings into the Pareto-optimal full mappings (MAPPER.md §6-§7)."""
    workload = spec.evaluate_workload()
    order = list(workload.einsums)
    users = {t: sorted(order.index(e) for e in workload.graph.users(t)) for t in workload.tensors}
    archs = {e: spec.evaluate(e, workload=workload) for e in order}

    def size_of(memory: str) -> float:
        return next(a.components[memory].size for a in archs.values() if memory in a.components)

    joined = join(pmappings, order, users, size_of)
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
                following = {t for t in workload.tensors if k in users[t] and k + 1 in users[t]}
                depths = backing_depths(table)
                shared.append(max((depths[t][2] for t in following if t in depths), default=0))
        mapping = build_mapping(paths, shared, memory_rank)
        try:
            results.append(MappedResult(mapping, evaluate_mapping(spec, mapping)))
        except InvalidMappingError as err:
            dropped.append(str(err))
    if dropped:
        warnings.warn(
            SpecWarning(
                f"{len(dropped)} joined mapping(s) overflow a memory whose size differs "
                f"between Einsums and were dropped; first: {dropped[0]}"
            ),
            stacklevel=2,
        )
    return Mappings(spec, results, joined.objectives, joined.values, joined.steps)


def map_workload_to_arch(spec: Spec) -> Mappings:
    """Make every Einsum's pmappings, join them, evaluate each Pareto-optimal mapping."""
    return join_pmappings(spec, make_pmappings(spec))
