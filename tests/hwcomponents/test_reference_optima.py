"""Eyeriss and Simba with hwcomponents costs: our optima equal AccelForge 1.0.467's.

The two example arches take every component cost from the ``hwcomponents`` models (CACTI for
the SRAM buffers), so they run only where the extra is installed (Python >= 3.12) with working
CACTI and NeuroSim binaries (built from the packages' sources on first use when the bundled ones
cannot run). The reference figures, and the command that produced them, are in
``tests/data/hwcomponents_reference.json``; the specs come from ``../shared/reference``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

import accelforge as af
from accelforge.frontend._hwcomponents import hwcomponents_available
from accelforge.mapper import map_workload_to_arch
from accelforge.model import evaluate_mapping
from tests.conftest import reference_path

RTOL = 1e-6
DATA = Path(__file__).resolve().parents[1] / "data" / "hwcomponents_reference.json"
CASES: list[dict[str, Any]] = json.loads(DATA.read_text())["cases"]


@pytest.fixture
def hwc_models() -> None:
    """Skip, saying why, where hwcomponents or its model packages are not installed."""
    reason = "needs hwcomponents with its model packages (Python >= 3.12, the hwcomponents extra)"
    pytest.importorskip("hwcomponents", reason=reason)
    pytest.importorskip("hwcomponents_library", reason=reason)
    pytest.importorskip("hwcomponents_cacti", reason=reason)
    if not hwcomponents_available():
        pytest.skip(reason)


def _spec(case: dict[str, Any]) -> af.Spec:
    specs = reference_path() / "specs"
    spec = af.Spec.from_yaml(
        specs / case["arch"], specs / case["workload"], jinja_parse_data=case["jinja"]
    )
    spec.mapper.metrics = af.Metrics.parse(case["metrics"])
    return spec


def _close(ours: float, theirs: float) -> bool:
    return math.isclose(ours, theirs, rel_tol=RTOL, abs_tol=1e-30)


def test_cases_cover_both_arches_with_the_energy_objective() -> None:
    covered = {(c["arch"], c["metrics"]) for c in CASES}
    assert ("arches/eyeriss.yaml", "ENERGY") in covered
    assert ("arches/simba.yaml", "ENERGY") in covered


# Re-evaluating an eyeriss optimum notes that a PE fanout is under its min_usage, which the
# mapper allows where no tile shape of that template reaches it (docs/MAPPER.md).
@pytest.mark.filterwarnings("ignore:the mapping breaks constraints the mapper enforces")
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_optimum_equals_reference(hwc_models: None, case: dict[str, Any]) -> None:
    spec = _spec(case)
    mappings = map_workload_to_arch(spec)
    data = mappings.data
    expected = case["reference"]
    front = sorted(zip(data["energy"], data["latency"], strict=True))
    theirs = sorted((p["energy"], p["latency"]) for p in expected["front"])
    assert len(front) == len(theirs), (front, theirs)
    for (energy, latency), (ref_energy, ref_latency) in zip(front, theirs, strict=True):
        assert _close(energy, ref_energy), (energy, ref_energy)
        assert _close(latency, ref_latency), (latency, ref_latency)

    # The lowest-energy mapping spends it where the reference's does.
    best = mappings[int(data["energy"].to_numpy().argmin())]
    result = evaluate_mapping(spec, best.mapping)
    per_component = {k: float(v) for k, v in result.energy(per_component=True).items()}
    assert per_component.keys() == expected["best_energy_per_component"].keys()
    for name, value in expected["best_energy_per_component"].items():
        assert _close(per_component[name], value), (name, per_component[name], value)
    per_einsum = result.latency(per_einsum=True)
    for name, value in expected["best_latency_per_einsum"].items():
        assert _close(float(per_einsum[name]), value), (name, per_einsum[name], value)
