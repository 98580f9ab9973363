"""Evaluate the architecture for one Einsum (docs/SPEC_FORMAT.md §3, §4.5 scope and order).

Nodes are evaluated top-down. Every leaf is visible by name from the start: nodes above the
current one are seen evaluated, nodes below raw. Inside a component the extra attributes come
first, then scalar expression fields in dependency order, then actions, fanouts and tensors.
The result types are defined in :mod:`.evaluated_arch` and importable from here too.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from accelforge.errors import SpecError, SpecWarning
from accelforge.frontend._expression_guards import DEFAULT_FUNCTIONS
from accelforge.frontend._expression_syntax import referenced_names
from accelforge.frontend._expressions import ExpressionNamespace
from accelforge.frontend.arch import (
    Arch,
    Compute,
    Container,
    Memory,
    Spatial,
    TensorHolder,
    Toll,
)
from accelforge.frontend.costs import resolve_costs
from accelforge.frontend.evaluate_workload import EinsumFacts, EvaluatedWorkload, evaluate_variables
from accelforge.frontend.evaluated_arch import (
    EvaluatedAction,
    EvaluatedArch,
    EvaluatedComponent,
    EvaluatedContainer,
    EvaluatedSpatial,
    EvaluatedTensors,
)
from accelforge.frontend.sets import RankVariableSet
from accelforge.frontend.values import (
    Where,
    evaluate_in_order,
    evaluate_keyed_map,
    evaluate_number,
    evaluate_raw,
    evaluate_set,
)

__all__ = [
    "EvaluatedAction",
    "EvaluatedArch",
    "EvaluatedComponent",
    "EvaluatedSpatial",
    "EvaluatedTensors",
    "evaluate_arch",
]

_SCALAR_FIELDS = (
    "enabled",
    "size",
    "area",
    "area_scale",
    "leak_power",
    "leak_power_scale",
    "energy_scale",
    "throughput_scale",
    "latency_scale",
    "actions_scale",
    "n_parallel_instances",
    "bits_per_action",
)


class NodeView(ExpressionNamespace):
    """A node as seen from expressions: its (evaluated or raw) fields by name.

    ``get_fanout()`` (the product of its own fanouts) and ``get_fanout_along(dim)`` work for
    nodes above (evaluated) and below (evaluated on demand) the one being evaluated.
    """

    def __init__(
        self, fields: Mapping[str, Any], fanouts: Callable[[], dict[str, int]] | None = None
    ) -> None:
        self._fields = dict(fields)
        self._fanouts = fanouts or dict

    def get_fanout(self) -> int:
        """The product of this node's own fanouts."""
        return math.prod(self._fanouts().values())

    def get_fanout_along(self, dimension: str, default: int = 1) -> int:
        """The fanout of one of its dimensions (``default`` if it has no such dimension)."""
        return self._fanouts().get(dimension, default)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in self._fields:
            raise AttributeError(name)
        return self._fields[name]


def evaluate_arch(
    arch: Arch,
    workload: EvaluatedWorkload,
    facts: EinsumFacts,
    base_scope: Mapping[str, Any],
    *,
    require_costs: bool = True,
) -> EvaluatedArch:
    """Evaluate every node of ``arch`` for the Einsum described by ``facts``."""
    scope: dict[str, Any] = {**workload.variables, **base_scope, **facts.symbols}
    scope.update(
        evaluate_variables(
            arch.variables, dict(scope), Where("arch.variables", ("arch", "variables"))
        )
    )
    shared_extra = free_form_attributes(
        arch.extra_attributes_for_all_component_models,
        scope,
        Where(
            "arch.extra_attributes_for_all_component_models",
            ("arch", "extra_attributes_for_all_component_models"),
        ),
    )
    scope.update(shared_extra)
    memory_names = [n.name for n in arch.nodes if isinstance(n, Memory)]
    for index, node in enumerate(arch.nodes):
        scope[node.name] = NodeView(node.model_dump(), _raw_fanouts(node, scope, index))
    nodes: list[EvaluatedComponent | EvaluatedContainer] = []
    fanout = 1
    for index, node in enumerate(arch.nodes):
        ctx = _Context(scope, facts, memory_names, ("arch", "nodes", index), node, require_costs)
        try:
            spatial = [_spatial(s, ctx) for s in node.spatial]
            own_fanout = fanout * math.prod(s.fanout for s in spatial)
            if not isinstance(node, Compute):
                fanout = own_fanout  # a Compute is a side branch, not a parent of later nodes
            if isinstance(node, Container):
                nodes.append(EvaluatedContainer(node.name, spatial))
                scope[node.name] = NodeView(node.model_dump(), _fanouts_of(spatial))
                continue
            evaluated = _component(node, ctx, shared_extra, spatial, own_fanout)
        except SpecError as err:
            raise err.with_location(loc_prefix=ctx.loc) from None
        scope[node.name] = NodeView(evaluated.__dict__, _fanouts_of(spatial))
        nodes.append(evaluated)
    return EvaluatedArch(einsum=facts.name, variables=scope, nodes=nodes)


def free_form_attributes(raw: Mapping[str, Any], scope: Mapping[str, Any], where: Where) -> dict:
    """Free-form attributes (quoted strings stay text); later ones may use earlier ones."""
    return evaluate_in_order(
        raw,
        dict(scope),
        where,
        lambda name, value, inner: evaluate_raw(value, inner, where.child(name), free_form=True),
    )


def _fanouts_of(spatial: list[EvaluatedSpatial]) -> Callable[[], dict[str, int]]:
    return lambda: {s.name: s.fanout for s in spatial}


def _raw_fanouts(
    node: Memory | Toll | Compute | Container, scope: Mapping[str, Any], index: int
) -> Callable[[], dict[str, int]]:
    """A node's fanouts evaluated on demand, for expressions of nodes above it."""

    def fanouts() -> dict[str, int]:
        where = Where(f"arch.nodes.{node.name}", ("arch", "nodes", index))
        return {
            s.name: evaluate_number(
                s.fanout,
                scope,
                where.child("spatial").child(s.name, i).child("fanout"),
                integer=True,
            )
            for i, s in enumerate(node.spatial)
        }

    return fanouts


@dataclass
class _Context:
    scope: dict[str, Any]
    facts: EinsumFacts
    memory_names: list[str]
    loc: tuple
    node: Memory | Toll | Compute | Container
    require_costs: bool

    def where(self, *parts: Any) -> Where:
        """The field path ``arch.nodes.<name>.<parts>``; named list entries map to indices."""
        where = Where(f"arch.nodes.{self.node.name}", self.loc, f"Einsum {self.facts.name}")
        lists = {"actions": getattr(self.node, "actions", []), "spatial": self.node.spatial}
        previous = ""  # the part before ``part``; "" names no list
        for part in parts:
            index = None
            if previous in lists:
                names = [item.name for item in lists[previous]]
                index = names.index(part) if part in names else None
            where = where.child(part, index)
            previous = part
        return where

    def tensors(self, raw: Any, *parts: Any, default: Any = None) -> Any:
        return evaluate_set(
            raw, self.scope, self.where(*parts), default=default, deferred_names=self.memory_names
        )

    def ranks(self, raw: Any, *parts: Any) -> RankVariableSet:
        return evaluate_set(raw, self.scope, self.where(*parts), kind=RankVariableSet)


def _comparisons(items: list, ctx: _Context, *parts: Any) -> list[tuple[RankVariableSet, str, int]]:
    """Evaluated ``loop_bounds`` / ``tile_shape`` comparisons for this Einsum.

    A comparison naming a rank variable or tensor this Einsum does not have is ignored for
    this Einsum, with a warning that names it, as AccelForge 1.0.467 ignores it (an arch's
    ``~m`` written for matmuls stays usable with a matvec workload, whose Einsums have no m).
    """
    out = []
    for i, c in enumerate(items):
        expression = c.expression
        absent = sorted(_unknown_names(expression, ctx.scope))
        if absent:
            warnings.warn(
                SpecWarning(
                    f"{ctx.where(*parts, i, 'expression')}: {expression!r} names "
                    f"{', '.join(absent)}, which Einsum {ctx.facts.name} does not have; the "
                    f"constraint is ignored for {ctx.facts.name}."
                ),
                stacklevel=2,
            )
            continue
        out.append(
            (
                ctx.ranks(expression, *parts, i, "expression"),
                c.operator,
                evaluate_number(c.value, ctx.scope, ctx.where(*parts, i, "value"), integer=True),
            )
        )
    return out


def _unknown_names(expression: Any, scope: Mapping[str, Any]) -> set[str]:
    """Names an expression string reads that are neither in ``scope`` nor default functions."""
    if not isinstance(expression, str):
        return set()
    return referenced_names(expression) - set(scope) - set(DEFAULT_FUNCTIONS)


def _spatial(spatial: Spatial, ctx: _Context) -> EvaluatedSpatial:
    parts = ("spatial", spatial.name)
    nothing = ctx.facts.symbols["Nothing"]
    reuse = ctx.tensors(spatial.reuse, *parts, "reuse", default=nothing)
    may_default = reuse if spatial.reuse is not None else ctx.facts.symbols["All"]
    return EvaluatedSpatial(
        name=spatial.name,
        fanout=evaluate_number(
            spatial.fanout, ctx.scope, ctx.where(*parts, "fanout"), integer=True
        ),
        reuse=reuse,
        may_reuse=ctx.tensors(spatial.may_reuse, *parts, "may_reuse", default=may_default),
        loop_bounds=_comparisons(spatial.loop_bounds, ctx, *parts, "loop_bounds"),
        min_usage=evaluate_number(spatial.min_usage, ctx.scope, ctx.where(*parts, "min_usage")),
        usage_scale=evaluate_number(
            spatial.usage_scale, ctx.scope, ctx.where(*parts, "usage_scale")
        ),
        power_gateable=evaluate_number(
            spatial.power_gateable, ctx.scope, ctx.where(*parts, "power_gateable"), boolean=True
        ),
    )


def _scalars(node: TensorHolder | Compute, ctx: _Context) -> dict[str, Any]:
    raw = {name: getattr(node, name) for name in _SCALAR_FIELDS if hasattr(node, name)}
    raw = {k: v for k, v in raw.items() if v is not None}

    def one(name: str, value: Any, scope: Mapping[str, Any]) -> Any:
        where = ctx.where(name)
        if name == "enabled":
            return evaluate_number(value, scope, where, boolean=True)
        return evaluate_number(value, scope, where)

    return evaluate_in_order(raw, ctx.scope, ctx.where(), one)


def _deprecated_latency(values: dict[str, Any], owner: Where, given_throughput_scale: bool) -> None:
    latency_scale = values.pop("latency_scale", None)
    if latency_scale is None:
        return
    if given_throughput_scale:
        raise owner.error(
            f"{owner}: give throughput_scale or the deprecated latency_scale, not both."
        )
    warnings.warn(
        SpecWarning(
            f"{owner}: latency_scale is deprecated; converted to "
            "throughput_scale = 1 / latency_scale."
        ),
        stacklevel=4,
    )
    values["throughput_scale"] = math.inf if latency_scale == 0 else 1 / latency_scale


def _component(
    node: TensorHolder | Compute,
    ctx: _Context,
    shared_extra: Mapping[str, Any],
    spatial: list[EvaluatedSpatial],
    fanout: int,
) -> EvaluatedComponent:
    own_extra = free_form_attributes(
        node.extra_attributes_for_component_model,
        ctx.scope,
        ctx.where("extra_attributes_for_component_model"),
    )
    extra = {**shared_extra, **own_extra}
    ctx.scope.update(own_extra)
    ctx.scope["extra_attributes_for_component_model"] = NodeView(extra)
    values = _scalars(node, ctx)
    _deprecated_latency(values, ctx.where(), "throughput_scale" in node.model_fields_set)
    is_holder = isinstance(node, TensorHolder)
    all_tensors = ctx.facts.symbols["All"]
    out = EvaluatedComponent(
        name=node.name,
        kind=type(node).__name__,
        enabled=values.get("enabled", True),
        component_class=node.component_class,
        area=None,
        leak_power=0.0,
        area_scale=values.get("area_scale", 1),
        leak_power_scale=values.get("leak_power_scale", 1),
        energy_scale=values.get("energy_scale", 1),
        throughput_scale=values.get("throughput_scale", 1),
        actions_scale=values.get("actions_scale", 1),
        n_parallel_instances=values.get("n_parallel_instances", 1),
        total_latency=node.total_latency,
        skip_initial_output_write=getattr(node, "skip_initial_output_write", True),
        actions={},
        spatial=spatial,
        cumulative_fanout=fanout,
        extra_attributes=extra,
    )
    if isinstance(node, Memory):
        out.size = values["size"]
        if not out.size >= 0:
            raise ctx.where("size").error(
                f"{ctx.where('size')} must be >= 0 bits; got {out.size!r}."
            )
    if isinstance(node, Toll):
        out.direction = _direction(node.direction, ctx)
    if isinstance(node, TensorHolder):
        out.bits_per_action = values.get("bits_per_action")
        out.bits_per_value = evaluate_keyed_map(
            node.bits_per_value,
            ctx.scope,
            all_tensors,
            ctx.where("bits_per_value"),
            evaluate_number,
        )
        out.values_per_action = evaluate_keyed_map(
            node.values_per_action,
            ctx.scope,
            all_tensors,
            ctx.where("values_per_action"),
            evaluate_number,
        )
        out.tensors = _tensors(node, ctx)
    raw_actions = {a.name: _action_values(a, ctx, out, is_holder) for a in node.actions}
    resolve_costs(out, values, raw_actions, require=ctx.require_costs)
    return out


def _action_values(
    action: Any, ctx: _Context, comp: EvaluatedComponent, is_holder: bool
) -> dict[str, Any]:
    parts = ("actions", action.name)
    fields = {
        k: getattr(action, k)
        for k in (
            "energy",
            "energy_scale",
            "throughput",
            "throughput_scale",
            "latency",
            "latency_scale",
            "bits_per_action",
        )
        if getattr(action, k, None) is not None
    }

    def one(name: str, value: Any, scope: Mapping[str, Any]) -> Any:
        return evaluate_number(value, scope, ctx.where(*parts, name))

    values = evaluate_in_order(fields, dict(ctx.scope), ctx.where(*parts), one)
    owner = ctx.where(*parts)
    latency = values.pop("latency", None)
    if latency is not None:
        if "throughput" in values:
            raise owner.error(f"{owner}: give throughput or the deprecated latency, not both.")
        warnings.warn(
            SpecWarning(f"{owner}: latency is deprecated; converted to throughput = 1 / latency."),
            stacklevel=3,
        )
        values["throughput"] = math.inf if latency == 0 else 1 / latency
    _deprecated_latency(values, owner, "throughput_scale" in action.model_fields_set)
    if is_holder:
        default_bits = comp.bits_per_action if comp.bits_per_action is not None else 1
        values.setdefault("bits_per_action", default_bits)
        values["values_per_action"] = evaluate_keyed_map(
            action.values_per_action,
            ctx.scope,
            ctx.facts.symbols["All"],
            ctx.where(*parts, "values_per_action"),
            evaluate_number,
        )
    return values


def _direction(raw: str | dict[str, str], ctx: _Context) -> dict[str, str]:
    """A Toll's direction per tensor of this Einsum; a map must cover every tensor."""
    tensors = ctx.facts.symbols["All"]
    if isinstance(raw, str):
        return {t: raw for t in tensors}
    out: dict[str, str] = {}
    for key, direction in raw.items():
        for tensor in ctx.tensors(key, "direction", key):
            out[tensor] = direction
    missing = sorted(set(tensors) - set(out))
    if missing:
        where = ctx.where("direction")
        raise where.error(
            f"{where} gives no direction for tensor(s) {', '.join(missing)} of Einsum "
            f"{ctx.facts.name}; add them to a key (e.g. 'All: up')."
        )
    return out


def _tensors(node: TensorHolder, ctx: _Context) -> EvaluatedTensors:
    spec = node.tensors
    nothing = ctx.facts.symbols["Nothing"]
    keep = ctx.tensors(spec.keep, "tensors", "keep", default=nothing)
    if isinstance(node, Toll) and isinstance(keep, str):
        # Only tensors a memory above holds cross a Toll (docs/MODEL.md §15): Above is All here.
        keep = evaluate_set(
            keep,
            {**ctx.scope, "Above": ctx.facts.symbols["All"]},
            ctx.where("tensors", "keep"),
            defer_above=False,
        )
    may_default = ctx.facts.symbols["All"] if spec.keep is None else nothing
    may_keep = ctx.tensors(spec.may_keep, "tensors", "may_keep", default=may_default)
    back = ctx.tensors(spec.back, "tensors", "back", default=nothing)
    if isinstance(back, str):
        raise ctx.where("tensors", "back").error(
            f"{ctx.where('tensors', 'back')} cannot refer to memories."
        )
    if back:
        keep = keep | back if not isinstance(keep, str) else f"({keep}) | " + " | ".join(back)
        may_keep = may_keep - back if not isinstance(may_keep, str) else may_keep
    return EvaluatedTensors(
        keep=keep,
        may_keep=may_keep,
        back=back,
        tile_shape=_comparisons(spec.tile_shape, ctx, "tensors", "tile_shape"),
        no_refetch_from_above=ctx.tensors(
            spec.no_refetch_from_above, "tensors", "no_refetch_from_above", default=nothing
        ),
        no_resend_to_below=ctx.tensors(
            spec.no_resend_to_below, "tensors", "no_resend_to_below", default=nothing
        ),
        tensor_order_options=[
            [ctx.tensors(item, "tensors", "tensor_order_options", i, j) for j, item in enumerate(o)]
            for i, o in enumerate(spec.tensor_order_options)
        ],
        force_memory_hierarchy_order=spec.force_memory_hierarchy_order,
    )
