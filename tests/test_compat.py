"""AccelForge's Spec methods (accelforge/compat.py): spec.map_workload_to_arch, evaluate_mapping."""

from __future__ import annotations

import importlib

import pytest

import accelforge as af
from accelforge.mapper import map_workload_to_arch


@pytest.fixture(autouse=True)
def _restore_default_workers(monkeypatch) -> None:
    monkeypatch.setattr(importlib.import_module("accelforge.util.parallel"), "_n_jobs", None)


def _spec() -> af.Spec:
    spec = af.Spec.from_yaml(
        af.examples.arches.simple,
        af.examples.workloads.matmuls,
        jinja_parse_data={"N_EINSUMS": 2, "M": 16, "KN": 16},
    )
    spec.mapper.metrics = af.Metrics.ENERGY | af.Metrics.LATENCY
    return spec


def test_spec_map_workload_to_arch_is_the_mappers_front(capsys) -> None:
    af.set_n_parallel_jobs(1)
    ours = _spec().map_workload_to_arch(print_progress=False, print_number_of_pmappings=True)
    direct = map_workload_to_arch(_spec(), n_workers=1)
    assert ours.data[["energy", "latency"]].equals(direct.data[["energy", "latency"]])
    printed = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in printed] == ["Matmul0", "Matmul1"]
    assert all(int(line.split(": ")[1].split()[0]) >= 1 for line in printed)


def test_einsum_names_maps_only_those_einsums() -> None:
    af.set_n_parallel_jobs(1)
    one = _spec().map_workload_to_arch(einsum_names=["Matmul1"], print_progress=False)
    assert "Matmul1 energy" in one.data and "Matmul0 energy" not in one.data
    with pytest.raises(
        af.SpecError, match="'Matmul7' is not in the workload. Its Einsums: Matmul0"
    ):
        _spec().map_workload_to_arch(einsum_names=["Matmul7"])


def test_spec_evaluate_mapping_evaluates_its_mapping() -> None:
    spec = _spec()
    af.set_n_parallel_jobs(1)
    best = spec.map_workload_to_arch(print_progress=False)[0]
    spec.mapping = best.mapping
    assert spec.evaluate_mapping().energy() == pytest.approx(best.result.energy(), rel=1e-12)


def test_arch_find_and_index_by_name_and_top_level_classes() -> None:
    arch = _spec().arch
    assert arch.find("GlobalBuffer") is arch["GlobalBuffer"] is arch.components["GlobalBuffer"]
    assert isinstance(arch["GlobalBuffer"], af.arch.Memory)
    assert isinstance(arch["MAC"], af.arch.Compute)
    with pytest.raises(af.SpecError, match="no node named 'GLB'. Its nodes: MainMemory, Global"):
        arch.find("GLB")
    assert {af.Mapping.__name__, af.Renames.__name__, af.Config.__name__} == {
        "Mapping",
        "Renames",
        "Config",
    }
