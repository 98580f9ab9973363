"""The tutorial notebooks: stored without outputs, open without a kernel picker, and run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NAMES = ["01_quickstart", "02_explorer", "03_tolerances", "04_fusion"]
CHECKS = {"03_tolerances", "04_fusion"}
"""Notebooks whose last cell evaluates a claim (tolerance bound held, traffic never rises)."""


def test_the_four_tutorials_exist() -> None:
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_stored_stripped_with_a_kernelspec(name: str) -> None:
    content = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text())
    assert content["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in content["cells"] if c["cell_type"] == "code"]
    assert code, "a tutorial runs code"
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)


@pytest.mark.parametrize("name", NAMES)
def test_runs(name: str, tmp_path: Path) -> None:
    for module in ("ipywidgets", "anywidget", "plotly"):
        pytest.importorskip(
            module, reason='the notebook extra is not installed: pip install -e ".[notebook]"'
        )
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed")
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    errors = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert errors == []
    assert list(tmp_path.iterdir()) == []  # the tutorials leave no file behind
    if name in CHECKS:  # the claim each tutorial ends on holds
        last = [c for c in notebook.cells if c.cell_type == "code"][-1]
        assert last.outputs[-1]["data"]["text/plain"] == "True"
