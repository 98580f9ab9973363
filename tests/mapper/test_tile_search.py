"""The tile search's chunked enumeration: cooperative stops keep what is final."""

from __future__ import annotations

import pytest

from accelforge.mapper._pmappings.make import PmappingContext, einsum_templates, template_pmappings
from accelforge.mapper._tiles import enumeration as tile_enumeration
from accelforge.mapper.executors import CallLimits, guarded_call
from tests.mapper.test_knobs import constrained


def _largest_template(context: PmappingContext):  # noqa: ANN202
    [(_, templates, _)] = einsum_templates(context, "Matmul0")
    return max(templates, key=lambda t: len(t.path.loops))


def test_a_unit_past_its_time_limit_stops_between_chunks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tile_enumeration, "CHUNK_ROWS", 8)
    context = PmappingContext.build(constrained(1))
    template = _largest_template(context)
    full = guarded_call(CallLimits(), template_pmappings, context, template)
    assert full.status == "ok" and full.complete
    fresh = PmappingContext.build(constrained(1))  # no rows reused from the full search
    stopped = guarded_call(CallLimits(seconds=0.0), template_pmappings, fresh, template)
    assert stopped.status == "time_limit" and not stopped.complete
    assert "rows so far kept" in stopped.message
    assert 0 < stopped.value[0].evaluated < full.value[0].evaluated
    assert sum(t.n for t in stopped.value) > 0


def test_a_unit_over_its_memory_limit_stops_between_chunks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tile_enumeration, "CHUNK_ROWS", 8)
    context = PmappingContext.build(constrained(1))
    template = _largest_template(context)
    # Fine before the call and after the first chunk, over the limit after the second.
    calls = iter([None, None, "worker memory 9 MB > limit 1 MB"])
    monkeypatch.setattr(
        "accelforge.mapper.executors._over_memory", lambda limit: next(calls, "over")
    )
    stopped = guarded_call(CallLimits(memory_bytes=1.0), template_pmappings, context, template)
    assert stopped.status == "memory_limit" and not stopped.complete
    assert stopped.value[0].evaluated > 0
