"""Execute the tutorial notebooks and save them with their outputs, figures included as PNGs.

    python notebooks/build.py                 # every tutorial
    python notebooks/build.py 02_explorer     # one

Plotly figures are saved with a PNG beside their interactive form (the kernel runs with
``PLOTLY_RENDERER=plotly_mimetype+png``; kaleido and a Chromium make the PNG), so GitHub and
nbviewer show them. Widget state is not saved: each figure widget would add 5 MB, and the live
explorer needs a kernel anyway (its ``snapshot()`` cell shows what it drew). Needs the
``notebook`` extra, nbclient, nbformat and kaleido (``.ci/run`` installs them).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbclient
import nbformat

HERE = Path(__file__).resolve().parent
NAMES = ["01_quickstart", "02_explorer", "03_tolerances", "04_fusion", "05_sweep"]


def build(name: str) -> Path:
    """Run ``name``'s cells in a fresh kernel (in a scratch folder) and save the outputs."""
    path = HERE / f"{name}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    scratch = HERE / ".build"
    scratch.mkdir(exist_ok=True)
    client = nbclient.NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(scratch)}},
        store_widget_state=False,
        record_timing=False,
    )
    client.execute()
    notebook.metadata.pop("widgets", None)
    nbformat.write(notebook, path)
    return path


def main(names: list[str]) -> None:
    os.environ["PLOTLY_RENDERER"] = "plotly_mimetype+png"
    for name in names or NAMES:
        print(f"built {build(name)}")  # noqa: T201 - a command-line tool


if __name__ == "__main__":
    main(sys.argv[1:])
