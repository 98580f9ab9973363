"""Spec-level behaviour: examples, Python construction, settings, warnings, the CLI summary."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import pytest

import accelforge as af
from accelforge.cli import main
from accelforge.errors import SpecError, SpecWarning
from accelforge.frontend.arch import Arch, Compute, Memory
from accelforge.frontend.workload import Workload


def test_examples_are_discoverable() -> None:
    assert af.examples.arches.names() == ["simple", "tpu_like"]
    assert af.examples.workloads.names() == ["matmuls", "transformer_block"]
    with pytest.raises(AttributeError, match="Did you mean 'simple'.*Available: simple, tpu_like"):
        _ = af.examples.arches.simpel


@pytest.mark.parametrize("n", [1, 2, 4])
def test_simple_matmul_chain(n: int) -> None:
    spec = af.Spec.from_yaml(
        af.examples.arches.simple,
        af.examples.workloads.matmuls,
        jinja_parse_data={"N_EINSUMS": n, "M": 64, "KN": 32},
    )
    workload = spec.evaluate_workload()
    assert list(workload.einsums) == [f"Matmul{i}" for i in range(n)]
    assert workload.einsums["Matmul0"].rank_variable_bounds == {"m": 64, "n0": 32, "n1": 32}
    assert workload.einsums["Matmul0"].n_computes == 64 * 32 * 32
    roles = {t: f.role for t, f in workload.tensors.items()}
    assert roles["T0"] == "input" and roles[f"T{n}"] == "output"
    assert [t for t, r in roles.items() if r == "intermediate"] == [f"T{i}" for i in range(1, n)]
    arch = spec.evaluate("Matmul0")
    assert [node.name for node in arch.nodes] == ["MainMemory", "GlobalBuffer", "MAC"]
    expected_keep = ["T0", "T1", "W0"] if n == 1 else ["T0", "W0"]
    assert sorted(arch.components["MainMemory"].tensors.keep) == expected_keep


def test_transformer_on_tpu_like() -> None:
    spec = af.Spec.from_yaml(af.examples.arches.tpu_like, af.examples.workloads.transformer_block)
    workload = spec.evaluate_workload()
    assert len(workload.einsums) == 10
    assert workload.einsums["S"].rank_variable_bounds == {
        "b": 1,
        "e": 64,
        "h": 8,
        "m": 256,
        "p": 256,
    }
    assert workload.tensors["WQ"].persistent and not workload.tensors["Q"].persistent
    assert workload.tensors["WU"].shape == {"G": 512, "C": 2048}
    q = spec.evaluate("Q")
    register = q.components["WeightRegister"]
    assert register.size == 8 and sorted(register.tensors.keep) == ["WQ"]
    assert register.cumulative_fanout == 256
    assert q.nodes[2].spatial[0].reuse.names == {"X"}
    assert q.components["GlobalBuffer"].size == 8 * 1024 * 1024 * 8
    assert q.components["DRAM"].actions["read"].throughput == 8 * 400e9
    copy = spec.evaluate("X")
    assert copy.components["WeightRegister"].size == 0


def test_python_construction_matches_yaml(tmp_path: Path) -> None:
    arch = Arch(
        nodes=[
            Memory(
                name="DRAM",
                size="inf",
                leak_power=0,
                area=0,
                actions=[
                    {"name": "read", "energy": 2, "throughput": "inf"},
                    {"name": "write", "energy": 2, "throughput": "inf"},
                ],
            ),
            Compute(
                name="MAC",
                leak_power=0,
                area=0,
                actions=[{"name": "compute", "energy": 1, "throughput": 1}],
            ),
        ]
    )
    workload = Workload(
        bits_per_value={"All": 8},
        rank_sizes={"M": 4, "K": 2, "N": 3},
        einsums=["Z[m, n] = A[m, k] * B[k, n]"],
    )
    spec = af.Spec(arch=arch, workload=workload)
    assert [a.name for a in spec.arch.nodes[0].actions] == ["read", "write"]
    assert spec.workload.einsums[0].tensor_names == ["A", "B", "Z"]
    evaluated = spec.evaluate()
    assert evaluated.components["DRAM"].actions["read"].energy == 2
    assert spec.evaluate_workload().einsums["Z"].n_computes == 24


def test_assignment_is_validated() -> None:
    memory = Memory(name="G", size=8)
    with pytest.raises(SpecError, match="Did you mean 'size'"):
        memory.sizee = 3
    with pytest.raises(SpecError, match="positive number of bits"):
        memory.size = -1
    assert memory.size == 8


def test_type_key_instead_of_tag(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "arch:\n  nodes:\n"
        "  - {type: Memory, name: M, size: inf, leak_power: 0, area: 0, actions: "
        "[{name: read, energy: 1, throughput: 1}, {name: write, energy: 1, throughput: 1}]}\n"
        "  - {type: Compute, name: C, leak_power: 0, area: 0, actions: "
        "[{name: compute, energy: 1, throughput: 1}]}\n"
        "workload: {bits_per_value: {All: 8}, rank_sizes: {M: 2}, einsums: ['Z[m] = A[m]']}\n"
    )
    spec = af.Spec.from_yaml(tmp_path / "a.yaml")
    assert [type(n).__name__ for n in spec.arch.nodes] == ["Memory", "Compute"]


def test_mapper_settings_from_yaml_and_expressions(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(
        "variables: {tol: 0.05}\n"
        "mapper: {metrics: ENERGY | LATENCY, ffm: {objective_tolerance: tol * 2, "
        "max_fused_loops: 1}}\n"
    )
    spec = af.Spec.from_yaml(
        af.examples.arches.simple,
        af.examples.workloads.matmuls,
        tmp_path / "m.yaml",
        jinja_parse_data={"N_EINSUMS": 1},
    )
    assert spec.mapper.metrics == af.Metrics.ENERGY | af.Metrics.LATENCY
    assert spec.mapper.ffm.max_fused_loops == 1
    assert spec.evaluated_mapper().ffm.objective_tolerance == pytest.approx(0.1)
    (tmp_path / "m.yaml").write_text("mapper: {ffm: {objective_tolerance: nope * 2}}\n")
    with pytest.raises(SpecError, match="objective_tolerance"):
        af.Spec.from_yaml(
            af.examples.arches.simple,
            af.examples.workloads.matmuls,
            tmp_path / "m.yaml",
            jinja_parse_data={"N_EINSUMS": 1},
        )


def test_persistent_set_includes_persistent_tensors() -> None:
    spec = af.Spec.from_yaml(af.examples.arches.tpu_like, af.examples.workloads.transformer_block)
    facts = spec.evaluate_workload().einsums["Z"]
    assert facts.symbols["Persistent"].names == {"WO"}


def test_top_level_named_renames_apply_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text(
        "renames:\n  einsums:\n  - name: Matmul0\n    tensor_accesses: {special: W0}\n"
        "  - name: Nope\n    tensor_accesses: {special: T0}\n"
    )
    with pytest.warns(SpecWarning) as record:
        spec = af.Spec.from_yaml(
            af.examples.arches.simple,
            af.examples.workloads.matmuls,
            tmp_path / "r.yaml",
            jinja_parse_data={"N_EINSUMS": 1},
        )
    messages = " ".join(str(r.message) for r in record)
    assert "AccelForge 1.0.467 ignores" in messages and "'Nope' names no Einsum" in messages
    assert spec.evaluate_workload().einsums["Matmul0"].renames["special"].names == {"W0"}
    with pytest.raises(SpecError, match="strict=True"):
        af.Spec.from_yaml(
            af.examples.arches.simple,
            af.examples.workloads.matmuls,
            tmp_path / "r.yaml",
            jinja_parse_data={"N_EINSUMS": 1},
            strict=True,
        )


def test_quoted_strings_stay_literal_in_variables(tmp_path: Path) -> None:
    (tmp_path / "v.yaml").write_text('variables: {a: "hello + 1", b: 2 + 3, c: b * 2}\n')
    spec = af.Spec.from_yaml(
        af.examples.arches.simple,
        af.examples.workloads.matmuls,
        tmp_path / "v.yaml",
        jinja_parse_data={"N_EINSUMS": 1},
    )
    assert spec.evaluate_workload().variables == {"a": "hello + 1", "b": 5, "c": 10}


def test_deprecated_latency_is_converted(tmp_path: Path) -> None:
    text = af.examples.arches.simple.read_text().replace(
        "{name: compute, energy: 1, throughput: 1}", "{name: compute, energy: 1, latency: 0.5}"
    )
    (tmp_path / "a.yaml").write_text(text)
    with pytest.warns(SpecWarning, match="latency is deprecated"):
        spec = af.Spec.from_yaml(
            tmp_path / "a.yaml", af.examples.workloads.matmuls, jinja_parse_data={"N_EINSUMS": 1}
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpecWarning)
        assert spec.evaluate().components["MAC"].actions["compute"].throughput == 2


def test_scales_are_applied_once(tmp_path: Path) -> None:
    text = af.examples.arches.simple.read_text().replace(
        "  - !Compute\n    name: MAC\n",
        "  - !Compute\n    name: MAC\n    energy_scale: 3\n    n_parallel_instances: 2\n",
    )
    (tmp_path / "a.yaml").write_text(text)
    spec = af.Spec.from_yaml(
        tmp_path / "a.yaml", af.examples.workloads.matmuls, jinja_parse_data={"N_EINSUMS": 1}
    )
    for _ in range(2):
        mac = spec.evaluate().components["MAC"]
        assert mac.actions["compute"].energy == 3
        assert mac.actions["compute"].throughput == 2


def test_cli_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "simple", "matmuls", "-p", "N_EINSUMS=2", "-p", "M=16"]) == 0
    out = capsys.readouterr().out
    assert "Matmul1: [m=16, n1=128, n2=128]" in out
    assert "T1: intermediate, 16x128" in out
    assert "Memory GlobalBuffer, size inf" in out


def test_cli_default_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary"]) == 0
    assert "Container PEArray, fanout rows=16 x cols=16" in capsys.readouterr().out
    assert main(["summary", "simple", "matmuls"]) == 2
    assert "Jinja variable 'N_EINSUMS' is undefined" in capsys.readouterr().err
    assert main(["summary", "simpel"]) == 2
    assert "Did you mean 'simple'" in capsys.readouterr().err


def test_cli_map_default_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pandas as pd

    assert main(["map", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("21 Pareto-optimal mapping(s):")
    front = pd.read_csv(tmp_path / "front.csv")  # plain CSV; settings in front.meta.json
    assert (tmp_path / "front.meta.json").is_file()
    assert len(front) == 21
    assert front["energy"].min() == 37355520 and front["latency"].min() == 1048576
    assert (
        pd.read_parquet(tmp_path / "front.parquet")["energy"].tolist() == front["energy"].tolist()
    )
    assert (
        "<svg" in (tmp_path / "pareto.html").read_text()
        or "plotly" in (tmp_path / "pareto.html").read_text()
    )


def test_cli_map_settings_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "map",
                "simple",
                "matmuls",
                "-p",
                "N_EINSUMS=1",
                "-p",
                "M=16",
                "-p",
                "KN=16",
                "--metrics",
                "energy",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.startswith("1 Pareto-optimal mapping(s):")
    assert (
        main(
            [
                "map",
                "simple",
                "matmuls",
                "-p",
                "N_EINSUMS=1",
                "--set",
                "ffm.objective_tolerence=0.1",
                "--out",
                str(tmp_path),
            ]
        )
        == 2
    )
    assert "Did you mean 'objective_tolerance'" in capsys.readouterr().err


def test_cli_map_checks_out_before_mapping_and_fails_a_run_that_is_not_ok(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    began = time.monotonic()
    with pytest.raises(SystemExit, match=r"cannot write to --out .*a-file/front"):
        main(["map", "--out", str(blocker / "front")])
    assert time.monotonic() - began < 5  # refused before the mapper ran
    small = ["map", "simple", "matmuls", "-p", "N_EINSUMS=2", "-p", "M=64", "-p", "KN=64"]
    code = main([*small, "--set", "ffm.time_limit=0.001", "--out", str(tmp_path / "out")])
    assert code == 1
    assert "accelforge: " in capsys.readouterr().err
