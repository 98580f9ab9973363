"""``af.examples``: shipped example paths, names with dots, and added folders."""

from __future__ import annotations

from pathlib import Path

import pytest

import accelforge as af
from accelforge import examples
from tests.conftest import reference_path


def test_shipped_examples_are_paths_and_a_typo_lists_them() -> None:
    assert af.examples.arches.simple == examples.root / "arches" / "simple.yaml"
    assert "matmuls" in dir(af.examples.workloads)
    with pytest.raises(
        AttributeError, match="no example 'simpel' in arches. Did you mean 'simple'"
    ):
        _ = af.examples.arches.simpel


def test_an_added_folder_is_searched_after_the_shipped_one(monkeypatch) -> None:
    specs = reference_path() / "specs"
    monkeypatch.setattr(examples, "_roots", [examples.root])
    examples.add_folder(specs)
    assert af.examples.arches.snowcat == specs / "arches" / "snowcat.yaml"
    assert af.examples.workloads.gpt3_6_7B == specs / "workloads" / "gpt3_6.7B.yaml"
    assert af.examples.arches.simple == examples.root / "arches" / "simple.yaml"  # ours first
    assert af.examples.mappings.fused_matmuls_to_simple.parent == specs / "mappings"


def test_a_folder_without_examples_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="has no arches/, workloads/ or mappings/ folder"):
        examples.add_folder(tmp_path)
