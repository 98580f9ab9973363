"""Where component costs come from (docs/SPEC_FORMAT.md §3.6), and scaling them exactly once.

For each quantity, first match wins: the explicit value; ``component_class: Dummy``; the
``hwcomponents`` cost models (optional extra); otherwise an error naming the component, the
missing quantities and the two ways out. Nothing is ever filled in silently.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from accelforge.errors import SpecError
from accelforge.frontend.evaluated_arch import EvaluatedAction, EvaluatedComponent

__all__ = ["resolve_costs"]

_DUMMY = {"area": 0.0, "leak_power": 0.0, "energy": 0.0, "throughput": math.inf}


def resolve_costs(
    comp: EvaluatedComponent,
    values: Mapping[str, Any],
    actions: Mapping[str, dict[str, Any]],
    *,
    require: bool = True,
) -> None:
    """Fill ``comp.area``, ``comp.leak_power`` and ``comp.actions`` with scaled costs.

    With ``require=False`` the quantities a cost model would give are left unknown (NaN), the
    models are not called; explicit values and Dummy still apply.
    """
    missing = _missing(values, actions)
    estimated: Any = None
    is_dummy = (comp.component_class or "").lower() == "dummy"
    if missing and not is_dummy:
        if comp.component_class is None:
            raise SpecError(
                f"component {comp.name} has no cost source for {', '.join(missing)}: set "
                "component_class (a cost-model class, or Dummy), or set area, leak_power and "
                "each action's energy and throughput explicitly."
            )
        # Unrequired (loading): leave model costs unknown; a result that needs them asks the
        # cost models then, so loading neither runs CACTI nor fails on a model's error.
        estimated = _estimate(comp, values, actions) if require else _Unknown()

    def pick(explicit: Any, quantity: str, estimate: Any) -> Any:
        if explicit is not None:
            return explicit
        if is_dummy:
            return _DUMMY[quantity]
        return estimate

    area = pick(values.get("area"), "area", estimated and estimated.area)
    leak = pick(values.get("leak_power"), "leak_power", estimated and estimated.leak_power)
    scale = comp.n_parallel_instances
    comp.area = None if area is None else area * comp.area_scale * scale
    comp.leak_power = leak * comp.leak_power_scale * scale
    for name, raw in actions.items():
        energy = pick(raw.get("energy"), "energy", estimated and estimated.energy.get(name))
        throughput = pick(
            raw.get("throughput"), "throughput", estimated and estimated.throughput.get(name)
        )
        comp.actions[name] = EvaluatedAction(
            name=name,
            energy=energy * comp.energy_scale * raw.get("energy_scale", 1),
            throughput=throughput * comp.throughput_scale * raw.get("throughput_scale", 1) * scale,
            bits_per_action=raw.get("bits_per_action"),
            values_per_action=raw.get("values_per_action", {}),
        )


class _Unknown:
    """Stands in for cost-model estimates that could not be made: every quantity is NaN."""

    area = leak_power = math.nan

    class _NaNs(dict):
        def get(self, _key: Any, _default: Any = None) -> float:
            return math.nan

    energy = throughput = _NaNs()


def _missing(values: Mapping[str, Any], actions: Mapping[str, dict[str, Any]]) -> list[str]:
    missing = [] if values.get("leak_power") is not None else ["leak_power"]
    for name, raw in actions.items():
        missing += [f"{name}.{q}" for q in ("energy", "throughput") if raw.get(q) is None]
    return missing


def _estimate(
    comp: EvaluatedComponent, values: Mapping[str, Any], actions: Mapping[str, dict[str, Any]]
) -> Any:
    from accelforge.frontend._hwcomponents import estimate_costs

    attributes = {**comp.extra_attributes, **values, "name": comp.name}
    if comp.size is not None:
        attributes["size"] = comp.size
    action_attributes = {name: dict(raw) for name, raw in actions.items()}
    return estimate_costs(
        comp.name, str(comp.component_class), attributes, list(actions), action_attributes
    )
