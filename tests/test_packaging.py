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
from tests.import_graph import circles, import_graph, module_name

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


def _sources() -> list[Path]:
    return sorted((ROOT / "accelforge").rglob("*.py")) + sorted((ROOT / "widgets").rglob("*.py"))


def test_module_size_limit() -> None:
    too_big = {
        str(p.relative_to(ROOT)): n
        for p in _sources()
        if (n := len(p.read_text().splitlines())) > 600
    }
    assert too_big == {}


def test_mapper_public_api_is_pinned() -> None:
    import accelforge.mapper

    assert accelforge.mapper.__all__ == [
        "EinsumDone",
        "FFM",
        "FrontUpdate",
        "InProcessExecutor",
        "JoinStep",
        "Mapper",
        "MapperRun",
        "Metrics",
        "Pmappings",
        "ProcessExecutor",
        "RunFinished",
        "RunProgress",
        "RunStarted",
        "RunWarning",
        "TemplateDone",
        "join_pmappings",
        "make_pmappings",
        "map_workload_to_arch",
        "start",
    ]


def test_import_graph_sees_circles_and_type_checking_blocks(tmp_path: Path) -> None:
    # The scanner behind the no-circle test: a function-level import closes a circle, an
    # import under ``if TYPE_CHECKING:`` does not.
    package = tmp_path / "accelforge"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from accelforge.b import g\n")
    (package / "b.py").write_text("from accelforge import a\n")
    (package / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import accelforge.d\n"
    )
    (package / "d.py").write_text("import accelforge.c\n")
    graph = import_graph(tmp_path, ("accelforge",))
    assert circles(graph) == [["accelforge.a", "accelforge.b"]]


def test_no_import_circles() -> None:
    # Module-level and function-level imports of accelforge/ and widgets/ (``if
    # TYPE_CHECKING:`` blocks aside) form no circle.
    assert circles(import_graph(ROOT)) == []


def test_no_private_names_imported_across_modules() -> None:
    offenders = [
        f"{p.relative_to(ROOT)}: {line.strip()}"
        for p in _sources()
        for line in p.read_text().splitlines()
        if re.match(r"\s*from accelforge[\w.]* import .*\b_[a-z]\w*", line)
        or re.match(r"\s+_[a-z]\w*,$", line)
    ]
    assert offenders == []


def test_every_package_is_packaged() -> None:
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    on_disk = {
        module_name(ROOT, p.parent / "__init__.py")
        for p in (ROOT / "accelforge").rglob("__init__.py")
    }
    on_disk.add("accelforge.widgets")
    assert on_disk == listed


def test_mapper_reads_as_stage_packages() -> None:
    mapper = ROOT / "accelforge" / "mapper"
    packages = sorted(p.name for p in mapper.iterdir() if (p / "__init__.py").exists())
    assert packages == ["_join", "_pmappings", "_run", "_templates", "_tiles"]
    leaves = sorted(p.name for p in mapper.glob("*.py"))
    assert leaves == [
        "__init__.py",
        "dask_executor.py",
        "events.py",
        "executors.py",
        "objectives.py",
        "progress.py",
    ]
    # each stage imports only earlier stages and the leaves
    order = ["_templates", "_tiles", "_pmappings", "_join", "_run"]
    graph = import_graph(ROOT)
    for module, imported in graph.items():
        parts = module.split(".")
        if parts[:2] != ["accelforge", "mapper"] or len(parts) < 3 or parts[2] not in order:
            continue
        for other in imported:
            other_parts = other.split(".")
            if other_parts[:2] == ["accelforge", "mapper"] and len(other_parts) > 2:
                if other_parts[2] in order:
                    assert order.index(other_parts[2]) <= order.index(parts[2]), (module, other)


def test_cited_documents_exist() -> None:
    # Docstrings cite design documents as docs/NAME.md §N; every one is in the repository
    # and has that section.
    cited: set[tuple[str, str]] = set()
    for p in _sources():
        text = p.read_text()
        assert not re.search(r"(?<![\w/])(MAPPER|MODEL|ARCHITECTURE|SPEC_FORMAT)(\.md| §)", text), (
            f"{p.relative_to(ROOT)} cites a design document without its docs/ path"
        )
        for doc, section in re.findall(r"docs/(\w+\.md)(?: §([\d.]+\d))?", text):
            cited.add((doc, section))
    assert cited
    for doc, section in sorted(cited):
        path = ROOT / "docs" / doc
        assert path.is_file(), doc
        if section:
            # a heading ("### 4.7 Per-Einsum merge") or a bold label ("- **1.5 Per-tensor view.**")
            labels = r"^(?:#+ |(?:[-*] )?\*\*)(?:§)?([\d.]+\d)\.?\s"
            headings = re.findall(labels, path.read_text(), re.M)
            assert section in headings, f"docs/{doc} has no section {section}"


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = next(line for line in readme.splitlines() if "pytest" in line and "pip" in line)
    assert command.strip() in ci.splitlines()
