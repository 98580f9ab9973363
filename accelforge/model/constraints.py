"""Arch constraints checked on a user mapping (docs/SPEC_FORMAT.md §7.3, §7.4).

Storing a tensor in a memory whose ``tensors.keep`` / ``may_keep`` does not allow it is an
error (the placement does not exist in the architecture). The mapper-only constraints (a
``keep`` tensor not stored, spatial ``reuse``, ``loop_bounds``, ``min_usage``, memory-hierarchy
order) do not change the numbers: the mapping is evaluated and one warning lists them all, so
users know the mapper's space excludes it.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Any

from accelforge.errors import InvalidMappingError
from accelforge.frontend.evaluate_arch import EvaluatedComponent
from accelforge.frontend.evaluate_workload import EinsumFacts
from accelforge.frontend.sets import TensorSet
from accelforge.frontend.values import Where, evaluate_set
from accelforge.model.paths import EinsumPath, Hold

__all__ = ["check_placement", "constraint_violations"]

_OPERATORS = {
    "==": operator.eq,
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}


def _placement_sets(
    path: EinsumPath, facts: EinsumFacts, flat: list, memory: EvaluatedComponent
) -> tuple[TensorSet, TensorSet]:
    """``keep`` and ``keep | may_keep`` of ``memory``, resolving memory names (phase 2, §5.4)."""
    all_tensors = facts.symbols["All"]
    held: dict[str, set[str]] = {}
    for node in path.nodes:
        if isinstance(node, Hold):
            held.setdefault(node.component, set()).add(node.tensor)
    above: set[str] = set()
    scope: dict[str, Any] = dict(facts.symbols)
    for node in flat:
        if node is memory:
            break
        if node.kind == "Memory":
            tensors = held.get(node.name, set())
            scope[node.name] = all_tensors._new(tensors)
            above |= tensors
    scope["Above"] = all_tensors._new(above)
    sets = []
    for field in ("keep", "may_keep"):
        value = getattr(memory.tensors, field)
        if isinstance(value, str):
            where = Where(f"arch.nodes.{memory.name}.tensors.{field}", (), f"Einsum {path.einsum}")
            value = evaluate_set(value, scope, where)
        sets.append(value)
    return sets[0], sets[0] | sets[1]


def check_placement(path: EinsumPath, facts: EinsumFacts, flat: list) -> list[str]:
    """Raise for a tensor stored where keep/may_keep forbid it; return unmet ``keep`` notes."""
    notes: list[str] = []
    memories = [n for n in flat if isinstance(n, EvaluatedComponent) and n.kind == "Memory"]
    stored = {(n.component, n.tensor) for n in path.nodes if isinstance(n, Hold)}
    if facts.einsum.is_copy_operation:  # a copy ends at its backing nodes (docs/MODEL.md §11)
        deepest = max(i for i, m in enumerate(memories) if any(c == m.name for c, _ in stored))
        memories = memories[: deepest + 1]
    for memory in memories:
        keep, allowed = _placement_sets(path, facts, flat, memory)
        for component, tensor in sorted(stored):
            if component == memory.name and tensor not in allowed:
                raise InvalidMappingError(
                    f"!Storage of {tensor} in {memory.name} (Einsum {path.einsum}) is not allowed: "
                    f"{memory.name}'s tensors.keep / may_keep allow only {allowed}."
                )
        missing = sorted(t for t in keep if (memory.name, t) not in stored)
        if missing:
            notes.append(
                f"{memory.name} must keep {missing} (tensors.keep) but the mapping does "
                f"not store them there in Einsum {path.einsum}"
            )
    return notes


def constraint_violations(
    path: EinsumPath,
    facts: EinsumFacts,
    flat: list,
    spatial_usage: Mapping[tuple[str, str], float],
    *,
    min_usage: bool = True,
) -> list[str]:
    """Mapper-only constraints the mapping breaks, as readable notes (no effect on numbers).

    With ``min_usage`` false the fanouts' ``min_usage`` is not checked: the mapper applies it
    per template with a fallback (docs/MAPPER.md §3.7) that one mapping alone cannot show.
    """
    notes: list[str] = []
    level = {n.name: i for i, n in enumerate(flat)}
    accesses = {a.name: a.rank_variables for a in facts.einsum.tensor_accesses}
    for node in flat:
        for dim in node.spatial:
            loops = [
                lp
                for lp in path.loops
                if lp.spatial and lp.component == node.name and lp.dimension == dim.name
            ]
            for loop in loops:
                shared = [t for t in dim.reuse if loop.rank_variable in accesses.get(t, ())]
                if shared:
                    notes.append(
                        f"spatial loop over {loop.rank_variable} on {node.name}.{dim.name}"
                        f" indexes {shared}, which that dimension must reuse"
                    )
                for variables, op, value in dim.loop_bounds:
                    if loop.rank_variable in variables and not _OPERATORS[
                        op.removeprefix("product")
                    ](loop.factor, value):
                        notes.append(
                            f"spatial loop over {loop.rank_variable} on "
                            f"{node.name}.{dim.name} breaks loop_bounds {op} {value}"
                        )
            usage = spatial_usage.get((node.name, dim.name), 0.0)
            if min_usage and usage < dim.min_usage and not facts.einsum.is_copy_operation:
                notes.append(
                    f"{node.name}.{dim.name} usage {usage:g} is below min_usage "
                    f"{dim.min_usage:g} (the mapper allows that only where no tile shape of the "
                    "same template reaches it)"
                )
    holds = [n for n in path.nodes if isinstance(n, Hold)]
    for i, outer in enumerate(holds):
        for inner in holds[i + 1 :]:
            if level[inner.component] < level[outer.component] and _ordered(outer, inner, flat):
                notes.append(
                    f"storage of {inner.tensor} in {inner.component} sits below "
                    f"{outer.tensor} in {outer.component}, a lower memory "
                    "(memory-hierarchy order)"
                )
    return notes


def _ordered(outer: Hold, inner: Hold, flat: list) -> bool:
    """Whether these two holds must follow the memory hierarchy (as the mapper's templates).

    Two holds of one tensor always do; others only when both memories keep
    ``force_memory_hierarchy_order`` (its default) and neither is persistent.
    """
    if outer.tensor == inner.tensor:
        return True
    forced = {
        n.name: n.tensors.force_memory_hierarchy_order
        for n in flat
        if isinstance(n, EvaluatedComponent) and n.tensors is not None
    }
    return (
        forced.get(outer.component, True)
        and forced.get(inner.component, True)
        and not (outer.persistent or inner.persistent)
    )
