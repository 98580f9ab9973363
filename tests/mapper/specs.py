"""Small specs for mapper tests: a workload written by a test, on the shipped ``simple`` arch."""

from __future__ import annotations

from pathlib import Path

import accelforge as af


def simple_arch_spec(workload: str, folder: Path, **jinja: float) -> af.Spec:
    """``workload`` (YAML text, saved in ``folder``) on ``simple`` with Jinja values ``jinja``."""
    path = folder / "workload.yaml"
    path.write_text(workload)
    return af.Spec.from_yaml(af.examples.arches.simple, path, jinja_parse_data=jinja)
