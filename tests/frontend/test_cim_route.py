"""The compute-in-memory examples load as AccelForge's ``_load_spec.get_spec`` loads them.

That route uses ``af.Variables`` / ``af.Arch`` / ``af.Workload.from_yaml(path, top_key=...)``,
``af.Spec(arch=..., variables=..., workload=...)``, FFM knobs set on ``spec.mapper``, helper
functions from ``config.expression_custom_functions`` called with ``spec``, ``af.arch`` node
classes, and ``!Toll`` nodes. With made-up explicit costs (``tests/data/cim/record_costed.py``)
the optima equal AccelForge 1.0.467's where it maps the arch.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

import accelforge as af
from accelforge.errors import MissingExtraError, SpecError
from accelforge.frontend._hwcomponents import hwcomponents_available
from accelforge.mapper import map_workload_to_arch
from tests.conftest import REFERENCE

CIM = REFERENCE / "specs" / "arches" / "compute_in_memory"
DATA = Path(__file__).resolve().parents[1] / "data" / "cim"
RECORDED = json.loads((DATA / "reference_costed.json").read_text())["cases"]
ARCHES = sorted(p.stem for p in CIM.glob("*.yaml") if not p.stem.startswith("_"))
needs_cim = pytest.mark.skipif(not CIM.is_dir(), reason=f"reference CIM examples not at {CIM}")


@pytest.fixture(scope="module")
def recorder() -> Any:
    if not CIM.is_dir():
        pytest.skip(f"reference CIM examples not at {CIM}")
    sys.path.insert(0, str(DATA))
    try:
        import record_costed
    finally:
        sys.path.remove(str(DATA))
    return record_costed


@needs_cim
@pytest.mark.parametrize("arch", ARCHES or ["absent"])
def test_cim_arch_loads_through_get_spec_with_its_tolls_and_helpers(
    arch: str, recorder: Any
) -> None:
    spec = recorder.get_spec(arch)
    assert spec.mapper.ffm.explore_imperfect_spatial_loops is True
    assert spec.mapper.explore_loop_orders is False
    assert spec.mapper.metrics == af.Metrics.ENERGY_DELAY_PRODUCT
    assert any(isinstance(n, af.arch.Toll) for n in spec.arch.nodes)
    assert all(isinstance(n, af.arch.Leaf) for n in spec.arch.nodes)
    evaluated = spec.evaluate(require_costs=False)  # helper functions called with spec
    assert any(c.kind == "Toll" and c.direction for c in evaluated.components.values())


@needs_cim
@pytest.mark.parametrize("case", RECORDED, ids=[c["arch"] for c in RECORDED])
def test_cim_arch_with_explicit_costs_maps_to_accelforge_optimum(
    case: dict[str, Any], recorder: Any
) -> None:
    data = map_workload_to_arch(recorder.costed_spec(case["arch"], case["metric"])).data
    assert len(data) == 1
    assert data["energy"].iloc[0] == pytest.approx(case["front"][0][0], rel=1e-6)


@needs_cim
@pytest.mark.skipif(hwcomponents_available(), reason="hwcomponents is installed here")
def test_cim_arch_costs_without_hwcomponents_name_the_component_and_the_fix(
    recorder: Any,
) -> None:
    spec = recorder.get_spec("basic_analog", add_dummy_main_memory=True)
    with pytest.raises(MissingExtraError, match=r"Component 'ADC' \(component_class 'ADC'\)"):
        map_workload_to_arch(spec)


COMPUTE_AND_WORKLOAD = (
    "  - !Compute {name: C, leak_power: 0, area: 0, component_class: Dummy}\n"
    "workload:\n  rank_sizes: {K: 4}\n  bits_per_value: {All: 8}\n  einsums:\n"
    "  - {name: E, tensor_accesses: [{name: A, projection: [k]}, "
    "{name: B, projection: [k], output: true}]}\n"
)
"""The end of the small specs below: a free Compute and a one-Einsum workload."""


def test_section_from_yaml_reads_the_top_key_and_names_a_missing_one(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(
        "variables: {size: 64}\n"
        "arch:\n  nodes:\n  - !Memory {name: M, size: size, leak_power: 0, area: 0,"
        " component_class: Dummy}\n" + COMPUTE_AND_WORKLOAD
    )
    spec = af.Spec(
        arch=af.Arch.from_yaml(path, top_key="arch"),
        variables=af.Variables.from_yaml(path, top_key="variables"),
        workload=af.Workload.from_yaml(path, top_key="workload"),
    )
    assert spec.evaluate(require_costs=False).components["M"].size == 64
    with pytest.raises(SpecError, match="top_key 'arhc' is not a top-level key.*'arch'"):
        af.Arch.from_yaml(path, top_key="arhc")


def test_yaml_custom_functions_run_only_when_allowed(tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text("def double(x):\n    return 2 * x\n")
    path = tmp_path / "spec.yaml"
    path.write_text(
        "config: {expression_custom_functions: [helpers.py]}\n"
        "arch:\n  nodes:\n  - !Memory {name: M, size: double(32), leak_power: 0, area: 0,"
        " component_class: Dummy}\n" + COMPUTE_AND_WORKLOAD
    )
    with pytest.raises(SpecError, match="allow_custom_functions=True"):
        af.Spec.from_yaml(path)
    spec = af.Spec.from_yaml(path, allow_custom_functions=True)
    assert spec.evaluate(require_costs=False).components["M"].size == 64


def test_node_get_fanout_works_for_a_container_below_the_expression(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(
        "arch:\n  nodes:\n"
        "  - !Memory {name: M, size: Array.get_fanout() * 8, leak_power: 0, area: 0,"
        " component_class: Dummy}\n"
        "  - !Container {name: Array, spatial: [{name: x, fanout: 4}, {name: y, fanout: 2}]}\n"
        + COMPUTE_AND_WORKLOAD
    )
    assert af.Spec.from_yaml(path).evaluate(require_costs=False).components["M"].size == 64


@needs_cim
def test_weight_stationary_cim_unit_above_input_buffer_is_not_flagged(recorder: Any) -> None:
    # CimUnit sets force_memory_hierarchy_order: False, so the mapper may put its weights above
    # the input buffer; the model's check agrees instead of warning about its own optimum.
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mappings = map_workload_to_arch(recorder.costed_spec("colonnade_jssc_2021", "ENERGY"))
    assert len(mappings) == 1
    assert not [w for w in caught if "memory-hierarchy order" in str(w.message)]
