"""``af.sweep`` and ``accelforge sweep``: a grid of settings mapped into one long DataFrame."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import accelforge as af
from accelforge import cli
from accelforge.errors import SpecError
from accelforge.mapper import map_workload_to_arch
from tests.mapper.specs import matmul_chain


def _spec() -> af.Spec:
    spec = matmul_chain(2, 32, 65536)
    spec.mapper.metrics = af.Metrics.ENERGY
    return spec


def test_each_point_equals_its_own_run_and_columns_come_in_order() -> None:
    grid = {"arch.GlobalBuffer.size": [2048, 65536], "mapper.max_fused_loops": [0, 1]}
    run = af.sweep(_spec(), grid, n_workers=1)
    events = list(run.events())
    data = run.result(timeout=120)
    assert [e.index for e in events] == [0, 1, 2, 3] and not run.failed()
    assert list(data.columns[:5]) == ["point", *grid, "status", "message"]
    for event in events:
        point = _spec()
        point.arch.find("GlobalBuffer").size = event.values["arch.GlobalBuffer.size"]
        point.mapper.max_fused_loops = event.values["mapper.max_fused_loops"]
        expected = map_workload_to_arch(point).data
        rows = data[data["point"] == event.index].reset_index(drop=True)
        pd.testing.assert_frame_equal(rows[expected.columns], expected)


def test_jinja_paths_render_the_files_again_keeping_the_mapper_settings() -> None:
    data = af.sweep(_spec(), {"jinja.M": [16, 32]}, n_workers=1).result(timeout=120)
    for m, energy in zip(data["jinja.M"], data["energy"], strict=True):
        expected = matmul_chain(2, 32, 65536)
        expected = af.Spec.from_yaml(
            af.examples.arches.simple,
            af.examples.workloads.matmuls,
            jinja_parse_data={"N_EINSUMS": 2, "M": m, "KN": 32, "GLB_SIZE": 65536,
                              "DRAM_ENERGY": 10, "GLB_THROUGHPUT": 1},
        )  # fmt: skip
        expected.mapper.metrics = af.Metrics.ENERGY
        assert energy == map_workload_to_arch(expected).data["energy"].iloc[0]
    assert len(data) == 2  # ENERGY kept: one optimum per point


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ({"arch.GlobalBufer.size": [1]}, "The arch has no node named 'GlobalBufer'"),
        ({"arch.GlobalBuffer.sise": [1]}, "Memory has no 'sise'. Its fields: "),
        ({"mapper.max_fused_lops": [1]}, "Mapper has no 'max_fused_lops'"),
        ({"hardware.x": [1]}, "it must start with one of arch, mapper, jinja"),
        ({"arch.GlobalBuffer.size": []}, "needs a non-empty list of values"),
        ({"arch.GlobalBuffer.size": [-8]}, "sweep path 'arch.GlobalBuffer.size' = -8: size"),
    ],
)
def test_a_bad_grid_is_refused_before_anything_runs(grid: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message.replace("(", r"\(")):
        af.sweep(_spec(), grid, n_workers=1)


def test_a_point_that_fails_is_reported_not_raised() -> None:
    run = af.sweep(_spec(), {"arch.GlobalBuffer.size": [65536, -8]}, n_workers=1)
    data = run.result(timeout=120)
    assert list(data["status"]) == ["OK", "ERROR"]
    assert data["message"].iloc[1].startswith("SpecError: ")
    assert [e.index for e in run.failed()] == [1]


def test_jinja_needs_a_spec_loaded_from_files() -> None:
    loaded = _spec()
    built = af.Spec(arch=loaded.arch, workload=loaded.workload, mapper=loaded.mapper)
    with pytest.raises(SpecError, match="was not loaded with Spec.from_yaml"):
        af.sweep(built, {"jinja.M": [16]}, n_workers=1)


def test_cancel_stops_the_sweep_with_the_points_done() -> None:
    run = af.sweep(_spec(), {"arch.GlobalBuffer.size": [2**k for k in range(10, 18)]}, n_workers=1)
    first = next(run.events())
    run.cancel()
    data = run.result(timeout=120)
    assert run.done and first.index == 0 and 1 <= data["point"].nunique() < 8


def test_the_command_line_writes_the_table_and_says_when_a_point_failed(tmp_path: Path) -> None:
    args = ["sweep", "simple", "matmuls", "-p", "N_EINSUMS=2", "-p", "M=16", "-p", "KN=16",
            "--workers", "1", "--out", str(tmp_path)]  # fmt: skip
    assert cli.main([*args, "--grid", "arch.GlobalBuffer.size=2048,65536"]) == 0
    data = pd.read_csv(tmp_path / "sweep.csv")
    assert list(data["arch.GlobalBuffer.size"]) == [2048, 65536]
    assert (tmp_path / "sweep.meta.json").is_file()
    assert cli.main([*args, "--grid", "arch.GlobalBuffer.size=65536,-8"]) == 1
