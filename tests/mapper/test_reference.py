"""Every mapper oracle case: our optimum is no worse than AccelForge's, our front weakly
dominates its front, and every returned mapping re-evaluates (from its YAML) to its numbers."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

import accelforge as af
from accelforge.frontend._yaml import load_yaml_text
from accelforge.frontend.mapping import Mapping
from accelforge.mapper import map_workload_to_arch
from accelforge.model import evaluate_mapping
from tests.conftest import REFERENCE, load_reference_json, reference_path
from tests.overrides import apply_overrides

RTOL = 1e-6


def _cases() -> list[dict[str, Any] | None]:
    if not (REFERENCE / "oracle" / "mapper_cases.json").is_file():
        return [None]
    return [
        c for c in load_reference_json("oracle/mapper_cases.json")["cases"] if c["status"] == "ok"
    ]


CASES = _cases()


def load_mapper_case(case: dict[str, Any]) -> af.Spec:
    """The case's spec with overrides and metrics applied."""
    specs = reference_path() / "specs"
    spec = af.Spec.from_yaml(
        specs / case["arch"], specs / case["workload"], jinja_parse_data=case["jinja"]
    )
    apply_overrides(spec, case.get("overrides"))
    spec.mapper.metrics = af.Metrics.parse(case["metrics"])
    return spec


@pytest.mark.parametrize("case", CASES, ids=[c["id"] if c else "absent" for c in CASES])
def test_mapper_matches_reference(case: dict[str, Any] | None, tmp_path: Path) -> None:
    if case is None:
        reference_path()
    spec = load_mapper_case(case)
    mappings = map_workload_to_arch(spec)
    data = mappings.data
    expected = case["result"]
    if expected.get("optimum"):
        for name, value in expected["optimum"].items():
            assert data[name].min() <= value * (1 + RTOL), (name, data[name].min(), value)
        assert len(mappings) >= 1
    else:
        ours = list(zip(data["energy"], data["latency"], strict=True))
        for point in expected["front"]:
            assert any(
                e <= point["energy"] * (1 + RTOL) and lat <= point["latency"] * (1 + RTOL)
                for e, lat in ours
            ), point
        assert len(mappings) == len(expected["front"])
    for item, row in zip(mappings, data.itertuples(), strict=True):
        reloaded = Mapping.from_data(load_yaml_text(item.to_yaml())["mapping"], ("mapping",))
        result = evaluate_mapping(spec, reloaded)
        assert math.isclose(result.energy(), row.energy, rel_tol=1e-9)
        assert math.isclose(result.latency(), row.latency, rel_tol=1e-9)
