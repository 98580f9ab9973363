"""Shared fixtures: where the AccelForge reference data lives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference"


def reference_path() -> Path:
    """The reference folder, or skip the test with a reason when it is absent."""
    if not (REFERENCE / "manifest.json").is_file():
        pytest.skip(f"AccelForge reference data not found at {REFERENCE} (a user's clone)")
    return REFERENCE


def load_reference_json(name: str) -> dict[str, Any]:
    """A JSON file from the reference folder (skips when absent)."""
    return json.loads((reference_path() / name).read_text())


def manifest_combinations() -> list[dict[str, Any]]:
    """Manifest entries, or an empty list when the reference is absent (tests then skip)."""
    path = REFERENCE / "manifest.json"
    if not path.is_file():
        return []
    return json.loads(path.read_text())["combinations"]
