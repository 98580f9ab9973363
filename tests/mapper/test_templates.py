"""Template rules that are not knobs.

- Copy Einsums (docs/MAPPER.md §3.2 rule 6, docs/MODEL.md §11).
- The first group of §3.3 is the arch's outermost memory's nodes (and persistent ones): an
  Einsum none of whose tensors is there gets loops above all its nodes, so an Einsum that only
  reads and writes intermediates can sit inside a tiled fused group.
"""

from __future__ import annotations

import warnings

import accelforge as af
from accelforge.mapper._pmappings.make import PmappingContext, einsum_templates
from accelforge.model.paths import Hold, Loop
from tests.conftest import reference_path
from tests.mapper.specs import simple_arch_spec


def _gpt3(fused: bool) -> af.Spec:
    specs = reference_path() / "specs"
    spec = af.Spec.from_yaml(
        specs / "arches/tpu_v4i.yaml",
        specs / "workloads/gpt3_6.7B.yaml",
        jinja_parse_data={"N_TOKENS": 64},
    )
    if not fused:
        spec.arch.components["MainMemory"].tensors.keep = "All"
    return spec


def test_copy_einsum_templates_end_at_the_last_backing_node() -> None:
    # tpu_v4i's LocalBuffer keeps every input and output, but a copy is counted on its backing
    # nodes only (AccelForge 1.0.467): its storage order stops once I_in and I are backed.
    for fused, allowed in ((True, {"MainMemory", "GlobalBuffer"}), (False, {"MainMemory"})):
        context = PmappingContext.build(_gpt3(fused))
        [(compute, templates, _)] = einsum_templates(context, "I")
        assert compute == "ScalarUnit"
        for template in templates:
            holds = [n for n in template.path.nodes if isinstance(n, Hold)]
            assert sorted(h.tensor for h in holds) == ["I", "I_in"]
            assert {h.component for h in holds} <= allowed


def test_unfused_copy_costs_nothing() -> None:
    spec = _gpt3(False)
    spec.mapper.metrics = af.Metrics.ENERGY
    workload = spec.workload.model_copy(deep=True)
    workload.einsums = [e for e in workload.einsums if e.name in ("I", "V")]
    spec.workload = workload
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the mapping meets every constraint the mapper enforces
        result = af.mapper.map_workload_to_arch(spec, show_progress=False)
    assert result[0].result.energy(per_einsum=True)["I"] == 0


# matmul -> elementwise -> matmul; T1 and T2 are 256 bits each.
ELEMENTWISE_CHAIN = """
workload:
  bits_per_value: {All: 8}
  rank_sizes: {M: 8, K: 2, N: 4, J: 2}
  einsums:
  - "T1[m, n] = T0[m, k] * W0[k, n]"
  - "T2[m, n] = T1[m, n]"
  - "T3[m, j] = T2[m, n] * W1[n, j]"
"""


def _elementwise_chain(tmp_path, glb_size: float) -> af.Spec:
    spec = simple_arch_spec(ELEMENTWISE_CHAIN, tmp_path, DRAM_ENERGY=10, GLB_SIZE=glb_size)
    spec.mapper.metrics = af.Metrics.ENERGY
    return spec


def test_an_einsum_of_intermediates_gets_loops_above_its_nodes(tmp_path) -> None:
    context = PmappingContext.build(_elementwise_chain(tmp_path, 256))
    [(_, templates, _)] = einsum_templates(context, "T2")
    on_chip = [
        t
        for t in templates
        if {h.component for h in t.path.nodes if isinstance(h, Hold)} == {"GlobalBuffer"}
    ]
    assert on_chip
    assert any(isinstance(t.path.nodes[0], Loop) for t in on_chip)


def test_a_tiled_fused_group_reaches_the_untiled_optimum(tmp_path) -> None:
    # With 256 bits T1 and T2 cannot both be whole in the GlobalBuffer, but under a fused loop
    # over m their tiles fit, so the DRAM traffic (and the energy) is that of an infinite buffer.
    unbounded = af.mapper.map_workload_to_arch(
        _elementwise_chain(tmp_path, float("inf")), show_progress=False
    )
    tiled = af.mapper.map_workload_to_arch(_elementwise_chain(tmp_path, 256), show_progress=False)
    assert tiled.data["energy"].min() == unbounded.data["energy"].min()
    holders = _holders(tiled[0].mapping.nodes)
    assert holders["T1"] == holders["T2"] == {"GlobalBuffer"}


def _holders(nodes: list) -> dict[str, set[str]]:
    """Tensor -> the components whose storage nodes hold it, anywhere in a mapping tree."""
    found: dict[str, set[str]] = {}
    for node in nodes:
        for tensor in getattr(node, "tensors", ()):
            found.setdefault(tensor, set()).add(node.component)
        for tensor, components in _holders(getattr(node, "nodes", [])).items():
            found.setdefault(tensor, set()).update(components)
    return found
