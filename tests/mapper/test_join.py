"""The join's final set and its matching of fused loops (docs/MAPPER.md §5-§7).

- With one objective the result is the optimum and every exact tie of it that survives to the
  final join step (§7); with several objectives the front keeps one row per point.
- Fused loops are matched by the tensor ranks they iterate over, not by rank-variable names
  (§5): a chain whose consumer names the intermediate's dimensions differently fuses exactly
  like its twin written with the producer's names (same front, same numbers).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import accelforge as af
from accelforge.frontend._yaml import load_yaml_text
from accelforge.frontend.mapping import Mapping
from accelforge.mapper import map_workload_to_arch
from accelforge.results import Mappings
from tests.mapper.specs import simple_arch_spec

# DRAM 10x the GlobalBuffer's energy and a 1 bit/cycle GlobalBuffer, so energy and latency
# trade off (as in the reference cases).
SIMPLE = {"DRAM_ENERGY": 10, "GLB_THROUGHPUT": 1}


def _matmuls(metrics: af.Metrics, ties: bool = False) -> Mappings:
    spec = af.Spec.from_yaml(
        af.examples.arches.simple,
        af.examples.workloads.matmuls,
        jinja_parse_data={"N_EINSUMS": 2, "M": 4, "KN": 4, **SIMPLE},
    )
    spec.mapper.metrics = metrics
    return map_workload_to_arch(spec, ties=ties)


def test_single_objective_returns_the_optimum_and_with_ties_every_tie() -> None:
    ties = _matmuls(af.Metrics.ENERGY, ties=True)
    energies = ties.data["energy"]
    assert len(ties) > 1
    assert (energies == energies.min()).all()
    assert len({item.to_yaml() for item in ties}) == len(ties)  # distinct mappings

    one = _matmuls(af.Metrics.ENERGY)  # the default: ties broken by latency, then usage
    assert len(one) == 1
    assert one.data["energy"][0] == energies.min()
    assert one.data["latency"][0] == ties.data["latency"].min()
    fastest = ties.data[ties.data["latency"] == ties.data["latency"].min()]
    usage = [c for c in ties.data.columns if c.startswith("usage ") and c.count(" ") == 1]
    assert one.data[usage].sum(axis=1)[0] == fastest[usage].sum(axis=1).min()
    assert one[0].to_yaml() == _matmuls(af.Metrics.ENERGY)[0].to_yaml()  # deterministic

    front = _matmuls(af.Metrics.ENERGY | af.Metrics.LATENCY).data
    points = list(zip(front["energy"], front["latency"], strict=True))
    assert len(set(points)) == len(points) == 9  # one row per point, as before
    assert front["energy"].min() == energies.min()


PLAIN = """
workload:
  bits_per_value: {All: 8}
  rank_sizes: {M: 4, N0: 2, N1: 4, N2: 2}
  einsums:
  - "T1[m, n1] = T0[m, n0] * W0[n0, n1]"
  - "T2[m, n2] = T1[m, n1] * W1[n1, n2]"
"""
# The same chain; the consumer indexes T1's ranks M and N1 with x and j.
RENAMED = PLAIN.replace(
    '"T2[m, n2] = T1[m, n1] * W1[n1, n2]"',
    '"T2[M: x, N2: n2] = T1[M: x, N1: j] * W1[N1: j, N2: n2]"',
)
# As in GPT-3's QK: the consumer reads K's rank M with p, and its own m indexes another tensor
# (so matching by name would pair the wrong loops). The twin renames QK's variables so that K
# is read with m.
ATTENTION = """
workload:
  bits_per_value: {All: 8}
  rank_sizes: {M: 4, D: 2, E: 2}
  einsums:
  - "K[m, e] = I[m, d] * WK[d, e]"
  - "QK[m, p] = Q[m, e] * K[M: p, E: e]"
"""
ATTENTION_TWIN = ATTENTION.replace(
    '"QK[m, p] = Q[m, e] * K[M: p, E: e]"', '"QK[M: q, P: m] = Q[M: q, E: e] * K[m, e]"'
)


def _chain(workload: str, glb_size: int, metrics: af.Metrics, folder: Path) -> Mappings:
    spec = simple_arch_spec(workload, folder, GLB_SIZE=glb_size, **SIMPLE)
    spec.mapper.metrics = metrics
    return map_workload_to_arch(spec)


# GlobalBuffer sizes (bits) small enough that fusion decides the front.
@pytest.mark.parametrize(
    ("twin", "renamed", "glb_size", "shared_loop"),
    [
        (PLAIN, RENAMED, 128, "rank_variable: {T1: m, T2: x}"),
        (ATTENTION_TWIN, ATTENTION, 64, "rank_variable: {K: m, QK: p}"),
    ],
    ids=["matmul_chain", "attention"],
)
@pytest.mark.parametrize(
    "metrics", [af.Metrics.ENERGY, af.Metrics.ENERGY | af.Metrics.LATENCY], ids=str
)
def test_renamed_rank_variables_fuse_like_shared_names(
    twin: str, renamed: str, glb_size: int, shared_loop: str, metrics: af.Metrics, tmp_path: Path
) -> None:
    expected = _chain(twin, glb_size, metrics, tmp_path).data
    mappings = _chain(renamed, glb_size, metrics, tmp_path)
    columns = ["energy", "latency"]
    assert mappings.data[columns].to_numpy().tolist() == expected[columns].to_numpy().tolist()
    # The optimum fuses under a loop that each Einsum runs over its own rank variable, and
    # that mapping loads back from its YAML.
    best = mappings[0]
    assert shared_loop in best.to_yaml()
    reloaded = Mapping.from_data(load_yaml_text(best.to_yaml())["mapping"], ("mapping",))
    assert reloaded == best.mapping


@pytest.mark.parametrize("beam", [None, 1])
@pytest.mark.parametrize(
    "metrics",
    [
        af.Metrics.ENERGY,
        af.Metrics.LATENCY,
        af.Metrics.ENERGY | af.Metrics.LATENCY,
        af.Metrics.ENERGY_DELAY_PRODUCT,
    ],
)
def test_bound_pruning_keeps_the_optimum_and_every_tie(
    metrics: af.Metrics, beam: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Greedy joins bound the exact one (docs/MAPPER.md §6.4): same answer (the optimum and its
    # ties, the whole front, or the best energy x latency), fewer joined rows, whether their
    # beam is the default or a single partial join per step (a weaker bound).
    from accelforge.mapper._join import join as join_module
    from accelforge.mapper.objectives import Objectives
    from tests.mapper.test_knobs import constrained

    if beam is not None:
        monkeypatch.setattr(join_module, "BEAM", beam)

    def run() -> tuple[list, list[int]]:
        spec = constrained(4)
        spec.mapper.metrics = metrics
        steps: list[int] = []
        result = map_workload_to_arch(spec, on_event=lambda e: _rows_out(e, steps))
        return [m.to_yaml() for m in result], steps

    bounded, bounded_steps = run()
    monkeypatch.setattr(Objectives, "bound_pruning", property(lambda self: False))
    exact, exact_steps = run()
    assert bounded == exact and len(exact) >= 1
    assert sum(bounded_steps) < sum(exact_steps)


def _rows_out(event: object, steps: list[int]) -> None:
    if type(event).__name__ == "JoinStep":
        steps.append(event.rows_out)  # type: ignore[attr-defined]


LOCAL_BUFFER = """  - !Memory
    name: LocalBuffer
    size: 1024
    area: 0
    leak_power: 0
    tensors: {may_keep: All}
    actions:
    - {name: read, energy: 1, throughput: inf}
    - {name: write, energy: 1, throughput: inf}

"""
"""A PE-local buffer, inserted into ``simple`` between the GlobalBuffer and the MAC."""


def test_a_buffer_only_under_fused_loops_is_not_tracked_and_the_front_is_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A LocalBuffer below the GlobalBuffer that backs the intermediates only ever holds data
    # under the fused loops: it is released before the next Einsum of a fused group runs, so
    # the tile search's per-Einsum capacity check is the joint one and the join does not track
    # it (docs/MAPPER.md §6.3). Tracking it anyway gives the same front, with more rows kept.
    from accelforge.mapper._pmappings import make as pmappings_module
    from accelforge.mapper._pmappings.make import PmappingContext

    simple = Path(af.examples.arches.simple).read_text()
    (tmp_path / "arch.yaml").write_text(
        simple.replace("  - !Compute", LOCAL_BUFFER + "  - !Compute")
    )

    def spec() -> af.Spec:
        out = af.Spec.from_yaml(
            tmp_path / "arch.yaml",
            af.examples.workloads.matmuls,
            jinja_parse_data={
                "N_EINSUMS": 2,
                "M": 16,
                "KN": 16,
                "GLB_SIZE": 65536,
                "GLB_ENERGY": 2,
                **SIMPLE,
            },
        )
        out.mapper.metrics = af.Metrics.ENERGY | af.Metrics.LATENCY
        return out

    def run() -> tuple[list[tuple[float, float]], int]:
        steps: list[int] = []
        result = map_workload_to_arch(spec(), on_event=lambda e: _rows_out(e, steps))
        return sorted(zip(result.data["energy"], result.data["latency"], strict=True)), sum(steps)

    assert PmappingContext.build(spec()).tracked == {"GlobalBuffer"}
    front, rows = run()
    original = pmappings_module.PmappingContext.shared_memories
    monkeypatch.setattr(
        pmappings_module.PmappingContext,
        "shared_memories",
        lambda self: original(self) | {"LocalBuffer"},
    )
    assert PmappingContext.build(spec()).tracked == {"GlobalBuffer", "LocalBuffer"}
    tracked_front, tracked_rows = run()
    assert front == tracked_front and len(front) >= 2
    assert rows < tracked_rows


# Five Einsums of multi-head attention decoding (the reference's attention_decode workloads,
# shrunk): Q shares its loops over h and e with S, in one block (no storage node between them),
# while S keeps h above its own buffer and shares only h with T, A and Z.
ATTENTION = """
workload:
  bits_per_value: {All: 8}
  persistent_tensors: WQ | K | V | WZ
  rank_sizes: {M: 1, P: 8, H: 2, E: 4, D: 8, F: 4, G: 8}
  einsums:
  - "Q[m, h, e] = I[m, d] * WQ[h, e, d]"
  - "S[m, p, h] = Q[m, h, e] * K[p, h, e]"
  - "T[m, p, h] = S[m, p, h]"
  - "A[m, h, f] = T[m, p, h] * V[p, h, E: f]"
  - "Z[m, g] = A[m, h, f] * WZ[h, f, g]"
"""


def test_a_block_of_shared_loops_straddling_a_shallower_cut_builds(tmp_path: Path) -> None:
    # Q's block {e, h} must put h first, for T, A and Z, which share only h: building the
    # joined mappings used to raise "joined pmappings admit no common order of their shared
    # loops". 8400 is AccelForge 1.0.467's optimum for this spec (ENERGY), run side by side.
    spec = simple_arch_spec(ATTENTION, tmp_path)
    front = map_workload_to_arch(spec)
    assert len(front) >= 1
    assert set(front.data["energy"]) == {8400.0}
    for item in front:  # each built mapping evaluates to what the join predicted
        again = af.model.evaluate_mapping(simple_arch_spec(ATTENTION, tmp_path), item.mapping)
        assert again.energy() == item.result.energy() == 8400.0
