"""Differential test: every case of the reference model oracle, figure by figure (rtol 1e-6).

Rows the project deliberately computes differently (docs/MODEL.md §10.2 own-fanout leak, §10.3
power gating) are checked against the project's values given in docs/MODEL.md E8 instead.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

import accelforge as af
from accelforge.errors import InvalidMappingError, SpecError
from accelforge.model import evaluate_mapping
from tests.conftest import REFERENCE, load_reference_json, reference_path
from tests.overrides import apply_overrides

RTOL = 1e-6


def _cases() -> list[dict[str, Any]]:
    if not (REFERENCE / "oracle" / "model_cases.json").is_file():
        return [None]  # type: ignore[list-item]
    return load_reference_json("oracle/model_cases.json")["cases"]


CASES = _cases()
IDS = [c["id"] if c else "reference-absent" for c in CASES]

# Project values that differ from AccelForge on purpose (docs/MODEL.md E8b, E8c).
DELIBERATE = {
    "E8b_leak_multipliers_at_glb": {
        "leak": {"GlobalBuffer": 1280.0},
        "energy": 19744.0,
        "leak_energy": 14112.0,
    },
    "E8b_leak_multipliers_at_mac": {
        "leak": {"MAC": 12800.0},
        "energy": 17632.0,
        "leak_energy": 13152.0,
    },
    "E8c_power_gating": {"leak": {"MAC": 12800.0}, "energy": 18176.0, "leak_energy": 13440.0},
}


def load_case(case: dict[str, Any], tmp_path: Path) -> af.Spec:
    """The case's spec (files or inline YAML) with its overrides applied."""
    specs = reference_path() / "specs"
    files: list[Path] = []
    for key in ("arch", "workload", "mapping"):
        if case.get(key):
            files.append(specs / case[key])
        elif case.get(f"{key}_yaml"):
            inline = tmp_path / f"{key}.yaml"
            inline.write_text(case[f"{key}_yaml"])
            files.append(inline)
    spec = af.Spec.from_yaml(*files, jinja_parse_data=case.get("jinja") or {})
    apply_overrides(spec, case.get("overrides"))
    return spec


def _num(value: Any) -> float:
    return math.inf if value == "inf" else (math.nan if value == "nan" else float(value))


def close(ours: float, theirs: Any) -> bool:
    """Equal at rtol 1e-6 (absolute 1e-12 of the scale for values near zero)."""
    theirs = _num(theirs)
    return math.isclose(ours, theirs, rel_tol=RTOL, abs_tol=1e-30)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_oracle_case(case: dict[str, Any] | None, tmp_path: Path) -> None:
    if case is None:
        reference_path()
    spec = load_case(case, tmp_path)
    if case["expect"] == "error":
        with pytest.raises(InvalidMappingError) as info:
            evaluate_mapping(spec)
        assert "GlobalBuffer" in str(info.value) and "size is only" in str(info.value)
        return
    result = evaluate_mapping(spec)
    expected = case["result"]
    special = DELIBERATE.get(case["id"], {})
    total = expected["total"]
    checks = {
        "energy": (result.energy(), special.get("energy", total["energy"])),
        "dynamic_energy": (result.dynamic_energy(), total["dynamic_energy"]),
        "leak_energy": (result.leak_energy(), special.get("leak_energy", total["leak_energy"])),
        "latency": (result.latency(), total["latency"]),
        "energy_delay_product": (
            result.energy_delay_product(),
            special.get("energy", total["energy"]) * total["latency"],
        ),
    }
    for name, (ours, theirs) in checks.items():
        assert close(ours, theirs), f"{name}: ours {ours!r}, reference {theirs!r}"
    latency = result.latency(per_einsum=True)
    for einsum, figures in expected["per_einsum"].items():
        assert close(latency[einsum], figures["latency"]), einsum
        if not special:
            assert close(result.energy(per_einsum=True)[einsum], figures["energy"]), einsum
    table = result.breakdown
    for row in expected["actions"]:
        tensor = None if row["tensor"] == "None" else row["tensor"]
        match = table[
            (table.einsum == row["einsum"])
            & (table.component == row["component"])
            & (table.action == row["action"])
            & (table.tensor.isna() if tensor is None else table.tensor == tensor)
        ]
        assert len(match) == 1, row
        got = match.iloc[0]
        assert close(got["count"], row["count"]), (row, got["count"])
        assert close(got["energy"], row["energy"]), (row, got["energy"])
    leak = table[table.action == "leak"]
    for row in expected["leak"]:
        got = leak[(leak.einsum == row["einsum"]) & (leak.component == row["component"])]
        theirs = special.get("leak", {}).get(row["component"], row["energy"])
        assert close(float(got["energy"].sum()), theirs), row
    comp_latency = result.component_latency
    for row in expected["component_latency"]:
        got = comp_latency[
            (comp_latency.einsum == row["einsum"]) & (comp_latency.component == row["component"])
        ]
        assert len(got) == 1 and close(float(got["latency"].iloc[0]), row["latency"]), row
    usage = result.resource_usage()
    for memory, fraction in expected["resource_usage"].items():
        assert close(usage.get(memory, 0.0), fraction), (memory, usage)
    memory_usage = result.memory_usage
    for row in expected["memory_usage"]:
        got = memory_usage[
            (memory_usage.einsum == row["einsum"])
            & (memory_usage.memory == row["memory"])
            & (memory_usage.tensor == row["tensor"])
        ]
        assert close(float(got["fraction"].sum()), row["fraction"]), row
    spatial = result.spatial_usage
    for row in expected["spatial_usage"]:
        got = spatial[
            (spatial.einsum == row["einsum"])
            & (spatial.component == row["component"])
            & (spatial.dimension == row["dim"])
        ]
        assert len(got) == 1 and close(float(got["fraction"].iloc[0]), row["fraction"]), row


def test_missing_einsums_are_an_error(tmp_path: Path) -> None:
    case = next(c for c in CASES if c and c["id"] == "E3_fused_2_matmuls")
    spec = load_case(case, tmp_path)
    spec.mapping.nodes[-1].nodes.pop()
    with pytest.raises(SpecError, match=r"no Compute for Einsum\(s\) \['Matmul1'\]"):
        evaluate_mapping(spec)
