"""Units of a spec's results (accelforge/units.py): read from the arch's numbers, per column."""

from __future__ import annotations

import warnings

import accelforge as af
from accelforge.units import NO_UNITS, SI, UNITLESS, Units, units_of


def _evaluated(arch: str) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spec = af.Spec.from_yaml(
            getattr(af.examples.arches, arch),
            af.examples.workloads.matmuls,
            jinja_parse_data={"N_EINSUMS": 2, "M": 16, "KN": 16},
        )
        first = next(iter(spec.evaluate_workload().einsums))
        return spec.evaluate(first)


def test_picojoule_energies_and_per_second_throughputs_are_si() -> None:
    assert units_of(_evaluated("tpu_like")) == SI == Units("J", "s")


def test_unit_energies_and_per_cycle_throughputs_are_unitless() -> None:
    assert units_of(_evaluated("simple")) == UNITLESS == Units("energy units", "cycles")


def test_each_result_column_gets_its_unit() -> None:
    einsums = ("Matmul0", "Matmul1")
    expected = {
        "energy": "J",
        "leak energy": "J",
        "latency": "s",
        "energy-delay product": "J\u00b7s",
        "Matmul1 energy": "J",
        "Matmul0 latency": "s",
        "usage GlobalBuffer": "fraction of capacity",
        "usage GlobalBuffer.X": "fraction of capacity",
        "template": None,
        "actions Matmul0 MainMemory A read": None,
    }
    assert {c: SI.of(c, einsums) for c in expected} == expected
    assert SI.label("Matmul0 latency", einsums) == "Matmul0 latency (s)"
    assert UNITLESS.label("latency") == "latency (cycles)"
    assert SI.label("template") == "template"
    assert NO_UNITS.label("energy") == "energy"  # unknown units: no guess
