"""``Mappings``: indexing, objects, exports that round-trip (inf included) with metadata."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import accelforge as af
from accelforge import export
from accelforge.mapper import map_workload_to_arch
from accelforge.results import Mappings
from tests.mapper.specs import matmul_chain


@pytest.fixture(scope="module")
def front() -> Mappings:
    spec = matmul_chain(2, 16, 4096)
    spec.mapper.metrics = af.Metrics.ENERGY | af.Metrics.LATENCY
    return map_workload_to_arch(spec)


def test_front_rows_and_objects(front: Mappings) -> None:
    data = front.data
    assert len(data) == len(front) > 1
    assert all(pd.api.types.is_numeric_dtype(t) for t in data.dtypes)
    energies = data["energy"].to_numpy()
    latencies = data["latency"].to_numpy()
    for i in range(len(data)):  # no row dominates another
        others = np.delete(np.arange(len(data)), i)
        assert not np.any(
            (energies[others] <= energies[i])
            & (latencies[others] <= latencies[i])
            & ((energies[others] < energies[i]) | (latencies[others] < latencies[i]))
        )
    first = front[0]
    assert first.result.energy() == data["energy"][0]
    assert "compute Matmul0 on MAC" in first.render()
    assert first.to_yaml().startswith("mapping:")
    assert [m.result.latency() for m in front] == front.latency()


@pytest.mark.parametrize("kind", ["csv", "json", "parquet", "excel"])
def test_exports_round_trip(front: Mappings, tmp_path: Path, kind: str) -> None:
    if kind == "excel":
        pytest.importorskip("openpyxl", reason="Excel export needs openpyxl")
    data = front.data.copy()
    data.loc[0, "usage MainMemory"] = np.inf  # an infinite value must survive
    path = tmp_path / f"front.{'xlsx' if kind == 'excel' else kind}"
    getattr(export, f"write_{kind}")(data, path, front.metadata())
    back, metadata = getattr(export, f"read_{kind}")(path)
    pd.testing.assert_frame_equal(back, data, check_dtype=False)
    assert metadata["objectives"] == ["energy", "latency"]
    assert set(metadata["mapper"]["metrics"]) == {"LATENCY", "ENERGY"}


def test_mappings_methods_write_the_same(front: Mappings, tmp_path: Path) -> None:
    front.to_csv(tmp_path / "a.csv")
    front.to_json(tmp_path / "a.json")
    front.to_parquet(tmp_path / "a.parquet")
    for kind in ("csv", "json", "parquet"):
        back, _ = getattr(export, f"read_{kind}")(tmp_path / f"a.{kind}")
        pd.testing.assert_frame_equal(back, front.data, check_dtype=False)


def test_json_keeps_text_columns(tmp_path: Path) -> None:
    data = pd.DataFrame({"template": ["Matmul0/MAC/1", "Matmul0/MAC/2"], "energy": [1.0, np.inf]})
    export.write_json(data, tmp_path / "p.json", {"a": 1})
    back, metadata = export.read_json(tmp_path / "p.json")
    pd.testing.assert_frame_equal(back, data)
    assert metadata == {"a": 1}
