"""Canonical signatures of one template's tile-search problem (docs/MAPPER.md §13).

Einsums that are identical up to the names of their tensors and rank variables (the K, Q and
V projections of a transformer) have identical template searches. A template's signature
renames tensors by their position in the Einsum and rank variables by their first appearance,
then records everything the search reads: the path, the Einsum's accesses, bounds and bits,
which tensors are fusable, and the Einsum's evaluated architecture. Equal signatures give equal
rows up to the renaming, so the search runs once. Anything the canonical form does not
understand is kept verbatim, which can only make two signatures differ (a missed reuse), never
make different problems look equal.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from accelforge.frontend.evaluate_arch import EvaluatedArch
from accelforge.frontend.evaluate_workload import EinsumFacts
from accelforge.frontend.sets import TypedSet
from accelforge.mapper._templates.make import Template
from accelforge.model.paths import Compute, Hold, Loop

__all__ = ["problem_signature"]

_NAME = re.compile(r"[A-Za-z_]\w*")


def problem_signature(
    template: Template, facts: EinsumFacts, arch: EvaluatedArch, fusable: set[str]
) -> tuple[tuple, dict[str, str]]:
    """(signature, tensor name -> canonical name) of ``template``'s tile search."""
    tensors = {a.name: f"t{i}" for i, a in enumerate(facts.einsum.tensor_accesses)}
    variables: dict[str, str] = {}
    for access in facts.einsum.tensor_accesses:
        for expression in access.projection.values():
            for name in _NAME.findall(str(expression)):
                variables.setdefault(name, f"v{len(variables)}")
    for name in sorted(facts.rank_variable_bounds):
        variables.setdefault(name, f"v{len(variables)}")
    names = {**variables, **tensors}
    signature = (
        _path(template, tensors, variables),
        tuple(
            (
                tensors[a.name],
                a.output,
                tuple(
                    (rank, _NAME.sub(lambda m: variables.get(m[0], m[0]), str(expression)))
                    for rank, expression in a.projection.items()
                ),
                facts.bits_per_value[a.name],
                facts.persistent.get(a.name, False),
                a.name in fusable,
            )
            for a in facts.einsum.tensor_accesses
        ),
        tuple(sorted((variables[v], b) for v, b in facts.rank_variable_bounds.items())),
        facts.einsum.n_instances,
        facts.einsum.is_copy_operation,
        _canonical(arch.path_to(template.path.compute.component), names),
    )
    return signature, tensors


def _path(template: Template, tensors: Mapping[str, str], variables: Mapping[str, str]) -> tuple:
    out: list[tuple] = []
    for node in template.path.nodes:
        if isinstance(node, Hold):
            out.append(("hold", tensors[node.tensor], node.component, node.persistent))
        elif isinstance(node, Loop):
            out.append(
                (
                    "loop",
                    variables[node.rank_variable],
                    node.spatial,
                    node.component,
                    node.dimension,
                )
            )
        elif isinstance(node, Compute):
            out.append(("compute", node.component))
    return tuple(out)


def _canonical(value: Any, names: Mapping[str, str]) -> Any:
    """A hashable form of ``value`` with this Einsum's names replaced by canonical ones."""
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, TypedSet):  # evaluated: its members matter, not its universe
        return (value.kind, tuple(sorted(names.get(n, n) for n in value.names)))
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (
            type(value).__name__,
            tuple(
                (f.name, _canonical(getattr(value, f.name), names))
                for f in dataclasses.fields(value)
            ),
        )
    if isinstance(value, Mapping):
        return (
            "map",
            tuple(
                sorted(
                    ((_canonical(k, names), _canonical(v, names)) for k, v in value.items()),
                    key=repr,
                )
            ),
        )
    if isinstance(value, (list, tuple)):
        return ("seq", tuple(_canonical(v, names) for v in value))
    if isinstance(value, (set, frozenset)):
        return ("set", tuple(sorted((_canonical(v, names) for v in value), key=repr)))
    return ("repr", type(value).__name__, repr(value))
