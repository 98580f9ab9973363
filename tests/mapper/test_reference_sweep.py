"""Differential sweep against AccelForge 1.0.467: every example (arch, workload) pair of
``../shared/reference/specs`` at small sizes (docs/MAPPER.md §12, bench/results/coverage.md).

The reference's results were recorded by ``bench/reference_sweep/record.py`` (run under the
reference's own Python; its docstring has the command) into ``tests/data/reference_sweep.json``:
for each pair, the optimum with ENERGY and the front with ENERGY|LATENCY, or why the reference
could not load, map or finish it.

What runs by default: every pair's ENERGY|LATENCY case of the small families (matmuls,
matvecs, three annotated matmuls, mamba, the attention-decode workloads, and the mobilenet
variant both tools refuse). One run checks both recorded results: our front weakly dominates
every reference point (rtol 1e-6), and its lowest energy equals the reference's ENERGY optimum.
The ENERGY-only runs and the GPT-3 and mobilenet_28 families (10 s to minutes a case) carry the
``reference_sweep_full`` marker, which the default options leave out; run them with
``pytest -m reference_sweep_full`` (over an hour on 2 cores) or
``python bench/reference_sweep/compare.py`` (bench/results/coverage.md has its table).
Wherever the reference failed, ours either maps the pair or refuses it with a ``SpecError``;
no run of ours ends OK and empty.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest

import accelforge as af
from accelforge.results import Mappings
from tests.conftest import reference_path

DATA = Path(__file__).resolve().parents[1] / "data" / "reference_sweep.json"
RTOL = 1e-6
LARGE_WORKLOADS = {
    "workloads/mobilenet_28.yaml",
    "workloads/gpt3_6.7B.yaml",
    "workloads/gpt3_6.7B_kv_cache.yaml",
    "workloads/gpt3_175B.yaml",
    "workloads/gpt3_175B_kv_cache.yaml",
}
"""Families whose cases take 10 s to minutes each here; only under ``-m reference_sweep_full``."""

# Known differences from the reference (case id -> reason): none at this commit.
KNOWN_DIFFERENCES: dict[str, str] = {}


def _load() -> list[dict[str, Any]]:
    if not DATA.is_file():
        return []
    return json.loads(DATA.read_text())["cases"]


CASES = _load()
BY_ID = {c["id"]: c for c in CASES}


def _energy_case(case: dict[str, Any]) -> dict[str, Any] | None:
    """The ENERGY-only case of the same pair as ``case``, if recorded."""
    return BY_ID.get(case["id"].removesuffix("__ENERGY_LATENCY") + "__ENERGY")


def _params(statuses: set[str]) -> list[Any]:
    out = []
    for case in CASES:
        if case["result"]["status"] not in statuses:
            continue
        full = case["workload"] in LARGE_WORKLOADS or case["metrics"] == ["ENERGY"]
        marks = [pytest.mark.reference_sweep_full] if full else []
        if case["id"] in KNOWN_DIFFERENCES:
            marks.append(pytest.mark.xfail(reason=KNOWN_DIFFERENCES[case["id"]], strict=True))
        out.append(pytest.param(case, id=case["id"], marks=marks))
    return out or [pytest.param(None, id="no-cases")]


def _map(case: dict[str, Any]) -> tuple[str, Mappings | None]:
    """Our run's final status and front (None when it has none)."""
    specs = reference_path() / "specs"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", af.SpecWarning)
        spec = af.Spec.from_yaml(
            specs / case["arch"], specs / case["workload"], jinja_parse_data=case["jinja"]
        )
        spec.mapper.metrics = af.Metrics.parse(case["metrics"])
        run = af.mapper.start(spec, n_workers=1)
        mappings = run.result()
    return run.status, mappings


def _close(ours: float, theirs: float) -> bool:
    return abs(ours - theirs) <= RTOL * abs(theirs)


@pytest.mark.parametrize("case", _params({"ok"}))
def test_our_front_dominates_the_references_and_our_optimum_equals_it(
    case: dict[str, Any] | None,
) -> None:
    reference_path()
    if case is None:
        pytest.skip(f"no recorded cases in {DATA}")
    expected = case["result"]
    status, mappings = _map(case)
    assert status == "OK" and mappings is not None and len(mappings) >= 1, status
    data = mappings.data
    lowest = float(data["energy"].min())
    if case["metrics"] == ["ENERGY"]:
        assert _close(lowest, expected["energy"]), (lowest, expected["energy"])
        return
    front = list(zip(data["energy"], data["latency"], strict=True))
    missed = [
        point
        for point in expected["front"]
        if not any(
            e <= point["energy"] * (1 + RTOL) and lat <= point["latency"] * (1 + RTOL)
            for e, lat in front
        )
    ]
    assert not missed, (missed, front)
    energy_only = _energy_case(case)
    if energy_only is not None and energy_only["result"]["status"] == "ok":
        optimum = energy_only["result"]["energy"]
        assert _close(lowest, optimum), (lowest, optimum)  # the front's end is the optimum


@pytest.mark.parametrize("case", _params({"load error", "error", "no mapping", "timeout"}))
def test_where_the_reference_fails_ours_maps_or_refuses_with_a_spec_error(
    case: dict[str, Any] | None,
) -> None:
    reference_path()
    if case is None:
        pytest.skip(f"no such recorded cases in {DATA}")
    try:
        status, mappings = _map(case)
    except af.SpecError as err:
        assert str(err).strip(), "a SpecError with no message"
        return
    n = 0 if mappings is None else len(mappings)
    assert not (status == "OK" and n == 0), "status OK with an empty front"
    assert status == "OK" or status in ("NO_MAPPING", "TIME_LIMIT"), status
