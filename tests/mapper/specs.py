"""Small specs for mapper tests: a workload written by a test, on the shipped ``simple`` arch."""

from __future__ import annotations

from pathlib import Path

import accelforge as af


def simple_arch_spec(workload: str, folder: Path, **jinja: float) -> af.Spec:
    """``workload`` (YAML text, saved in ``folder``) on ``simple`` with Jinja values ``jinja``."""
    path = folder / "workload.yaml"
    path.write_text(workload)
    return af.Spec.from_yaml(af.examples.arches.simple, path, jinja_parse_data=jinja)


def matmul_chain(n_einsums: int, size: int, glb_size: float) -> af.Spec:
    """The shipped ``matmuls`` chain (M = KN = ``size``) on ``simple`` (DRAM energy 10)."""
    return af.Spec.from_yaml(
        af.examples.arches.simple,
        af.examples.workloads.matmuls,
        jinja_parse_data={
            "N_EINSUMS": n_einsums,
            "M": size,
            "KN": size,
            "GLB_SIZE": glb_size,
            "DRAM_ENERGY": 10,
            "GLB_THROUGHPUT": 1,
        },
    )
