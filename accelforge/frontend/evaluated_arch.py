"""The evaluated architecture: what ``evaluate_arch`` returns for one Einsum.

Components with scaled costs, fanouts and tensor placement sets, as
:func:`~accelforge.frontend.evaluate_arch.evaluate_arch` computes them.

Plain data: the cost resolution (:mod:`.costs`) fills these objects and the evaluation
(:mod:`.evaluate_arch`) builds them; this module imports neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from accelforge.errors import SpecError
from accelforge.frontend.sets import RankVariableSet, TensorSet

__all__ = [
    "EvaluatedAction",
    "EvaluatedArch",
    "EvaluatedComponent",
    "EvaluatedContainer",
    "EvaluatedSpatial",
    "EvaluatedTensors",
]


@dataclass
class EvaluatedSpatial:
    """A fanout dimension with its sets evaluated."""

    name: str
    fanout: int
    reuse: TensorSet
    may_reuse: TensorSet
    loop_bounds: list[tuple[RankVariableSet, str, int]]
    min_usage: float
    usage_scale: float
    power_gateable: bool


@dataclass
class EvaluatedAction:
    """An action with scaled energy (per action) and scaled throughput (actions per second)."""

    name: str
    energy: float
    throughput: float
    bits_per_action: float | None = None
    values_per_action: dict[str, float] = field(default_factory=dict)


@dataclass
class EvaluatedTensors:
    """Tensor placement sets; a ``str`` is a set expression resolved at mapping time."""

    keep: TensorSet | str
    may_keep: TensorSet | str
    back: TensorSet
    tile_shape: list[tuple[RankVariableSet, str, int]]
    no_refetch_from_above: TensorSet
    no_resend_to_below: TensorSet
    tensor_order_options: list[list[TensorSet | str]]
    force_memory_hierarchy_order: bool


@dataclass
class EvaluatedComponent:
    """A Memory, Toll or Compute evaluated for one Einsum (``kind`` says which)."""

    name: str
    kind: str
    enabled: bool
    component_class: str | None
    area: float | None
    leak_power: float
    area_scale: float
    leak_power_scale: float
    energy_scale: float
    throughput_scale: float
    actions_scale: float
    n_parallel_instances: float
    total_latency: str
    skip_initial_output_write: bool
    actions: dict[str, EvaluatedAction]
    spatial: list[EvaluatedSpatial]
    cumulative_fanout: int
    extra_attributes: dict[str, Any]
    size: float | None = None
    bits_per_value: dict[str, float] = field(default_factory=dict)
    bits_per_action: float | None = None
    values_per_action: dict[str, float] = field(default_factory=dict)
    tensors: EvaluatedTensors | None = None
    direction: dict[str, str] = field(default_factory=dict)
    """A Toll's direction (``up``, ``down``, ``up_and_down``) per tensor; empty otherwise."""

    @property
    def total_area(self) -> float:
        """Area of all instances (own fanout included; docs/MODEL.md §10.2)."""
        if self.area is None:
            raise SpecError(
                f"component {self.name} has no area: set 'area' or a component_class whose "
                "cost model gives one."
            )
        return self.area * self.cumulative_fanout

    @property
    def total_leak_power(self) -> float:
        """Leak power of all instances (own fanout included; docs/MODEL.md §10.2)."""
        return self.leak_power * self.cumulative_fanout


@dataclass
class EvaluatedContainer:
    """A Container: only its fanouts."""

    name: str
    spatial: list[EvaluatedSpatial]
    kind: str = "Container"


@dataclass
class EvaluatedArch:
    """The architecture for one Einsum, nodes top-down."""

    einsum: str
    variables: dict[str, Any]
    nodes: list[EvaluatedComponent | EvaluatedContainer]

    @property
    def components(self) -> dict[str, EvaluatedComponent]:
        """Memories and computes by name."""
        return {n.name: n for n in self.nodes if isinstance(n, EvaluatedComponent)}

    def path_to(self, compute: str) -> list[EvaluatedComponent | EvaluatedContainer]:
        """The flattened architecture of ``compute``: nodes above it, other Computes skipped."""
        path: list[EvaluatedComponent | EvaluatedContainer] = []
        for node in self.nodes:
            if node.kind == "Compute":
                if node.name == compute:
                    return [*path, node]
                continue
            path.append(node)
        raise SpecError(
            f"no Compute named '{compute}' in the architecture.",
            allowed=", ".join(n.name for n in self.nodes if n.kind == "Compute"),
        )
