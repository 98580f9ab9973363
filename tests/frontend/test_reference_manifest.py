"""Every arch x workload of the reference manifest loads unmodified and parses to its facts.

The facts were recorded by AccelForge 1.0.467 from the same files. One deliberate difference
is accounted for: our ``total_area`` / ``total_leak_power`` include a component's own fanout
(docs/MODEL.md §10.2), AccelForge's do not.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

import accelforge as af
from accelforge.errors import MissingExtraError
from accelforge.frontend._hwcomponents import hwcomponents_available
from accelforge.frontend.evaluate_arch import EvaluatedComponent, EvaluatedSpatial
from tests.conftest import manifest_combinations, reference_path

COMBINATIONS = manifest_combinations()
IDS = [c["id"] for c in COMBINATIONS]
if not COMBINATIONS:
    COMBINATIONS, IDS = [None], ["reference-absent"]


def _num(value: Any) -> Any:
    if value == "inf":
        return math.inf
    return value


def _close(ours: Any, theirs: Any) -> bool:
    theirs = _num(theirs)
    if isinstance(theirs, (int, float)) and not isinstance(theirs, bool):
        if ours is None:
            return False
        return ours == theirs or math.isclose(ours, theirs, rel_tol=1e-6, abs_tol=1e-30)
    return ours == theirs


def _load(combo: dict[str, Any]) -> af.Spec:
    ref = reference_path() / "specs"
    return af.Spec.from_yaml(
        ref / combo["arch"], ref / combo["workload"], jinja_parse_data=combo["jinja"]
    )


def _set_fact(value: Any) -> Any:
    return value if isinstance(value, str) else sorted(value)


def _spatial_facts(dim: EvaluatedSpatial) -> dict[str, Any]:
    return {
        "name": dim.name,
        "fanout": dim.fanout,
        "reuse": sorted(dim.reuse),
        "may_reuse": sorted(dim.may_reuse),
        "min_usage": dim.min_usage,
        "usage_scale": dim.usage_scale,
        "power_gateable": dim.power_gateable,
        "loop_bounds": [
            {"expression": sorted(e), "operator": op, "value": v} for e, op, v in dim.loop_bounds
        ],
    }


def _assert_facts(ours: dict[str, Any], theirs: dict[str, Any], where: str) -> None:
    for key, expected in theirs.items():
        got = ours[key]
        if isinstance(expected, dict) and isinstance(got, dict):
            _assert_facts(got, expected, f"{where}.{key}")
        elif (
            isinstance(expected, list)
            and isinstance(got, list)
            and expected
            and isinstance(expected[0], dict)
        ):
            assert len(got) == len(expected), f"{where}.{key}: {got} != {expected}"
            for i, (g, e) in enumerate(zip(got, expected, strict=True)):
                _assert_facts(g, e, f"{where}.{key}[{i}]")
        else:
            assert _close(got, expected), f"{where}.{key}: ours {got!r}, reference {expected!r}"


def _component_facts(comp: EvaluatedComponent, costs_known: bool) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "type": comp.kind,
        "enabled": comp.enabled,
        "component_class": comp.component_class,
        "leak_power_scale": comp.leak_power_scale,
        "area_scale": comp.area_scale,
        "energy_scale": comp.energy_scale,
        "actions_scale": comp.actions_scale,
        "throughput_scale": comp.throughput_scale,
        "n_parallel_instances": comp.n_parallel_instances,
        "total_latency": comp.total_latency,
        "skip_initial_output_write": comp.skip_initial_output_write,
    }
    if costs_known:
        own = math.prod(s.fanout for s in comp.spatial)
        facts["leak_power"] = comp.leak_power
        facts["total_leak_power"] = comp.total_leak_power / own
        if comp.area is not None:
            facts["area"] = comp.area
            facts["total_area"] = comp.total_area / own
    if comp.kind == "Memory":
        facts.update(
            {
                "size": comp.size,
                "bits_per_value": comp.bits_per_value,
                "bits_per_action": comp.bits_per_action,
                "values_per_action": comp.values_per_action,
                "tensors": {
                    "keep": _set_fact(comp.tensors.keep),
                    "may_keep": _set_fact(comp.tensors.may_keep),
                    "back": _set_fact(comp.tensors.back),
                },
            }
        )
    actions = []
    for action in comp.actions.values():
        entry: dict[str, Any] = {"name": action.name}
        if costs_known:
            entry.update(energy=action.energy, throughput=action.throughput)
        if comp.kind == "Memory":
            entry.update(
                bits_per_action=action.bits_per_action, values_per_action=action.values_per_action
            )
        actions.append(entry)
    facts["actions"] = actions
    return facts


def _comparable(theirs: dict[str, Any], costs_known: bool, area_known: bool) -> dict[str, Any]:
    skip = {"latency_scale"}
    if not costs_known:
        skip |= {"leak_power", "total_leak_power", "area", "total_area"}
    if not area_known:
        skip |= {"area", "total_area"}
    out = {k: v for k, v in theirs.items() if k not in skip}
    if "actions" in out:
        keep = {"name", "bits_per_action", "values_per_action"}
        if costs_known:
            keep |= {"energy", "throughput"}
        out["actions"] = [{k: v for k, v in a.items() if k in keep} for a in out["actions"]]
    return out


def _needs_cost_model(component: dict[str, Any]) -> bool:
    cls = (component.get("component_class") or "").lower()
    return bool(cls) and cls != "dummy"


@pytest.mark.parametrize("combo", COMBINATIONS, ids=IDS)
def test_workload_facts_match_reference(combo: dict[str, Any] | None) -> None:
    if combo is None:
        reference_path()
    spec = _load(combo)
    workload = spec.evaluate_workload()
    facts = combo["workload_facts"]
    assert list(workload.einsums) == facts["einsum_names"]
    for expected in facts["einsums"]:
        einsum = workload.einsums[expected["name"]]
        assert einsum.einsum.is_copy_operation == expected["is_copy_operation"]
        assert einsum.einsum.n_instances == expected["n_instances"]
        assert einsum.rank_variable_bounds == expected["rank_variables"]
        assert einsum.n_computes == expected["n_computes"]
        ours = [
            {
                "name": a.name,
                "projection": a.projection,
                "output": a.output,
                "bits_per_value": einsum.bits_per_value[a.name],
                "persistent": einsum.persistent[a.name],
            }
            for a in einsum.einsum.tensor_accesses
        ]
        assert ours == expected["tensors"], expected["name"]
    for name, expected in facts["tensors"].items():
        tensor = workload.tensors[name]
        assert tensor.role == expected["role"], name
        assert tensor.shape == expected["shape"], name
        assert tensor.n_values == expected["n_values"], name
        assert tensor.bits_per_value == expected["bits_per_value"], name
        assert tensor.size_bits == expected["size_bits"], name
        assert tensor.persistent == expected["persistent"], name
    for role, key in (
        ("input", "inputs"),
        ("output", "outputs"),
        ("intermediate", "intermediates"),
    ):
        assert [t for t, f in workload.tensors.items() if f.role == role] == facts[key]
    assert spec.workload.n_instances == facts["n_instances"]


@pytest.mark.parametrize("combo", COMBINATIONS, ids=IDS)
def test_arch_facts_match_reference(combo: dict[str, Any] | None) -> None:
    if combo is None:
        reference_path()
    spec = _load(combo)
    facts = combo["arch_facts"]
    costs_known = hwcomponents_available()  # then the cost models are asked for every cost
    arch = spec.evaluate(facts["evaluated_for_einsum"], require_costs=costs_known)
    nodes = [
        {
            "name": n.name,
            "type": n.kind,
            "size_bits": getattr(n, "size", None),
            "fanout_dims": [_spatial_facts(s) for s in n.spatial],
        }
        for n in arch.nodes
    ]
    expected_nodes = [dict(n) for n in facts["nodes"]]
    for ours, theirs in zip(nodes, expected_nodes, strict=True):
        if "size_bits" not in theirs:
            ours.pop("size_bits")
    assert len(nodes) == len(expected_nodes)
    _assert_facts({"nodes": nodes}, {"nodes": expected_nodes}, "arch")
    for name, expected in facts["components"].items():
        comp = arch.components[name]
        known = costs_known or not _needs_cost_model(expected)
        area_known = facts["area_evaluated"] and comp.area is not None
        _assert_facts(
            _component_facts(comp, known),
            _comparable(expected, known, area_known),
            f"{combo['id']}.{name}",
        )
    for einsum, differences in facts["per_einsum_differences"].items():
        other = spec.evaluate(einsum, require_costs=False)
        for name, fields in differences.items():
            comp = other.components[name]
            ours = _component_facts(comp, costs_known=False)
            _assert_facts(ours, {k: v for k, v in fields.items()}, f"{einsum}.{name}")


@pytest.mark.parametrize(
    "combo",
    [
        c
        for c in COMBINATIONS
        if c and any(_needs_cost_model(v) for v in c["arch_facts"]["components"].values())
    ],
    ids=lambda c: c["id"],
)
def test_cost_model_components_need_the_extra_or_match(combo: dict[str, Any]) -> None:
    spec = _load(combo)
    if hwcomponents_available():
        spec.evaluate(combo["arch_facts"]["evaluated_for_einsum"])
        return
    with pytest.raises(MissingExtraError) as info:
        spec.evaluate(combo["arch_facts"]["evaluated_for_einsum"])
    message = str(info.value)
    assert "MainMemory" in message and "LPDDR4" in message
    assert "pip install" in message and "energy" in message and "throughput" in message
