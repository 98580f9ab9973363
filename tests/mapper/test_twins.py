"""Twin Einsums (identical up to names) reuse one tile search (MAPPER.md §13)."""

from __future__ import annotations

import numpy as np

import accelforge as af
from accelforge.mapper.pmappings import PmappingContext, einsum_templates, template_pmappings
from accelforge.mapper.twins import problem_signature


def _spec() -> af.Spec:
    spec = af.Spec.from_yaml(af.examples.arches.tpu_like, af.examples.workloads.transformer_block)
    spec.mapper.metrics = af.Metrics.ENERGY | af.Metrics.LATENCY
    return spec


def _signatures(context: PmappingContext, einsum: str) -> list[tuple]:
    workload, arch, _ = context.evaluated(einsum)
    [(_, templates, _)] = einsum_templates(context, einsum)
    facts = workload.einsums[einsum]
    return [problem_signature(t, facts, arch, context.fusable)[0] for t in templates]


def test_projections_are_twins_and_other_einsums_are_not() -> None:
    context = PmappingContext.build(_spec())
    q, k, s = (_signatures(context, e) for e in ("Q", "K", "S"))
    assert q == k and len(q) > 1
    assert not set(q) & set(s)


def test_reused_rows_equal_a_fresh_search_with_the_twin_names() -> None:
    spec = _spec()
    shared = PmappingContext.build(spec)
    [(_, q_templates, _)] = einsum_templates(shared, "Q")
    [(_, k_templates, _)] = einsum_templates(shared, "K")
    for template in q_templates:
        template_pmappings(shared, template)
    fresh = PmappingContext.build(spec)
    for template in k_templates:
        reused = template_pmappings(shared, template)
        searched = template_pmappings(fresh, template)
        assert len(reused) == len(searched)
        for a, b in zip(reused, searched, strict=True):
            assert a.template.einsum == "K"
            assert np.array_equal(a.tiles, b.tiles)
            assert np.array_equal(a.energy, b.energy) and np.array_equal(a.latency, b.latency)
            assert [(r.memory, r.tensor, r.depth) for r in a.reservations] == [
                (r.memory, r.tensor, r.depth) for r in b.reservations
            ]
            assert all(
                np.array_equal(x.bits, y.bits)
                for x, y in zip(a.reservations, b.reservations, strict=True)
            )
    assert any(key[0] == "rows" for key in shared._cache)
