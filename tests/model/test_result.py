"""The model's result object: totals, switches, tidy breakdown, one-row data, metrics columns."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import accelforge as af
from accelforge.model import evaluate_mapping
from tests.model.test_rules import FUSED


@pytest.fixture
def fused(tmp_path: Path) -> af.Spec:
    (tmp_path / "m.yaml").write_text(FUSED)
    return af.Spec.from_yaml(
        af.examples.arches.simple,
        af.examples.workloads.matmuls,
        tmp_path / "m.yaml",
        jinja_parse_data={"N_EINSUMS": 2, "M": 64, "KN": 32, "DRAM_ENERGY": 30, "GLB_SIZE": 100000},
    )


def test_totals_and_switches(fused: af.Spec) -> None:
    result = evaluate_mapping(fused)
    # docs/MODEL.md E3: 5816320 in all, 2908160 per Einsum; 65536 MACs each at throughput 1.
    assert result.energy() == 5816320
    assert result.energy(per_einsum=True).to_dict() == {"Matmul0": 2908160, "Matmul1": 2908160}
    per_component = result.energy(per_component=True)
    assert per_component["MainMemory"] == 30 * 49152
    assert per_component["MAC"] == 131072
    assert result.latency() == 131072
    assert result.latency(per_einsum=True).to_dict() == {"Matmul0": 65536, "Matmul1": 65536}
    assert result.latency(per_component=True)["MAC"] == 131072
    assert result.actions(per_component=True, per_action=True)[("MAC", "compute")] == 131072
    assert result.actions(per_tensor=True)["T1"] == 507904 + 524288 + 524288
    assert result.energy_delay_product() == 5816320 * 131072
    assert result.resource_usage() == {"MainMemory": 0.0, "GlobalBuffer": 0.16896}
    assert result.leak_energy() == 0 and result.dynamic_energy() == result.energy()


def test_breakdown_is_tidy(fused: af.Spec) -> None:
    table = evaluate_mapping(fused).breakdown
    assert list(table.columns) == ["einsum", "component", "tensor", "action", "count", "energy"]
    pivot = table[table.action != "leak"].pivot_table(
        index="component", columns="action", values="count", aggfunc="sum"
    )
    assert pivot.loc["GlobalBuffer", "read"] == 524288 * 5 + 507904
    assert pivot.loc["MAC", "compute"] == 131072
    assert set(table[table.action == "leak"].component) == {"MainMemory", "GlobalBuffer", "MAC"}


def test_data_row_is_numeric_with_readable_columns(fused: af.Spec) -> None:
    fused.model.metrics = af.Metrics.ENERGY | af.Metrics.ACTIONS | af.Metrics.DETAILED_MEMORY_USAGE
    data = evaluate_mapping(fused).data
    assert len(data) == 1
    assert all(pd.api.types.is_numeric_dtype(t) for t in data.dtypes)
    assert not [c for c in data.columns if "<SEP>" in c]
    row = data.iloc[0]
    assert row["energy"] == 5816320 and row["Matmul1 latency"] == 65536
    assert row["usage GlobalBuffer"] == pytest.approx(0.16896)
    assert row["actions Matmul0 GlobalBuffer T1 read"] == 507904
    assert row["actions Matmul0 MAC compute"] == 65536
    assert row["usage Matmul0 GlobalBuffer W0"] == pytest.approx(0.08192)
    fused.model.metrics = af.Metrics.ENERGY
    assert "actions Matmul0 MAC compute" not in evaluate_mapping(fused).data.columns


def test_unknown_switch_is_refused(fused: af.Spec) -> None:
    with pytest.raises(TypeError, match="per_einsum"):
        evaluate_mapping(fused).dynamic_energy(per_einsums=True)
