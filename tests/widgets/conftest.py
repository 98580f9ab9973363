"""Fixtures of the widget tests: a small spec that maps in well under a second."""

from __future__ import annotations

import pytest

import accelforge as af

SMALL = {
    "N_EINSUMS": 2,
    "M": 16,
    "KN": 16,
    "GLB_SIZE": 4096,
    "DRAM_ENERGY": 10,
    "GLB_THROUGHPUT": 1,
}


@pytest.fixture
def spec() -> af.Spec:
    """Two 16x16 matmuls on the simple arch, optimising energy and latency."""
    loaded = af.Spec.from_yaml(
        af.examples.arches.simple, af.examples.workloads.matmuls, jinja_parse_data=SMALL
    )
    loaded.mapper.metrics = af.Metrics.ENERGY | af.Metrics.LATENCY
    return loaded
