"""The ``accelforge.widgets`` package surface: sorted public names, lazy and light imports."""

from __future__ import annotations

import subprocess
import sys

import accelforge.widgets as widgets
import pytest


def test_all_is_sorted_public_and_importable() -> None:
    assert widgets.__all__ == sorted(widgets.__all__)
    assert not [name for name in widgets.__all__ if name.startswith("_")]
    pytest.importorskip("ipywidgets", reason="the notebook extra is not installed")
    for name in widgets.__all__:
        assert getattr(widgets, name).__name__ == name


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="Explorr"):
        widgets.Explorr  # noqa: B018


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_import_is_light() -> None:
    out = _run(
        "import sys, accelforge.widgets as w; w.ExplorerController; "
        "print(sorted(m for m in ('ipywidgets', 'plotly', 'anywidget') if m in sys.modules))"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("blocked", ["ipywidgets", "anywidget", "plotly"])
def test_a_view_without_the_extra_names_the_install_command(blocked: str) -> None:
    out = _run(
        f"import sys; sys.modules[{blocked!r}] = None\n"
        "import accelforge.widgets as w\n"
        "w.ExplorerController  # the logic needs no extra\n"
        "try:\n"
        "    w.Explorer\n"
        "except ImportError as err:\n"
        "    print(type(err).__name__, err)\n"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("MissingExtraError")
    assert 'pip install "accelforge-explorer[notebook]"' in out.stdout
