"""Twin Einsums (identical up to names) reuse one tile search (docs/MAPPER.md §13)."""

from __future__ import annotations

import numpy as np

import accelforge as af
from accelforge.mapper._pmappings.make import (
    PmappingContext,
    einsum_templates,
    search_signature,
    template_pmappings,
)
from accelforge.mapper._run.plan import make_plan


def _spec() -> af.Spec:
    spec = af.Spec.from_yaml(af.examples.arches.tpu_like, af.examples.workloads.transformer_block)
    spec.mapper.metrics = af.Metrics.ENERGY | af.Metrics.LATENCY
    return spec


def _signatures(context: PmappingContext, einsum: str) -> list[tuple]:
    [(_, templates, _)] = einsum_templates(context, einsum)
    return [search_signature(context, t) for t in templates]


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


def test_twin_templates_are_submitted_together() -> None:
    # A streaming run sends each template with its later twins to one worker, so that the
    # search runs once there whatever the number of workers.
    context = PmappingContext.build(_spec())
    einsums = context.spec.workload.einsum_names
    plan = make_plan(context, einsums)
    assert sorted(i for job in plan.jobs for i in job) == list(range(len(plan.units)))
    q = [i for i, t in enumerate(plan.units) if t.einsum == "Q"]
    k = [i for i, t in enumerate(plan.units) if t.einsum == "K"]
    job_of = {i: tuple(job) for job in plan.jobs for i in job}
    assert [job_of[i] for i in q] == [job_of[i] for i in k]  # the n-th Q and K templates
    assert all(job_of[i][0] == min(qi, ki) for i, qi, ki in zip(q, q, k, strict=True))
    s = [i for i, t in enumerate(plan.units) if t.einsum == "S"]
    assert all(job_of[i] == (i,) for i in s)
