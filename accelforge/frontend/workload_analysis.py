"""Workload-wide facts: the tensor graph, iteration spaces, rank-variable bounds, tensor shapes.

Everything here is independent of the architecture. Checks follow docs/SPEC_FORMAT.md §6.2-§6.6:
consistent tensor ranks, one producer per tensor, topological order, no cycles, bounded rank
variables that agree across Einsums.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from accelforge.errors import SpecError
from accelforge.frontend.iteration_space import (
    Constraint,
    IterationSpace,
    parse_affine,
    parse_constraint,
)
from accelforge.frontend.workload import Einsum, Workload

__all__ = ["EinsumSpace", "WorkloadGraph", "analyze_workload"]


@dataclass
class EinsumSpace:
    """One Einsum's iteration space: bounds per rank variable and the exact point count."""

    bounds: dict[str, int]
    n_points: int
    space: IterationSpace


@dataclass
class WorkloadGraph:
    """Producers, consumers, roles and shapes of the workload's tensors."""

    producers: dict[str, str] = field(default_factory=dict)
    consumers: dict[str, list[str]] = field(default_factory=dict)
    ranks: dict[str, tuple[str, ...]] = field(default_factory=dict)
    spaces: dict[str, EinsumSpace] = field(default_factory=dict)
    shapes: dict[str, dict[str, int]] = field(default_factory=dict)
    rank_variable_bounds: dict[str, int] = field(default_factory=dict)

    def role(self, tensor: str) -> str:
        """``input`` (never produced), ``output`` (never consumed) or ``intermediate``."""
        if tensor not in self.producers:
            return "input"
        if not self.consumers.get(tensor):
            return "output"
        return "intermediate"

    @property
    def tensors(self) -> list[str]:
        """Tensor names in first-appearance order."""
        return list(self.ranks)

    def users(self, tensor: str) -> set[str]:
        """Einsums that read or write ``tensor``."""
        out = set(self.consumers.get(tensor, []))
        if tensor in self.producers:
            out.add(self.producers[tensor])
        return out


def analyze_workload(workload: Workload, constants: Mapping[str, float]) -> WorkloadGraph:
    """Check the workload graph and compute iteration spaces and shapes.

    ``constants`` holds evaluated rank sizes and variables usable in ISL constraints.
    """
    graph = WorkloadGraph()
    _collect_graph(workload, graph)
    _check_cycles(workload, graph)
    _check_order(workload, graph)
    rank_sizes = {str(k): v for k, v in constants.items() if k[:1].isupper()}
    for i, einsum in enumerate(workload.einsums):
        graph.spaces[einsum.name] = _einsum_space(workload, einsum, rank_sizes, constants, i)
    _check_bound_agreement(workload, graph)
    for tensor in graph.tensors:
        graph.shapes[tensor] = _shape(workload, graph, tensor, rank_sizes)
    return graph


def _collect_graph(workload: Workload, graph: WorkloadGraph) -> None:
    first_seen: dict[str, str] = {}
    for i, einsum in enumerate(workload.einsums):
        outputs = einsum.outputs
        if len(outputs) != 1:
            raise SpecError(
                f"Einsum '{einsum.name}' must write exactly one output tensor; it writes "
                f"{len(outputs)} ({[a.name for a in outputs]}).",
                loc=("workload", "einsums", i, "tensor_accesses"),
            )
        if einsum.is_copy_operation and len(einsum.inputs) != 1:
            raise SpecError(
                f"copy Einsum '{einsum.name}' must have exactly one input; it has "
                f"{len(einsum.inputs)}.",
                loc=("workload", "einsums", i),
            )
        for access in einsum.tensor_accesses:
            ranks = access.ranks
            if access.name in graph.ranks and graph.ranks[access.name] != ranks:
                raise SpecError(
                    f"tensor {access.name} has inconsistent ranks: "
                    f"{list(graph.ranks[access.name])} in Einsum {first_seen[access.name]} and "
                    f"{list(ranks)} in Einsum {einsum.name}.",
                    loc=("workload", "einsums", i, "tensor_accesses"),
                )
            graph.ranks.setdefault(access.name, ranks)
            first_seen.setdefault(access.name, einsum.name)
            if access.output:
                if access.name in graph.producers:
                    raise SpecError(
                        f"tensor {access.name} is written by two Einsums, "
                        f"{graph.producers[access.name]} and {einsum.name}; each tensor has at "
                        "most one producer.",
                        loc=("workload", "einsums", i),
                    )
                graph.producers[access.name] = einsum.name
            else:
                graph.consumers.setdefault(access.name, []).append(einsum.name)


def _check_cycles(workload: Workload, graph: WorkloadGraph) -> None:
    successors: dict[str, list[str]] = {e.name: [] for e in workload.einsums}
    for tensor, producer in graph.producers.items():
        for consumer in graph.consumers.get(tensor, []):
            successors[producer].append(consumer)
    state: dict[str, int] = {}
    for start in successors:
        if state.get(start):
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = []
        while stack:
            node, child = stack.pop()
            if child == 0:
                state[node] = 1
                path.append(node)
            if child < len(successors[node]):
                stack.append((node, child + 1))
                nxt = successors[node][child]
                if state.get(nxt) == 1:
                    cycle = path[path.index(nxt) :] + [nxt]
                    raise SpecError(
                        "the workload has a cycle: "
                        + " → ".join(cycle)
                        + "; each Einsum may only read tensors produced before it.",
                        loc=("workload", "einsums"),
                    )
                if not state.get(nxt):
                    stack.append((nxt, 0))
            else:
                state[node] = 2
                path.pop()


def _check_order(workload: Workload, graph: WorkloadGraph) -> None:
    position = {e.name: i for i, e in enumerate(workload.einsums)}
    for tensor, consumers in graph.consumers.items():
        producer = graph.producers.get(tensor)
        for consumer in consumers:
            if producer is not None and position[consumer] < position[producer]:
                raise SpecError(
                    f"Einsum {consumer} reads {tensor}, produced by Einsum {producer} which comes "
                    "later; reorder the Einsums so producers come first.",
                    loc=("workload", "einsums", position[consumer]),
                )


def _einsum_space(
    workload: Workload,
    einsum: Einsum,
    rank_sizes: Mapping[str, float],
    constants: Mapping[str, float],
    index: int,
) -> EinsumSpace:
    loc = ("workload", "einsums", index)
    variables = sorted(einsum.rank_variables)
    constraints: list[Constraint] = []
    for j, text in enumerate(einsum.iteration_space_shape):
        constraints += _parse(text, constants, (*loc, "iteration_space_shape", j), variables)
    for var in variables:
        if var in workload.iteration_space_shape:
            constraints += _parse(
                workload.iteration_space_shape[var],
                constants,
                ("workload", "iteration_space_shape", var),
                variables,
            )
    local_sizes = {**rank_sizes, **{str(k): v for k, v in einsum.rank_sizes.items()}}
    for access in einsum.tensor_accesses:
        for rank, expr in access.projection.items():
            if rank in local_sizes:
                affine = _parse_expr(expr, constants, (*loc, "tensor_accesses"))
                constraints.append(Constraint(affine, 0, float(local_sizes[rank]) - 1))
    space = IterationSpace(variables, constraints)
    missing = space.unbounded()
    if missing:
        raise SpecError(
            f"rank variable {missing[0]} of Einsum {einsum.name} is unbounded; give a rank "
            f"size for a rank it indexes or an iteration_space_shape entry for {missing[0]}.",
            loc=loc,
        )
    bounds = {v: space.extent(v) for v in variables}
    empty = [v for v in sorted(variables) if bounds[v] < 1 or _crossed(space, v)]
    if empty:
        var = empty[0]
        shape = workload.iteration_space_shape.get(var)
        where = ("workload", "iteration_space_shape", var) if shape is not None else loc
        given = f" ({shape})" if shape is not None else ""
        raise SpecError(
            f"rank variable {var} of Einsum {einsum.name} has no value: its range{given} is "
            "empty; every rank variable needs at least one value (sizes of at least 1).",
            loc=where,
        )
    return EinsumSpace(bounds=bounds, n_points=space.point_count(), space=space)


def _crossed(space: IterationSpace, var: str) -> bool:
    """Whether the propagated bounds of ``var`` crossed (lower above upper): no value fits."""
    low, high = space.bounds[var]
    return low > high


def _parse(
    text: str, constants: Mapping[str, float], loc: tuple, variables: list[str]
) -> list[Constraint]:
    """The constraints of ``text``, naming only rank variables and constants.

    Another name is refused (``0 <= m < abc`` after a Jinja variable was given ``"abc"``).
    """
    try:
        constraints = parse_constraint(str(text), constants)
    except SpecError as err:
        raise err.with_location(loc_prefix=loc) from None
    unknown = sorted({v for c in constraints for v, _ in c.expr.coefs} - set(variables))
    if unknown:
        raise SpecError(
            f"{text!r} names {', '.join(map(repr, unknown))}, which is neither a rank variable "
            f"of this Einsum ({', '.join(variables)}) nor a number or a workload variable; a "
            "size given as text (a Jinja variable set to a string, say) ends up here.",
            loc=loc,
            allowed="affine comparisons of the rank variables and numbers",
        )
    return constraints


def _parse_expr(text: str, constants: Mapping[str, float], loc: tuple):
    try:
        return parse_affine(str(text), constants)
    except SpecError as err:
        raise err.with_location(loc_prefix=loc) from None


def _check_bound_agreement(workload: Workload, graph: WorkloadGraph) -> None:
    seen: dict[str, tuple[int, str]] = {}
    for einsum in workload.einsums:
        for var, bound in graph.spaces[einsum.name].bounds.items():
            if var in seen and seen[var][0] != bound:
                raise SpecError(
                    f"rank variable {var} has bound {bound} in Einsum {einsum.name} and "
                    f"{seen[var][0]} in Einsum {seen[var][1]}; rank variables are workload-global "
                    "and must agree.",
                    loc=("workload", "einsums"),
                )
            seen.setdefault(var, (bound, einsum.name))
    graph.rank_variable_bounds = {v: b for v, (b, _) in seen.items()}


def _shape(
    workload: Workload, graph: WorkloadGraph, tensor: str, rank_sizes: Mapping[str, float]
) -> dict[str, int]:
    sources = [graph.producers[tensor]] if tensor in graph.producers else graph.consumers[tensor]
    shape: dict[str, int] = {}
    for name in sources:
        einsum = workload.einsum(name)
        space = graph.spaces[name].space
        local_sizes = {**rank_sizes, **{str(k): v for k, v in einsum.rank_sizes.items()}}
        for rank, expr in einsum.access(tensor).projection.items():
            lo, hi = parse_affine(expr, {}).interval(space.bounds)
            extent = int(hi - lo + 1) if math.isfinite(hi - lo) else 0
            if rank in local_sizes:
                extent = min(extent, int(local_sizes[rank]))
            shape[rank] = min(shape.get(rank, extent), extent)
    return {rank: shape[rank] for rank in graph.ranks[tensor]}
