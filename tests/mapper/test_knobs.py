"""Every FFM knob that the mapper implements has an effect a test can see (docs/MAPPER.md §9).

Most cases use the "constrained" simple arch of docs/MAPPER.md §12 (8 KiB global buffer, DRAM
energy 10 per bit, buffer throughput 1) with two 64 x 64 matmuls, where fusion trades energy
against latency.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import accelforge as af
from accelforge.errors import SpecError, SpecWarning
from accelforge.mapper import make_pmappings, map_workload_to_arch
from accelforge.mapper._pmappings.make import PmappingContext, einsum_templates
from accelforge.mapper._tiles.enumeration import imperfect_candidates, tile_chains
from accelforge.model.paths import Hold, Loop
from tests.mapper.specs import matmul_chain
from tests.model.test_rules import CONV

CONSTRAINED = {"M": 64, "KN": 64, "GLB_SIZE": 65536, "DRAM_ENERGY": 10, "GLB_THROUGHPUT": 1}


def constrained(n_einsums: int = 2, **extra: object) -> af.Spec:
    spec = af.Spec.from_yaml(
        af.examples.arches.simple,
        af.examples.workloads.matmuls,
        jinja_parse_data={"N_EINSUMS": n_einsums, **CONSTRAINED, **extra},
    )
    spec.mapper.metrics = af.Metrics.ENERGY | af.Metrics.LATENCY
    return spec


def _templates(spec: af.Spec) -> int:
    pm = make_pmappings(spec)
    return sum(s.templates for e in pm.einsums.values() for s in e.stats.values())


def _nontrivial_loops(table, row: int, fused_only: bool) -> list[str]:  # noqa: ANN001
    loops = table.template.path.loops
    count = table.fused_loops if fused_only else len(loops)
    shape: dict[str, float] = {}
    out = []
    for index, loop in enumerate(loops[:count]):
        outer = shape.get(loop.rank_variable, 64.0)
        if table.tiles[index, row] < outer:
            out.append(loop.rank_variable)
        shape[loop.rank_variable] = table.tiles[index, row]
    return out


@pytest.fixture(scope="module")
def baseline() -> af.results.Mappings:
    return map_workload_to_arch(constrained())


def test_metrics_choose_the_objectives() -> None:
    spec = constrained(1)
    assert len(map_workload_to_arch(spec)) == 5
    spec.mapper.metrics = af.Metrics.ENERGY
    front = map_workload_to_arch(spec)
    assert set(front.data["energy"]) == {9699328}  # the optimum and its ties
    spec.mapper.metrics = af.Metrics.ENERGY_DELAY_PRODUCT
    assert len(map_workload_to_arch(spec)) == 1


def _inverted_templates(spec: af.Spec) -> tuple[int, int]:
    """(templates of Matmul0, those with an inner memory's node above an outer memory's)."""
    context = PmappingContext.build(spec)
    arch = context.evaluated("Matmul0")[1]
    level = {node.name: i for i, node in enumerate(arch.nodes)}
    templates = [t for _, group, _ in einsum_templates(context, "Matmul0") for t in group]
    inverted = 0
    for template in templates:
        holds = [n for n in template.path.nodes if isinstance(n, Hold) and not n.persistent]
        levels = [level[hold.component] for hold in holds]
        inverted += any(a > b for i, a in enumerate(levels) for b in levels[i + 1 :])
    return len(templates), inverted


def test_force_memory_hierarchy_order_template_counts() -> None:
    # tpu_like has three memories (DRAM, GlobalBuffer, WeightRegister): with the knob on no
    # template puts an inner memory's storage node above an outer memory's; off, 12 of 28 do.
    spec = af.Spec.from_yaml(
        af.examples.arches.tpu_like,
        af.examples.workloads.matmuls,
        jinja_parse_data={"N_EINSUMS": 1},
    )
    assert _inverted_templates(spec) == (16, 0)
    spec.mapper.ffm.force_memory_hierarchy_order = False
    assert _inverted_templates(spec) == (28, 12)


def test_force_memory_hierarchy_order_changes_nothing_with_two_memories() -> None:
    spec = af.Spec.from_yaml(
        af.examples.arches.simple, af.examples.workloads.matmuls, jinja_parse_data={"N_EINSUMS": 1}
    )
    assert _inverted_templates(spec) == (16, 0)
    spec.mapper.ffm.force_memory_hierarchy_order = False
    assert _inverted_templates(spec) == (16, 0)  # two memory levels: nothing to reorder


def test_max_fused_loops(baseline) -> None:  # noqa: ANN001
    spec = constrained()
    spec.mapper.ffm.max_fused_loops = 1
    pm = make_pmappings(spec)
    for einsum in pm.einsums.values():
        for table in einsum.tables:
            for row in range(table.n):
                assert len(_nontrivial_loops(table, row, fused_only=True)) <= 1
    limited = map_workload_to_arch(spec)
    # docs/MAPPER.md §12: the front is unchanged at 1 (10 points, same best energy and latency).
    assert len(limited) == len(baseline) == 10
    assert limited.data["energy"].min() == baseline.data["energy"].min()


def test_max_fused_loops_zero_means_no_fused_loop() -> None:
    spec = constrained()
    spec.mapper.ffm.max_fused_loops = 0
    front = map_workload_to_arch(spec)
    assert len(front) >= 1
    for item in front:
        for einsum_paths in _fused_loop_tiles(item.mapping):
            assert einsum_paths == []


def _fused_loop_tiles(mapping) -> list[list[int]]:  # noqa: ANN001
    from accelforge.frontend import mapping as m

    shared = []
    for node in mapping.nodes:
        if isinstance(node, m.Sequential):
            break
        if isinstance(node, m.Temporal) and int(node.tile_shape) < 64:
            shared.append(int(node.tile_shape))
    return [shared]


def test_max_fused_loops_per_rank_variable() -> None:
    spec = constrained()
    pm = make_pmappings(spec)
    for einsum in pm.einsums.values():
        for table in einsum.tables:
            for row in range(table.n):
                loops = _nontrivial_loops(table, row, fused_only=True)
                assert all(loops.count(v) <= 1 for v in loops)
    spec.mapper.ffm.max_fused_loops_per_rank_variable = 2
    assert make_pmappings(spec).einsums["Matmul0"].n_rows >= pm.einsums["Matmul0"].n_rows


def test_max_loops_minus_ranks_is_enforced() -> None:
    spec = constrained(1)
    spec.mapper.ffm.max_loops_minus_ranks = 0
    pm = make_pmappings(spec)
    for table in pm.einsums["Matmul0"].tables:
        for row in range(table.n):
            assert len(_nontrivial_loops(table, row, fused_only=False)) <= 3
    unlimited = make_pmappings(constrained(1))
    evaluated = sum(t.valid for t in pm.einsums["Matmul0"].tables)
    assert evaluated < sum(t.valid for t in unlimited.einsums["Matmul0"].tables)


def test_max_pmapping_templates_per_einsum_caps_and_warns() -> None:
    spec = constrained()
    spec.mapper.ffm.max_pmapping_templates_per_einsum = 5
    with pytest.warns(SpecWarning, match="stopped after 5 templates"):
        pm = make_pmappings(spec)
    assert all(s.templates <= 5 for e in pm.einsums.values() for s in e.stats.values())


def test_objective_tolerance_keeps_the_contract(baseline) -> None:  # noqa: ANN001
    spec = constrained()
    spec.mapper.ffm.objective_tolerance = 0.1
    tolerant = map_workload_to_arch(spec)
    exact = list(zip(baseline.data["energy"], baseline.data["latency"], strict=True))
    ours = list(zip(tolerant.data["energy"], tolerant.data["latency"], strict=True))
    for energy, latency in exact:
        assert any(e <= energy * 1.1 and lat <= latency * 1.1 for e, lat in ours)
    rows = sum(e.n_rows for e in make_pmappings(spec).einsums.values())
    assert rows <= sum(e.n_rows for e in make_pmappings(constrained()).einsums.values())


def test_objective_tolerance_keeps_the_contract_where_bounds_would_break_it() -> None:
    # Two 192-wide matmuls: with the join's bound pruning, a tolerance of 0.2 lost the
    # lowest-energy point by a factor 1.995 (the bound dropped the stand-ins of mappings
    # tolerant pruning had removed); a tolerant join now runs without bounds.
    spec = matmul_chain(2, 192, 65536)
    spec.mapper.metrics = af.Metrics.ENERGY | af.Metrics.LATENCY
    exact = map_workload_to_arch(spec).data[["energy", "latency"]]
    spec.mapper.ffm.objective_tolerance = 0.2
    tolerant = map_workload_to_arch(spec).data[["energy", "latency"]].to_numpy()
    worst = max((tolerant / target).max(axis=1).min() for target in exact.to_numpy())
    assert 1.0 <= worst <= 1.2


def test_resource_usage_tolerance_keeps_the_contract(baseline) -> None:  # noqa: ANN001
    spec = constrained()
    spec.mapper.ffm.resource_usage_tolerance = 0.1
    tolerant = map_workload_to_arch(spec)
    ours = list(zip(tolerant.data["energy"], tolerant.data["latency"], strict=True))
    usage = baseline.data["usage GlobalBuffer"]
    for energy, latency, used in zip(
        baseline.data["energy"], baseline.data["latency"], usage, strict=True
    ):
        if used <= 0.9:
            assert any(e <= energy and lat <= latency for e, lat in ours)


def test_prioritize_reuse_of_unfused_tensors_prunes() -> None:
    spec = constrained()
    spec.mapper.ffm.prioritize_reuse_of_unfused_tensors = True
    assert _templates(spec) < _templates(constrained())
    spec.mapper.metrics = af.Metrics.ENERGY
    assert map_workload_to_arch(spec).data["energy"][0] >= 18677760


def test_tiling_coarseness_candidates() -> None:
    # docs/MAPPER.md §9: for B = 64, c = 4 keeps {1, 4, 16, 64}; c = 2 on powers of two keeps all.
    assert [c[0] for c in tile_chains(64, 2, 4)] == [1, 4, 16, 64]
    assert tile_chains(64, 2, 2) == tile_chains(64, 2, 1)
    spec = constrained(1)
    spec.mapper.ffm.tiling_coarseness = 4
    coarse = sum(t.evaluated for t in make_pmappings(spec).einsums["Matmul0"].tables)
    assert coarse < sum(
        t.evaluated for t in make_pmappings(constrained(1)).einsums["Matmul0"].tables
    )


def test_imperfect_temporal_loops_reach_a_tile_of_three() -> None:
    # docs/MODEL.md E9: with M = 10 an outer m tile of 3 exists only with imperfect loops.
    assert 3 in imperfect_candidates(10) and 3 not in [c[0] for c in tile_chains(10, 2)]
    spec = af.Spec.from_yaml(
        af.examples.arches.simple,
        af.examples.workloads.matmuls,
        jinja_parse_data={"N_EINSUMS": 1, "M": 10, "KN": 4, "GLB_SIZE": 1000},
    )
    spec.mapper.metrics = af.Metrics.ENERGY
    perfect = make_pmappings(spec)
    spec.mapper.ffm.explore_imperfect_temporal_loops = True
    imperfect = make_pmappings(spec)
    evaluated = [
        sum(t.evaluated for t in p.einsums["Matmul0"].tables) for p in (perfect, imperfect)
    ]
    assert evaluated[1] > evaluated[0]


def _at_mac_matmul() -> af.Spec:
    """The reference's at_mac arch (4 MACs), one matmul M = 10, KN = 5, LATENCY."""
    from tests.conftest import reference_path

    specs = reference_path() / "specs"
    spec = af.Spec.from_yaml(
        specs / "arches/fanout_variations/at_mac.yaml",
        specs / "workloads/matmuls.yaml",
        jinja_parse_data={"N_EINSUMS": 1, "M": 10, "KN": 5},
    )
    spec.mapper.metrics = af.Metrics.LATENCY
    return spec


def test_imperfect_loops_use_every_mac() -> None:
    # at_mac (4 MACs), M = 10, KN = 5, LATENCY. Perfect tiles: the spatial m loop is the
    # innermost m loop (tile 1), so it uses the m tile of the loop above it: 2 of 4 MACs
    # (m tile 2), 5 x 5 x 5 = 125 steps. With an imperfect outer m tile of 4, all 4 MACs work
    # and the exact-average rule (docs/MODEL.md §7) gives 10/4 x 5 x 5 = 62.5 steps.
    spec = _at_mac_matmul()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpecWarning)
        assert map_workload_to_arch(spec).data["latency"][0] == 125
        spec.mapper.ffm.explore_imperfect_temporal_loops = True
        assert math.isclose(map_workload_to_arch(spec).data["latency"][0], 62.5)


def test_imperfect_spatial_loops_use_every_mac() -> None:
    # docs/MAPPER.md §9: at_mac (4 MACs), M = 10, KN = 5, LATENCY. An imperfect spatial split of m
    # over the 4 MACs (m tile 3, the last MAC gets 1) needs a temporal m loop below the
    # spatial one, which the knob adds: 3 x 5 x 5 = 75 steps instead of 125 (2 of 4 MACs).
    spec = _at_mac_matmul()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpecWarning)
        assert map_workload_to_arch(spec).data["latency"][0] == 125
        spec.mapper.ffm.explore_imperfect_spatial_loops = True
        best = map_workload_to_arch(spec)
    assert best.data["latency"][0] == 75
    spatial = [
        loop
        for loop in best[0].mapping.nodes
        if type(loop).__name__ == "Spatial" and loop.rank_variable == "m"
    ]
    assert [loop.tile_shape for loop in spatial] == [3]


def test_imperfect_spatial_chains_split_below_trivial_loops_only() -> None:
    # A spatial loop may leave a remainder only when every loop of its variable above it is
    # trivial (it is then the outermost loop that exists, §4.2).
    chains = set(tile_chains(10, 3, 1, (False, True, False)))
    assert chains - set(tile_chains(10, 3)) == {(10, 3, 1), (10, 4, 1)}
    assert set(tile_chains(10, 3)) <= chains


def test_loop_objects_are_not_shared_between_rows() -> None:
    pm = make_pmappings(constrained(1))
    loops = [t.template.path.loops for t in pm.einsums["Matmul0"].tables]
    assert all(isinstance(lp, Loop) for group in loops for lp in group)
    assert np.all(
        [t.tiles.shape[0] == len(t.template.path.loops) for t in pm.einsums["Matmul0"].tables]
    )


def test_too_large_template_is_skipped_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    from accelforge.mapper._tiles import search as tile_search

    monkeypatch.setattr(tile_search, "MAX_EVALUATED", 10)
    spec = constrained(1)
    with pytest.warns(SpecWarning, match=r"template\(s\) skipped, so the result may not be opt"):
        pm = make_pmappings(spec)
    assert pm.einsums["Matmul0"].skipped
    assert all(
        "survive pruning" in reason and "above the search's limit" in reason
        for reason in pm.einsums["Matmul0"].skipped.values()
    )


def test_explore_loop_orders_only_matters_for_partially_relevant_variables(tmp_path) -> None:  # noqa: ANN001
    (tmp_path / "conv.yaml").write_text(CONV)
    spec = af.Spec.from_yaml(
        af.examples.arches.simple,
        tmp_path / "conv.yaml",
        jinja_parse_data={"GLB_SIZE": 64, "DRAM_ENERGY": 10},
    )
    spec.mapper.metrics = af.Metrics.ENERGY
    explored = (_templates(spec), map_workload_to_arch(spec).data["energy"][0])
    spec.mapper.ffm.explore_loop_orders = False
    single = (_templates(spec), map_workload_to_arch(spec).data["energy"][0])
    assert single[0] < explored[0]
    assert single[1] >= explored[1]
    matmul = constrained(1)
    matmul.mapper.ffm.explore_loop_orders = False
    assert _templates(matmul) == _templates(constrained(1)) == 16


def test_resource_usage_front_trades_energy_against_buffer_usage() -> None:
    # docs/MAPPER.md §12: ENERGY|RESOURCE_USAGE, constrained N=2: 20 mappings, GlobalBuffer peak
    # usage from nearly 0 to about 0.51.
    spec = constrained()
    spec.mapper.metrics = af.Metrics.ENERGY | af.Metrics.RESOURCE_USAGE
    front = map_workload_to_arch(spec).data.sort_values("energy")
    assert len(front) == 20
    assert front["energy"].iloc[0] == 18677760
    usage = front["usage GlobalBuffer"].to_numpy()
    assert np.all(np.diff(usage) < 0)  # more energy only ever buys less buffer
    assert 0.5 < usage[0] < 0.51
    spec.mapper.ffm.resource_usage_tolerance = 0.1  # ignored with RESOURCE_USAGE as a metric
    assert len(map_workload_to_arch(spec)) == 20


def test_resource_usage_includes_fanout_dimensions() -> None:
    # at_mac (4 MACs), one 8x8x8 matmul, LATENCY|RESOURCE_USAGE: using 1, 2 or 4 MACs trades
    # latency 512 / 256 / 128 against usage 0.25 / 0.5 / 1 of dimension X (docs/ARCHITECTURE.md:
    # one objective per fanout dimension). With LATENCY alone only the fastest remains (and
    # its ties).
    from tests.conftest import reference_path

    specs = reference_path() / "specs"
    spec = af.Spec.from_yaml(
        specs / "arches/fanout_variations/at_mac.yaml",
        specs / "workloads/matmuls.yaml",
        jinja_parse_data={"N_EINSUMS": 1, "M": 8, "KN": 8},
    )
    spec.mapper.metrics = af.Metrics.LATENCY | af.Metrics.RESOURCE_USAGE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpecWarning)
        front = map_workload_to_arch(spec).data.sort_values("latency")
        assert front["latency"].tolist() == [128, 256, 512]
        assert front["usage MAC.X"].tolist() == [1.0, 0.5, 0.25]
        spec.mapper.metrics = af.Metrics.LATENCY
        assert set(map_workload_to_arch(spec).data["latency"]) == {128}


def _constrained_with_glb(tmp_path, extra: str) -> af.Spec:  # noqa: ANN001
    text = af.examples.arches.simple.read_text().replace(
        "    tensors: {keep: ~MainMemory, may_keep: All}",
        "    tensors: {keep: ~MainMemory, may_keep: All, " + extra + "}",
    )
    (tmp_path / "arch.yaml").write_text(text)
    spec = af.Spec.from_yaml(
        tmp_path / "arch.yaml",
        af.examples.workloads.matmuls,
        jinja_parse_data={"N_EINSUMS": 1, **CONSTRAINED},
    )
    spec.mapper.metrics = af.Metrics.ENERGY | af.Metrics.LATENCY
    return spec


def test_tensors_tile_shape_is_enforced(tmp_path) -> None:  # noqa: ANN001
    # AccelForge collects tensors.tile_shape and ignores it; the project enforces it: with the
    # GlobalBuffer's m tile capped at 4, no returned mapping stages more than 4 rows of T0.
    spec = _constrained_with_glb(tmp_path, "tile_shape: [{expression: m, operator: <=, value: 4}]")
    front = map_workload_to_arch(spec)
    for item in front:
        for row in item.result.memory_usage.itertuples():
            if row.memory == "GlobalBuffer" and row.tensor == "T0":
                assert row.fraction * 65536 <= 4 * 64 * 8
    assert front.data["energy"].min() > map_workload_to_arch(constrained(1)).data["energy"].min()


def test_no_refetch_from_above_is_enforced(tmp_path) -> None:  # noqa: ANN001
    # With no_refetch_from_above: All on the GlobalBuffer, a tensor staged there is filled from
    # MainMemory once: its GlobalBuffer writes (fills) are 0 (not staged) or exactly its size.
    spec = _constrained_with_glb(tmp_path, "no_refetch_from_above: All")
    staged = 0
    for item in map_workload_to_arch(spec):
        table = item.result.breakdown
        for tensor in ("T0", "W0"):
            rows = table[(table.component == "GlobalBuffer") & (table.tensor == tensor)]
            fills = rows[rows.action == "write"]["count"].sum()
            assert fills in (0, 64 * 64 * 8), (tensor, fills)
            staged += fills > 0
    assert staged > 0


def test_resource_usage_alone_with_nothing_to_measure_is_refused_before_any_work() -> None:
    # simple.yaml with an unbounded GlobalBuffer has no finite memory and no fanout: every
    # mapping would tie at zero usage (this used to crash in the join with a numpy error).
    spec = af.Spec.from_yaml(
        af.examples.arches.simple,
        af.examples.workloads.matmuls,
        jinja_parse_data={"N_EINSUMS": 2, "M": 8, "KN": 8},
    )
    spec.mapper.metrics = af.Metrics.RESOURCE_USAGE
    with pytest.raises(SpecError, match=r"^mapper\.metrics: RESOURCE_USAGE is the only objective"):
        map_workload_to_arch(spec)
    spec.mapper.metrics = af.Metrics.RESOURCE_USAGE | af.Metrics.ENERGY
    assert len(map_workload_to_arch(spec)) >= 1
