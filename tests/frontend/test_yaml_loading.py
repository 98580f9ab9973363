"""Tests of the file-loading stage: Jinja2 rendering, YAML parsing, includes and merges."""

from __future__ import annotations

import builtins
import copy
import math
import os
import pickle
import tempfile
import textwrap
import warnings
from pathlib import Path

import pytest

from accelforge.errors import SpecError, SpecWarning
from accelforge.frontend._yaml import (
    QuotedStr,
    SourcePos,
    TaggedScalar,
    YamlList,
    YamlMap,
    load_yaml_files,
    load_yaml_text,
    position_of,
)

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
SPECS = REFERENCE / "specs"
needs_reference = pytest.mark.skipif(
    not SPECS.is_dir(), reason=f"reference specs not found at {SPECS}"
)


def write(directory: Path, name: str, text: str) -> Path:
    """Write dedented text to ``directory/name`` (creating folders) and return the path."""
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def load_one(path: Path, **data: object) -> YamlMap:
    return load_yaml_files(path, data).data


# --- reference specs (every file of the corpus: test_reference_corpus.py) -----------------


@needs_reference
def test_simple_arch_tags_and_positions() -> None:
    data = load_one(SPECS / "arches" / "simple.yaml")
    nodes = data["arch"]["nodes"]
    assert [node.tag for node in nodes] == ["Memory", "Memory", "Compute"]
    assert isinstance(nodes, YamlList) and nodes.tag is None
    assert nodes[1]["size"] == "inf"  # plain inf stays a string
    assert nodes[0]["actions"][0]["energy"] == 1  # Jinja default rendered
    file = str(SPECS / "arches" / "simple.yaml")
    assert position_of(data, ("arch", "nodes", 1, "size")) == SourcePos(file, 19)
    assert position_of(data, ("arch", "nodes", 1)) == SourcePos(file, 17)
    assert position_of(data, ("arch", "nodes", 1, "actions", 1, "energy")) == SourcePos(file, 25)
    # a missing field falls back to the nearest existing ancestor
    assert position_of(data, ("arch", "nodes", 2, "size")) == SourcePos(file, 27)


@needs_reference
def test_jinja_generated_lines_map_to_source_lines() -> None:
    path = SPECS / "workloads" / "matmuls.yaml"
    data = load_one(path, N_EINSUMS=3, M=64)
    shape = data["workload"]["iteration_space_shape"]
    assert shape["m"] == "0 <= m  < 64"
    assert list(shape) == ["m", "n0", "n1", "n2", "n3"]
    assert {shape.key_pos[f"n{i}"] for i in range(4)} == {SourcePos(str(path), 7)}
    einsums = data["workload"]["einsums"]
    assert [e["name"] for e in einsums] == ["Matmul0", "Matmul1", "Matmul2"]
    assert einsums.item_pos == [SourcePos(str(path), 14)] * 3
    assert position_of(data, ("workload", "bits_per_value")) == SourcePos(str(path), 10)


@needs_reference
def test_matmuls_without_parse_data_names_the_variable() -> None:
    with pytest.raises(SpecError, match="N_EINSUMS") as info:
        load_yaml_files(SPECS / "workloads" / "matmuls.yaml")
    assert info.value.file == str(SPECS / "workloads" / "matmuls.yaml")
    assert info.value.line == 6


# --- scalars and containers ----------------------------------------------------------------


def test_scalar_typing() -> None:
    data = load_yaml_text(
        """
        ints: [1, -3, +4, 0x1F, 0o17, 1_000]
        floats: [1.5, 1e15, .inf, -.inf, .5]
        nan: .nan
        strings: [inf, yes, 2001-12-14, hello + 1]
        quoted: ['5', "x + 1"]
        other: [~, null, true, False]
        tagged: !Foo text
        1: numeric key
        """.replace("\n        ", "\n")
    )
    assert data["ints"] == [1, -3, 4, 31, 15, 1000]
    assert data["floats"] == [1.5, 1e15, math.inf, -math.inf, 0.5]
    assert math.isnan(data["nan"])
    assert data["strings"] == ["inf", "yes", "2001-12-14", "hello + 1"]
    assert not any(isinstance(s, QuotedStr) for s in data["strings"])
    assert all(isinstance(s, QuotedStr) for s in data["quoted"])
    assert data["quoted"] == ["5", "x + 1"]
    assert data["other"] == [None, None, True, False]
    assert isinstance(data["tagged"], TaggedScalar)
    assert (data["tagged"], data["tagged"].tag) == ("text", "Foo")
    assert data["1"] == "numeric key"


def test_containers_copy_and_pickle() -> None:
    data = load_yaml_text("a: !Memory {x: [1, 2]}\nb: !Foo bar\n")
    for clone in (copy.deepcopy(data), pickle.loads(pickle.dumps(data))):
        assert clone == data
        assert clone["a"].tag == "Memory"
        assert clone["a"].key_pos == data["a"].key_pos
        assert clone["a"]["x"].item_pos == data["a"]["x"].item_pos
        assert clone["b"].tag == "Foo"
    assert repr(data["a"]) == "!Memory {'x': [1, 2]}"


def test_position_of_without_positions() -> None:
    assert position_of({"a": 1}, ("a",)) is None
    root = YamlMap({"a": YamlList([1])}, pos=SourcePos("f", 1), key_pos={"a": SourcePos("f", 2)})
    assert position_of(root, ("a", 0)) == SourcePos("f", 2)
    assert position_of(root, ("a", 5)) == SourcePos("f", 2)
    assert position_of(root, ("zzz",)) == SourcePos("f", 1)


def test_unsupported_tags_are_errors() -> None:
    with pytest.raises(SpecError, match="Unsupported YAML tag"):
        load_yaml_text("a: !!python/object:os.system x\n")
    with pytest.raises(SpecError, match="!nomerge marks a mapping or a list"):
        load_yaml_text("a: !nomerge x\n")
    with pytest.raises(SpecError, match="recursive anchor"):
        load_yaml_text("a: &a [1, *a]\n")


# --- Jinja ---------------------------------------------------------------------------------


def test_strict_undefined_message(tmp_path: Path) -> None:
    path = write(tmp_path, "spec.yaml", "a: 1\nworkload:\n  M: {{MSIZE}}\n")
    with pytest.raises(SpecError) as info:
        load_yaml_files(path)
    err = info.value
    assert (err.file, err.line) == (str(path), 3)
    assert "'MSIZE' is undefined" in err.message
    assert "jinja_parse_data" in err.message and "default" in err.message


def test_default_idiom_and_kwargs_override(tmp_path: Path) -> None:
    path = write(tmp_path, "spec.yaml", "{% set M = M | default(128) %}\nv: {{M}}\nw: {{N}}\n")
    assert load_yaml_files(path, {"N": 1}).data == {"v": 128, "w": 1}
    assert load_yaml_files(path, {"N": 1, "M": 2}, N=3).data == {"v": 2, "w": 3}


@pytest.mark.parametrize(
    "expression",
    [
        "''.__class__.__mro__",
        "cycler.__init__.__globals__",
        "().__class__.__base__.__subclasses__()",
    ],
)
def test_sandbox_refuses_attacks(expression: str) -> None:
    with pytest.raises(SpecError, match="sandbox refused") as info:
        load_yaml_text(f"a: 1\nb: {{{{ {expression} }}}}\n", name="evil.yaml")
    assert (info.value.file, info.value.line) == ("evil.yaml", 2)


def test_template_syntax_and_runtime_errors() -> None:
    with pytest.raises(SpecError, match="Jinja syntax error") as info:
        load_yaml_text("a: 1\nb: {% if %}\n")
    assert info.value.line == 2
    with pytest.raises(SpecError, match="ZeroDivisionError") as info:
        load_yaml_text("a: 1\n\nb: {{ 1 / 0 }}\n")
    assert info.value.line == 3


def test_assert_tag() -> None:
    text = '{% set N = N | default(4) %}\n{% assert N > 2, "N must exceed 2" %}\nn: {{N}}\n'
    assert load_yaml_text(text) == {"n": 4}
    with pytest.raises(SpecError, match="Assertion failed: N must exceed 2") as info:
        load_yaml_text(text, name="a.yaml", jinja_parse_data={"N": 1})
    assert (info.value.file, info.value.line) == ("a.yaml", 2)
    with pytest.raises(SpecError, match=r"Assertion failed\."):
        load_yaml_text("{% assert false %}\n")


def test_include_with_key_and_appended_path(tmp_path: Path) -> None:
    model = write(
        tmp_path,
        "parts/_model.yaml",
        """
        workload:
          rank_sizes: {M: 8}
          einsums:
          - !Einsum {name: A}
          - !Einsum {name: B}
        """,
    )
    main = write(
        tmp_path,
        "main.yaml",
        """
        {% set MODEL = include("parts/_model.yaml") %}
        {% set W = include("parts/_model.yaml", "workload") %}
        workload: {{MODEL}}.workload
        einsums:
        - {{W}}.einsums
        sizes: {{ include("parts/_model.yaml", "workload.rank_sizes") }}
        second: {{W}}.einsums.1
        """,
    )
    data = load_one(main)
    assert data["workload"]["rank_sizes"] == {"M": 8}
    assert data["einsums"] == [[{"name": "A"}, {"name": "B"}]]
    assert data["einsums"][0][1].tag == "Einsum"
    assert data["sizes"] == {"M": 8}
    assert data["second"] == {"name": "B"}
    # positions of included data point into the included file
    assert position_of(data, ("workload", "einsums", 1)) == SourcePos(str(model), 5)
    assert position_of(data, ("workload",)) == SourcePos(str(main), 3)


def test_include_missing_key_lists_available_keys(tmp_path: Path) -> None:
    write(tmp_path, "_m.yaml", "workload: {einsums: [], rank_sizes: {}}\n")
    main = write(
        tmp_path, "main.yaml", '{% set M = include("_m.yaml") %}\nw: {{M}}.workload.ensums\n'
    )
    with pytest.raises(SpecError, match="'ensums' not found at workload") as info:
        load_yaml_files(main)
    assert "'einsums', 'rank_sizes'" in info.value.message
    assert (info.value.file, info.value.line) == (str(main), 2)


def test_include_needs_exactly_one_file(tmp_path: Path) -> None:
    write(tmp_path, "p/a.yaml", "x: 1\n")
    write(tmp_path, "p/b.yaml", "x: 2\n")
    several = write(tmp_path, "several.yaml", 'a: 0\nv: {{ include("p/*.yaml") }}\n')
    with pytest.raises(SpecError, match="matches 2 files.*include_all") as info:
        load_yaml_files(several)
    assert (info.value.file, info.value.line) == (str(several), 2)
    missing = write(tmp_path, "missing.yaml", 'v: {{ include("nope.yaml") }}\n')
    with pytest.raises(SpecError, match="No file matches 'nope.yaml'"):
        load_yaml_files(missing)


def test_placeholder_must_stand_alone(tmp_path: Path) -> None:
    write(tmp_path, "_m.yaml", "x: 1\n")
    main = write(tmp_path, "main.yaml", 'v: "{{ include("_m.yaml") }}"\n')
    with pytest.raises(SpecError, match="whole, unquoted YAML value"):
        load_yaml_files(main)
    with pytest.raises(SpecError, match="Unknown include"):
        load_yaml_text("v: !include_loaded 7.x\n")


def test_include_all(tmp_path: Path) -> None:
    write(tmp_path, "layers/b.yaml", "layer: {name: B}\n")
    write(tmp_path, "layers/a.yaml", "layer: {name: A}\n")
    main = write(
        tmp_path,
        "main.yaml",
        """
        all: {{ include_all("layers/*.yaml") }}
        names: {{ include_all("layers/*.yaml", "layer") }}.name
        """,
    )
    data = load_one(main)
    assert data["all"] == [{"layer": {"name": "A"}}, {"layer": {"name": "B"}}]
    assert data["names"] == ["A", "B"]
    assert data["all"].item_pos[1] == SourcePos(str(tmp_path / "layers" / "b.yaml"), 1)


def test_include_text_with_anchor(tmp_path: Path) -> None:
    write(tmp_path, "_defaults.yaml", "defaults: &d\n  energy: {{E}}\n  area: 2\n")
    main = write(
        tmp_path,
        "main.yaml",
        """
        {{ include_text("_defaults.yaml", E=5) }}
        thing: {<<: *d, area: 3}
        """,
    )
    data = load_one(main)
    assert data["thing"] == {"area": 3, "energy": 5}
    # pasted lines keep the positions of the pasted file
    assert data.key_pos["defaults"] == SourcePos(str(tmp_path / "_defaults.yaml"), 1)
    assert data.key_pos["thing"] == SourcePos(str(main), 2)


def test_path_functions(tmp_path: Path) -> None:
    write(tmp_path, "lib/shared.yaml", "value: 42\n")
    main = write(
        tmp_path,
        "sub/main.yaml",
        """
        {{ add_to_path("../lib") }}
        found: {{ find_path("shared.yaml") }}
        all: {{ find_paths("*.yaml") }}
        exists: {{ path_exists("shared.yaml") }}
        missing: {{ path_exists("nope.yaml") }}
        here: {{ cwd() }}
        data: {{ include("shared.yaml") }}.value
        """,
    )
    data = load_one(main)
    shared = os.path.abspath(tmp_path / "lib" / "shared.yaml")
    assert data["found"] == shared
    assert data["all"] == [os.path.abspath(main)]  # the file's own directory matches first
    assert (data["exists"], data["missing"]) == (True, False)
    assert data["here"] == os.path.abspath(tmp_path / "sub")
    assert data["data"] == 42


def test_jinja_include_and_import(tmp_path: Path) -> None:
    write(tmp_path, "_snippet.yaml", "b: {{ 2 * X }}\n")
    write(tmp_path, "_macros.j2", "{% macro double(x) %}{{ 2 * x }}{% endmacro %}\n")
    main = write(
        tmp_path,
        "main.yaml",
        """
        {% import "_macros.j2" as m %}
        a: {{ m.double(3) }}
        {% include "_snippet.yaml" %}
        """,
    )
    data = load_yaml_files(main, X=4).data
    assert data == {"a": 6, "b": 8}
    assert data.key_pos["b"] == SourcePos(str(tmp_path / "_snippet.yaml"), 1)


def test_context_inheritance(tmp_path: Path) -> None:
    write(
        tmp_path, "_frag.yaml", "heads: {{N_HEADS}}\nbatch: {{BATCH}}\nextra: {{X | default(0)}}\n"
    )
    main = write(
        tmp_path,
        "main.yaml",
        """
        {% set N_HEADS = 16 %}
        plain: {{ include("_frag.yaml") }}
        extra: {{ include("_frag.yaml", X=7) }}
        """,
    )
    data = load_yaml_files(main, {"BATCH": 2}).data
    assert data["plain"] == {"heads": 16, "batch": 2, "extra": 0}
    assert data["extra"] == {"heads": 16, "batch": 2, "extra": 7}
    isolated = write(
        tmp_path, "isolated.yaml", 'v: {{ include("_frag.yaml", inherit_parse_data=False) }}\n'
    )
    with pytest.raises(SpecError, match="'N_HEADS' is undefined") as info:
        load_yaml_files(isolated, {"BATCH": 2})
    assert info.value.file == str(tmp_path / "_frag.yaml")


def test_setenv_is_local_to_the_load(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", '{{ setenv("AF_TEST_SETENV", "on") }}\na: 1\n')
    second = write(tmp_path, "b.yaml", "b: {{ AF_TEST_SETENV }}\n")
    assert load_yaml_files([first, second]).data == {"a": 1, "b": "on"}
    assert "AF_TEST_SETENV" not in os.environ
    with pytest.raises(SpecError, match="AF_TEST_SETENV"):
        load_yaml_files(second)


def test_include_cycle(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", 'a: {{ include("b.yaml") }}\n')
    write(tmp_path, "b.yaml", 'b: {{ include("a.yaml") }}\n')
    with pytest.raises(SpecError, match="Include cycle: .*a.yaml -> .*b.yaml -> .*a.yaml"):
        load_yaml_files(a)
    tagged = write(tmp_path, "self.yaml", "me: !include self.yaml\n")
    with pytest.raises(SpecError, match="Include cycle"):
        load_yaml_files(tagged)
    text = write(tmp_path, "text.yaml", '{{ include_text("text.yaml") }}\n')
    with pytest.raises(SpecError, match="Include cycle"):
        load_yaml_files(text)
    jinja = write(tmp_path, "jinja.yaml", 'a: 1\n{% include "jinja.yaml" %}\n')
    with pytest.raises(SpecError, match="does a template include itself") as info:
        load_yaml_files(jinja)
    assert (info.value.file, info.value.line) == (str(jinja), 2)


# --- YAML loader tags ----------------------------------------------------------------------


def test_include_tag(tmp_path: Path) -> None:
    write(tmp_path, "parts/_arch.yaml", "nodes:\n- !Memory {name: M, size: {{S}}}\n")
    main = write(tmp_path, "main.yaml", "arch: !include parts/_arch.yaml\n")
    data = load_yaml_files(main, S=64).data
    assert data["arch"]["nodes"][0].tag == "Memory"
    assert data["arch"]["nodes"][0]["size"] == 64
    assert data["arch"].pos == SourcePos(str(tmp_path / "parts" / "_arch.yaml"), 1)


def test_includedir_tag(tmp_path: Path) -> None:
    write(tmp_path, "einsums/2_b.yaml", "name: B\n")
    write(tmp_path, "einsums/1_a.yaml", "name: A\n")
    write(tmp_path, "einsums/notes.txt", "ignored\n")
    main = write(tmp_path, "main.yaml", "einsums: !includedir einsums\n")
    assert load_one(main)["einsums"] == [{"name": "A"}, {"name": "B"}]


def test_loader_tag_errors(tmp_path: Path) -> None:
    missing = write(tmp_path, "missing.yaml", "a: 1\nb: !includedir nodir\n")
    with pytest.raises(SpecError, match="No path matches 'nodir'") as info:
        load_yaml_files(missing)
    assert (info.value.file, info.value.line) == (str(missing), 2)
    with pytest.raises(SpecError, match="!include takes a path"):
        load_yaml_text("a: !include {x: 1}\n")


def test_nomerge_tag() -> None:
    data = load_yaml_text("a: !nomerge [1]\nb: !nomerge {x: 1}\nc: [1]\n")
    assert data["a"].nomerge and data["b"].nomerge and not data["c"].nomerge
    assert data["a"].tag is None and data["b"].tag is None


# --- merge keys ----------------------------------------------------------------------------


def test_standard_merge_key() -> None:
    data = load_yaml_text(
        """
        base: &b {x: 1, nested: {p: 1, q: 2}, l: [1]}
        other: &o {x: 2, z: 3}
        one: {<<: *b, x: 10, nested: {p: 5}}
        many: {<<: [*b, *o]}
        """.replace("\n        ", "\n")
    )
    assert data["one"] == {"x": 10, "nested": {"p": 5}, "l": [1]}
    assert data["many"] == {"x": 1, "nested": {"p": 1, "q": 2}, "l": [1], "z": 3}
    assert type(data["one"]) is YamlMap and "<<" not in data["one"]
    assert data["one"].key_pos["l"].line == 2  # merged keys keep the anchor's line


@pytest.mark.parametrize("merge_first", [True, False])
def test_deep_merge_is_order_independent(merge_first: bool) -> None:
    body = ["rank_sizes: {M: 1}", "einsums: [local]", "tensors: !nomerge [mine]"]
    lines = ["<<<: *base", *body] if merge_first else [*body, "<<<: *base"]
    text = (
        "base: &base\n"
        "  rank_sizes: {M: 9, N: 2}\n"
        "  einsums: [inherited]\n"
        "  tensors: [theirs]\n"
        "  extra: {deep: {a: 1}}\n"
        "spec:\n" + "".join(f"  {line}\n" for line in lines)
    )
    spec = load_yaml_text(text)["spec"]
    assert spec == {
        "rank_sizes": {"M": 1, "N": 2},
        "einsums": ["local", "inherited"],
        "tensors": ["mine"],
        "extra": {"deep": {"a": 1}},
    }
    assert "<<<" not in spec


def test_deep_merge_list_of_maps_earlier_wins() -> None:
    data = load_yaml_text(
        """
        a: &a {x: 1, l: [a], m: {k: a}}
        b: &b {x: 2, l: [b], m: {k: b, j: b}, y: 2}
        c: {<<<: [*a, *b]}
        d: {<<<: [*a, *b], l: [local], x: 0}
        e: !Memory {<<<: *b}
        f: {<<<: !Compute {q: 1}}
        """.replace("\n        ", "\n")
    )
    assert data["c"] == {"x": 1, "l": ["a", "b"], "m": {"k": "a", "j": "b"}, "y": 2}
    assert data["d"] == {"l": ["local", "a", "b"], "x": 0, "m": {"k": "a", "j": "b"}, "y": 2}
    assert data["e"].tag == "Memory"
    assert data["f"].tag == "Compute"  # an untagged map takes the merged map's tag
    assert data["a"] == {"x": 1, "l": ["a"], "m": {"k": "a"}}  # inputs untouched


def test_deep_merge_of_included_data(tmp_path: Path) -> None:
    write(tmp_path, "_att.yaml", "workload: {rank_sizes: {H: 32, E: 128}}\n")
    write(tmp_path, "_ff.yaml", "workload: {rank_sizes: {H: 1, F: 512}}\n")
    main = write(
        tmp_path,
        "main.yaml",
        """
        {% set ATT = include("_att.yaml") %}
        {% set FF = include("_ff.yaml") %}
        rank_sizes: {<<<: [{{ATT}}.workload.rank_sizes, {{FF}}.workload.rank_sizes]}
        """,
    )
    assert load_one(main)["rank_sizes"] == {"H": 32, "E": 128, "F": 512}


def test_merge_key_errors() -> None:
    with pytest.raises(SpecError, match="Only one '<<' or '<<<' key") as info:
        load_yaml_text("a: 1\nb:\n  <<: {x: 1}\n  <<<: {y: 2}\n")
    assert info.value.line == 4
    with pytest.raises(SpecError, match="must be a mapping or a list of mappings") as info:
        load_yaml_text("a: 1\nb: {<<<: [1, 2]}\n")
    assert info.value.line == 2


# --- syntax and structure errors -----------------------------------------------------------


def test_duplicate_key_names_both_lines() -> None:
    with pytest.raises(SpecError, match=r"Duplicate key 'size'.*d.yaml:2.*d.yaml:4") as info:
        load_yaml_text("m:\n  size: 1\n  area: 0\n  size: 2\n", name="d.yaml")
    assert (info.value.file, info.value.line) == ("d.yaml", 4)


def test_parse_error_shows_rendered_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.yaml",
        """
        {% for i in range(3) %}
        k{{i}}: {{i}}
        {% endfor %}
        broken: : here
        tail: 1
        """,
    )
    with pytest.raises(SpecError) as info:
        load_yaml_files(path)
    err = info.value
    assert (err.file, err.line) == (str(path), 4)
    assert "rendered line 8" in err.message and f"from {path}:4" in err.message
    assert "mapping values are not allowed here" in err.message
    assert ">  8 | broken: : here" in err.message
    assert "6 | k2: 2" in err.message and "9 | tail: 1" in err.message
    assert "^" in err.message


@pytest.mark.parametrize(
    ("text", "found"),
    [("- 1\n- 2\n", "a list"), ("just text\n", "the string 'just text'"), ("", "empty")],
)
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, found: str) -> None:
    path = write(tmp_path, "top.yaml", text)
    with pytest.raises(SpecError, match="must be a mapping") as info:
        load_yaml_files(path)
    assert info.value.file == str(path)
    assert found in info.value.message


# --- combining files -----------------------------------------------------------------------


def test_files_combine_by_top_level_key(tmp_path: Path) -> None:
    arch = write(tmp_path, "arch.yaml", "arch: {nodes: []}\n")
    work = write(tmp_path, "work.yml", "# workload\nworkload: {einsums: []}\n")
    loaded = load_yaml_files([arch, [str(work)]])
    assert loaded.data == {"arch": {"nodes": []}, "workload": {"einsums": []}}
    assert loaded.files == [str(arch), str(work)]
    assert loaded.key_files == {"arch": str(arch), "workload": str(work)}
    assert loaded.data.key_pos["workload"] == SourcePos(str(work), 2)


def test_duplicate_top_level_key_warns_or_errors(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", "arch: {v: 1}\n")
    second = write(tmp_path, "b.yaml", "arch: {v: 2}\nworkload: {}\n")
    with pytest.warns(SpecWarning, match=r"'arch' is defined in both .*a\.yaml and .*b\.yaml"):
        loaded = load_yaml_files([first, second])
    assert loaded.data["arch"] == {"v": 1}
    assert loaded.key_files["arch"] == str(first)
    with pytest.raises(SpecError, match="'arch' is defined in both"):
        load_yaml_files([first, second], strict=True)


def test_unexpected_extension_warns(tmp_path: Path) -> None:
    path = write(tmp_path, "spec.txt", "a: 1\n")
    with pytest.warns(SpecWarning, match="unexpected extension.*loaded anyway"):
        assert load_yaml_files(path).data == {"a": 1}
    with pytest.raises(SpecError, match="unexpected extension"):
        load_yaml_files(path, strict=True)
    for name in ("x.yaml", "x.yml", "x.jinja", "x.jinja2"):
        ok = write(tmp_path, name, "a: 1\n")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            load_yaml_files(ok)


def test_glob_expansion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "specs/2.yaml", "b: 2\n")
    write(tmp_path, "specs/1.yaml", "a: 1\n")
    monkeypatch.chdir(tmp_path)
    loaded = load_yaml_files("specs/*.yaml")
    assert loaded.files == [os.path.join("specs", "1.yaml"), os.path.join("specs", "2.yaml")]
    with pytest.raises(SpecError, match=r"No file matches 'specs/\*\.yml'") as info:
        load_yaml_files("specs/*.yml")
    assert str(tmp_path / "specs") in info.value.message
    with pytest.raises(SpecError, match="No file matches 'nothere.yaml'"):
        load_yaml_files(Path("nothere.yaml"))


def test_same_file_loaded_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "spec.yaml", "a: 1\n")
    monkeypatch.chdir(tmp_path)
    names: list[str | os.PathLike[str]] = [path, "spec.yaml", "./*.yaml"]
    names.append(str(tmp_path / "." / "spec.yaml"))
    if hasattr(os, "symlink"):
        os.symlink(path, tmp_path / "link.yaml")
        names.append(tmp_path / "link.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = load_yaml_files(names)
    assert loaded.files == [str(path)]


def test_load_writes_no_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    good = write(work, "good.yaml", '{% set M = include("_m.yaml") %}\nm: {{M}}\n')
    write(work, "_m.yaml", "x: {{ include_text('_t.yaml') }}\n")
    write(work, "_t.yaml", "1\n")
    bad = write(work, "bad.yaml", "a: b: c\n")
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    monkeypatch.chdir(work)
    writes: list[str] = []
    real_open = builtins.open

    def watching_open(file: object, mode: str = "r", *args: object, **kwargs: object) -> object:
        if any(flag in mode for flag in "wax+"):
            writes.append(str(file))
        return real_open(file, mode, *args, **kwargs)  # type: ignore[call-overload]

    def listing() -> list[str]:
        return sorted(str(p) for p in tmp_path.rglob("*"))

    before = listing()
    monkeypatch.setattr(builtins, "open", watching_open)
    assert load_yaml_files(good).data == {"m": {"x": 1}}
    with pytest.raises(SpecError):
        load_yaml_files(bad)
    monkeypatch.setattr(builtins, "open", real_open)
    assert writes == []
    assert listing() == before
    assert list(private_tmp.iterdir()) == []


def test_variables_read_by_included_templates_count_as_read(tmp_path: Path) -> None:
    write(tmp_path, "_snippet.yaml", "b: {{ 2 * X }}\n")
    main = write(tmp_path, "main.yaml", '{% include "_snippet.yaml" %}\na: {{ Y | default(1) }}\n')
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_yaml_files(main, X=4, Y=2).data == {"b": 8, "a": 2}
    with pytest.warns(SpecWarning, match=r"^Jinja variable\(s\) Z are not used by .*use: X, Y\.$"):
        load_yaml_files(main, X=4, Z=1)


def test_folded_block_scalar_joins_lines_with_spaces_only() -> None:
    # ruamel marks fold points with BEL for round-tripping; the value must not keep them
    data = load_yaml_text("a: >\n  (x if y else z)\n  if w else v\nb: >-\n  p\n  q\n", name="t")
    assert data["a"] == "(x if y else z) if w else v\n"
    assert data["b"] == "p q"
