"""``spec.calculate_component_costs()``: AccelForge's area and leak-power questions answered."""

from __future__ import annotations

import math

import pytest

from accelforge.errors import SpecError
from tests.component_costs_check import check_against_reference, reference_case, spec_for


@pytest.mark.parametrize("arch", ["tpu_v4i", "snowcat"])
def test_costs_equal_the_references(arch: str) -> None:
    check_against_reference(arch)


def test_the_own_fanout_difference_is_where_docs_say() -> None:
    costed = spec_for("tpu_v4i").calculate_component_costs()
    theirs = reference_case("tpu_v4i")["per_component_total_area"]
    # LocalBuffer has its own 4-wide fanout: counted here, not by the reference
    assert costed.arch.per_component_total_area["LocalBuffer"] == 4 * theirs["LocalBuffer"]
    assert costed.arch.per_component_total_area["GlobalBuffer"] == theirs["GlobalBuffer"]
    assert math.isclose(costed.arch.total_area, 0.00041207616, rel_tol=1e-9)


def test_the_costed_spec_evaluates_to_the_same_figures() -> None:
    spec = spec_for("tpu_v4i")
    before, after = spec.evaluate(), spec.calculate_component_costs().evaluate()
    for name, component in before.components.items():
        again = after.components[name]
        assert (again.area, again.leak_power) == (component.area, component.leak_power)
        for action, figures in component.actions.items():
            other = again.actions[action]
            assert (other.energy, other.throughput) == (figures.energy, figures.throughput)


def test_totals_before_the_costs_are_calculated_say_what_to_call() -> None:
    spec = spec_for("tpu_v4i")
    with pytest.raises(SpecError, match=r"call spec.calculate_component_costs\(\)"):
        _ = spec.arch.total_area
    with pytest.raises(SpecError, match="MAC has no computed costs yet"):
        _ = spec.arch.find("MAC").total_leak_power


def test_an_arch_without_costs_is_refused_by_both() -> None:
    assert reference_case("nvdla")["error"].startswith("EvaluationError")
    with pytest.raises(SpecError, match="component MainMemory has no area"):
        spec_for("nvdla").calculate_component_costs()
