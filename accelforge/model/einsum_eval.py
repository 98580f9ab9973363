"""One Einsum's path: action counts, spatial usage, reservations, latency (docs/MODEL.md §4-§9)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from accelforge.errors import ExpressionError, InvalidMappingError
from accelforge.frontend._expressions import ExpressionNamespace, evaluate_expression
from accelforge.frontend.evaluate_arch import EvaluatedArch, EvaluatedComponent
from accelforge.frontend.evaluate_workload import EinsumFacts
from accelforge.model.access import TensorInfo, compute_count, count_tensor, tensor_view
from accelforge.model.occupancy import Reservation, reservations
from accelforge.model.paths import EinsumPath, Hold

__all__ = [
    "ActionRow",
    "EinsumResult",
    "check_structure",
    "einsum_quantities",
    "elementwise_max",
    "evaluate_einsum",
    "copy_path",
    "path_reservations",
]


@dataclass(frozen=True)
class ActionRow:
    """Actions of one (component, tensor, action) in one Einsum; ``tensor`` is None for compute."""

    einsum: str
    component: str
    tensor: str | None
    action: str
    count: Any
    energy: Any


@dataclass
class EinsumResult:
    """Everything the model reports for one Einsum."""

    einsum: str
    compute: str
    actions: list[ActionRow] = field(default_factory=list)
    component_latency: dict[str, float | np.ndarray] = field(default_factory=dict)
    """Per component: its latency (an array over candidates in vectorised evaluation)."""
    spatial_used: dict[tuple[str, str], float] = field(default_factory=dict)
    spatial_usage: dict[tuple[str, str], float] = field(default_factory=dict)
    reservations: list[Reservation] = field(default_factory=list)

    @property
    def latency(self) -> Any:
        """Max over components (perfect overlap inside an Einsum, §9.4)."""
        if not self.component_latency:
            return 0.0
        return elementwise_max(self.component_latency.values())

    @property
    def dynamic_energy(self) -> Any:
        """Sum of action energies."""
        return sum(r.energy for r in self.actions)


class ActionView(ExpressionNamespace):
    """An action as ``total_latency`` expressions see it."""

    def __init__(self, name: str, n_calls: float, throughput: float, energy: float) -> None:
        self.name = name
        self.n_calls = n_calls
        self.throughput = throughput
        self.energy = energy


class ActionList(ExpressionNamespace):
    """The ``actions`` of a component: iterable, and indexable by action name."""

    def __init__(self, actions: list[ActionView]) -> None:
        self._actions = actions

    def __iter__(self) -> Any:
        return iter(self._actions)

    def __len__(self) -> int:
        return len(self._actions)

    def __getitem__(self, key: str | int) -> ActionView:
        if isinstance(key, int):
            return self._actions[key]
        for action in self._actions:
            if action.name == key:
                return action
        raise KeyError(key)


def evaluate_einsum(
    path: EinsumPath,
    facts: EinsumFacts,
    arch: EvaluatedArch,
    variables: Mapping[str, Any],
) -> EinsumResult:
    """Counts, usage, reservations and latency of one Einsum's path (scalar tiles).

    Raises
    ------
    InvalidMappingError
        A structural fault, or more instances of a fanout dimension used than it has.
    """
    flat = arch.path_to(path.compute.component)
    check_structure(path, facts, flat)
    result = einsum_quantities(path, facts, arch, variables)
    for (component, dim), used in result.spatial_used.items():
        fanout = next(
            s.fanout for n in flat if n.name == component for s in n.spatial if s.name == dim
        )
        if used > fanout + 1e-9:
            raise InvalidMappingError(
                f"The mapping uses {used:g} instances of {component} dimension {dim} "
                f"but its fanout is {fanout} (Einsum {path.einsum})."
            )
    return result


def einsum_quantities(
    path: EinsumPath,
    facts: EinsumFacts,
    arch: EvaluatedArch,
    variables: Mapping[str, Any],
) -> EinsumResult:
    """The model's formulas for one path; loop factors may be floats or numpy arrays.

    Nothing here depends on the values being scalars: the same code evaluates one mapping
    or a whole array of tile-shape candidates of one template at once.
    """
    compute = path.compute
    flat = arch.path_to(compute.component)
    level = {node.name: i for i, node in enumerate(flat)}
    components = {n.name: n for n in flat if isinstance(n, EvaluatedComponent)}
    result = EinsumResult(path.einsum, compute.component)
    infos = {
        a.name: TensorInfo.build(a.name, a.projection, a.output)
        for a in facts.einsum.tensor_accesses
    }
    skip = {name: c.skip_initial_output_write for name, c in components.items()}
    totals: dict[tuple[str, str, str], float] = {}
    per_unit: dict[tuple[str, str], float] = {}
    bounds = facts.rank_variable_bounds
    copying = facts.einsum.is_copy_operation
    counted_path = copy_path(path, facts) if copying else path
    for tensor, info in infos.items():
        if copying and not counted_path.holders(tensor):
            continue
        view = tensor_view(counted_path, info, level)
        reuse = _may_reuse(flat, tensor)
        tolls = [] if copying else _tolls_of(flat, tensor)
        toll_levels = [level[t.name] for t in tolls]
        counted = count_tensor(
            view, info, bounds, skip, reuse, level=level, copy=copying, tolls=toll_levels
        )
        for toll in tolls:
            at = level[toll.name]
            if at not in counted.passing:
                continue  # no holder of the tensor above the toll: nothing crosses it
            unit = count_tensor(view, info, bounds, skip, reuse, at, level, tolls=[at])
            scale = _actions_per_value(toll, "read", tensor, facts)
            key = (toll.name, tensor, "read")
            passed = _toll_reads(toll, tensor, counted.passing[at])
            totals[key] = totals.get(key, 0.0) + passed * scale
            per_unit[(toll.name, "read")] = per_unit.get((toll.name, "read"), 0.0) + (
                _toll_reads(toll, tensor, unit.passing[at]) * scale
            )
        for i, hold in enumerate(counted.holders):
            replicated = any(
                loop.spatial and level[loop.component or ""] <= level[hold.component]
                for loop in path.loops
            )
            unit = (
                count_tensor(
                    view,
                    info,
                    bounds,
                    skip,
                    reuse,
                    level[hold.component],
                    level,
                    copy=copying,
                )
                if replicated
                else counted
            )
            comp = components[hold.component]
            for action, total, one in (
                ("read", counted.reads[i], unit.reads[i]),
                ("write", counted.writes[i], unit.writes[i]),
            ):
                scale = _actions_per_value(comp, action, tensor, facts)
                key = (hold.component, tensor, action)
                totals[key] = totals.get(key, 0.0) + total * scale
                per_unit[(hold.component, action)] = (
                    per_unit.get((hold.component, action), 0.0) + one * scale
                )
    for (component, tensor, action), count in totals.items():
        energy = count * components[component].actions[action].energy
        result.actions.append(ActionRow(path.einsum, component, tensor, action, count, energy))
    mac = components[compute.component]
    computes = 0.0 if facts.einsum.is_copy_operation else compute_count(path)
    steps = 0.0 if facts.einsum.is_copy_operation else compute_count(path, temporal_only=True)
    compute_action = next(iter(mac.actions))
    count = computes * mac.actions_scale
    result.actions.append(
        ActionRow(
            path.einsum,
            mac.name,
            None,
            compute_action,
            count,
            count * mac.actions[compute_action].energy,
        )
    )
    per_unit[(mac.name, compute_action)] = steps * mac.actions_scale
    _spatial_usage(path, flat, result)
    result.reservations = path_reservations(path, facts, arch, infos)
    for name, comp in components.items():
        if any(key[0] == name for key in per_unit):
            result.component_latency[name] = _component_latency(comp, per_unit, variables)
    return result


def copy_path(path: EinsumPath, facts: EinsumFacts) -> EinsumPath:
    """The path a copy Einsum's transfers are counted on (AccelForge 1.0.467, docs/MODEL.md §11).

    Every storage node holds the copy's source tensor instead and nodes of one memory merge
    into the first; :func:`~accelforge.model.access.count_tensor` then moves data only
    upward, from each node into the one above it. Occupancy still uses the real path.
    """
    source = facts.einsum.inputs[0].name
    nodes: list = []
    seen: set[str] = set()
    for node in path.nodes:
        if isinstance(node, Hold):
            if node.component in seen:
                continue
            seen.add(node.component)
            node = Hold(source, node.component, node.persistent, node.node_id)
        nodes.append(node)
    return EinsumPath(path.einsum, nodes, path.chain)


def path_reservations(
    path: EinsumPath,
    facts: EinsumFacts,
    arch: EvaluatedArch,
    infos: Mapping[str, TensorInfo] | None = None,
) -> list[Reservation]:
    """The path's reservations (docs/MODEL.md §8) for its current loop tiles."""
    if infos is None:
        infos = {
            a.name: TensorInfo.build(a.name, a.projection, a.output)
            for a in facts.einsum.tensor_accesses
        }
    flat = arch.path_to(path.compute.component)
    return reservations(
        path,
        infos,
        facts.rank_variable_bounds,
        lambda memory, t: _bits_per_value(arch.components[memory], t, facts),
        1.0,
        {node.name: i for i, node in enumerate(flat)},
    )


def check_structure(path: EinsumPath, facts: EinsumFacts, flat: list) -> None:
    """Structural rules that do not depend on tile shapes (docs/SPEC_FORMAT.md §7.3 item 5)."""
    level = {node.name: i for i, node in enumerate(flat)}
    components = {n.name: n for n in flat if isinstance(n, EvaluatedComponent)}
    for node in path.nodes:
        if isinstance(node, Hold):
            if node.component not in level:
                raise InvalidMappingError(
                    f"!Storage of {node.tensor} in '{node.component}', which is not on the "
                    f"architecture path of Einsum {path.einsum}.",
                    allowed=", ".join(n.name for n in flat if n.kind == "Memory"),
                )
            if components.get(node.component) is None or components[node.component].kind != (
                "Memory"
            ):
                raise InvalidMappingError(f"!Storage on '{node.component}', which is not a Memory.")
    held = {n.tensor for n in path.nodes if isinstance(n, Hold)}
    missing = [t for t in facts.einsum.tensor_names if t not in held]
    if missing:
        raise InvalidMappingError(
            f"tensor(s) {missing} of Einsum {path.einsum} are held in no memory; add a !Storage "
            "node for each."
        )
    for loop in path.loops:
        if loop.spatial:
            owner = next((n for n in flat if n.name == loop.component), None)
            if owner is None or loop.dimension not in [s.name for s in owner.spatial]:
                raise InvalidMappingError(
                    f"the spatial loop over {loop.rank_variable} names fanout dimension "
                    f"'{loop.dimension}' of '{loop.component}', which does not exist on the "
                    f"architecture path of Einsum {path.einsum}."
                )


def _tolls_of(flat: list, tensor: str) -> list[EvaluatedComponent]:
    """The enabled Tolls on the path that keep ``tensor`` (docs/MODEL.md §15)."""
    out = []
    for node in flat:
        if isinstance(node, EvaluatedComponent) and node.kind == "Toll" and node.enabled:
            keep = node.tensors.keep if node.tensors is not None else ()
            if isinstance(keep, str):
                raise InvalidMappingError(
                    f"Toll {node.name}: tensors.keep {keep!r} names a memory; a Toll's keep must "
                    "be a tensor set (e.g. 'output')."
                )
            if tensor in keep:
                out.append(node)
    return out


def _toll_reads(toll: EvaluatedComponent, tensor: str, crossing: tuple[Any, Any]) -> Any:
    """Values a Toll reads: what crosses it in its direction(s) for ``tensor``."""
    down, up = crossing
    direction = toll.direction.get(tensor, "up_and_down")
    return (down if direction != "up" else 0.0) + (up if direction != "down" else 0.0)


def _may_reuse(flat: list, tensor: str) -> dict[tuple[str, str], bool]:
    return {(node.name, s.name): tensor in s.may_reuse for node in flat for s in node.spatial}


def _bits_per_value(comp: EvaluatedComponent, tensor: str, facts: EinsumFacts) -> float:
    return comp.bits_per_value.get(tensor, facts.bits_per_value[tensor])


def _actions_per_value(
    comp: EvaluatedComponent, action: str, tensor: str, facts: EinsumFacts
) -> float:
    """Actions per value moved (docs/MODEL.md §6), including ``actions_scale``."""
    act = comp.actions[action]
    values = act.values_per_action.get(tensor) or comp.values_per_action.get(tensor)
    if values:
        scale = 1.0 / values
    else:
        scale = _bits_per_value(comp, tensor, facts) / (act.bits_per_action or 1)
    return scale * comp.actions_scale


def _spatial_usage(path: EinsumPath, flat: list, result: EinsumResult) -> None:
    for node in flat:
        for dim in node.spatial:
            used = math.prod(
                loop.factor
                for loop in path.loops
                if loop.spatial and loop.component == node.name and loop.dimension == dim.name
            )
            result.spatial_used[(node.name, dim.name)] = used
            result.spatial_usage[(node.name, dim.name)] = used / dim.fanout * dim.usage_scale


def _component_latency(
    comp: EvaluatedComponent,
    per_unit: Mapping[tuple[str, str], float],
    variables: Mapping[str, Any],
) -> float | np.ndarray:
    """``comp``'s ``total_latency`` evaluated with its actions' counts ``per_unit``."""
    views = ActionList(
        [
            ActionView(name, per_unit.get((comp.name, name), 0.0), action.throughput, action.energy)
            for name, action in comp.actions.items()
        ]
    )
    fields = {k: v for k, v in comp.__dict__.items() if k not in ("actions", "spatial")}
    scope = {
        **variables,
        **comp.extra_attributes,
        **fields,
        "extra_attributes_for_component_model": _Namespace(comp.extra_attributes),
        "variables": dict(variables),
        "actions": views,
    }
    try:
        value = evaluate_expression(comp.total_latency, scope, functions=ELEMENTWISE)
    except ExpressionError as err:
        raise ExpressionError(
            f"{err.message.rstrip('.')} (in arch.nodes.{comp.name}.total_latency)."
        ) from None
    return value if isinstance(value, np.ndarray) else float(value)


def _elementwise(combine: Any) -> Any:
    def reduce(*args: Any) -> Any:
        values = list(args[0]) if len(args) == 1 else list(args)
        out = values[0]
        for value in values[1:]:
            out = combine(out, value)
        return out

    return reduce


elementwise_max = _elementwise(np.maximum)
"""``max`` that also works on numpy arrays (element by element)."""
elementwise_min = _elementwise(np.minimum)
"""``min`` that also works on numpy arrays (element by element)."""
ELEMENTWISE = {"max": elementwise_max, "min": elementwise_min}


class _Namespace(ExpressionNamespace):
    def __init__(self, values: Mapping[str, Any]) -> None:
        self.__dict__.update(values)
