"""Fusion across Einsums that do not use a live tensor (docs/MAPPER.md §3.5, §6.2, §6.5).

``tests/data/live_through`` holds an arch shaped like AccelForge's ``at_glb`` (four global
buffers under one main memory) and two workloads where a fused tensor stays live across an
Einsum that does not use it. Their ENERGY|LATENCY fronts were recorded with AccelForge 1.0.467
(``reference_fronts.json``). Each front needs one of three mapper rules:

- an Einsum holding nothing in main memory still gets the buffers' spatial loops, on top;
- an Einsum inside a live tensor's loops shares those loops with its neighbours even when
  it shares no tensor with them;
- a copy one Einsum keeps at the top of the tree is not written above a sibling that uses the
  same tensor without it.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

import accelforge as af
from accelforge.mapper import map_workload_to_arch

DATA = Path(__file__).resolve().parents[1] / "data" / "live_through"
FRONTS = json.loads((DATA / "reference_fronts.json").read_text())["fronts"]


def _front(workload: str) -> tuple[list[tuple[float, float]], list[str]]:
    spec = af.Spec.from_yaml(DATA / "arch.yaml", DATA / workload)
    spec.mapper.metrics = af.Metrics.parse(["ENERGY", "LATENCY"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mappings = map_workload_to_arch(spec, n_workers=1)
    data = mappings.data
    front = sorted(zip(data["energy"].tolist(), data["latency"].tolist(), strict=True))
    return front, [str(w.message) for w in caught]


@pytest.mark.parametrize("workload", sorted(FRONTS))
def test_front_with_live_through_tensors_equals_accelforge(workload: str) -> None:
    front, caught = _front(workload)
    assert front == [tuple(point) for point in FRONTS[workload]]
    assert not [m for m in caught if "dropped" in m], caught
