"""Evaluate the workload side of a spec: variables, rank sizes, renames, sets, bits, persistence.

The result, :class:`EvaluatedWorkload`, holds for every Einsum the symbols its expressions see
(built-in sets, tensor and rank-variable symbols, renames) plus the tensor facts the model and
mapper need. It is computed once per spec.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from accelforge.errors import ExpressionError, SpecError, SpecWarning
from accelforge.frontend.sets import RankVariableSet, TensorSet
from accelforge.frontend.values import (
    Where,
    evaluate_in_order,
    evaluate_keyed_map,
    evaluate_number,
    evaluate_raw,
    evaluate_set,
)
from accelforge.frontend.workload import Einsum
from accelforge.frontend.workload_analysis import WorkloadGraph, analyze_workload

if TYPE_CHECKING:
    from accelforge.frontend.spec import Spec

__all__ = [
    "EinsumFacts",
    "EvaluatedWorkload",
    "TensorFacts",
    "evaluate_workload",
    "warn_about_renames",
]


@dataclass
class TensorFacts:
    """One tensor across the workload."""

    name: str
    role: str
    shape: dict[str, int]
    bits_per_value: float
    persistent: bool

    @property
    def n_values(self) -> int:
        """Number of values (product of the shape)."""
        return math.prod(self.shape.values())

    @property
    def size_bits(self) -> float:
        """Size in bits."""
        return self.n_values * self.bits_per_value


@dataclass
class EinsumFacts:
    """One Einsum with everything evaluated: bounds, computes, symbols, per-tensor facts."""

    einsum: Einsum
    rank_variable_bounds: dict[str, int]
    n_computes: int
    symbols: dict[str, Any]
    renames: dict[str, Any]
    bits_per_value: dict[str, float]
    persistent: dict[str, bool]

    @property
    def name(self) -> str:
        """The Einsum's name."""
        return self.einsum.name

    @property
    def all_tensors(self) -> TensorSet:
        """The ``All`` set."""
        return self.symbols["All"]


@dataclass
class EvaluatedWorkload:
    """The workload with variables, rank sizes, renames and sets evaluated."""

    variables: dict[str, Any]
    rank_sizes: dict[str, int]
    graph: WorkloadGraph
    einsums: dict[str, EinsumFacts] = field(default_factory=dict)
    tensors: dict[str, TensorFacts] = field(default_factory=dict)

    def einsum(self, name: str | None) -> EinsumFacts:
        """Facts of the Einsum ``name`` (the first one when ``None``)."""
        if name is None:
            if not self.einsums:
                raise SpecError("the workload has no Einsums.")
            return next(iter(self.einsums.values()))
        if name not in self.einsums:
            raise SpecError(f"no Einsum named '{name}'.", allowed=", ".join(self.einsums))
        return self.einsums[name]


def evaluate_variables(
    raw: Mapping[str, Any], scope: dict[str, Any], where: Where
) -> dict[str, Any]:
    """Evaluate a ``variables`` map in dependency order (quoted strings stay literal)."""

    def one(name: str, value: Any, inner: Mapping[str, Any]) -> Any:
        return evaluate_raw(value, inner, where.child(name), free_form=True)

    return evaluate_in_order(raw, scope, where, one)


def evaluate_workload(spec: Spec) -> EvaluatedWorkload:
    """Evaluate the workload part of ``spec`` for every Einsum."""
    scope: dict[str, Any] = {"spec": spec}
    variables = evaluate_variables(spec.variables, scope, Where("variables", ("variables",)))
    rank_sizes = _rank_sizes(spec, dict(variables))
    numeric = {k: v for k, v in variables.items() if isinstance(v, (int, float))}
    graph = analyze_workload(spec.workload, {**numeric, **rank_sizes})
    result = EvaluatedWorkload(variables=variables, rank_sizes=rank_sizes, graph=graph)
    for index, einsum in enumerate(spec.workload.einsums):
        result.einsums[einsum.name] = _einsum_facts(spec, result, einsum, index)
    _tensor_facts(result)
    return result


def _rank_sizes(spec: Spec, scope: dict[str, Any]) -> dict[str, int]:
    where = Where("workload.rank_sizes", ("workload", "rank_sizes"))

    def one(name: str, value: Any, inner: Mapping[str, Any]) -> Any:
        size = evaluate_number(value, inner, where.child(name), integer=True)
        if size < 1:
            raise where.child(name).error(f"must be an integer of at least 1. Got {size}.")
        return size

    return evaluate_in_order(spec.workload.rank_sizes, scope, where, one)


def _base_symbols(result: EvaluatedWorkload, einsum: Einsum) -> dict[str, Any]:
    graph = result.graph
    names = einsum.tensor_names
    rank_vars = sorted(einsum.rank_variables)

    def ranks_of(tensor: str) -> set[str]:
        return einsum.access(tensor).rank_variables

    def tset(members: Any) -> TensorSet:
        return TensorSet(
            members, names, ranks_of, lambda t: _bits_lookup(result, einsum, t), rank_vars
        )

    # Names of other Einsums' tensors and rank variables are empty sets here; sharing one
    # (immutable) empty set keeps this linear in the workload size.
    no_tensor = tset([])
    no_variable = RankVariableSet([], rank_vars)
    symbols: dict[str, Any] = dict.fromkeys(graph.tensors, no_tensor)
    symbols.update(dict.fromkeys(result.graph.rank_variable_bounds, no_variable))
    symbols.update({tensor: tset([tensor]) for tensor in names})
    symbols.update({var: RankVariableSet([var], rank_vars) for var in rank_vars})
    flagged = [a.name for a in einsum.tensor_accesses if a.persistent]
    symbols.update(
        {
            "All": tset(names),
            "Tensors": tset(names),
            "Inputs": tset(a.name for a in einsum.inputs),
            "Outputs": tset(a.name for a in einsum.outputs),
            "Intermediates": tset(t for t in names if graph.role(t) == "intermediate"),
            "Shared": tset(t for t in names if len(graph.users(t)) > 1),
            "Persistent": tset(flagged),
            "Nothing": no_tensor,
        }
    )
    return symbols


def _bits_lookup(result: EvaluatedWorkload, einsum: Einsum, tensor: str) -> Any:
    facts = result.einsums.get(einsum.name)
    if facts is None or tensor not in facts.bits_per_value:
        raise ExpressionError(f"bits per value of tensor {tensor} is not known yet here.")
    return facts.bits_per_value[tensor]


def _einsum_facts(spec: Spec, result: EvaluatedWorkload, einsum: Einsum, index: int) -> EinsumFacts:
    loc = ("workload", "einsums", index)
    symbols = _base_symbols(result, einsum)
    scope = {
        **result.variables,
        "spec": spec,
        "workload": spec.workload,
        "variables": result.variables,
        **symbols,
    }
    renames = _resolve_renames(spec, einsum, scope, loc)
    bits = _bits_per_value(spec, einsum, scope, loc)
    persistent = {a.name: a.persistent for a in einsum.tensor_accesses}
    if spec.workload.persistent_tensors:
        chosen = evaluate_set(
            spec.workload.persistent_tensors,
            {**scope, **renames},
            Where(
                "workload.persistent_tensors",
                ("workload", "persistent_tensors"),
                f"Einsum {einsum.name}",
            ),
        )
        for tensor in chosen:
            persistent[tensor] = True
    symbols["Persistent"] = symbols["All"]._new(t for t, p in persistent.items() if p)
    space = result.graph.spaces[einsum.name]
    return EinsumFacts(
        einsum=einsum,
        rank_variable_bounds=dict(sorted(space.bounds.items())),
        n_computes=space.n_points * einsum.n_instances,
        symbols={**symbols, **renames},
        renames=renames,
        bits_per_value=bits,
        persistent=persistent,
    )


def _resolve_renames(
    spec: Spec, einsum: Einsum, scope: dict[str, Any], loc: tuple
) -> dict[str, Any]:
    """Per-Einsum renames, then the top-level entry for this Einsum, then the defaults."""
    steps: list[tuple[dict[str, Any], tuple]] = [
        (r, (*loc, "renames", i)) for i, r in enumerate(einsum.renames)
    ]
    named = spec.renames.entry(einsum.name)
    if named is not None:
        steps += [
            (r, ("renames", "einsums", einsum.name, "tensor_accesses", i))
            for i, r in enumerate(named.tensor_accesses + named.rank_variables)
        ]
    default = spec.renames.entry("default")
    if default is not None:
        steps += [
            (r, ("renames", "einsums", "default", "tensor_accesses", i))
            for i, r in enumerate(default.tensor_accesses)
        ]
        steps += [
            (r, ("renames", "einsums", "default", "rank_variables", i))
            for i, r in enumerate(default.rank_variables)
        ]
    bound: dict[str, Any] = {}
    for rename, where in steps:
        name = rename["name"]
        if name in bound:
            continue
        inner = {**scope, **bound}
        at = Where(f"rename '{name}'", where, f"Einsum {einsum.name}")
        value = evaluate_set(
            rename["source"], inner, at.child("source"), kind=(TensorSet, RankVariableSet)
        )
        expected = rename.get("expected_count")
        if expected is not None:
            count = evaluate_number(expected, inner, at.child("expected_count"), integer=True)
            if len(value) != count:
                raise SpecError(
                    f"rename '{name}' expected {count} tensor(s), got {len(value)}: {value} "
                    f"(source {rename['source']!r}), in Einsum {einsum.name}.",
                    loc=where,
                )
        bound[name] = value
    return bound


def _bits_per_value(
    spec: Spec, einsum: Einsum, scope: dict[str, Any], loc: tuple
) -> dict[str, float]:
    where = Where(
        "workload.bits_per_value", ("workload", "bits_per_value"), f"Einsum {einsum.name}"
    )
    mapped = evaluate_keyed_map(
        spec.workload.bits_per_value, scope, scope["All"], where, evaluate_number
    )
    bits: dict[str, float] = {}
    for i, access in enumerate(einsum.tensor_accesses):
        if access.bits_per_value is not None:
            bits[access.name] = evaluate_number(
                access.bits_per_value,
                scope,
                Where(
                    f"workload.einsums.{einsum.name}.tensor_accesses.{access.name}.bits_per_value",
                    (*loc, "tensor_accesses", i, "bits_per_value"),
                ),
            )
        elif access.name in mapped:
            bits[access.name] = mapped[access.name]
        else:
            raise SpecError(
                f"tensor {access.name} of Einsum {einsum.name} has no bits per value; set it in "
                "workload.bits_per_value or on the access.",
                loc=(*loc, "tensor_accesses", i),
            )
    return bits


def _tensor_facts(result: EvaluatedWorkload) -> None:
    first: dict[str, EinsumFacts] = {}
    for facts in result.einsums.values():
        for tensor, bits in facts.bits_per_value.items():
            if tensor in first:
                other = first[tensor]
                for label, mine, theirs in (
                    ("bits per value", bits, other.bits_per_value[tensor]),
                    ("persistent flag", facts.persistent[tensor], other.persistent[tensor]),
                ):
                    if mine != theirs:
                        raise SpecError(
                            f"tensor {tensor} has {label} {theirs} in Einsum {other.name} and "
                            f"{mine} in Einsum {facts.name}; it must be the same in every Einsum.",
                            loc=("workload",),
                        )
                continue
            first[tensor] = facts
            result.tensors[tensor] = TensorFacts(
                name=tensor,
                role=result.graph.role(tensor),
                shape=result.graph.shapes[tensor],
                bits_per_value=bits,
                persistent=facts.persistent[tensor],
            )


def warn_about_renames(spec: Spec) -> None:
    """Warn about top-level renames for named Einsums (applied here, ignored by AccelForge)."""
    names = set(spec.workload.einsum_names)
    for entry in spec.renames.einsums:
        if entry.name == "default":
            continue
        if entry.name not in names:
            warnings.warn(
                SpecWarning(
                    f"renames.einsums entry '{entry.name}' names no Einsum of the workload."
                ),
                stacklevel=3,
            )
        else:
            warnings.warn(
                SpecWarning(
                    f"renames.einsums entry '{entry.name}' is applied here; note that AccelForge "
                    "1.0.467 ignores top-level renames for named Einsums, so results would differ "
                    "there."
                ),
                stacklevel=3,
            )
