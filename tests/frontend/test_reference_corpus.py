"""Every YAML file of the reference corpus loads, and holds what its kind of file should.

Most files are specs: their top-level keys are spec sections. The compute-in-memory examples
add four other kinds, loaded by the reference's ``_load_spec.py`` through ``top_key=`` and
includes rather than as whole specs:

- ``workloads/compute_in_memory/*``: specs whose template needs ``BATCH_SIZE``;
- ``arches/compute_in_memory/*.yaml``: specs that ``include_text`` ``_include.yaml``, so its
  anchor sets are top-level keys too; their sections build a Spec with its ``!Toll`` nodes;
- ``arches/compute_in_memory/_include.yaml``: anchor sets (maps of field or variable names);
- ``arches/compute_in_memory/memory_cells/*``: NeuroSim cell configurations, passed by path
  (``cell_config: "{{find_path(...)}}"``) to the cost models;
- ``misc/component_annotated.yaml``: one ``!Memory`` component.

Each case's id starts with the check it makes.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import pytest

from accelforge.frontend._yaml import YamlMap, load_yaml_files, load_yaml_text
from accelforge.frontend.arch import Memory
from accelforge.frontend.spec import Spec

SPECS = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "specs"
CIM = "arches/compute_in_memory/"
SPEC_SECTIONS = {"arch", "workload", "renames", "mapping", "variables"}
CIM_ARCH_SECTIONS = ("arch", "variables", "workload", "renames")
BATCH_SIZE = 1
"""The batch size the reference workloads default to (``BATCH_SIZE | default(1)``)."""
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TOLL_NODE = re.compile(r"^\s*- !Toll\b", re.M)  # an arch node, not a commented-out one


def _kind(rel: str) -> str:
    if rel == "misc/component_annotated.yaml":
        return "memory-component"
    if rel == CIM + "_include.yaml":
        return "anchor-sets"
    if rel.startswith(CIM + "memory_cells/"):
        return "neurosim-cell-config"
    if rel.startswith(CIM):
        return "spec+include-anchors"
    if rel.startswith("workloads/compute_in_memory/"):
        return f"spec+BATCH_SIZE={BATCH_SIZE}"
    return "spec"


FILES = sorted(SPECS.rglob("*.yaml")) if SPECS.is_dir() else []
CASES = [
    pytest.param(path, _kind(rel), id=f"{_kind(rel)}:{rel}")
    for path in FILES
    for rel in [str(path.relative_to(SPECS))]
]
CIM_ARCHES = [
    pytest.param(path, id=f"builds-spec:{path.relative_to(SPECS)}")
    for path in FILES
    if _kind(str(path.relative_to(SPECS))) == "spec+include-anchors"
]
needs_reference = pytest.mark.skipif(
    not SPECS.is_dir(), reason=f"reference specs not found at {SPECS}"
)


def _load(path: Path, **jinja: Any) -> YamlMap:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = load_yaml_files(path, jinja)
    assert loaded.files == [str(path)]
    assert loaded.data
    assert all(file == str(path) for file in loaded.key_files.values())
    return loaded.data


def _check_spec(path: Path) -> None:
    # N_EINSUMS only where the file reads it: a variable no file reads is warned of.
    jinja = {"N_EINSUMS": 2} if "N_EINSUMS" in path.read_text() else {}
    assert set(_load(path, **jinja)) <= SPEC_SECTIONS


def _check_cim_workload(path: Path) -> None:
    data = _load(path, BATCH_SIZE=BATCH_SIZE)
    assert set(data) <= SPEC_SECTIONS
    assert data["workload"]["rank_sizes"]["N"] == BATCH_SIZE


def _check_cim_arch(path: Path) -> None:
    anchors = set(_load(SPECS / CIM / "_include.yaml"))
    assert set(_load(path)) == set(CIM_ARCH_SECTIONS) | anchors


def _check_anchor_sets(path: Path) -> None:
    data = _load(path)
    for name, value in data.items():
        assert _NAME.fullmatch(name), name
        assert isinstance(value, YamlMap) and value, name
        assert all(_NAME.fullmatch(key) for key in value), (name, list(value))


def _check_cell_config(path: Path) -> None:
    data = _load(path)
    assert all(key.startswith("-") for key in data), list(data)
    assert all(isinstance(value, (int, float, str)) for value in data.values())
    assert data["-MemCellType"] in {"RRAM", "SRAM"}


def _check_memory_component(path: Path) -> None:
    # load_yaml_files combines files into one untagged map, so the root tag is read from the text
    assert load_yaml_text(path.read_text(), name=str(path)).tag == "Memory"
    data = _load(path)
    assert data["name"] == "GlobalBuffer"
    assert Memory.from_data(data, ()).name == "GlobalBuffer"


CHECKS = {
    "spec": _check_spec,
    f"spec+BATCH_SIZE={BATCH_SIZE}": _check_cim_workload,
    "spec+include-anchors": _check_cim_arch,
    "anchor-sets": _check_anchor_sets,
    "neurosim-cell-config": _check_cell_config,
    "memory-component": _check_memory_component,
}


@needs_reference
@pytest.mark.parametrize(("path", "kind"), CASES)
def test_reference_file_loads(path: Path, kind: str) -> None:
    CHECKS[kind](path)


@needs_reference
@pytest.mark.parametrize("path", CIM_ARCHES)
def test_reference_cim_arch_builds_spec(path: Path) -> None:
    """The sections the reference loads with ``top_key=`` build a Spec."""
    data = _load(path)
    spec = Spec.from_data({key: data[key] for key in CIM_ARCH_SECTIONS})
    assert spec.arch.nodes and spec.workload.einsums
    tolls = [node.name for node in spec.arch.nodes if type(node).__name__ == "Toll"]
    assert len(tolls) == len(_TOLL_NODE.findall(path.read_text())) > 0
