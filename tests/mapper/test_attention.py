"""Attention decoding (the reference's attention_decode workloads) maps to the reference optimum.

The optima were recorded from AccelForge 1.0.467 (Python 3.12 venv, ``pip install
accelforge==1.0.467``) on 2026-12-07, side by side on the project's machine:
``spec = af.Spec.from_yaml(arch, workload, jinja_parse_data=JINJA)``, ``spec.mapper.metrics =
af.Metrics.ENERGY``, ``spec.map_workload_to_arch()``, ``mappings.energy()``. Every other Jinja
variable keeps its default (simple.yaml: MainMemoryEnergy 1, an unbounded GlobalBuffer).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import accelforge as af
from accelforge.mapper import map_workload_to_arch

SPECS = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "specs"
needs_reference = pytest.mark.skipif(
    not SPECS.is_dir(), reason=f"reference specs not found at {SPECS}"
)

SMALL = {"N_TOKENS": 8, "N_HEADS": 2, "N_EMB_PER_HEAD": 4, "N_HIDDEN_DIMS": 8}
LARGER = {"N_TOKENS": 64, "N_HEADS": 4, "N_EMB_PER_HEAD": 8, "N_HIDDEN_DIMS": 32}

REFERENCE_OPTIMA = [
    ("multi_head_attention", SMALL, 12496.0),
    ("multi_head_attention", LARGER, 271360.0),
    ("multi_head_latent_attention", SMALL, 2885264.0),
    ("multi_head_latent_attention", LARGER, 79810048.0),
]


@needs_reference
@pytest.mark.parametrize(
    ("workload", "jinja", "energy"),
    REFERENCE_OPTIMA,
    ids=[f"{w}-tokens{j['N_TOKENS']}" for w, j, _ in REFERENCE_OPTIMA],
)
def test_attention_decode_on_simple_maps_to_the_reference_optimum(
    workload: str, jinja: dict[str, int], energy: float
) -> None:
    spec = af.Spec.from_yaml(
        SPECS / "arches" / "simple.yaml",
        SPECS / "workloads" / "attention_decode" / f"{workload}.yaml",
        jinja_parse_data=jinja,
    )
    spec.mapper.metrics = af.Metrics.ENERGY
    front = map_workload_to_arch(spec)
    assert len(front) >= 1
    assert set(front.data["energy"]) == {energy}


@needs_reference
def test_min_usage_falls_back_per_template_as_the_reference_does() -> None:
    # tpu_v4i's fanouts all ask for min_usage 1; attention's small heads cannot fill them
    # together. Per template, dimension by dimension from the innermost fanout, the rows
    # reaching min_usage are kept if any, else those at the highest usage among the rows kept:
    # this found no mapping at all before (status OK, empty front). The reference's optimum is
    # 4.958955519999998e-07 J; no warning says the mapper's own mapping breaks its rules.
    spec = af.Spec.from_yaml(
        SPECS / "arches" / "tpu_v4i.yaml",
        SPECS / "workloads" / "attention_decode" / "multi_head_attention.yaml",
        jinja_parse_data=LARGER,
    )
    spec.mapper.metrics = af.Metrics.ENERGY
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        front = map_workload_to_arch(spec, n_workers=2)
    assert len(front) >= 1
    assert front.data["energy"].min() == pytest.approx(4.958955519999998e-07, rel=1e-9)
    with pytest.warns(af.errors.SpecWarning, match=r"is below min_usage 1 \(the mapper allows"):
        af.model.evaluate_mapping(spec, front[0].mapping)  # a user's check still says so


@needs_reference
def test_a_loop_bound_naming_a_variable_an_einsum_lacks_is_ignored_for_it() -> None:
    # at_mac_with_constraints bounds '~m' (written for matmuls); matvecs' Einsums have no m.
    # AccelForge 1.0.467 ignores the bound for them and maps to (energy 256, latency 6).
    with pytest.warns(af.errors.SpecWarning) as caught:
        spec = af.Spec.from_yaml(
            SPECS / "arches" / "fanout_variations" / "at_mac_with_constraints.yaml",
            SPECS / "workloads" / "matvecs.yaml",
        )
        spec.mapper.metrics = af.Metrics.ENERGY | af.Metrics.LATENCY
        front = map_workload_to_arch(spec)
    assert list(zip(front.data["energy"], front.data["latency"], strict=True)) == [(256.0, 6.0)]
    messages = {str(w.message) for w in caught}
    assert (
        "arch.nodes.MACArray.spatial.X.loop_bounds.0.expression (Einsum Y): '~m' names m, which "
        "Einsum Y does not have; the constraint is ignored for Y."
    ) in messages
