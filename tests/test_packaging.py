"""Packaging contracts: public names, documented module paths, light imports, dependency sync."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from pathlib import Path

import pytest
from ruamel.yaml import YAML

import accelforge as af

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "module", ["accelforge", "accelforge.mapper", "accelforge.frontend.mapper"]
)
def test_all_is_sorted_and_public(module: str) -> None:
    mod = importlib.import_module(module)
    assert list(mod.__all__) == sorted(mod.__all__)
    assert not [n for n in mod.__all__ if n.startswith("_")]
    for name in mod.__all__:
        assert hasattr(mod, name), name


@pytest.mark.parametrize(
    "path",
    [
        "accelforge.frontend.mapper.ffm.FFM",
        "accelforge.frontend.mapper.metrics.Metrics",
        "accelforge.frontend.mapper.mapper.Mapper",
        "accelforge.frontend.mapper.FFM",
        "accelforge.frontend.mapper.Metrics",
        "accelforge.mapper.FFM",
        "accelforge.mapper.Metrics",
        "accelforge.Spec",
        "accelforge.FFM",
        "accelforge.Metrics",
    ],
)
def test_documented_paths_import(path: str) -> None:
    module, _, name = path.rpartition(".")
    assert getattr(importlib.import_module(module), name) is not None


def test_same_objects_everywhere() -> None:
    from accelforge.frontend.mapper.ffm import FFM
    from accelforge.frontend.mapper.metrics import Metrics

    assert af.FFM is FFM and af.mapper.FFM is FFM
    assert af.Metrics is Metrics and af.mapper.Metrics is Metrics


def test_import_is_light_and_side_effect_free() -> None:
    code = (
        "import os, sys; env = dict(os.environ); import accelforge, accelforge.widgets; "
        "heavy = [m for m in ('ipywidgets', 'plotly', 'dask', 'matplotlib', 'pydot', 'sympy') "
        "if m in sys.modules]; print(heavy, env == dict(os.environ))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] True"


def test_core_never_imports_widgets() -> None:
    # The Jupyter layer is never imported by the core; plotly only lazily, where an optional
    # nicer figure is offered (the CLI's pareto.html falls back to an SVG page without it).
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "accelforge").rglob("*.py")
        if re.search(
            r"^\s*(from|import)\s+(accelforge\.widgets|widgets|ipywidgets)\b", p.read_text(), re.M
        )
        or re.search(r"^(from|import)\s+plotly\b", p.read_text(), re.M)
    ]
    assert offenders == []


def _requirement_names(requirements: list[str]) -> dict[str, str]:
    out = {}
    for req in requirements:
        match = re.match(r"([A-Za-z0-9_.\-\[\]]+)\s*([<>=!~].*)?$", req.split(";")[0].strip())
        assert match, req
        out[match.group(1).split("[")[0].lower()] = (match.group(2) or "").replace(" ", "")
    return out


def test_environment_yml_matches_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = _requirement_names(project["dependencies"])
    env = YAML(typ="safe").load((ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    conda_deps = _requirement_names([c for c in conda if not c.startswith(("python", "pip"))])
    assert conda_deps == core
    python_pin = [c for c in conda if c.startswith("python")][0].removeprefix("python")
    assert python_pin == project["requires-python"].replace(" ", "")
    pip_section = [d for d in env["dependencies"] if isinstance(d, dict)][0]["pip"]
    extras = [e for e in project["optional-dependencies"] if e != "hwcomponents"]
    assert pip_section == [f"-e .[{','.join(extras)}]"]


def test_module_size_limit() -> None:
    too_big = {
        str(p.relative_to(ROOT)): n
        for p in list((ROOT / "accelforge").rglob("*.py")) + list((ROOT / "widgets").rglob("*.py"))
        if (n := len(p.read_text().splitlines())) > 700
    }
    assert too_big == {}


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = next(line for line in readme.splitlines() if "pytest" in line and "pip" in line)
    assert command.strip() in ci.splitlines()
