"""One hand-derived test per accounting rule of docs/MODEL.md, each with its derivation.

All use the shipped two-level ``simple`` arch (MainMemory MM -> GlobalBuffer GLB -> MAC, energy
1 per bit moved and per MAC, infinite bandwidth, MAC throughput 1) unless stated, and small
workloads written here, so the numbers can be derived by hand.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

import accelforge as af
from accelforge.errors import InvalidMappingError, SpecError, SpecWarning
from accelforge.model import evaluate_mapping

MATMUL = """
workload:
  bits_per_value: {All: 8}
  rank_sizes: {M: 4, K: 4, N: 4}
  einsums:
  - Z[m, n] = A[m, k] * B[k, n]
"""

E0_MAPPING = """
mapping:
  nodes:
  - !Storage {tensors: [A, B, Z], component: MainMemory}
  - !Storage {tensors: [A, B, Z], component: GlobalBuffer}
  - !Temporal {rank_variable: m, tile_shape: 1}
  - !Temporal {rank_variable: n, tile_shape: 1}
  - !Temporal {rank_variable: k, tile_shape: 1}
  - !Compute {einsum: Z, component: MAC}
"""


def _spec(tmp_path: Path, *texts: str, arch: Path | None = None, **jinja: Any) -> af.Spec:
    files = [arch or af.examples.arches.simple]
    for i, text in enumerate(texts):
        path = tmp_path / f"part{i}.yaml"
        path.write_text(text)
        files.append(path)
    return af.Spec.from_yaml(*files, jinja_parse_data=jinja)


def _count(result: Any, component: str, tensor: str | None, action: str) -> float:
    table = result.breakdown
    rows = table[
        (table.component == component)
        & (table.action == action)
        & (table.tensor.isna() if tensor is None else table.tensor == tensor)
    ]
    return float(rows["count"].sum())


def test_first_touch_skipping_e0(tmp_path: Path) -> None:
    # Z is the output. GLB holds the whole 4x4 tile (16 values, A_GLB = 1); the MAC sits under
    # m, n, k (A_C = 64) and k is irrelevant to Z, so Â_C = 16 first touches.
    # GLB Z reads  = Vpar_C - Kpar_C + Vown_GLB = 64 - 16 + 16 = 64 values = 512 bits.
    # GLB Z writes = (Vown - Kown)_GLB + Vpar_C = (16 - 16) + 64 = 64 values = 512 bits.
    # MM Z reads = Vpar_GLB - Kpar_GLB = 16 - 16 = 0; MM Z writes = Vpar_GLB = 16 values.
    # Inputs: GLB reads 64 values (512 b), GLB writes its fill 16 (128 b), MM reads 16 (128 b).
    result = evaluate_mapping(_spec(tmp_path, MATMUL, E0_MAPPING))
    assert _count(result, "MainMemory", "A", "read") == 128
    assert _count(result, "MainMemory", "Z", "read") == 0
    assert _count(result, "MainMemory", "Z", "write") == 128
    assert _count(result, "GlobalBuffer", "A", "read") == 512
    assert _count(result, "GlobalBuffer", "A", "write") == 128
    assert _count(result, "GlobalBuffer", "Z", "read") == 512
    assert _count(result, "GlobalBuffer", "Z", "write") == 512
    assert _count(result, "MAC", None, "compute") == 64
    # Energy: MM 128 + 128 + 128, GLB 3 x (512 + ...) = 2752 in all; latency 64 MACs / 1.
    assert result.energy() == 2752
    assert result.latency() == 64


MM_FIELDS = "    tensors: {keep: ~Intermediates, may_keep: All}\n"
GLB_FIELDS = "    tensors: {keep: ~MainMemory, may_keep: All}\n"


@pytest.mark.parametrize(
    ("anchor", "extra", "component", "tensor", "action", "count", "energy"),
    [
        # MM bits_per_action 8: an 8-bit value is one action, so 128 bits -> 16 actions.
        (MM_FIELDS, "    bits_per_action: 8\n", "MainMemory", "A", "read", 16, 16),
        # values_per_action 2 on every tensor: 16 values -> 8 actions.
        (MM_FIELDS, "    values_per_action: {All: 2}\n", "MainMemory", "A", "read", 8, 8),
        # bits_per_value 2 for A at MM only: 16 values x 2 b = 32 bit-actions.
        (MM_FIELDS, "    bits_per_value: {A: 2}\n", "MainMemory", "A", "read", 32, 32),
        # actions_scale 3 triples the count; energy_scale 2 doubles the energy per action.
        (
            MM_FIELDS,
            "    actions_scale: 3\n    energy_scale: 2\n",
            "MainMemory",
            "A",
            "read",
            384,
            768,
        ),
    ],
)
def test_bits_values_and_scales(
    tmp_path: Path,
    anchor: str,
    extra: str,
    component: str,
    tensor: str,
    action: str,
    count: float,
    energy: float,
) -> None:
    text = af.examples.arches.simple.read_text().replace(anchor, anchor + extra, 1)
    (tmp_path / "arch.yaml").write_text(text)
    result = evaluate_mapping(_spec(tmp_path, MATMUL, E0_MAPPING, arch=tmp_path / "arch.yaml"))
    assert _count(result, component, tensor, action) == count
    assert (
        result.energy(per_component=True, per_tensor=True, per_action=True)[
            (component, tensor, action)
        ]
        == energy
    )


@pytest.mark.parametrize(
    ("extra", "latency"),
    [
        # GLB reads 1536 b (A, B, Z 512 each), writes 768 b (A 128, B 128, Z 512); separate
        # ports: max(1536 / 2, 768 / 4) = 768.
        ("    total_latency: max(a.n_calls / a.throughput for a in actions)\n", 768),
        # One shared port counted in calls, scaled by a spec variable: (1536 + 768) x 3.
        ("    total_latency: sum(a.n_calls for a in actions) * V\n", 6912),
    ],
)
def test_total_latency_expressions(tmp_path: Path, extra: str, latency: float) -> None:
    text = af.examples.arches.simple.read_text().replace(GLB_FIELDS, GLB_FIELDS + extra, 1)
    text = text.replace(
        "{name: read, energy: {{GLB_ENERGY}}, throughput: {{GLB_THROUGHPUT}}}",
        "{name: read, energy: 1, throughput: 2}",
    )
    text = text.replace(
        "{name: write, energy: {{GLB_ENERGY}}, throughput: {{GLB_THROUGHPUT}}}",
        "{name: write, energy: 1, throughput: 4}",
    )
    (tmp_path / "arch.yaml").write_text(text)
    spec = _spec(tmp_path, MATMUL, E0_MAPPING, "variables: {V: 3}\n", arch=tmp_path / "arch.yaml")
    result = evaluate_mapping(spec)
    assert result.latency(per_component=True)["GlobalBuffer"] == latency
    assert result.latency() == max(latency, 64)


def test_skip_flag_asymmetry(tmp_path: Path) -> None:
    # GLB skip_initial_output_write false: GLB's own first fills are no longer removed
    # (writes = 16 - 0 + 64 = 80 values = 640 b) and it no longer subtracts the MAC's first
    # touches (reads = 64 - 0 + 16 = 80 values = 640 b). MM now serves the fill read: 16 - 0 =
    # 16 values = 128 b, while MM's own writes stay 16 values.
    text = af.examples.arches.simple.read_text().replace(
        "    tensors: {keep: ~MainMemory, may_keep: All}",
        "    tensors: {keep: ~MainMemory, may_keep: All}\n    skip_initial_output_write: false",
    )
    (tmp_path / "arch.yaml").write_text(text)
    result = evaluate_mapping(_spec(tmp_path, MATMUL, E0_MAPPING, arch=tmp_path / "arch.yaml"))
    assert _count(result, "GlobalBuffer", "Z", "read") == 640
    assert _count(result, "GlobalBuffer", "Z", "write") == 640
    assert _count(result, "MainMemory", "Z", "read") == 128
    assert _count(result, "MainMemory", "Z", "write") == 128


AT_MAC = """
arch:
  nodes:
  - !Memory {name: MainMemory, size: inf, leak_power: 0, area: 0,
             tensors: {keep: ~Intermediates, may_keep: All},
             actions: [{name: read, energy: 1, throughput: inf},
                       {name: write, energy: 1, throughput: inf}]}
  - !Memory {name: GlobalBuffer, size: inf, leak_power: 0, area: 0, tensors: {keep: All},
             actions: [{name: read, energy: 1, throughput: inf},
                       {name: write, energy: 1, throughput: inf}]}
  - !Compute {name: MAC, leak_power: 0, area: 0, spatial: [{name: X, fanout: 4}],
              actions: [{name: compute, energy: 1, throughput: 1}]}
"""


def _spatial_mapping(spatial_variable: str) -> str:
    temporal = [v for v in ("m", "n", "k") if v != spatial_variable]
    return f"""
mapping:
  nodes:
  - !Storage {{tensors: [A, B, Z], component: MainMemory}}
  - !Storage {{tensors: [A, B, Z], component: GlobalBuffer}}
  - !Temporal {{rank_variable: {temporal[0]}, tile_shape: 1}}
  - !Temporal {{rank_variable: {temporal[1]}, tile_shape: 1}}
  - !Spatial {{rank_variable: {spatial_variable}, tile_shape: 1, name: X, component: MAC}}
  - !Compute {{einsum: Z, component: MAC}}
"""


def test_multicast(tmp_path: Path) -> None:
    # Spatial n (4 MACs) is irrelevant to A[m, k]: GLB sends each A value once to all four
    # MACs. GLB A reads = u 1 x B_C (m 4 x k 4, n multicast) = 16 values = 128 b instead of 512.
    # B[k, n] is indexed by n: no multicast, 64 values = 512 b.
    (tmp_path / "arch.yaml").write_text(AT_MAC)
    spec = _spec(tmp_path, MATMUL, _spatial_mapping("n"), arch=tmp_path / "arch.yaml")
    result = evaluate_mapping(spec)
    assert _count(result, "GlobalBuffer", "A", "read") == 128
    assert _count(result, "GlobalBuffer", "B", "read") == 512
    # MAC latency: 16 temporal steps per instance (m x k), throughput 1.
    assert result.latency() == 16
    assert result.resource_usage()["MAC.X"] == 1.0


def test_spatial_reduction(tmp_path: Path) -> None:
    # Spatial k is irrelevant to Z[m, n]: the four MACs' partial sums are reduced on the way
    # up. GLB Z writes = own fill (16 - 16 first) + MAC updates u 1 x (m 4 x n 4) = 16 values;
    # reads = 16 updates - 16 first touches + 16 drains = 16 values. Both 128 b.
    (tmp_path / "arch.yaml").write_text(AT_MAC)
    spec = _spec(tmp_path, MATMUL, _spatial_mapping("k"), arch=tmp_path / "arch.yaml")
    result = evaluate_mapping(spec)
    assert _count(result, "GlobalBuffer", "Z", "write") == 128
    assert _count(result, "GlobalBuffer", "Z", "read") == 128
    assert _count(result, "GlobalBuffer", "A", "read") == 512


CONV = """
workload:
  rank_sizes: {X: 10}
  iteration_space_shape: {p: 0 <= p < 8, r: 0 <= r < 3}
  bits_per_value: {All: 8}
  einsums:
  - name: Conv
    tensor_accesses:
    - {name: I, projection: {X: p + r}}
    - {name: W, projection: [r]}
    - {name: O, projection: [p], output: true}
"""
"""A 1-D convolution O[p] = I[p + r] * W[r] (docs/MODEL.md E11)."""


def test_partially_relevant_index_halo(tmp_path: Path) -> None:
    # O[p] = I[X: p + r] * W[r], p < 8, r < 3; MM -> p/2 -> GLB -> p/1 -> r/1 -> MAC.
    # The GLB tile of I under p/2 spans p + r: 2 + 3 - 1 = 4 values, fetched for each of the 4
    # iterations of p: 16 values = 128 b read from MM, although only 10 distinct values exist
    # (no sliding-window reuse). W (3 values) is refetched 4 times: 96 b.
    workload = CONV
    mapping = """
mapping:
  nodes:
  - !Storage {tensors: [I, W, O], component: MainMemory}
  - !Temporal {rank_variable: p, tile_shape: 2}
  - !Storage {tensors: [I, W, O], component: GlobalBuffer}
  - !Temporal {rank_variable: p, tile_shape: 1}
  - !Temporal {rank_variable: r, tile_shape: 1}
  - !Compute {einsum: Conv, component: MAC}
"""
    result = evaluate_mapping(_spec(tmp_path, workload, mapping, GLB_SIZE=1000))
    assert _count(result, "MainMemory", "I", "read") == 128
    assert _count(result, "MainMemory", "W", "read") == 96
    assert _count(result, "MainMemory", "O", "write") == 64
    # GLB: I 4 values (32 b), W 3 (24 b), O lowered through p/1 to 1 value (8 b): 64 / 1000.
    assert result.resource_usage()["GlobalBuffer"] == pytest.approx(0.064)


def test_imperfect_outermost_loop(tmp_path: Path) -> None:
    # M = 10 with an outer m tile of 3: 10/3 exact for m-indexed tensors and computes,
    # ceil(10/3) = 4 iterations for W0, to which m is irrelevant.
    # Computes 10/3 x 3 x 4 x 4 = 160; MM T0 reads 12 values x 10/3 x 8 b = 320;
    # MM W0 reads 16 values x 4 x 8 b = 512 (padded).
    workload = af.examples.workloads.matmuls
    mapping = """
mapping:
  nodes:
  - !Storage {tensors: [T0, W0, T1], component: MainMemory}
  - !Temporal {rank_variable: m, tile_shape: 3}
  - !Storage {tensors: [T0, W0, T1], component: GlobalBuffer}
  - !Temporal {rank_variable: m, tile_shape: 1}
  - !Temporal {rank_variable: n0, tile_shape: 1}
  - !Temporal {rank_variable: n1, tile_shape: 1}
  - !Compute {einsum: Matmul0, component: MAC}
"""
    (tmp_path / "m.yaml").write_text(mapping)
    spec = af.Spec.from_yaml(
        af.examples.arches.simple,
        workload,
        tmp_path / "m.yaml",
        jinja_parse_data={"N_EINSUMS": 1, "M": 10, "KN": 4, "GLB_SIZE": 1000},
    )
    result = evaluate_mapping(spec)
    assert _count(result, "MAC", None, "compute") == pytest.approx(160)
    assert _count(result, "MainMemory", "T0", "read") == pytest.approx(320)
    assert _count(result, "MainMemory", "W0", "read") == 512
    # Capacity uses the full tile: T0 3 x 4 x 8 = 96 b, W0 128 b, T1 lowered to 1 x 4 = 32 b.
    assert result.resource_usage()["GlobalBuffer"] == pytest.approx(0.256)


@pytest.mark.parametrize(("order", "usage"), [("[T1, W0, T0]", 0.392), ("[T0, T1, W0]", 0.64)])
def test_reservation_lowering_depends_on_tensor_order(
    tmp_path: Path, order: str, usage: float
) -> None:
    # M = 8, KN = 4; GLB holds all three under MM. A pending reservation stops at the next
    # storage node, so only the last-listed tensor is lowered:
    # [T1, W0, T0]: T1 full 8x4 = 256 b, W0 4x4 = 128 b, T0 lowered through m and n0 to 1 value
    # = 8 b -> 392 / 1000. [T0, T1, W0]: T0 256, T1 256, W0 last but m is irrelevant to W0, so
    # it stops at once: 128 -> 640 / 1000.
    mapping = f"""
mapping:
  nodes:
  - !Storage {{tensors: [T0, W0, T1], component: MainMemory}}
  - !Storage {{tensors: {order}, component: GlobalBuffer}}
  - !Temporal {{rank_variable: m, tile_shape: 1}}
  - !Temporal {{rank_variable: n0, tile_shape: 1}}
  - !Temporal {{rank_variable: n1, tile_shape: 1}}
  - !Compute {{einsum: Matmul0, component: MAC}}
"""
    (tmp_path / "m.yaml").write_text(mapping)
    spec = af.Spec.from_yaml(
        af.examples.arches.simple,
        af.examples.workloads.matmuls,
        tmp_path / "m.yaml",
        jinja_parse_data={"N_EINSUMS": 1, "M": 8, "KN": 4, "GLB_SIZE": 1000},
    )
    result = evaluate_mapping(spec)
    assert result.resource_usage()["GlobalBuffer"] == pytest.approx(usage)
    assert result.energy() == 5248


FUSED = """
mapping:
  nodes:
  - !Storage {tensors: [T0, T2], component: MainMemory}
  - !Storage {tensors: [W0], component: MainMemory}
  - !Storage {tensors: [W1], component: MainMemory}
  - !Storage {tensors: [W0], component: GlobalBuffer}
  - !Storage {tensors: [W1], component: GlobalBuffer}
  - !Temporal {rank_variable: m, tile_shape: 1}
  - !Sequential
    nodes:
    - !Nested
      nodes:
      - !Storage {tensors: [T0, T1], component: GlobalBuffer}
      - !Temporal {rank_variable: n0, tile_shape: 1}
      - !Temporal {rank_variable: n1, tile_shape: 1}
      - !Compute {einsum: Matmul0, component: MAC}
    - !Nested
      nodes:
      - !Storage {tensors: [T1, T2], component: GlobalBuffer}
      - !Temporal {rank_variable: n1, tile_shape: 1}
      - !Temporal {rank_variable: n2, tile_shape: 1}
      - !Compute {einsum: Matmul1, component: MAC}
"""


@pytest.mark.parametrize(("size", "fits"), [(16896, True), (16895, False)])
def test_fused_capacity_sums_above_and_maxes_below(tmp_path: Path, size: int, fits: bool) -> None:
    # M = 64, KN = 32. W0 and W1 (1024 values = 8192 b each) sit above the shared m loop
    # (depth 0 < 1 shared loop): summed. Per-Einsum tiles under m: T0/T1/T2 rows of 32 values
    # = 256 b. T1 is the fused tensor's backing (counted once). Peak = 8192 + 8192 + T1 256 +
    # max(T0 256, T2 256) = 16896 bits.
    (tmp_path / "m.yaml").write_text(FUSED)
    spec = af.Spec.from_yaml(
        af.examples.arches.simple,
        af.examples.workloads.matmuls,
        tmp_path / "m.yaml",
        jinja_parse_data={"N_EINSUMS": 2, "M": 64, "KN": 32, "GLB_SIZE": size},
    )
    if fits:
        assert evaluate_mapping(spec).resource_usage()["GlobalBuffer"] == 1.0
    else:
        with pytest.raises(InvalidMappingError, match=r"need 16896 bits of GlobalBuffer.*16895"):
            evaluate_mapping(spec)


def test_forbidden_placement_and_constraint_warning(tmp_path: Path) -> None:
    # The TPU-like WeightRegister keeps only `weight`: storing the input there is an error.
    mapping = """
mapping:
  nodes:
  - !Storage {tensors: [X_in, X], component: DRAM}
  - !Storage {tensors: [X_in], component: WeightRegister}
  - !Temporal {rank_variable: b, tile_shape: 1}
  - !Temporal {rank_variable: m, tile_shape: 1}
  - !Temporal {rank_variable: d, tile_shape: 1}
  - !Compute {einsum: X, component: MAC}
"""
    (tmp_path / "m.yaml").write_text(mapping)
    spec = af.Spec.from_yaml(
        af.examples.arches.tpu_like, af.examples.workloads.transformer_block, tmp_path / "m.yaml"
    )
    with pytest.raises(InvalidMappingError, match="X_in in WeightRegister .* is not allowed"):
        evaluate_mapping(spec, allow_partial=True)
    # Storing the intermediate X in the GlobalBuffer above the DRAM node breaks the memory
    # hierarchy order the mapper enforces: the model evaluates it and warns, listing it.
    spec.mapping.nodes[:2] = [
        spec.mapping.nodes[0].model_copy(update={"tensors": ["X"], "component": "GlobalBuffer"}),
        spec.mapping.nodes[0].model_copy(update={"tensors": ["X_in"]}),
    ]
    with pytest.warns(SpecWarning, match="X_in in DRAM sits below X in GlobalBuffer"):
        result = evaluate_mapping(spec, allow_partial=True)
    assert result.einsums == ["X"]


def test_mapping_built_in_python(tmp_path: Path) -> None:
    # The E0 mapping written as objects instead of YAML gives the same 2752 energy.
    from accelforge.frontend.mapping import Compute, Mapping, Storage, Temporal

    mapping = Mapping(
        nodes=[
            Storage(tensors=["A", "B", "Z"], component="MainMemory"),
            Storage(tensors=["A", "B", "Z"], component="GlobalBuffer"),
            *[Temporal(rank_variable=v, tile_shape=1) for v in ("m", "n", "k")],
            Compute(einsum="Z", component="MAC"),
        ]
    )
    spec = _spec(tmp_path, MATMUL)
    assert evaluate_mapping(spec, mapping).energy() == 2752
    assert "for m, tile 1" in mapping.render()


COPY = """
mapping:
  nodes:
  - !Storage {tensors: [X_in], component: DRAM}
  - !Storage {tensors: [X], component: GlobalBuffer}
  - !Temporal {rank_variable: b, tile_shape: 1}
  - !Temporal {rank_variable: m, tile_shape: 1}
  - !Temporal {rank_variable: d, tile_shape: 1}
  - !Compute {einsum: X, component: MAC}
"""


@pytest.mark.filterwarnings("ignore:Einsum\\(s\\).*are not mapped")
def test_copy_einsum_moves_data_upward_as_accelforge_1_0_467(tmp_path: Path) -> None:
    # AccelForge 1.0.467 (docs/MODEL.md §11): a copy's storage nodes all hold its source, the
    # Compute reads nothing, and data flows upward: the GlobalBuffer node is read once per
    # element it holds and DRAM written as much (DRAM read + GlobalBuffer write would be the
    # physical direction; 1.0.467 counts the other one, and its optima depend on it).
    (tmp_path / "m.yaml").write_text(COPY)
    spec = af.Spec.from_yaml(
        af.examples.arches.tpu_like, af.examples.workloads.transformer_block, tmp_path / "m.yaml"
    )
    result = evaluate_mapping(spec, allow_partial=True)
    counts = result.actions(per_component=True, per_tensor=True, per_action=True)
    values = math.prod(spec.evaluate_workload().einsums["X"].rank_variable_bounds.values())
    bits = values * 8
    assert counts[("GlobalBuffer", "X_in", "read")] == bits
    assert counts[("DRAM", "X_in", "write")] == bits
    assert counts.drop([("GlobalBuffer", "X_in", "read"), ("DRAM", "X_in", "write")]).sum() == 0
    assert result.energy() == pytest.approx(bits * (6.5e-12 + 1.5e-13), rel=1e-12)
    # A loop between the nodes and a second GlobalBuffer node (merged into the first) change
    # nothing: every element still goes up once.
    tiled = COPY.replace(
        "  - !Storage {tensors: [X], component: GlobalBuffer}\n",
        "  - !Temporal {rank_variable: m, tile_shape: 1}\n"
        "  - !Storage {tensors: [X_in], component: GlobalBuffer}\n"
        "  - !Storage {tensors: [X], component: GlobalBuffer}\n",
    )
    (tmp_path / "m.yaml").write_text(tiled)
    spec = af.Spec.from_yaml(
        af.examples.arches.tpu_like, af.examples.workloads.transformer_block, tmp_path / "m.yaml"
    )
    again = evaluate_mapping(spec, allow_partial=True)
    assert again.actions(per_component=True, per_tensor=True, per_action=True).equals(counts)
    # Source and destination in one memory: nothing moves.
    (tmp_path / "m.yaml").write_text(
        COPY.replace("[X], component: GlobalBuffer", "[X], component: DRAM")
    )
    spec = af.Spec.from_yaml(
        af.examples.arches.tpu_like, af.examples.workloads.transformer_block, tmp_path / "m.yaml"
    )
    assert evaluate_mapping(spec, allow_partial=True).energy() == 0


RENAMED_CHAIN = """
workload:
  bits_per_value: {All: 8}
  rank_sizes: {M: 64, N0: 32, N1: 32, N2: 32}
  einsums:
  - name: Matmul0
    tensor_accesses:
    - {name: T0, projection: [m, n0]}
    - {name: W0, projection: [n0, n1]}
    - {name: T1, projection: [m, n1], output: true}
  - name: Matmul1
    tensor_accesses:
    - {name: T1, projection: {M: x, N1: j}}
    - {name: W1, projection: {N1: j, N2: n2}}
    - {name: T2, projection: {M: x, N2: n2}, output: true}
"""


def test_shared_loop_gives_its_rank_variable_per_einsum(tmp_path: Path) -> None:
    # FUSED with Matmul1 indexing T1 by x and j: the shared loop is over m in Matmul0 and over
    # x in Matmul1, and the mapping evaluates exactly as FUSED on the same-named chain.
    renamed = FUSED.replace("rank_variable: m,", "rank_variable: {Matmul0: m, Matmul1: x},")
    second = renamed.index("einsum: Matmul0")
    renamed = renamed[:second] + renamed[second:].replace("rank_variable: n1", "rank_variable: j")
    (tmp_path / "m.yaml").write_text(FUSED)
    plain = af.Spec.from_yaml(
        af.examples.arches.simple,
        af.examples.workloads.matmuls,
        tmp_path / "m.yaml",
        jinja_parse_data={"N_EINSUMS": 2, "M": 64, "KN": 32},
    )
    expected = evaluate_mapping(plain)
    spec = _spec(tmp_path, RENAMED_CHAIN, renamed)
    result = evaluate_mapping(spec)
    assert (result.energy(), result.latency()) == (expected.energy(), expected.latency())
    assert "for m/x, tile 1" in spec.mapping.render()


@pytest.mark.parametrize(
    ("loop", "error", "message"),
    [
        ("[m, x]", SpecError, "one rank variable per loop"),
        ("{Matmul0: m, Matmul1: n0}", SpecError, "'n0' for Einsum 'Matmul1', which has no such"),
        ("{Matmul0: m}", InvalidMappingError, "gives no rank variable for Einsum Matmul1"),
    ],
)
def test_shared_loop_rank_variable_errors(
    tmp_path: Path, loop: str, error: type[Exception], message: str
) -> None:
    mapping = FUSED.replace("rank_variable: m,", f"rank_variable: {loop},")
    with pytest.raises(error, match=message):
        evaluate_mapping(_spec(tmp_path, RENAMED_CHAIN, mapping))
