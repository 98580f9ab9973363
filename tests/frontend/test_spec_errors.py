"""Malformed specs: each row asserts what the error tells the user (docs/SPEC_FORMAT.md §8).

Every row builds a small spec from a valid base (two memories and a MAC, one matmul), breaks one
thing, and checks the message names the problem, the field path, the file and the line.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import accelforge as af
from accelforge.errors import SpecError, SpecWarning

ARCH = """\
arch:
  nodes:
  - !Memory
    name: MainMemory
    size: inf
    leak_power: 0
    area: 0
    tensors: {keep: ~Intermediates, may_keep: All}
    actions:
    - {name: read, energy: 1, throughput: inf}
    - {name: write, energy: 1, throughput: inf}
  - !Memory
    name: GlobalBuffer
    size: 1024
    leak_power: 0
    area: 0
    tensors: {keep: ~MainMemory, may_keep: All}
    actions:
    - {name: read, energy: 1, throughput: inf}
    - {name: write, energy: 1, throughput: inf}
  - !Container
    name: Array
    spatial: [{name: X, fanout: 4}]
  - !Compute
    name: MAC
    leak_power: 0
    area: 0
    actions:
    - {name: compute, energy: 1, throughput: 1}
"""

WORKLOAD = """\
workload:
  bits_per_value: {All: 8}
  rank_sizes: {M: 4, K: 4, N: 4}
  einsums:
  - Z[m, n] = A[m, k] * B[k, n]
"""

MAPPING = """\
mapping:
  nodes:
  - !Storage {tensors: [A, B, Z], component: MainMemory}
  - !Temporal {rank_variable: m, tile_shape: 1}
  - !Compute {einsum: Z, component: MAC}
"""


@dataclass
class Case:
    """One malformed spec: replacements applied to the base files and what the error says."""

    arch: list[tuple[str, str]] = field(default_factory=list)
    workload: list[tuple[str, str]] = field(default_factory=list)
    extra: str | None = None
    fragments: tuple[str, ...] = ()
    file: str | None = None
    line: int | None = None
    strict: bool = False
    jinja: dict | None = None


def _edit(text: str, edits: list[tuple[str, str]]) -> str:
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


CASES = {
    "misspelled field": Case(
        arch=[("    size: 1024", "    sizee: 1024")],
        fragments=(
            "field 'sizee' is not allowed on Memory",
            "Did you mean 'size'?",
            "Allowed fields:",
            "arch.nodes[1].sizee",
        ),
        file="arch.yaml",
        line=14,
    ),
    "memory without size": Case(
        arch=[("    size: 1024\n", "")],
        fragments=("'size' is required on Memory 'GlobalBuffer'", "in bits", "'inf' allowed"),
        file="arch.yaml",
    ),
    "node without a tag": Case(
        arch=[("  - !Container\n", "  -\n")],
        fragments=("has no class tag", "!Memory", "type: Memory", "arch.nodes[2]"),
        file="arch.yaml",
        line=22,
    ),
    "wrong tag in arch": Case(
        arch=[("  - !Container", "  - !Storage")],
        fragments=("tag !Storage is not allowed in arch.nodes", "!Compute, !Container, !Memory"),
        file="arch.yaml",
        line=21,
    ),
    "lowercase tag": Case(
        arch=[("  - !Compute", "  - !compute")],
        fragments=("case-sensitive", "did you mean !Compute?"),
    ),
    "type key and tag disagree": Case(
        arch=[("    name: Array\n", "    name: Array\n    type: Memory\n")],
        fragments=("the tag !Container and 'type: Memory' disagree",),
    ),
    "duplicate component name": Case(
        arch=[("    name: GlobalBuffer", "    name: MainMemory")],
        fragments=("duplicate component name 'MainMemory'", "also at arch.nodes[0]"),
        file="arch.yaml",
        line=13,
    ),
    "non-integer fanout": Case(
        arch=[("fanout: 4", "fanout: 2.5")],
        fragments=("fanout must be an integer; got 2.5", "arch.nodes[2].spatial[0].fanout"),
    ),
    "zero fanout": Case(
        arch=[("fanout: 4", "fanout: 0")],
        fragments=("fanout must be a positive integer; got 0",),
    ),
    "zero size": Case(
        arch=[("    size: 1024", "    size: 0")],
        fragments=("size must be a positive number of bits", "arch.nodes[1].size"),
        file="arch.yaml",
        line=14,
    ),
    "negative evaluated size": Case(
        arch=[("    size: 1024", "    size: 8 - 16")],
        fragments=("arch.nodes.GlobalBuffer.size", "must be >= 0 bits; got -8"),
        file="arch.yaml",
        line=14,
    ),
    "undefined name in an expression": Case(
        arch=[("energy: 1, throughput: 1}", "energy: foo + 1, throughput: 1}")],
        fragments=(
            "name 'foo' is not defined in arch.nodes.MAC.actions.compute.energy",
            "(Einsum Z)",
            "foo + 1",
        ),
        file="arch.yaml",
        line=29,
    ),
    "circular variables": Case(
        extra="variables: {a: b + 1, b: a + 1}\n",
        fragments=("circular dependency", "a → b → a"),
        file="extra.yaml",
    ),
    "lowercase rank name": Case(
        workload=[("{M: 4,", "{m: 4,")],
        fragments=("rank names start with an uppercase letter", "'m'"),
        file="workload.yaml",
        line=3,
    ),
    "inconsistent tensor ranks": Case(
        workload=[
            (
                "  - Z[m, n] = A[m, k] * B[k, n]\n",
                "  - Z[m, n] = A[m, k] * B[k, n]\n  - Y[m, k] = Z[m, k]\n",
            )
        ],
        fragments=(
            "tensor Z has inconsistent ranks",
            "['M', 'N'] in Einsum Z",
            "['M', 'K'] in Einsum Y",
        ),
    ),
    "two equals signs": Case(
        workload=[("Z[m, n] = A[m, k] * B[k, n]", "Z[m,n] = A[m,k] = B[k,n]")],
        fragments=("exactly one '='; found 2", "Z[m,n] = A[m,k] = B[k,n]"),
        file="workload.yaml",
        line=5,
    ),
    "missing bits per value": Case(
        workload=[("{All: 8}", "{A: 8}")],
        fragments=("tensor B of Einsum Z has no bits per value", "workload.bits_per_value"),
        file="workload.yaml",
    ),
    "overlapping bits per value keys": Case(
        workload=[("{All: 8}", "{All: 8, Inputs: 4}")],
        fragments=("keys 'All' and 'Inputs' overlap on {A, B}", "disjoint"),
        file="workload.yaml",
        line=2,
    ),
    "rename with the wrong count": Case(
        workload=[
            (
                "  - Z[m, n] = A[m, k] * B[k, n]\n",
                "  - einsum: Z[m, n] = A[m, k] * B[k, n]\n"
                "    renames: [{name: weight, source: Inputs, expected_count: 1}]\n",
            )
        ],
        fragments=("rename 'weight' expected 1 tensor(s), got 2: {A, B}", "in Einsum Z"),
        file="workload.yaml",
    ),
    "undefined jinja variable": Case(
        arch=[("    size: 1024", "    size: {{MSIZE}}")],
        fragments=("Jinja variable 'MSIZE' is undefined", "jinja_parse_data", "default"),
        file="arch.yaml",
        line=14,
    ),
    "unknown tensor in a keep expression": Case(
        arch=[("{keep: ~Intermediates,", "{keep: Foo,")],
        fragments=(
            "name 'Foo' is not defined in arch.nodes.MainMemory.tensors.keep",
            "(Einsum Z)",
            "Available sets",
            "Intermediates",
            "GlobalBuffer",
        ),
        file="arch.yaml",
        line=8,
    ),
    "unknown memory in a keep expression": Case(
        arch=[("{keep: ~MainMemory,", "{keep: ~MainMemry,")],
        fragments=("name 'MainMemry' is not defined", "MainMemory"),
    ),
    "rank variable where tensors are expected": Case(
        arch=[("{keep: ~Intermediates,", "{keep: m,")],
        fragments=("'m' is a set of rank variables", "this field expects tensors"),
    ),
    "unbounded rank variable": Case(
        workload=[("K: 4, ", "")],
        fragments=(
            "rank variable k of Einsum Z is unbounded",
            "rank size",
            "iteration_space_shape",
        ),
        file="workload.yaml",
        line=5,
    ),
    "projection onto an unknown rank variable": Case(
        workload=[("- Z[m, n] = A[m, k] * B[k, n]", '- "Z[m, n] = A[m, Q: q] * B[k, n]"')],
        fragments=("rank variable q of Einsum Z is unbounded",),
    ),
    "unknown top-level key": Case(
        extra="foo: 1\n",
        fragments=("'foo' is not a spec key", "arch, workload, renames, variables"),
        file="extra.yaml",
        line=1,
    ),
    "duplicate einsum names": Case(
        workload=[
            (
                "  - Z[m, n] = A[m, k] * B[k, n]\n",
                "  - Z[m, n] = A[m, k] * B[k, n]\n  - Z[m, n] = A[m, n]\n",
            )
        ],
        fragments=("duplicate Einsum name 'Z'",),
        file="workload.yaml",
        line=6,
    ),
    "cyclic workload": Case(
        workload=[
            ("  - Z[m, n] = A[m, k] * B[k, n]\n", "  - Y[m, n] = Z[m, n]\n  - Z[m, n] = Y[m, n]\n")
        ],
        fragments=("the workload has a cycle: Y → Z → Y",),
        file="workload.yaml",
    ),
    "consumer before producer": Case(
        workload=[
            ("  - Z[m, n] = A[m, k] * B[k, n]\n", "  - Y[m, n] = Z[m, n]\n  - Z[m, n] = A[m, n]\n")
        ],
        fragments=("Einsum Y reads Z, produced by Einsum Z which comes later", "reorder"),
        file="workload.yaml",
        line=5,
    ),
    "no compute node": Case(
        arch=[(ARCH[ARCH.index("  - !Compute") :], "")],
        fragments=("the architecture has no !Compute node",),
        file="arch.yaml",
    ),
    "compute action without a cost source": Case(
        arch=[("    - {name: compute, energy: 1, throughput: 1}", "    - {name: compute}")],
        fragments=(
            "component MAC has no cost source for compute.energy, compute.throughput",
            "component_class",
            "energy and throughput explicitly",
        ),
        file="arch.yaml",
    ),
    "mapping names a missing component": Case(
        extra=MAPPING.replace("component: MAC", "component: PE"),
        fragments=("the mapping names component 'PE'", "Allowed: MainMemory"),
        file="extra.yaml",
        line=5,
    ),
    "mapping names a missing einsum": Case(
        extra=MAPPING.replace("einsum: Z", "einsum: Zz"),
        fragments=("the mapping names Einsum 'Zz'", "Did you mean 'Z'?"),
        file="extra.yaml",
        line=5,
    ),
    "mapping loops over an unknown rank variable": Case(
        extra=MAPPING.replace("rank_variable: m", "rank_variable: q"),
        fragments=("the mapping loops over 'q'",),
        file="extra.yaml",
        line=4,
    ),
    "bare compute branch in a sequential": Case(
        extra="mapping:\n  nodes:\n  - !Sequential\n    nodes:\n"
        "    - !Compute {einsum: Z, component: MAC}\n",
        fragments=("bare !Compute; wrap it in !Nested",),
        file="extra.yaml",
        line=5,
    ),
    "mapper setting given twice": Case(
        extra="mapper: {ffm: {max_fused_loops: 1}, max_fused_loops: 2}\n",
        fragments=("max_fused_loops",),
        file="extra.yaml",
    ),
    "unknown metric name": Case(
        extra="mapper: {metrics: [ENERGY, LATENSY]}\n",
        fragments=("LATENSY", "LATENCY"),
        file="extra.yaml",
    ),
    "string iteration_space_shape on an einsum": Case(
        workload=[
            (
                "  - Z[m, n] = A[m, k] * B[k, n]\n",
                "  - einsum: Z[m, n] = A[m, k] * B[k, n]\n    iteration_space_shape: 0 <= m < 4\n",
            )
        ],
        fragments=("iteration_space_shape is a list", "use a list"),
    ),
    "custom functions without opt-in": Case(
        extra="config: {expression_custom_functions: [funcs.py]}\n",
        fragments=("would run their code", "allow_custom_functions=True"),
    ),
    "duplicate top-level key with strict": Case(
        extra="workload:\n  einsums: []\n",
        fragments=("workload",),
        strict=True,
    ),
}


def _write(tmp_path: Path, case: Case) -> list[Path]:
    files = [tmp_path / "arch.yaml", tmp_path / "workload.yaml"]
    files[0].write_text(_edit(ARCH, case.arch))
    files[1].write_text(_edit(WORKLOAD, case.workload))
    if case.extra is not None:
        files.append(tmp_path / "extra.yaml")
        files[2].write_text(case.extra)
    return files


def test_base_spec_is_valid(tmp_path: Path) -> None:
    spec = af.Spec.from_yaml(*_write(tmp_path, Case(extra=MAPPING)))
    assert spec.workload.einsum_names == ["Z"]
    assert [n.name for n in spec.arch.nodes] == ["MainMemory", "GlobalBuffer", "Array", "MAC"]


@pytest.mark.parametrize("name", list(CASES))
def test_malformed_spec_is_explained(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    files = _write(tmp_path, case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpecWarning)
        with pytest.raises(SpecError) as info:
            af.Spec.from_yaml(*files, strict=case.strict, jinja_parse_data=case.jinja)
    message = str(info.value)
    for fragment in case.fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    if case.file is not None:
        assert info.value.file is not None and info.value.file.endswith(case.file), message
    if case.line is not None:
        assert info.value.line == case.line, message


def test_there_are_at_least_25_rows() -> None:
    assert len(CASES) >= 25


def test_duplicate_top_level_key_warns_and_first_wins(tmp_path: Path) -> None:
    files = _write(tmp_path, Case(extra="workload:\n  einsums: []\n"))
    with pytest.warns(SpecWarning, match="workload"):
        spec = af.Spec.from_yaml(*files)
    assert spec.workload.einsum_names == ["Z"]


def test_a_jinja_variable_no_file_reads_warns_naming_those_they_read() -> None:
    # simple.yaml calls its main-memory energy DRAM_ENERGY: MainMemoryEnergy would be ignored.
    data = {"N_EINSUMS": 1, "M": 8, "KN": 8, "MainMemoryEnergy": 3}
    with pytest.warns(SpecWarning) as caught:
        af.Spec.from_yaml(
            af.examples.arches.simple, af.examples.workloads.matmuls, jinja_parse_data=data
        )
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1
    assert messages[0].startswith("Jinja variable(s) MainMemoryEnergy are not used by ")
    assert messages[0].endswith(
        "the files use: DRAM_ENERGY, GLB_ENERGY, GLB_SIZE, GLB_THROUGHPUT, KN, M, N_EINSUMS."
    )
    with pytest.raises(SpecError, match=r"^Jinja variable\(s\) MainMemoryEnergy are not used"):
        af.Spec.from_yaml(
            af.examples.arches.simple,
            af.examples.workloads.matmuls,
            jinja_parse_data=data,
            strict=True,
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every variable read: no warning
        af.Spec.from_yaml(
            af.examples.arches.simple,
            af.examples.workloads.matmuls,
            jinja_parse_data={"N_EINSUMS": 1, "M": 8, "KN": 8, "DRAM_ENERGY": 3},
        )


@pytest.mark.parametrize("size", [0, -5])
def test_an_empty_iteration_range_is_refused(size: int) -> None:
    with pytest.raises(SpecError) as caught:  # refused at load, before any mapping
        af.Spec.from_yaml(
            af.examples.arches.simple,
            af.examples.workloads.matmuls,
            jinja_parse_data={"N_EINSUMS": 1, "M": size, "KN": 8},
        )
    assert str(caught.value) == (
        f"workload.iteration_space_shape.m ({af.examples.workloads.matmuls}:11): rank variable m "
        f"of Einsum Matmul0 has no value: its range (0 <= m < {size}) is empty; every rank "
        "variable needs at least one value (sizes of at least 1)."
    )


def test_a_size_given_as_text_names_the_unknown_name_and_the_rank_variables() -> None:
    with pytest.raises(SpecError) as caught:
        af.Spec.from_yaml(
            af.examples.arches.simple,
            af.examples.workloads.matmuls,
            jinja_parse_data={"N_EINSUMS": 1, "M": "abc", "KN": 8},
        )
    assert str(caught.value).startswith(
        f"workload.iteration_space_shape.m ({af.examples.workloads.matmuls}:11): '0 <= m < abc' "
        "names 'abc', which is neither a rank variable of this Einsum (m, n0, n1) nor a number"
    )
    # IPython and Jupyter show the message alone, without a traceback
    assert caught.value._render_traceback_() == [f"SpecError: {caught.value}"]


@pytest.mark.parametrize("size", [0, -3])
def test_a_rank_size_below_one_is_refused(tmp_path: Path, size: int) -> None:
    workload = tmp_path / "workload.yaml"
    workload.write_text(
        "workload:\n"
        "  bits_per_value: {All: 8}\n"
        f"  rank_sizes: {{M: {size}, N0: 2, N1: 4}}\n"
        "  einsums:\n"
        '  - "T1[m, n1] = T0[m, n0] * W0[n0, n1]"\n'
    )
    with pytest.raises(SpecError) as caught:
        af.Spec.from_yaml(af.examples.arches.simple, workload)
    assert str(caught.value) == (
        f"workload.rank_sizes.M ({workload}:3): must be an integer of at least 1. Got {size}."
    )
