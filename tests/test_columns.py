"""The column convention (``accelforge.columns``): builders and the parser agree, every column a
real run makes parses, and no other module splits column names."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import accelforge as af
from accelforge import columns as col
from accelforge.mapper import make_pmappings, map_workload_to_arch
from tests.mapper.specs import matmul_chain

EINSUMS = ("Matmul0", "Matmul1")
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (col.ENERGY, col.Column(col.ENERGY, "total", what=col.ENERGY)),
        (col.DYNAMIC_ENERGY, col.Column(col.DYNAMIC_ENERGY, "total", what=col.DYNAMIC_ENERGY)),
        (col.LEAK_ENERGY, col.Column(col.LEAK_ENERGY, "total", what=col.LEAK_ENERGY)),
        (col.LATENCY, col.Column(col.LATENCY, "total", what=col.LATENCY)),
        (
            col.ENERGY_DELAY_PRODUCT,
            col.Column(col.ENERGY_DELAY_PRODUCT, "total", what=col.ENERGY_DELAY_PRODUCT),
        ),
        (
            col.LEAK_ENERGY_OBJECTIVE,
            col.Column("leak_energy", "objective", what="leak_energy"),
        ),
        (
            col.DYNAMIC_ENERGY_OBJECTIVE,
            col.Column("dynamic_energy", "objective", what="dynamic_energy"),
        ),
        (col.FUSED_LOOPS, col.Column("fused loops", "info", what="fused loops")),
        (col.TEMPLATE, col.Column("template", "info", what="template")),
        (
            col.einsum_column("Matmul1", col.ENERGY),
            col.Column("Matmul1 energy", "einsum", what="energy", einsum="Matmul1"),
        ),
        (
            col.einsum_column("Matmul0", col.LATENCY),
            col.Column("Matmul0 latency", "einsum", what="latency", einsum="Matmul0"),
        ),
        (
            col.usage_column("GlobalBuffer"),
            col.Column("usage GlobalBuffer", "usage", component="GlobalBuffer"),
        ),
        (
            col.usage_column(col.fanout_name("PE", "X")),
            col.Column("usage PE.X", "usage", component="PE.X"),
        ),
        (
            col.detailed_usage_column("Matmul0", "GlobalBuffer", "T0"),
            col.Column(
                "usage Matmul0 GlobalBuffer T0",
                "detailed_usage",
                einsum="Matmul0",
                component="GlobalBuffer",
                tensor="T0",
            ),
        ),
        (
            col.actions_column("Matmul0", "MainMemory", "W0", "read"),
            col.Column(
                "actions Matmul0 MainMemory W0 read",
                "actions",
                einsum="Matmul0",
                component="MainMemory",
                tensor="W0",
                action="read",
            ),
        ),
        (
            col.actions_column("Matmul1", "MAC", None, "compute"),
            col.Column(
                "actions Matmul1 MAC compute",
                "actions",
                einsum="Matmul1",
                component="MAC",
                action="compute",
            ),
        ),
        (
            col.reservation_column("GlobalBuffer", "T1", 2),
            col.Column(
                "reservation GlobalBuffer T1 (depth 2)",
                "reservation",
                component="GlobalBuffer",
                tensor="T1",
                depth=2,
            ),
        ),
        (
            col.reservation_column("MainMemory", "W0", -1),
            col.Column(
                "reservation MainMemory W0 (depth -1)",
                "reservation",
                component="MainMemory",
                tensor="W0",
                depth=-1,
            ),
        ),
        (
            col.tile_column(3, "n0"),
            col.Column("tile 3 n0", "tile", index=3, rank_variable="n0"),
        ),
        (
            col.tile_column(12, "m", spatial=True),
            col.Column("tile 12 spatial m", "tile", index=12, rank_variable="m", spatial=True),
        ),
        ("something else", col.Column("something else", "other")),
    ],
)
def test_build_then_parse(name: str, expected: col.Column) -> None:
    assert name == expected.name
    assert col.parse_column(name, EINSUMS) == expected


def test_actions_tensor_is_optional() -> None:
    assert col.actions_column("Matmul0", "MAC", "", "compute") == "actions Matmul0 MAC compute"
    assert col.parse_column("actions Matmul0 MAC compute", EINSUMS).tensor is None


def test_tile_of_a_rank_variable_named_spatial() -> None:
    column = col.parse_column(col.tile_column(0, "spatial"), ())
    assert (column.family, column.rank_variable, column.spatial) == ("tile", "spatial", False)


def test_einsum_column_rejects_other_quantities() -> None:
    with pytest.raises(ValueError, match="per-Einsum"):
        col.einsum_column("Matmul0", "usage")


def test_usage_of_a_memory_versus_detailed_usage() -> None:
    total = col.usage_column("GlobalBuffer")
    detailed = col.detailed_usage_column("Matmul0", "GlobalBuffer", "T0")
    assert col.parse_column(total, EINSUMS).family == "usage"
    assert col.parse_column(detailed, EINSUMS).family == "detailed_usage"
    assert col.is_total_usage(total, EINSUMS)
    assert not col.is_total_usage(detailed, EINSUMS)
    assert col.is_usage(total, EINSUMS) and col.is_usage(detailed, EINSUMS)
    # ``usage <einsum>`` is not the usage of a memory; without the Einsums it would be.
    assert col.parse_column("usage Matmul0", EINSUMS).family == "other"
    assert col.parse_column("usage Matmul0", ()).family == "usage"
    # ``<x> energy`` is per-Einsum only for a known Einsum.
    assert col.parse_column("Matmul0 energy", ()).family == "other"
    assert col.parse_column("Matmul9 energy", EINSUMS).family == "other"


def test_row_helpers() -> None:
    row = pd.Series(
        {
            col.ENERGY: 3.0,
            col.einsum_column("Matmul0", col.ENERGY): 1.0,
            col.einsum_column("Matmul1", col.ENERGY): 2.0,
            col.einsum_column("Matmul0", col.LATENCY): 5.0,
            col.usage_column("GlobalBuffer"): 0.5,
            col.usage_column("PE.X"): 1.0,
            col.detailed_usage_column("Matmul0", "GlobalBuffer", "T0"): 0.25,
            col.actions_column("Matmul0", "MAC", None, "compute"): 7.0,
        }
    )
    assert col.per_einsum_values(row, EINSUMS, col.ENERGY) == {"Matmul0": 1.0, "Matmul1": 2.0}
    assert col.per_einsum_values(row, EINSUMS, col.LATENCY) == {"Matmul0": 5.0}
    assert col.total_usage_values(row, EINSUMS) == {"GlobalBuffer": 0.5, "PE.X": 1.0}
    axes = [c for c in row.index if col.is_front_axis(c, EINSUMS)]
    assert axes == [col.ENERGY, "usage GlobalBuffer", "usage PE.X"]


def test_every_column_of_a_run_parses() -> None:
    """The README's example, with every optional metric: nothing falls outside the convention."""
    spec = matmul_chain(4, 64, 65536)
    metrics = af.Metrics.ENERGY | af.Metrics.LATENCY
    spec.mapper.metrics = metrics | af.Metrics.ACTIONS | af.Metrics.DETAILED_MEMORY_USAGE
    einsums = list(spec.workload.einsum_names)
    mappings = map_workload_to_arch(spec)
    parsed = [col.parse_column(c, einsums) for c in mappings.data.columns]
    families = {c.family for c in parsed}
    assert "other" not in families, [c.name for c in parsed if c.family == "other"]
    assert families == {"total", "einsum", "usage", "detailed_usage", "actions"}
    assert any(c.family == "actions" and c.tensor is None for c in parsed)
    assert {c.einsum for c in parsed if c.family == "einsum"} == set(einsums)
    assert all(col.parse_column(c.name, einsums) == c for c in parsed)

    pmappings = make_pmappings(spec)
    for einsum in einsums:
        parsed = [col.parse_column(c, einsums) for c in pmappings[einsum].columns]
        families = {c.family for c in parsed}
        assert "other" not in families, [c.name for c in parsed if c.family == "other"]
        assert {"info", "total", "reservation", "tile"} <= families


def test_no_column_splitting_outside_the_convention_module() -> None:
    pattern = re.compile(r"""\.split\(\s*["'] ["']""")
    allowed = ROOT / "accelforge" / "columns.py"
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("accelforge", "widgets")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path != allowed
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if pattern.search(line)
    ]
    assert not offenders, f'.split(" ") outside accelforge/columns.py: {offenders}'
