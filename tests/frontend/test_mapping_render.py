"""Mapping.to_yaml round trips, Mapping.render text and Mapping._repr_html_ HTML.

Round trips: every reference mapping file (with its matching arch/workload), every
``mapping_yaml`` of the model oracle cases and every best mapping of the mapper oracle cases is
written with ``to_yaml`` and read back through our loader to an equal mapping. AccelForge 1.0.467
itself accepted the emitted text of all those cases with identical energy and latency (checked
once by hand in a separate venv; not part of this suite).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import accelforge as af
from accelforge.frontend._yaml import load_yaml_text
from accelforge.frontend.mapping import (
    Compute,
    Mapping,
    Nested,
    Pipeline,
    Sequential,
    Spatial,
    Split,
    Storage,
    Temporal,
)

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
SPECS = REFERENCE / "specs"
ABSENT = f"AccelForge reference data not found at {REFERENCE} (e.g. a user's clone)"


def _reference() -> Path:
    if not SPECS.is_dir():
        pytest.skip(ABSENT)
    return REFERENCE


def _load_mapping(text: str, jinja: dict[str, Any] | None = None) -> Mapping:
    data = load_yaml_text(text, jinja_parse_data=jinja)
    return Mapping.from_data(data["mapping"], ("mapping",))


def _round_trip(mapping: Mapping) -> str:
    text = mapping.to_yaml()
    back = _load_mapping(text)
    assert back == mapping, text
    # Writing the re-read mapping gives the same text (a fixed point).
    assert back.to_yaml() == text
    return text


# --------------------------------------------------------------------------------------------
# Round trips over the reference data


def _mapping_file_params() -> list[Any]:
    folder = SPECS / "mappings"
    if not folder.is_dir():
        return [pytest.param(None, None, None, id="reference-absent")]
    params = []
    for path in sorted(folder.glob("*.yaml")):
        if path.name == "simple_fused.yaml":
            params.append(pytest.param(path.name, None, None, id=path.stem))
        elif "matmul" in path.name:
            for n in (1, 2, 3):
                params.append(
                    pytest.param(
                        path.name, "matmuls.yaml", {"N_EINSUMS": n}, id=f"{path.stem}-N{n}"
                    )
                )
        else:
            params.append(pytest.param(path.name, "matvecs.yaml", {}, id=path.stem))
    return params


@pytest.mark.parametrize(("name", "workload", "jinja"), _mapping_file_params())
def test_reference_mapping_files_round_trip(
    name: str | None, workload: str | None, jinja: dict[str, Any] | None
) -> None:
    _reference()
    mapping_file = SPECS / "mappings" / str(name)
    if workload is None:
        # simple_fused.yaml names components of no reference arch: parse the mapping only.
        mapping = _load_mapping(mapping_file.read_text())
    else:
        spec = af.Spec.from_yaml(
            SPECS / "arches" / "simple.yaml",
            SPECS / "workloads" / workload,
            mapping_file,
            jinja_parse_data=jinja,
        )
        mapping = spec.mapping
    assert mapping.nodes
    _round_trip(mapping)


def _oracle_params(file: str) -> list[Any]:
    path = REFERENCE / "oracle" / file
    if not path.is_file():
        return [pytest.param(None, None, id="reference-absent")]
    params = []
    for case in json.loads(path.read_text())["cases"]:
        if file == "model_cases.json":
            text = case.get("mapping_yaml")
        else:
            text = ((case.get("result") or {}).get("best") or {}).get("mapping_yaml")
        if text:
            params.append(pytest.param(text, case.get("jinja") or {}, id=case["id"]))
    return params


@pytest.mark.parametrize(("text", "jinja"), _oracle_params("model_cases.json"))
def test_model_case_mappings_round_trip(text: str | None, jinja: dict[str, Any]) -> None:
    if text is None:
        pytest.skip(ABSENT)
    _round_trip(_load_mapping(text, jinja))


@pytest.mark.parametrize(("text", "jinja"), _oracle_params("mapper_cases.json"))
def test_mapper_best_mappings_round_trip(text: str | None, jinja: dict[str, Any]) -> None:
    if text is None:
        pytest.skip(ABSENT)
    _round_trip(_load_mapping(text))


# --------------------------------------------------------------------------------------------
# to_yaml output


SMALL = """
mapping:
  nodes:
  - !Storage {tensors: [T0, W0, T1], component: MainMemory}
  - !Storage {tensors: [T0, W0, T1], component: GlobalBuffer}
  - !Temporal {rank_variable: m, tile_shape: 8}
  - !Spatial {rank_variable: m, tile_shape: 2, name: Z, component: LocalBuffer}
  - !Storage {tensors: [T0, T1], component: LocalBuffer}
  - !Storage {tensors: [W0], component: Register, persistent: true}
  - !Temporal {rank_variable: n0, tile_shape: 1}
  - !Temporal {rank_variable: m, tile_shape: 1}
  - !Compute {einsum: Matmul0, component: MAC}
"""

FUSED = """
mapping:
  nodes:
  - !Storage {tensors: [A, B, C, Z], component: MainMemory}
  - !Temporal {rank_variable: ny, tile_shape: 1}
  - !Storage {tensors: [Y], component: GlobalBuffer}
  - !Sequential
    nodes:
    - !Nested
      nodes:
      - !Storage {tensors: [A, B], component: GlobalBuffer}
      - !Temporal {rank_variable: na, tile_shape: 1}
      - !Compute {einsum: Y, component: MAC}
    - !Nested
      nodes:
      - !Storage {tensors: [C, Z], component: GlobalBuffer}
      - !Temporal {rank_variable: nz, tile_shape: 1}
      - !Compute {einsum: Z, component: MAC}
"""


def test_to_yaml_writes_flow_leaves_and_only_non_default_fields() -> None:
    text = _round_trip(_load_mapping(SMALL))
    assert text == (
        "mapping:\n"
        "  nodes:\n"
        "  - !Storage {tensors: [T0, W0, T1], component: MainMemory}\n"
        "  - !Storage {tensors: [T0, W0, T1], component: GlobalBuffer}\n"
        "  - !Temporal {rank_variable: m, tile_shape: 8}\n"
        "  - !Spatial {rank_variable: m, tile_shape: 2, name: Z, component: LocalBuffer}\n"
        "  - !Storage {tensors: [T0, T1], component: LocalBuffer}\n"
        "  - !Storage {tensors: [W0], component: Register, persistent: true}\n"
        "  - !Temporal {rank_variable: n0, tile_shape: 1}\n"
        "  - !Temporal {rank_variable: m, tile_shape: 1}\n"
        "  - !Compute {einsum: Matmul0, component: MAC}\n"
    )


def test_to_yaml_writes_branches_in_block_style() -> None:
    text = _round_trip(_load_mapping(FUSED))
    assert "  - !Sequential\n    nodes:\n    - !Nested\n      nodes:\n" in text
    assert "      - !Compute {einsum: Z, component: MAC}\n" in text


def test_to_yaml_round_trips_awkward_values() -> None:
    mapping = Mapping(
        title='Title: "quoted" {{ not jinja }} {% nor this %}',
        text="root\nnote",
        nodes=[
            Storage(tensors=["true", "8", "a b", "x,y"], component="Main-Memory"),
            Storage(tensors=["W"], component="Buf", persistent=True, binding={"E": ["r", 1]}),
            Temporal(rank_variable="n", tile_shape="M // 4", text="{# comment #}"),
            Temporal(rank_variable="y", tile_shape="8"),
            Temporal(rank_variable="m", tile_shape=2.5),
            Temporal(rank_variable="k", tile_shape=1e20),
            Temporal(rank_variable="p"),
            Temporal(rank_variable="q", tile_shape=True),
            Spatial(rank_variable="r", tile_shape=0, name="null", component="PE"),
            Pipeline(
                nodes=[
                    Nested(nodes=[Compute(einsum="E1", component="MAC")]),
                    Nested(
                        nodes=[
                            Split(
                                nodes=[
                                    Nested(nodes=[Compute(einsum="E2", component="MAC")]),
                                    Nested(nodes=[]),
                                ]
                            )
                        ]
                    ),
                ]
            ),
        ],
    )
    text = _round_trip(mapping)
    assert "{{" not in text and "{%" not in text and "{#" not in text
    assert "tile_shape: 8}" not in text  # the string "8" stays quoted
    assert '"M // 4"' in text
    assert "persistent: true" in text
    assert "!Pipeline" in text and "!Split" in text and "nodes: []" in text


def test_to_yaml_keeps_sequential_of_python_built_mapping() -> None:
    mapping = Mapping(
        nodes=[
            Storage(tensors="A", component="M"),
            Sequential(nodes=[Nested(nodes=[Compute(einsum="E", component="MAC")])]),
        ]
    )
    text = _round_trip(mapping)
    assert "persistent" not in text
    assert "  - !Storage {tensors: [A], component: M}\n" in text


# --------------------------------------------------------------------------------------------
# render


def test_render_exact_lines() -> None:
    assert _load_mapping(SMALL).render().splitlines() == [
        "[MainMemory] T0, W0, T1",
        "[GlobalBuffer] T0, W0, T1",
        "for m, tile 8",
        "  spatial-for m, tile 2 over LocalBuffer.Z",
        "    [LocalBuffer] T0, T1",
        "    [Register] W0 (persistent)",
        "    for n0, tile 1",
        "      for m, tile 1",
        "        compute Matmul0 on MAC",
    ]


def test_render_with_bounds_shows_ranges_and_trip_counts() -> None:
    text = _load_mapping(SMALL).render(bounds={"m": 16, "n0": 8})
    assert text.splitlines()[2:] == [
        "for m in [0, 16) step 8 (2 iterations)",
        "  spatial-for m in [0, 8) step 2 over LocalBuffer.Z (4 instances)",
        "    [LocalBuffer] T0, T1",
        "    [Register] W0 (persistent)",
        "    for n0 in [0, 8) step 1 (8 iterations)",
        "      for m in [0, 2) step 1 (2 iterations)",
        "        compute Matmul0 on MAC",
    ]


def test_render_imperfect_tiling_rounds_trip_count_up() -> None:
    text = _load_mapping(SMALL).render(bounds={"m": 10})
    assert "for m in [0, 10) step 8 (2 iterations)" in text


def test_render_marks_fused_loops_and_branches() -> None:
    assert _load_mapping(FUSED).render().splitlines() == [
        "[MainMemory] A, B, C, Z",
        "for ny, tile 1  [fused: Y, Z]",
        "  [GlobalBuffer] Y",
        "  sequential (2 branches)",
        "    branch 1: Y",
        "      [GlobalBuffer] A, B",
        "      for na, tile 1",
        "        compute Y on MAC",
        "    branch 2: Z",
        "      [GlobalBuffer] C, Z",
        "      for nz, tile 1",
        "        compute Z on MAC",
    ]


def test_render_with_spec_bounds() -> None:
    _reference()
    spec = af.Spec.from_yaml(
        SPECS / "arches" / "simple.yaml",
        SPECS / "workloads" / "matmuls.yaml",
        SPECS / "mappings" / "fused_matmuls_to_simple.yaml",
        jinja_parse_data={"N_EINSUMS": 2, "M": 64, "KN": 32},
    )
    lines = spec.mapping.render(spec=spec).splitlines()
    assert "for m in [0, 64) step 1 (64 iterations)  [fused: Matmul0, Matmul1]" in lines
    assert "      for n0 in [0, 32) step 1 (32 iterations)" in lines
    assert lines[-1] == "          compute Matmul1 on MAC"


def test_render_title_text_and_python_built_split_kinds() -> None:
    mapping = Mapping(
        title="demo",
        nodes=[
            Temporal(rank_variable="m", tile_shape=4, text="outer"),
            Split(
                nodes=[
                    Nested(nodes=[Compute(einsum="A", component="MAC")]),
                    Nested(nodes=[Compute(einsum="B", component="MAC")]),
                ]
            ),
        ],
    )
    assert mapping.render().splitlines() == [
        "demo",
        "for m, tile 4  [fused: A, B]  # outer",
        "  split (2 branches)",
        "    branch 1: A",
        "      compute A on MAC",
        "    branch 2: B",
        "      compute B on MAC",
    ]


# --------------------------------------------------------------------------------------------
# HTML


def test_repr_html_escapes_names_and_marks_fused_loops() -> None:
    mapping = Mapping(
        nodes=[
            Storage(tensors=["T<0>", "A&B"], component='Mem"1"'),
            Temporal(rank_variable="m", tile_shape=1),
            Sequential(
                nodes=[
                    Nested(nodes=[Compute(einsum="E<1>", component="MAC")]),
                    Nested(nodes=[Compute(einsum="E2", component="MAC")]),
                ]
            ),
        ]
    )
    out = mapping._repr_html_()
    assert out.startswith('<div class="af-mapping">') and out.endswith("</div>")
    assert "T&lt;0&gt;, A&amp;B" in out and "Mem&quot;1&quot;" in out
    assert "T<0>" not in out and "E<1>" not in out
    assert 'class="af-node af-temporal af-fused">for m, tile 1</span>' in out
    assert '<span class="af-fused-tag">fused: E&lt;1&gt;, E2</span>' in out
    for kind in ("af-storage", "af-compute", "af-split", "af-branch"):
        assert f'class="af-node {kind}"' in out
    assert out.count("<ul>") == out.count("</ul>")
    assert out.count("<li>") == out.count("</li>")


def test_repr_html_of_spatial_loop() -> None:
    out = _load_mapping(SMALL)._repr_html_()
    assert 'class="af-node af-spatial">spatial-for m, tile 2 over LocalBuffer.Z</span>' in out
    assert 'class="af-fused-tag"' not in out and 'af-fused"' not in out
