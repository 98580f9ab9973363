"""Compute-in-memory example arches with their real cost models (Python >= 3.12, hwcomponents).

Loaded as AccelForge's ``_load_spec.get_spec(arch, add_dummy_main_memory=True)`` loads them and
mapped for ENERGY; the optima recorded with AccelForge 1.0.467 are in
``tests/data/cim/reference_real_costs.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

import accelforge as af
from accelforge.frontend._hwcomponents import hwcomponents_available
from accelforge.mapper import map_workload_to_arch
from tests.conftest import REFERENCE

CIM = REFERENCE / "specs" / "arches" / "compute_in_memory"
RECORDED = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "cim" / "reference_real_costs.json").read_text()
)["cases"]
KNOWN_DIFFERENT = {
    "jia_jssc_2020": "CimUnit reads cost 4x AccelForge's per action (its MemoryCell model's "
    "energy per action); every other component and the latency agree"
}

pytestmark = [
    pytest.mark.skipif(not hwcomponents_available(), reason="needs the hwcomponents extra (3.12+)"),
    pytest.mark.skipif(not CIM.is_dir(), reason=f"reference CIM examples not at {CIM}"),
]


@pytest.fixture(scope="module")
def get_spec() -> Any:
    sys.path.insert(0, str(CIM))
    try:
        from _load_spec import get_spec
    finally:
        sys.path.remove(str(CIM))
    return get_spec


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            c,
            id=c["arch"],
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_DIFFERENT[c["arch"]])]
            if c["arch"] in KNOWN_DIFFERENT
            else [],
        )
        for c in RECORDED
    ],
)
def test_cim_arch_with_real_costs_maps_to_accelforge_optimum(
    case: dict[str, Any], get_spec: Any
) -> None:
    spec = get_spec(case["arch"], add_dummy_main_memory=True)
    spec.mapper.metrics = af.Metrics.ENERGY
    data = map_workload_to_arch(spec).data
    ((energy, latency),) = case["front"]
    assert data["energy"].min() == pytest.approx(energy, rel=1e-6)
    assert data["latency"].iloc[data["energy"].argmin()] == pytest.approx(latency, rel=1e-6)
