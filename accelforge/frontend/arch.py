"""Architecture spec objects: Memory, Compute, Container, actions, fanouts (docs/SPEC_FORMAT.md §3).

These classes hold what the user wrote. Expression fields stay unevaluated until the spec is
evaluated for one Einsum (:mod:`accelforge.frontend.evaluate`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, TypeVar

from pydantic import Field, PrivateAttr, field_validator

from accelforge.errors import SpecError, format_loc
from accelforge.frontend._base import Expr, SpecModel, dispatch_tagged
from accelforge.frontend.spec_html import arch_html

__all__ = [
    "Action",
    "Arch",
    "ArchNode",
    "Comparison",
    "Component",
    "Compute",
    "Container",
    "Leaf",
    "Memory",
    "Spatial",
    "TensorHolderAction",
    "TensorHolder",
    "Tensors",
    "Toll",
]

_N = TypeVar("_N")
COMPARISON_OPERATORS = ("==", "<=", ">=", "<", ">")
DEFAULT_TOTAL_LATENCY = "sum(a.n_calls / a.throughput for a in actions)"


class Comparison(SpecModel):
    """A constraint on loop bounds or tile shapes: ``{expression: ~m, operator: ==, value: 1}``."""

    expression: str
    """Rank-variable set expression the comparison applies to."""
    operator: str
    """One of ``== <= >= < >``, optionally prefixed by ``product`` (compare the product)."""
    value: Expr
    """Integer expression compared against."""

    @field_validator("operator")
    @classmethod
    def _known_operator(cls, value: str) -> str:
        bare = value.removeprefix("product")
        if bare not in COMPARISON_OPERATORS:
            known = ", ".join(
                COMPARISON_OPERATORS + tuple(f"product{o}" for o in COMPARISON_OPERATORS)
            )
            raise ValueError(f"unknown operator {value!r}; known operators: {known}")
        return value


class Spatial(SpecModel):
    """A fanout dimension: ``fanout`` copies of the node and everything below it."""

    name: str
    """Dimension name; user mappings refer to it in ``!Spatial {name: ...}``."""
    fanout: Expr
    """Number of instances along this dimension (an integer)."""
    reuse: str | None = None
    """Tensors all instances share: spatial loops here may not index them (a mapper constraint)."""
    may_reuse: str | None = None
    """Tensors that may be multicast or reduced across instances (default: ``reuse``, else All)."""
    loop_bounds: list[Comparison] = Field(default_factory=list)
    """Constraints on the spatial loops of this dimension."""
    min_usage: Expr = 0
    """Minimum used fraction of the fanout, in [0, 1]."""
    usage_scale: Expr = 1
    """Multiplies this dimension's usage fraction."""
    power_gateable: Expr = False
    """Unused instances do not leak."""

    @field_validator("fanout")
    @classmethod
    def _integer_fanout(cls, value: Expr) -> Expr:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(f"fanout must be an integer; got {value}")
        if isinstance(value, (int, float)) and value < 1:
            raise ValueError(f"fanout must be a positive integer; got {value}")
        return value


class Action(SpecModel):
    """An action of a component (``compute``, ``read``, ...) with its energy and throughput."""

    name: str
    energy: Expr | None = None
    """Energy per action; ``None`` means: from the cost model (0 for Dummy)."""
    energy_scale: Expr = 1
    throughput: Expr | None = None
    """Actions per second; ``None`` means: from the cost model (inf for Dummy)."""
    throughput_scale: Expr = 1
    latency: Expr | None = None
    """Deprecated: seconds per action, converted to ``throughput = 1 / latency``."""
    latency_scale: Expr | None = None
    """Deprecated: converted to ``throughput_scale = 1 / latency_scale``."""
    extra_attributes_for_component_model: dict[str, Any] = Field(default_factory=dict)


class TensorHolderAction(Action):
    """An action of a Memory: adds how many bits or values one action moves."""

    bits_per_action: Expr | None = None
    """Bits moved by one action (default: the component's ``bits_per_action``, else 1)."""
    values_per_action: dict[str, Expr] = Field(default_factory=dict)
    """Values per action per tensor set; overrides ``bits_per_action``."""


class Tensors(SpecModel):
    """What a Memory keeps (``keep``), may keep (``may_keep``) and must back (``back``)."""

    keep: str | None = None
    """Tensors that must have a storage node here."""
    may_keep: str | None = None
    """Tensors that may be stored here (default: All if ``keep`` is not given, else Nothing)."""
    back: str | None = None
    """Tensors that must be backed here (outermost holder)."""
    tile_shape: list[Comparison] = Field(default_factory=list)
    """Constraints on the tile shape of the loop directly above this memory's first storage."""
    no_refetch_from_above: str | None = None
    no_resend_to_below: str | None = None
    tensor_order_options: list[list[str]] = Field(default_factory=list)
    """Alternative storage orders, each a list of disjoint set expressions, outermost first."""
    force_memory_hierarchy_order: bool = True

    @field_validator(
        "keep", "may_keep", "back", "no_refetch_from_above", "no_resend_to_below", mode="before"
    )
    @classmethod
    def _set_expr_text(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return " | ".join(str(v) for v in value) if value else "Nothing"
        return value


class Leaf(SpecModel):
    """Any architecture node: a name and its own fanouts (``spatial``)."""

    name: str
    spatial: list[Spatial] = Field(default_factory=list)


class Component(Leaf):
    """Fields common to Memory, Toll and Compute (docs/SPEC_FORMAT.md §3.2)."""

    # Memory and Compute redeclare this as a list of their own action class.
    actions: Sequence[Action] = Field(default_factory=list)
    component_class: str | None = None
    """Cost-model class; ``Dummy`` (any case) is built in."""
    enabled: Expr = True
    area: Expr | None = None
    area_scale: Expr = 1
    leak_power: Expr | None = None
    leak_power_scale: Expr = 1
    energy_scale: Expr = 1
    throughput_scale: Expr = 1
    latency_scale: Expr | None = None
    """Deprecated: converted to ``throughput_scale = 1 / latency_scale``."""
    actions_scale: Expr = 1
    n_parallel_instances: Expr = 1
    total_latency: str = DEFAULT_TOTAL_LATENCY
    """Latency of this component for one Einsum; evaluated by the model."""
    extra_attributes_for_component_model: dict[str, Any] = Field(default_factory=dict)
    _costs: Any = PrivateAttr(default=None)

    default_action_names: ClassVar[tuple[str, ...]] = ()

    @property
    def total_area(self) -> float:
        """Area of all instances (after ``spec.calculate_component_costs()``)."""
        return float(_costs_of(self).total_area)

    @property
    def total_leak_power(self) -> float:
        """Leak power of all instances (after ``spec.calculate_component_costs()``)."""
        return float(_costs_of(self).total_leak_power)

    @classmethod
    def prepare(cls, data: dict[str, Any], loc: Sequence[str | int]) -> dict[str, Any]:
        """Refuse output fields and merge the default actions in."""
        for output in (
            "total_area",
            "total_leak_power",
            "component_model",
            "component_modeling_log",
        ):
            if output in data:
                raise SpecError(
                    f"'{output}' is computed by the tool and cannot be set.", loc=(*loc, output)
                )
        given = [
            a.get("name") if isinstance(a, dict) else getattr(a, "name", None)
            for a in data.get("actions") or []
        ]
        actions = list(data.get("actions") or [])
        actions += [{"name": n} for n in cls.default_action_names if n not in given]
        data["actions"] = actions
        return data


class TensorHolder(Component):
    """Fields shared by Memory and Toll: the tensors it holds and how values become actions."""

    tensors: Tensors = Field(default_factory=Tensors)
    bits_per_value: dict[str, Expr] = Field(default_factory=dict)
    """Per-tensor override of the workload's bits per value at this level only."""
    bits_per_action: Expr | None = None
    values_per_action: dict[str, Expr] = Field(default_factory=dict)
    actions: list[TensorHolderAction] = Field(default_factory=list)


class Memory(TensorHolder):
    """A memory that holds tensor tiles; ``size`` is in bits (``inf`` = never full)."""

    @field_validator("size")
    @classmethod
    def _positive_literal_size(cls, value: Expr) -> Expr:
        if isinstance(value, bool) or (isinstance(value, (int, float)) and not value > 0):
            raise ValueError(f"size must be a positive number of bits (or inf); got {value}")
        return value

    size: Expr
    """Capacity of one instance in bits (``inf`` allowed)."""
    skip_initial_output_write: bool = True
    default_action_names: ClassVar[tuple[str, ...]] = ("read", "write")

    @classmethod
    def prepare(cls, data: dict[str, Any], loc: Sequence[str | int]) -> dict[str, Any]:
        """Also require ``size`` with a message that says its unit."""
        if "size" not in data:
            raise SpecError(
                f"'size' is required on Memory '{data.get('name', '?')}', in bits ('inf' allowed).",
                loc=(*loc, "size"),
            )
        return super().prepare(data, loc)


TOLL_DIRECTIONS = ("up", "down", "up_and_down")


class Toll(TensorHolder):
    """A pass-through that charges a ``read`` for every value crossing it (docs/MODEL.md §15).

    It stores nothing: no capacity, no reuse. Values moving between the nearest holders of a
    kept tensor above and below it (or the Compute) pay one read each, in the ``direction``
    given: ``up`` (towards the outer memory), ``down`` or ``up_and_down``.
    """

    direction: str | dict[str, str]
    """One direction for every tensor, or a map from tensor set expressions to directions."""
    default_action_names: ClassVar[tuple[str, ...]] = ("read",)

    @field_validator("direction")
    @classmethod
    def _known_direction(cls, value: str | dict[str, str]) -> str | dict[str, str]:
        for given in [value] if isinstance(value, str) else list(value.values()):
            if given not in TOLL_DIRECTIONS:
                raise ValueError(
                    f"unknown direction {given!r}; allowed: {', '.join(TOLL_DIRECTIONS)}"
                )
        return value

    @classmethod
    def prepare(cls, data: dict[str, Any], loc: Sequence[str | int]) -> dict[str, Any]:
        """Require ``direction`` with a message listing the allowed values."""
        if "direction" not in data:
            raise SpecError(
                f"'direction' is required on Toll '{data.get('name', '?')}': one of "
                f"{', '.join(TOLL_DIRECTIONS)}, or a map from tensors to one of them.",
                loc=(*loc, "direction"),
            )
        return super().prepare(data, loc)


class Compute(Component):
    """A compute unit (a leaf of the architecture tree)."""

    skip_initial_output_write: bool = True
    actions: list[Action] = Field(default_factory=list)
    default_action_names: ClassVar[tuple[str, ...]] = ("compute",)

    @classmethod
    def prepare(cls, data: dict[str, Any], loc: Sequence[str | int]) -> dict[str, Any]:
        """Refuse Memory-only action fields on a Compute."""
        for i, action in enumerate(data.get("actions") or []):
            for field in ("bits_per_action", "values_per_action"):
                if isinstance(action, dict) and field in action:
                    raise SpecError(
                        f"'{field}' applies to Memory actions only, not to Compute actions.",
                        loc=(*loc, "actions", i, field),
                    )
        return super().prepare(data, loc)


class Container(Leaf):
    """A pure fanout node: only ``name`` and ``spatial``."""


ArchNode = Memory | Toll | Compute | Container
NODE_CLASSES: dict[str, type[ArchNode]] = {
    "Memory": Memory,
    "Toll": Toll,
    "Compute": Compute,
    "Container": Container,
}
LATER_NODE_TAGS = ("Network", "Array", "Fork")


class Arch(SpecModel):
    """The architecture: nodes from the outermost memory down to the compute units."""

    nodes: list[Memory | Toll | Compute | Container] = Field(default_factory=list)
    variables: dict[str, Any] = Field(default_factory=dict)
    """Per-Einsum variables; they shadow spec variables and may use tensor symbols."""
    extra_attributes_for_all_component_models: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def prepare(cls, data: dict[str, Any], loc: Sequence[str | int]) -> dict[str, Any]:
        """Build the tagged nodes, inline ``!Hierarchical`` lists, check names are unique."""
        nodes: list[ArchNode] = []
        seen: dict[str, tuple[str | int, ...]] = {}
        for i, item in enumerate(data.get("nodes") or []):
            node_loc = (*loc, "nodes", i)
            if isinstance(item, list):
                raise SpecError(
                    "arch 'nodes' lists are not flattened: a nested list is not allowed here; "
                    "use !Hierarchical {nodes: [...]} or list the nodes directly.",
                    loc=node_loc,
                )
            if getattr(item, "tag", None) == "Hierarchical":
                inner = Arch.from_data({"nodes": item.get("nodes", [])}, node_loc)
                new_nodes: list[ArchNode] = list(inner.nodes)
            else:
                new_nodes = [
                    dispatch_tagged(
                        item, NODE_CLASSES, where="arch.nodes", loc=node_loc, later=LATER_NODE_TAGS
                    )
                ]
            for node in new_nodes:
                name = node.name
                if name in seen:
                    raise SpecError(
                        f"duplicate component name '{name}' (also at {format_loc(seen[name])}); "
                        "names must be unique across the architecture.",
                        loc=(*node_loc, "name"),
                    )
                seen[name] = node_loc
                nodes.append(node)
        data["nodes"] = nodes
        return data

    @property
    def components(self) -> dict[str, Memory | Toll | Compute]:
        """Memories, tolls and computes by name, top-down."""
        return {n.name: n for n in self.nodes if isinstance(n, (Memory, Toll, Compute))}

    def get_nodes_of_type(self, kind: type[_N]) -> list[_N]:
        """The nodes that are instances of ``kind`` (e.g. ``Leaf``, ``Memory``), top-down."""
        return [n for n in self.nodes if isinstance(n, kind)]

    @property
    def computes(self) -> list[Compute]:
        """Compute units top-down."""
        return [n for n in self.nodes if isinstance(n, Compute)]

    def find(self, name: str) -> Memory | Toll | Compute | Container:
        """The node named ``name`` (AccelForge's ``arch.find``).

        Raises
        ------
        SpecError
            When no node has that name; the message lists the names there are.
        """
        for node in self.nodes:
            if getattr(node, "name", None) == name:
                return node
        names = ", ".join(str(getattr(n, "name", "?")) for n in self.nodes)
        raise SpecError(f"The arch has no node named {name!r}. Its nodes: {names}.")

    def __getitem__(self, name: str) -> Memory | Toll | Compute | Container:
        """``arch[name]``: the same as :meth:`find`."""
        return self.find(name)

    def _repr_html_(self) -> str:
        """The hierarchy as a table, for Jupyter."""
        return arch_html(self)

    @property
    def per_component_total_area(self) -> dict[str, float]:
        """Each component's area, all instances (after ``spec.calculate_component_costs()``)."""
        return {name: node.total_area for name, node in self.components.items() if node._costs}

    @property
    def total_area(self) -> float:
        """The sum of :attr:`per_component_total_area`."""
        _costs_of(next(iter(self.components.values()), None))
        return sum(self.per_component_total_area.values())

    @property
    def per_component_total_leak_power(self) -> dict[str, float]:
        """Each component's leak power, all instances (after ``calculate_component_costs``)."""
        return {
            name: node.total_leak_power for name, node in self.components.items() if node._costs
        }

    @property
    def total_leak_power(self) -> float:
        """The sum of :attr:`per_component_total_leak_power`."""
        _costs_of(next(iter(self.components.values()), None))
        return sum(self.per_component_total_leak_power.values())


def _costs_of(node: Any) -> Any:
    """The costs ``calculate_component_costs`` stored on ``node``; a clear error without them."""
    costs = getattr(node, "_costs", None)
    if costs is None:
        name = getattr(node, "name", "the arch")
        raise SpecError(
            f"{name} has no computed costs yet: call spec.calculate_component_costs() and read "
            "them on the spec it returns (spec = spec.calculate_component_costs())."
        )
    return costs
