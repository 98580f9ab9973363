"""``spec.to_yaml()``: the whole spec as one file that loads back to the same spec."""

from __future__ import annotations

from pathlib import Path

import pytest

import accelforge as af
from tests.conftest import reference_path

MATMULS = {"N_EINSUMS": 2, "M": 64, "KN": 32}


def _reloaded(spec: af.Spec, tmp_path: Path) -> af.Spec:
    path = tmp_path / "spec.yaml"
    path.write_text(spec.to_yaml())
    return af.Spec.from_yaml(path)


def test_a_spec_with_a_mapping_evaluates_the_same_after_a_round_trip(tmp_path: Path) -> None:
    specs = reference_path() / "specs"
    spec = af.Spec.from_yaml(
        specs / "arches" / "simple.yaml",
        specs / "workloads" / "matmuls.yaml",
        specs / "mappings" / "fused_matmuls_to_simple.yaml",
        jinja_parse_data={**MATMULS, "MainMemoryEnergy": 10, "GlobalBufferSize": 1e5},
    )
    spec.mapper.ffm.max_fused_loops = 2
    again = _reloaded(spec, tmp_path)
    assert again.evaluate_mapping().energy() == spec.evaluate_mapping().energy() == 4833280.0
    assert again.mapper.ffm.max_fused_loops == 2
    assert again.to_yaml() == spec.to_yaml()  # a fixed point


@pytest.mark.parametrize(
    "arch", ["tpu_v4i", "snowcat", "eyeriss", "fanout_variations/at_glb_with_fanout_node"]
)
def test_arches_round_trip_to_the_same_evaluated_components(arch: str, tmp_path: Path) -> None:
    specs = reference_path() / "specs"
    spec = af.Spec.from_yaml(
        specs / "arches" / f"{arch}.yaml",
        specs / "workloads" / "matmuls.yaml",
        jinja_parse_data=MATMULS,
    )
    again = _reloaded(spec, tmp_path)
    assert again.to_yaml() == spec.to_yaml()
    assert again.model_dump() == spec.model_dump()
