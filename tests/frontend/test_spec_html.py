"""``spec.arch`` and ``spec.workload`` in Jupyter: the hierarchy and the Einsum graph."""

from __future__ import annotations

import re

import accelforge as af
from tests.conftest import reference_path


def _rows(text: str) -> list[list[str]]:
    rows = re.findall(r"<tr>(.*?)</tr>", text)
    return [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row) for row in rows]


def _spec() -> af.Spec:
    specs = reference_path() / "specs"
    return af.Spec.from_yaml(
        specs / "arches" / "tpu_v4i.yaml",
        specs / "workloads" / "matmuls.yaml",
        jinja_parse_data={"N_EINSUMS": 2, "M": 8, "KN": 8},
    )


def test_the_arch_shows_its_nodes_top_down_indented_under_fanouts() -> None:
    rows = _rows(_spec().arch._repr_html_())
    assert rows[0] == ["node", "kind", "size (bits)", "fanout", "actions: energy, throughput"]
    names = [r[0].replace("&nbsp;", " ") for r in rows[1:]]
    assert [n.strip() for n in names] == [
        "MainMemory", "GlobalBuffer", "LocalBuffer", "ScalarUnit", "ProcessingElement",
        "Register", "MAC",
    ]  # fmt: skip
    local = rows[3]
    assert local[1] == "Memory" and local[3] == "Z: 4"
    depth = [(len(n) - len(n.lstrip())) // 2 for n in names]
    assert depth == [0, 0, 0, 1, 1, 2, 2]  # everything below a fanout is indented once more
    assert rows[5][1:4] == ["Container", "", "reuse_input: 128, reuse_output: 128"]
    assert rows[1][4].startswith("read: 7.03e-12")


def test_the_workload_shows_each_einsums_inputs_and_where_they_come_from() -> None:
    rows = _rows(_spec().workload._repr_html_())
    assert rows[1:] == [
        ["Matmul0", "T0[M: m, N0: n0], W0[N0: n0, N1: n1]", "T1[M: m, N1: n1]"],
        ["Matmul1", "T1[M: m, N1: n1] (from Matmul0), W1[N1: n1, N2: n2]", "T2[M: m, N2: n2]"],
    ]
