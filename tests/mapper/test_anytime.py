"""The anytime front (docs/MAPPER.md §14): FrontUpdate events, MapperRun.front(), cancel."""

from __future__ import annotations

from itertools import accumulate
from typing import Any

import numpy as np
import pandas as pd
import pytest

import accelforge as af
from accelforge.frontend._yaml import load_yaml_text
from accelforge.frontend.mapping import Mapping
from accelforge.mapper import FrontUpdate, RunFinished, TemplateDone, start
from accelforge.mapper._pmappings.make import PmappingContext
from accelforge.mapper._run.anytime import incumbent_first
from accelforge.mapper._run.plan import make_plan
from accelforge.model import evaluate_mapping
from tests.mapper.specs import matmul_chain

BOUND = 60.0


def _spec(n_einsums: int = 4, size: int = 64) -> af.Spec:
    spec = matmul_chain(n_einsums, size, 4096)
    spec.mapper.metrics = af.Metrics.ENERGY | af.Metrics.LATENCY
    return spec


def _dominates_weakly(new: pd.DataFrame, old: pd.DataFrame, columns: list[str]) -> bool:
    """Every point of ``old`` is matched or beaten by some point of ``new``."""
    ours = new[columns].to_numpy(dtype=float)
    return all(
        np.any(np.all(ours <= point * (1 + 1e-12), axis=1))
        for point in old[columns].to_numpy(dtype=float)
    )


def _re_evaluates(spec: af.Spec, mappings: Any) -> None:
    for item in mappings:
        copy = spec.model_copy(deep=True)
        copy.mapping = Mapping.from_data(load_yaml_text(item.to_yaml(), name="m")["mapping"], ())
        result = evaluate_mapping(copy)
        assert result.energy() == pytest.approx(item.result.energy(), rel=1e-9)
        assert result.latency() == pytest.approx(item.result.latency(), rel=1e-9)


@pytest.fixture(scope="module")
def finished_run() -> tuple[Any, list[Any]]:
    run = start(_spec(), n_workers=2)
    return run, list(run.events())


def test_fronts_only_improve_and_the_last_is_the_final_front(
    finished_run: tuple[Any, list[Any]],
) -> None:
    run, events = finished_run
    fronts = [e for e in events if isinstance(e, FrontUpdate)]
    assert fronts[-1].basis == "final" and events[-1] is not fronts[-1]
    assert isinstance(events[-1], RunFinished) and events[-2] is fronts[-1]
    pd.testing.assert_frame_equal(fronts[-1].front, events[-1].front)
    pd.testing.assert_frame_equal(fronts[-1].front, run.front().data)
    columns = ["energy", "latency"]
    for before, after in zip(fronts, fronts[1:], strict=False):
        assert _dominates_weakly(after.front, before.front, columns)
        assert after.elapsed >= before.elapsed


def test_a_partial_front_comes_once_every_einsum_has_a_pmapping(
    finished_run: tuple[Any, list[Any]],
) -> None:
    _, events = finished_run
    partial = [e for e in events if isinstance(e, FrontUpdate) and e.basis == "partial join"]
    assert partial, "no anytime front before the final join"
    first = partial[0]
    assert len(first.front) >= 1 and 4 <= first.templates_done < events[0].n_templates
    assert {"energy", "latency", "Matmul0 energy", "Matmul3 latency"} <= set(first.front.columns)


def test_cancel_after_the_first_front_returns_it_cancelled_and_valid() -> None:
    spec = _spec()
    run = start(spec, n_workers=2)
    first = None
    for event in run.events():
        if isinstance(event, FrontUpdate):
            first = event
            run.cancel()
            break
    mappings = run.result(timeout=BOUND)
    assert first is not None and run.status == "CANCELLED"
    assert mappings is not None and len(mappings) >= 1
    assert _dominates_weakly(mappings.data, first.front, ["energy", "latency"])
    final = list(run.events())[-1]
    pd.testing.assert_frame_equal(final.front, mappings.data)
    _re_evaluates(spec, mappings)


def test_every_mapping_of_an_anytime_front_re_evaluates_exactly() -> None:
    spec = _spec(3, 32)
    run = start(spec, n_workers=1)
    partial = None
    for event in run.events():
        if isinstance(event, FrontUpdate) and event.basis == "partial join" and partial is None:
            partial = run.front()
    run.result(timeout=BOUND)
    assert partial is not None and len(partial) >= 1
    _re_evaluates(spec, partial)


def test_jobs_start_with_one_template_per_einsum() -> None:
    spec = _spec(3, 16)
    plan = make_plan(PmappingContext.build(spec), list(spec.evaluate_workload().einsums))
    order = incumbent_first(plan)
    assert sorted(order) == list(range(len(plan.jobs)))
    heads = [plan.einsum_of[plan.jobs[j][0]] for j in order[:3]]
    assert heads == [0, 1, 2]


def test_each_einsum_starts_with_its_first_unfused_template_when_it_has_one() -> None:
    from accelforge.mapper._run.anytime import unfused

    spec = _spec(3, 16)
    spec.arch.components["MainMemory"].tensors.may_keep = "All"  # intermediates may stay there
    context = PmappingContext.build(spec)
    plan = make_plan(context, list(spec.evaluate_workload().einsums))
    order = incumbent_first(plan, context)
    heads = [plan.units[plan.jobs[j][0]] for j in order[:3]]
    assert [plan.einsums.index(t.einsum) for t in heads] == [0, 1, 2]
    assert all(unfused(t.path, "MainMemory") for t in heads)
    for template in heads:  # the first such template of its Einsum
        earlier = [u for u in plan.units if u.einsum == template.einsum][: template.ordinal]
        assert not any(unfused(u.path, "MainMemory") for u in earlier)
    run = start(spec, n_workers=1)
    first = next(e for e in run.events() if isinstance(e, FrontUpdate))
    assert first.basis == "partial join" and first.templates_done == 3  # at once
    run.cancel()
    run.result(timeout=BOUND)


def test_resource_usage_front_is_non_dominated_in_every_objective_column() -> None:
    spec = matmul_chain(2, 32, 4096)
    spec.mapper.metrics = af.Metrics.ENERGY | af.Metrics.RESOURCE_USAGE
    mappings = start(spec, n_workers=1).result(timeout=BOUND)
    columns = list(mappings.objectives)
    assert columns == ["energy", "usage GlobalBuffer"]  # MainMemory is unbounded: no usage
    assert len(mappings.pareto(columns)) == len(mappings)
    two = mappings.pareto(["energy", columns[-1]])
    assert 1 <= len(two) <= len(mappings)
    with pytest.raises(KeyError, match="no column"):
        mappings.pareto(["energi"])


def test_progress_folds_the_latest_front(finished_run: tuple[Any, list[Any]]) -> None:
    from accelforge.mapper import RunProgress

    _, events = finished_run
    first = next(i for i, e in enumerate(events) if isinstance(e, FrontUpdate))
    before = RunProgress.fold(events[:first])
    after = RunProgress.fold(events[: first + 1])
    assert (before.front_size, before.front_energy) == (0, float("inf"))
    assert after.front_size == len(events[first].front)
    assert after.front_energy == events[first].front["energy"].min()
    assert RunProgress.fold(events).front_energy == events[-1].front["energy"].min()


def test_progress_by_time_is_monotone_with_an_eta_from_the_first_template(
    finished_run: tuple[Any, list[Any]],
) -> None:
    from accelforge.mapper import RunProgress

    _, events = finished_run
    states = list(accumulate(events, RunProgress.advance, initial=RunProgress()))[1:]
    percents = [s.percent for s in states]
    assert percents == sorted(percents) and percents[-1] == 100.0
    assert max(percents[:-1]) <= 99.0  # 100 only once finished
    first_template = next(i for i, e in enumerate(events) if isinstance(e, TemplateDone))
    assert states[first_template - 1].eta is None  # nothing timed yet
    assert all(s.eta is not None and s.eta >= 0 for s in states[first_template:])
    assert all(e.elapsed > 0 for e in events if isinstance(e, TemplateDone))
    partial = [e for e in events if isinstance(e, FrontUpdate) and e.basis == "partial join"]
    assert all(e.join_seconds > 0 for e in partial)
    joined = next(s for s in states if s.phase == "join")
    assert joined.join_started == pytest.approx(joined.elapsed)
    assert states[-1].eta == 0.0 and "ETA" not in states[-1].text()
    assert "ETA" in states[first_template].text()


def test_cancel_ends_busy_worker_processes_at_once() -> None:
    import multiprocessing

    run = start(_spec(4, 64), n_workers=2)
    for event in run.events():
        if type(event).__name__ == "TemplateDone":
            run.cancel()
            break
    run.result(timeout=BOUND)
    assert run.status == "CANCELLED"
    assert not [p for p in multiprocessing.active_children() if p.is_alive()]


def test_cancel_during_the_final_join_keeps_the_latest_front() -> None:
    run = start(_spec(), n_workers=1)
    fronts = []
    for event in run.events():
        if isinstance(event, FrontUpdate):
            fronts.append(event)
        if type(event).__name__ == "JoinStep":  # the final join has begun
            run.cancel()
            break
    mappings = run.result(timeout=BOUND)
    assert run.status == "CANCELLED"
    assert fronts and fronts[-1].basis == "partial join"
    assert mappings is not None and len(mappings) == len(fronts[-1].front)
    pd.testing.assert_frame_equal(mappings.data, fronts[-1].front)
    _re_evaluates(_spec(), mappings)


def test_a_time_limit_ends_with_the_best_front_so_far() -> None:
    spec = _spec()
    spec.mapper.ffm.time_limit = 1.0  # the unfused incumbent's front comes well before
    run = start(spec, n_workers=1)
    events = list(run.events())
    mappings = run.result(timeout=BOUND)
    fronts = [e for e in events if isinstance(e, FrontUpdate)]
    assert run.status == "TIME_LIMIT"
    assert fronts and mappings is not None and len(mappings) >= 1
    pd.testing.assert_frame_equal(mappings.data, fronts[-1].front)
    _re_evaluates(spec, mappings)
