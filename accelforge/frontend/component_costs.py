"""``spec.calculate_component_costs()``: the spec with every component's costs filled in.

The costs are those the model uses for one Einsum (docs/SPEC_FORMAT.md §3.6): explicit values,
``Dummy``, or the ``hwcomponents`` cost models, each scaled once. The returned copy holds them
as plain numbers (scales set to 1, so it evaluates to the same figures) and answers AccelForge's
area and leak-power questions: ``arch.total_area``, ``arch.per_component_total_area``,
``arch.total_leak_power``, ``arch.per_component_total_leak_power`` and each component's
``total_area`` and ``total_leak_power`` (all instances, own fanout included).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accelforge.frontend.spec import Spec

__all__ = ["ComponentCosts", "calculate_component_costs"]


@dataclass(frozen=True)
class ComponentCosts:
    """What ``calculate_component_costs`` found for one component (all instances)."""

    total_area: float
    total_leak_power: float


def calculate_component_costs(spec: Spec, einsum_name: str | None = None) -> Spec:
    """A copy of ``spec`` whose components carry their evaluated costs.

    Area, leak power and each action's energy and throughput, as evaluated for
    ``einsum_name`` (default: the first Einsum).

    Raises
    ------
    SpecError
        When a component has no cost source, or the spec cannot be evaluated.
    """
    evaluated = spec.evaluate(einsum_name)
    costed = spec.model_copy(deep=True)
    for node in costed.arch.components.values():
        component = evaluated.components.get(node.name)
        if component is None:  # disabled for this Einsum
            continue
        node.area = component.area
        node.area_scale = 1
        node.leak_power = component.leak_power
        node.leak_power_scale = 1
        for action in node.actions:
            figures = component.actions.get(action.name)
            if figures is not None:
                action.energy, action.energy_scale = figures.energy, 1
                action.throughput, action.throughput_scale = figures.throughput, 1
        node._costs = ComponentCosts(component.total_area, component.total_leak_power)
    return costed
