"""``evaluate_mapping``: the analytical model for one (fused) mapping of a whole workload."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from accelforge.errors import InvalidMappingError, SpecError, SpecWarning
from accelforge.frontend import mapping as m
from accelforge.frontend.evaluate_arch import EvaluatedArch
from accelforge.frontend.evaluate_workload import EvaluatedWorkload
from accelforge.frontend.values import Where, evaluate_number
from accelforge.model.constraints import check_placement, constraint_violations
from accelforge.model.einsum_eval import EinsumResult, evaluate_einsum
from accelforge.model.occupancy import bits_by_memory, joint_usage, memory_size
from accelforge.model.paths import einsum_paths
from accelforge.model.result import ModelResult

if TYPE_CHECKING:
    from accelforge.frontend.spec import Spec

__all__ = ["evaluate_mapping", "simple_variables", "tile_values"]


def evaluate_mapping(
    spec: Spec,
    mapping: m.Mapping | None = None,
    *,
    allow_partial: bool = False,
    evaluated: tuple[EvaluatedWorkload, Mapping[str, EvaluatedArch]] | None = None,
    check_min_usage: bool = True,
) -> ModelResult:
    """Evaluate a mapping (default: ``spec.mapping``) and return its :class:`ModelResult`.

    ``evaluated`` passes the spec's evaluated workload and per-Einsum architectures when the
    caller already has them (the mapper evaluating many mappings of one spec). With
    ``check_min_usage`` false, a fanout used below its ``min_usage`` is not warned of: the
    mapper's own mappings follow its per-template rule (docs/MAPPER.md §3.7), which a single
    mapping cannot be checked against.

    Raises
    ------
    InvalidMappingError
        The mapping breaks a structural rule, a fanout, or a memory's capacity (per Einsum
        or jointly across fused Einsums).
    """
    mapping = mapping if mapping is not None else spec.mapping
    if not mapping.nodes:
        raise SpecError("the spec has no mapping: add a 'mapping:' section or pass one.")
    workload = evaluated[0] if evaluated is not None else spec.evaluate_workload()
    tiles = tile_values(mapping, workload.variables)
    simple = simple_variables(spec)
    paths = einsum_paths(
        mapping,
        {n: f.einsum.tensor_names for n, f in workload.einsums.items()},
        {n: f.rank_variable_bounds for n, f in workload.einsums.items()},
        tiles,
        simple,
    )
    missing = [e for e in workload.einsums if e not in paths]
    if missing and not allow_partial:
        raise InvalidMappingError(
            f"the mapping has no Compute for Einsum(s) {missing}; map every Einsum, or pass "
            "allow_partial=True to evaluate the others."
        )
    if missing:
        warnings.warn(
            SpecWarning(f"Einsum(s) {missing} are not mapped; evaluated without them."),
            stacklevel=2,
        )
    order = [e for e in workload.einsums if e in paths]
    known = evaluated[1] if evaluated is not None else {}
    archs: dict[str, EvaluatedArch] = {
        e: known[e] if e in known else spec.evaluate(e, workload=workload) for e in order
    }
    results: dict[str, EinsumResult] = {}
    notes: list[str] = []
    for einsum in order:
        path, facts = paths[einsum], workload.einsums[einsum]
        flat = archs[einsum].path_to(path.compute.component)
        results[einsum] = evaluate_einsum(path, facts, archs[einsum], workload.variables)
        notes += check_placement(path, facts, flat)
        notes += constraint_violations(
            path, facts, flat, results[einsum].spatial_usage, min_usage=check_min_usage
        )
        _check_einsum_capacity(results[einsum], archs[einsum])
    if notes:
        warnings.warn(
            SpecWarning(
                "the mapping breaks constraints the mapper enforces (it is evaluated anyway): "
                + "; ".join(notes)
            ),
            stacklevel=2,
        )
    peaks = _joint_usage(order, paths, results, archs)
    return ModelResult.build(spec, workload, order, results, archs, peaks)


def tile_values(mapping: m.Mapping, variables: dict[str, Any]) -> dict[int, float]:
    """Each temporal loop's tile shape, keyed by ``id(node)``, evaluated with ``variables``."""
    values: dict[int, float] = {}
    for loc, node in m.iter_nodes(mapping):
        if isinstance(node, m.Temporal):
            where = Where("mapping", ("mapping", *loc)).child("tile_shape")
            if node.tile_shape is None:
                raise InvalidMappingError(
                    f"{where}: the loop over {node.rank_variable} has no tile_shape.", loc=where.loc
                )
            values[id(node)] = float(
                evaluate_number(node.tile_shape, variables, where, integer=True)
            )
    return values


def simple_variables(spec: Spec) -> set[str]:
    """Rank variables that never appear inside a compound index expression (§7)."""
    compound: set[str] = set()
    every: set[str] = set()
    for einsum in spec.workload.einsums:
        for access in einsum.tensor_accesses:
            every |= access.rank_variables
            direct = set(access.directly_indexing.values())
            compound |= access.rank_variables - direct
    return every - compound


def _check_einsum_capacity(result: EinsumResult, arch: EvaluatedArch) -> None:
    for memory, bits in bits_by_memory(result.reservations).items():
        size = arch.components[memory].size
        if size is not None and bits > size:
            parts = ", ".join(
                f"{r.tensor} {r.bits:g}" for r in result.reservations if r.memory == memory
            )
            raise InvalidMappingError(
                f"The mapping uses {bits:g} bits of {memory} but its size is only {size:g} bits "
                f"(Einsum {result.einsum}: {parts}). Use a smaller tile shape for loops below "
                f"the storage nodes of {memory}."
            )


def _joint_usage(
    order: list[str],
    paths: dict,
    results: dict[str, EinsumResult],
    archs: dict[str, EvaluatedArch],
) -> dict[str, float]:
    """Peak fraction of each memory across the fused Einsums; raises when one overflows."""
    usage = joint_usage(
        order,
        paths,
        {e: results[e].reservations for e in order},
        lambda einsum, memory: memory_size(archs[einsum], memory),
    )
    for memory, joint in usage.items():
        if not joint.fits:
            size = archs[joint.worst].components[memory].size
            others = [e for e in order if e != joint.worst]
            raise InvalidMappingError(
                f"The fused Einsums need {joint.bits:g} bits of {memory} while Einsum "
                f"{joint.worst} runs (with {', '.join(others)} sharing loops or live tensors), "
                f"but its size is only {size:g} bits."
            )
    return {memory: float(joint.fraction) for memory, joint in usage.items()}
