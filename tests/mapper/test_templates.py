"""Template rules that are not knobs: copy Einsums (MAPPER.md §3.2 rule 6, MODEL.md §11)."""

from __future__ import annotations

import warnings

import accelforge as af
from accelforge.mapper.pmappings import PmappingContext, einsum_templates
from accelforge.model.paths import Hold
from tests.conftest import reference_path


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
