"""AccelForge's tutorial calls run unchanged here and give its figures (issue: drop-in).

``tests/tutorial_calls.py`` holds the calls, one function per tutorial notebook; the
reference's figures, recorded by running the same functions with AccelForge 1.0.467, are in
``tests/data/reference_tutorial_calls.json`` (``bench/reference_tutorial_calls.py``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

import accelforge as af
from accelforge import examples
from tests.conftest import reference_path
from tests.tutorial_calls import TUTORIALS

DATA = Path(__file__).resolve().parent / "data" / "reference_tutorial_calls.json"
RTOL = 1e-6
OWN_FANOUT = {"LocalBuffer": 4}
"""tpu_v4i's components with their own fanout: their area counts it here (docs/differences.md)."""


def _close(ours: Any, theirs: Any, where: str) -> None:
    if isinstance(theirs, dict):
        assert set(ours) == set(theirs), where
        for key in theirs:
            _close(ours[key], theirs[key], f"{where}.{key}")
    elif isinstance(theirs, list):
        assert len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            _close(a, b, f"{where}[{i}]")
    elif isinstance(theirs, bool):
        assert ours == theirs, where
    else:
        assert math.isclose(ours, theirs, rel_tol=RTOL, abs_tol=1e-30), (where, ours, theirs)


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    reference_path()
    return json.loads(DATA.read_text())["figures"]  # type: ignore[no-any-return]


@pytest.fixture
def with_reference_examples(monkeypatch) -> Path:
    """AccelForge's example folder added to ``af.examples`` (``af.examples.arches.snowcat``)."""
    specs = reference_path() / "specs"
    monkeypatch.setattr(examples, "_roots", [examples.root])
    examples.add_folder(specs)
    return specs


@pytest.mark.parametrize("tutorial", ["model", "mapper", "memory_size"])
def test_tutorial_calls_give_the_references_figures(
    tutorial: str, reference: dict[str, Any], with_reference_examples: Path
) -> None:
    ours = TUTORIALS[tutorial](af, with_reference_examples)
    _close(ours, reference[tutorial], tutorial)


def test_design_space_calls_give_the_references_figures(
    reference: dict[str, Any], with_reference_examples: Path
) -> None:
    ours = TUTORIALS["design_space"](af, with_reference_examples)
    theirs = reference["design_space"]
    _close(ours["energy_per_compute"], theirs["energy_per_compute"], "energy_per_compute")
    _close(ours["per_component"], theirs["per_component"], "per_component")
    for mine, their in zip(ours["per_component_area"], theirs["per_component_area"], strict=True):
        scaled = {name: area * OWN_FANOUT.get(name, 1) for name, area in their.items()}
        _close(mine, scaled, "per_component_area")
