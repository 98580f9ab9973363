"""Shared check of ``spec.calculate_component_costs()`` against AccelForge's recorded figures.

Used by ``tests/frontend/test_component_costs.py`` (arches with explicit costs) and
``tests/hwcomponents/test_component_costs_hwc.py`` (eyeriss and simba, hwcomponents costs).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import accelforge as af
from tests.conftest import reference_path

DATA = Path(__file__).resolve().parent / "data" / "reference_component_costs.json"
RTOL = 1e-9


def reference_case(arch: str) -> dict[str, Any]:
    """The reference's figures for ``arch`` (one 64 x 64 x 64 matmul)."""
    return json.loads(DATA.read_text())["cases"][arch]  # type: ignore[no-any-return]


def spec_for(arch: str) -> af.Spec:
    specs = reference_path() / "specs"
    return af.Spec.from_yaml(
        specs / "arches" / f"{arch}.yaml",
        specs / "workloads" / "matmuls.yaml",
        jinja_parse_data={"N_EINSUMS": 1, "M": 64, "KN": 64},
    )


def own_fanout(node: Any) -> float:
    """The product of a node's own ``spatial`` fanouts (1 without)."""
    return math.prod(float(s.fanout) for s in getattr(node, "spatial", []) or [])


def check_against_reference(arch: str) -> None:
    """Every component's costs equal the reference's; totals too, but for the documented case.

    docs/differences.md: a component's own fanout counts in its total area and leak power here
    (the reference counts only its ancestors'), so those totals are the reference's times it.
    """
    theirs = reference_case(arch)
    costed = spec_for(arch).calculate_component_costs()
    for name, expected in theirs["nodes"].items():
        node = costed.arch.find(name)
        assert math.isclose(node.area, expected["area"], rel_tol=RTOL, abs_tol=1e-30), name
        assert math.isclose(node.leak_power, expected["leak_power"], rel_tol=RTOL, abs_tol=1e-30)
        for action in node.actions:
            energy, throughput = expected["actions"][action.name]
            assert math.isclose(action.energy, energy, rel_tol=RTOL, abs_tol=1e-30), action.name
            assert math.isclose(action.throughput, throughput, rel_tol=RTOL)
        own = own_fanout(node)
        assert math.isclose(node.total_area, expected["total_area"] * own, rel_tol=RTOL)
        leak = theirs["per_component_total_leak_power"][name]
        assert math.isclose(node.total_leak_power, leak * own, rel_tol=RTOL, abs_tol=1e-30)
    assert set(costed.arch.per_component_total_area) == set(theirs["per_component_total_area"])
    total = sum(
        theirs["per_component_total_area"][name] * own_fanout(costed.arch.find(name))
        for name in theirs["per_component_total_area"]
    )
    assert math.isclose(costed.arch.total_area, total, rel_tol=RTOL)
