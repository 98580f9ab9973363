"""Tolls (docs/MODEL.md §15): pass-through components charged for the values crossing them.

The two arches in ``tests/data/tolls`` put Tolls above and below a fanout, with every
direction (``up``, ``down``, ``up_and_down`` and per-tensor maps), ``values_per_action`` and
``skip_initial_output_write: false`` on the memory above. Their fronts were recorded with
AccelForge 1.0.467 (``reference_fronts.json`` says how).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import accelforge as af
from accelforge.errors import SpecError
from accelforge.frontend._yaml import load_yaml_text
from accelforge.frontend.arch import Toll
from accelforge.frontend.mapping import Mapping
from accelforge.mapper import map_workload_to_arch
from accelforge.model import evaluate_mapping

DATA = Path(__file__).resolve().parents[1] / "data" / "tolls"
MATMULS = Path(af.__file__).parent / "examples" / "workloads" / "matmuls.yaml"
RECORDED = json.loads((DATA / "reference_fronts.json").read_text())["cases"]
RTOL = 1e-6


def _spec(case: dict[str, Any]) -> af.Spec:
    spec = af.Spec.from_yaml(DATA / case["arch"], MATMULS, jinja_parse_data=case["jinja"])
    spec.mapper.metrics = af.Metrics.parse(case["metrics"].split("|"))
    return spec


@pytest.mark.parametrize(
    "case", RECORDED, ids=[f"{c['arch']}-{json.dumps(c['jinja'])}" for c in RECORDED]
)
def test_toll_front_equals_accelforge_front(case: dict[str, Any]) -> None:
    mappings = map_workload_to_arch(_spec(case))
    ours = sorted(zip(mappings.data["energy"], mappings.data["latency"], strict=True))
    assert len(ours) == len(case["front"])
    for (energy, latency), (ref_energy, ref_latency) in zip(ours, case["front"], strict=True):
        assert energy == pytest.approx(ref_energy, rel=RTOL)
        assert latency == pytest.approx(ref_latency, rel=RTOL)


def test_toll_energies_of_the_optimum_equal_accelforge_per_component() -> None:
    case = next(c for c in RECORDED if c["jinja"] == {"N_EINSUMS": 1, "M": 8, "KN": 8})
    case = {**case, "metrics": "ENERGY"}
    mappings = map_workload_to_arch(_spec(case))
    ours = mappings[0].result.energy(per_component=True)
    assert set(ours.index) == set(case["energy_per_component_of_best"])
    for component, energy in case["energy_per_component_of_best"].items():
        assert ours[component] == pytest.approx(energy, rel=RTOL), component


def test_toll_optimum_re_evaluates_from_its_yaml() -> None:
    case = {**RECORDED[0], "metrics": "ENERGY"}
    spec = _spec(case)
    mappings = map_workload_to_arch(spec)
    text = mappings[0].to_yaml()
    spec.mapping = Mapping.from_data(load_yaml_text(text, name="mapping")["mapping"], ())
    result = evaluate_mapping(spec)
    assert result.energy() == pytest.approx(mappings.data["energy"].iloc[0], rel=1e-9)
    assert result.latency() == pytest.approx(mappings.data["latency"].iloc[0], rel=1e-9)


def test_toll_without_direction_is_refused_naming_the_allowed_values() -> None:
    with pytest.raises(
        SpecError, match="'direction' is required on Toll 'T'.*up, down, up_and_down"
    ):
        Toll.from_data({"name": "T", "tensors": {"keep": "output"}}, ("arch", "nodes", 0))


def test_toll_unknown_direction_is_refused() -> None:
    with pytest.raises(SpecError, match="unknown direction 'sideways'"):
        Toll.from_data({"name": "T", "direction": "sideways"}, ("arch", "nodes", 0))


def test_toll_direction_map_must_cover_every_tensor(tmp_path: Path) -> None:
    text = (
        (DATA / "toll_arch_a.yaml")
        .read_text()
        .replace("direction: {input: down, ~input: up_and_down}", "direction: {input: down}")
    )
    path = tmp_path / "arch.yaml"
    path.write_text(text)
    with pytest.raises(SpecError, match=r"InToll.direction .*no direction for tensor\(s\) T1, W0"):
        map_workload_to_arch(af.Spec.from_yaml(path, MATMULS, jinja_parse_data={"N_EINSUMS": 1}))
