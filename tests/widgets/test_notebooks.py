"""The tutorial notebooks: stored without outputs, open without a kernel picker, and run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NAMES = ["01_quickstart", "02_explorer", "03_tolerances", "04_fusion", "05_sweep"]
CHECKS = {"03_tolerances", "04_fusion", "05_sweep"}
"""Notebooks whose last cell evaluates a claim (tolerance bound held, traffic never rises)."""


def test_the_five_tutorials_exist() -> None:
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_stored_executed_with_static_figures(name: str) -> None:
    """Saved by notebooks/build.py: every cell ran in order, no error, each Plotly figure has a
    PNG beside it (GitHub and nbviewer show that), and no widget state (5 MB a figure)."""
    path = NOTEBOOKS / f"{name}.ipynb"
    content = json.loads(path.read_text())
    assert content["metadata"]["kernelspec"]["name"] == "python3"
    assert "widgets" not in content["metadata"]
    code = [c for c in content["cells"] if c["cell_type"] == "code"]
    assert code, "a tutorial runs code"
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1))
    outputs = [o for c in code for o in c["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    figures = [o for o in outputs if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert all("image/png" in o["data"] for o in figures)
    assert path.stat().st_size < 2_000_000


def test_the_explorer_tutorial_saves_a_static_front() -> None:
    content = json.loads((NOTEBOOKS / "02_explorer.ipynb").read_text())
    last = [c for c in content["cells"] if c["cell_type"] == "code"][-1]
    assert "".join(last["source"]) == "explorer.snapshot()"
    assert "image/png" in last["outputs"][0]["data"]


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


def test_a_spec_error_in_a_notebook_cell_shows_one_line_and_no_traceback(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed")
    source = (
        "import accelforge as af\n"
        "af.Spec.from_yaml(af.examples.arches.simple, af.examples.workloads.matmuls,\n"
        '                  jinja_parse_data={"N_EINSUMS": 1, "M": "abc"})'
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    error = notebook.cells[0].outputs[0]
    assert error["output_type"] == "error" and error["ename"] == "SpecError"
    assert len(error["traceback"]) == 1
    assert error["traceback"][0].startswith("SpecError: workload.iteration_space_shape.m (")
    assert "names 'abc', which is neither a rank variable" in error["traceback"][0]
