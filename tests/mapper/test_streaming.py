"""Streaming runs (docs/MAPPER.md §10-§11): event order, determinism over workers, cancel, limits,
failing units, no side effects, and the blocking API as a consumer of the same events."""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import math
import multiprocessing
import os
import pickle
import subprocess
import sys
import textwrap
import time
from concurrent.futures.process import BrokenProcessPool
from itertools import accumulate
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import accelforge as af
from accelforge.mapper import (
    EinsumDone,
    FrontUpdate,
    InProcessExecutor,
    JoinStep,
    ProcessExecutor,
    RunFinished,
    RunProgress,
    RunStarted,
    RunWarning,
    TemplateDone,
    join_pmappings,
    make_pmappings,
    map_workload_to_arch,
    start,
)
from accelforge.mapper._run import streaming
from accelforge.mapper.progress import RunProgress as ProgressFromItsModule
from tests.mapper.specs import matmul_chain
from tests.mapper.test_join import PLAIN

BOUND = 60.0
"""Seconds within which any run here must finish (spawned workers included)."""


def make_spec(n_einsums: int = 2, size: int = 16) -> af.Spec:
    spec = matmul_chain(n_einsums, size, 4096)
    spec.mapper.metrics = af.Metrics.ENERGY | af.Metrics.LATENCY
    return spec


def _partial(event: Any) -> bool:
    """A partial-join front: it comes when its join ends, so it depends on timing."""
    return isinstance(event, FrontUpdate) and event.basis == "partial join"


def signature(events: list[Any]) -> list[tuple[str, str | None, str | None]]:
    """What must not depend on the worker count: type, Einsum, template id.

    Partial-join fronts come when the joins finish, so they are left out.
    """
    return [
        (type(e).__name__, getattr(e, "einsum", None), getattr(e, "template", None))
        for e in events
        if not _partial(e)
    ]


@pytest.fixture(scope="module")
def in_process() -> tuple[Any, list[Any]]:
    run = start(make_spec(), n_workers=1)
    return run, list(run.events())


def test_events_in_order_with_counts(in_process: tuple[Any, list[Any]]) -> None:
    run, events = in_process
    assert isinstance(events[0], RunStarted)
    assert isinstance(events[-1], RunFinished)
    assert sum(isinstance(e, RunFinished) for e in events) == 1
    started: RunStarted = events[0]
    assert started.einsums == ("Matmul0", "Matmul1")
    assert started.compute_units == {"Matmul0": ("MAC",), "Matmul1": ("MAC",)}
    assert started.metrics == ("LATENCY", "ENERGY")
    assert started.knobs["time_limit"] == float("inf")

    done = [e for e in events if isinstance(e, TemplateDone)]
    assert len(done) == started.n_templates == sum(started.template_counts.values())
    assert [e.done for e in done] == list(range(1, len(done) + 1))
    assert all(e.total == started.n_templates and e.status == "ok" for e in done)
    reference = make_pmappings(make_spec())
    for name in started.einsums:
        mine = [e for e in done if e.einsum == name]
        assert [e.einsum_done for e in mine] == list(range(1, len(mine) + 1))
        assert {e.einsum_total for e in mine} == {started.template_counts[name]}
        ordinals = [int(e.template.rsplit("/", 1)[1]) for e in mine]
        assert ordinals == sorted(ordinals)
        assert sum(e.kept for e in mine) == reference.einsums[name].n_rows
    for e in done:
        assert list(e.rows.columns) == ["energy", "latency", "template", "row"]
        assert len(e.rows) == e.kept > 0 and set(e.rows["template"]) == {e.template}
        assert list(e.rows["row"]) == list(range(e.kept))
        assert e.evaluated >= e.valid >= 1

    kinds = [type(e).__name__ for e in events]
    first_done = kinds.index("EinsumDone")
    assert set(kinds[1:first_done]) <= {"TemplateDone", "FrontUpdate"}
    assert kinds[-2:] == ["FrontUpdate", "RunFinished"] and events[-2].basis == "final"
    assert [e.einsum for e in events if isinstance(e, EinsumDone)] == list(started.einsums)
    steps = [e for e in events if isinstance(e, JoinStep)]
    assert [(s.index, s.n, s.einsum) for s in steps] == [(0, 2, "Matmul0"), (1, 2, "Matmul1")]
    assert kinds.index("JoinStep") > kinds.index("EinsumDone") + 1
    for event in events:  # every event crosses a process boundary
        assert type(pickle.loads(pickle.dumps(event))) is type(event)


def test_result_status_progress_and_front(in_process: tuple[Any, list[Any]]) -> None:
    run, events = in_process
    finished: RunFinished = events[-1]
    assert run.status == finished.status == "OK" and finished.unfinished == ()
    expected = join_pmappings(make_spec(), make_pmappings(make_spec())).data
    mappings = run.result(timeout=0)
    pd.testing.assert_frame_equal(mappings.data, expected)
    pd.testing.assert_frame_equal(finished.front, expected)
    assert run.statistics["front_size"] == len(expected) == 9
    assert run.statistics["unit_status"]["ok"] == events[0].n_templates
    progress = run.progress
    assert progress.phase == "finished"
    assert progress.templates_done == progress.templates_total == events[0].n_templates
    assert progress.einsums_done == 2
    assert progress.best_energy == expected["energy"].min()
    assert sum(len(run.pmappings[e]) for e in ("Matmul0", "Matmul1")) == progress.rows_kept


# --- the progress reducer (accelforge/mapper/progress.py) --------------------------------------


def _rows(*energies: float) -> pd.DataFrame:
    return pd.DataFrame({"energy": list(energies), "latency": [1.0] * len(energies)})


def _hand_built_run() -> list[Any]:
    """Two Einsums: A with two templates (the second finds nothing), B with one."""
    return [
        RunStarted("r", ("A", "B"), {"A": ("MAC",), "B": ("MAC",)}, {"A": 2, "B": 1}, (), {}),
        RunWarning("templates capped", issued=True),
        TemplateDone("A", "A/MAC/0", "MAC", "ok", _rows(5.0, 3.0), 1, 2, 1, 3, kept=2),
        TemplateDone("A", "A/MAC/1", "MAC", "no_valid_tile_shapes", _rows(), 2, 2, 2, 3),
        EinsumDone("A", 2, 2, 2),
        TemplateDone("B", "B/MAC/0", "MAC", "ok", _rows(4.0, 6.0), 1, 1, 3, 3, kept=2),
        EinsumDone("B", 2, 1, 1),
        JoinStep(0, 2, "A", 1, 1, 2, 2, 0, 0.5),
        JoinStep(1, 2, "B", 1, 1, 4, 2, 0, 0.75),
        RunFinished("OK", _rows(9.0, 8.0), {"elapsed": 1.25}),
    ]


def test_progress_reducer_on_a_hand_built_run() -> None:
    events = _hand_built_run()
    states = list(accumulate(events, RunProgress.advance, initial=RunProgress()))
    started, warned, a0, a1, a_done, b0, b_done, join0, join1, finished = states[1:]
    assert (started.phase, started.status, started.einsums) == ("pmappings", "RUNNING", ("A", "B"))
    assert (started.templates_done, started.templates_total) == (0, 3)
    assert (started.einsums_done, started.einsums_total) == (0, 2)
    assert started.best_energy == math.inf and started.percent == 0.0
    assert warned.message == "templates capped"
    assert (a0.templates_done, a0.rows_kept, a0.lowest_energies) == (1, 2, (3.0, math.inf))
    assert a0.best_energy == a0.energy_lower_bound == math.inf  # B has no pmapping yet
    assert (a1.templates_done, a1.rows_kept, a1.lowest_energies) == (2, 2, (3.0, math.inf))
    assert (a_done.einsums_done, a_done.phase) == (1, "pmappings")
    assert b0.best_energy == b0.energy_lower_bound == 7.0  # 3 + 4, a lower bound
    assert b0.percent == 90.0 and "best energy \u2265 7 " in b0.text() + " "
    assert (b_done.einsums_done, b_done.phase) == (2, "join")  # every pmapping is final
    # The join's one step so far took 0.5 s: one more is due. By time that is 50 %, but the
    # percentage never goes below the 90 % the template count gave.
    assert (join0.join_done, join0.elapsed, join0.eta, join0.percent) == (1, 0.5, 0.5, 90.0)
    assert (join1.join_done, join1.elapsed, join1.phase, join1.eta) == (2, 0.75, "join", 0.0)
    assert join1.percent == 99.0  # by time the join is done; 100 only once finished
    assert (finished.phase, finished.status, finished.front_size) == ("finished", "OK", 2)
    assert finished.best_energy == 8.0 and finished.energy_lower_bound == 7.0
    assert (finished.elapsed, finished.percent, finished.rows_kept) == (1.25, 100.0, 4)
    assert finished.message == "templates capped"  # RunFinished has none: the last warning
    assert finished.text().startswith("OK \u00b7 templates 3/3 \u00b7 pmappings kept 4")
    assert finished.text().endswith("best energy 8 \u00b7 best latency 1 \u00b7 front 2 points")
    assert RunProgress.fold(events) == finished
    assert started.advance(object()) is started  # not an event: unchanged


def test_progress_text_names_the_objectives_and_shows_only_theirs() -> None:
    events = _hand_built_run()
    for metrics, shown, hidden in [
        (("LATENCY", "RESOURCE_USAGE"), "best latency 1", "best energy"),
        (("ENERGY",), "best energy 8", "best latency"),
    ]:
        started = dataclasses.replace(events[0], metrics=metrics)
        text = RunProgress.fold([started, *events[1:]]).text()
        assert f"objectives {' | '.join(m.lower() for m in metrics)}" in text
        assert shown in text and hidden not in text


def test_progress_reducer_on_a_cancelled_run() -> None:
    events = _hand_built_run()[:6]  # cancelled after the last template, before EinsumDone(B)
    empty = pd.DataFrame(columns=["energy"])
    cancelled = RunFinished("CANCELLED", empty, {}, ("B/MAC/0",), message="stopped by the user")
    p = RunProgress.fold([*events, cancelled])
    assert (p.phase, p.status, p.front_size, p.join_done) == ("finished", "CANCELLED", 0, 0)
    assert p.best_energy == math.inf and p.energy_lower_bound == 7.0  # no front: no best energy
    assert p.message == "stopped by the user" and p.einsums_done == 1
    assert "best energy 7 \u00b7 front 0 points" in p.text()  # the bound is still shown
    restarted = RunProgress.fold(events[:1], start=p)  # RunStarted starts afresh
    assert restarted == RunProgress.fold(events[:1])


def test_run_progress_is_the_reducer_over_its_events(in_process: tuple[Any, list[Any]]) -> None:
    run, events = in_process
    assert ProgressFromItsModule is RunProgress
    folded = RunProgress.fold(run.events())
    assert run.progress == folded  # MapperRun folds every event it emits, with this reducer
    assert folded.elapsed == events[-1].statistics["elapsed"]
    assert (folded.status, folded.front_size) == (run.status, len(events[-1].front))
    assert folded.join_done == folded.einsums_total == 2 and folded.message is None
    pmappings_done = RunProgress.fold(
        e for e in events if not isinstance(e, (JoinStep, RunFinished))
    )
    done = [e for e in events if isinstance(e, TemplateDone) and e.kept]
    lowest = [
        min(e.rows["energy"].min() for e in done if e.einsum == name)
        for name in ("Matmul0", "Matmul1")
    ]
    assert pmappings_done.phase == "join" and pmappings_done.status == "RUNNING"
    assert pmappings_done.best_energy == sum(lowest) <= folded.best_energy


def test_same_front_and_events_with_two_processes(in_process: tuple[Any, list[Any]]) -> None:
    run1, events1 = in_process
    run2 = start(make_spec(), n_workers=2)
    events2 = list(run2.events())
    assert run2.status == "OK" and events2[0].n_workers == 2
    assert signature(events2) == signature(events1)
    pd.testing.assert_frame_equal(run2.result(timeout=BOUND).data, run1.result().data)
    steady1, steady2 = ([e for e in ev if not _partial(e)] for ev in (events1, events2))
    for a, b in zip(steady1, steady2, strict=True):
        if isinstance(a, TemplateDone):
            pd.testing.assert_frame_equal(a.rows, b.rows)


@pytest.mark.parametrize("n_workers", [1, 2])
def test_cancel_mid_stream(n_workers: int) -> None:
    began = time.monotonic()
    run = start(make_spec(4, 64), n_workers=n_workers)
    for event in run.events():
        if isinstance(event, TemplateDone):
            run.cancel()
            break
    mappings = run.result(timeout=BOUND)  # raises TimeoutError if the run hangs
    assert time.monotonic() - began < BOUND
    events = list(run.events())
    assert isinstance(events[-1], RunFinished)
    assert run.status == "CANCELLED"
    fronts = [e for e in events if isinstance(e, FrontUpdate)]
    if fronts:  # the latest anytime front is the result
        assert mappings is not None and len(mappings) == len(fronts[-1].front)
    else:
        assert mappings is None and events[-1].front.empty
    assert run.unfinished and len(run.pmappings["Matmul0"]) > 0
    assert any(isinstance(e, RunWarning) for e in events)
    while multiprocessing.active_children():  # busy workers finish their unit, then exit
        assert time.monotonic() - began < BOUND, "worker processes outlived the run"
        time.sleep(0.05)


def test_time_limit_returns_quickly_with_pmappings() -> None:
    spec = make_spec(4, 64)  # about 2-3 s unlimited
    spec.mapper.ffm.time_limit = 0.5
    began = time.monotonic()
    run = start(spec, n_workers=1)
    run.result(timeout=BOUND)
    assert time.monotonic() - began < 5
    assert run.status == "TIME_LIMIT"
    statistics = run.statistics
    assert run.unfinished or len(statistics["join_steps"]) < 4  # something was cut
    assert len(run.pmappings["Matmul0"]) > 0
    assert isinstance(list(run.events())[-1], RunFinished)


def test_memory_limit_per_process_reports_units() -> None:
    spec = make_spec()
    spec.mapper.ffm.memory_limit_per_process = 50e6  # below any interpreter's footprint
    run = start(spec, n_workers=1)
    assert run.result(timeout=BOUND) is not None  # the join ran, on nothing
    assert run.status == "MEMORY_LIMIT"
    done = [e for e in run.events() if isinstance(e, TemplateDone)]
    assert done and {e.status for e in done} == {"memory_limit"}
    assert len(run.unfinished) == len(done)


def test_failing_unit_reports_error_and_run_finishes(monkeypatch: pytest.MonkeyPatch) -> None:
    real = streaming.twin_pmappings
    victim = "Matmul0/MAC/1"

    def flaky(context: Any, templates: list[Any]) -> Any:
        if any(template.id == victim for template in templates):
            raise RuntimeError("injected failure")
        return real(context, templates)

    monkeypatch.setattr(streaming, "twin_pmappings", flaky)
    run = start(make_spec(), n_workers=1)
    events = list(run.events())
    failed = [e for e in events if isinstance(e, TemplateDone) and e.status == "error"]
    assert [e.template for e in failed] == [victim]
    assert "RuntimeError: injected failure" in failed[0].message
    assert failed[0].rows.empty and not failed[0].complete
    assert run.status == "PARTIAL" and run.unfinished == (victim,)
    assert run.result(timeout=BOUND) is not None  # the join ran on the other templates
    assert run.statistics["errors"] == [{"template": victim, "message": failed[0].message}]
    assert any(isinstance(e, RunWarning) and "failed" in e.message for e in events)


def test_no_side_effects_in_cwd_or_tmpdir(tmp_path: Path) -> None:
    cwd, tmp = tmp_path / "cwd", tmp_path / "tmp"
    cwd.mkdir()
    tmp.mkdir()
    script = textwrap.dedent(
        """
        import os
        import tests.mapper.test_streaming as t
        from accelforge.mapper import map_workload_to_arch

        if __name__ == "__main__":
            for n in (1, 2):
                assert len(map_workload_to_arch(t.make_spec(), n_workers=n)) == 9
            print(sorted(os.listdir(".")), sorted(os.listdir(os.environ["TMPDIR"])))
        """
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=2 * BOUND,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[] []"
    assert list(cwd.iterdir()) == [] and list(tmp.iterdir()) == []


def test_blocking_call_consumes_the_same_events(in_process: tuple[Any, list[Any]]) -> None:
    run, events = in_process
    seen: list[Any] = []
    mappings = map_workload_to_arch(make_spec(), on_event=seen.append)
    assert signature(seen) == signature(events)
    pd.testing.assert_frame_equal(mappings.data, run.result().data)


def test_blocking_call_returns_empty_mappings_without_a_front() -> None:
    spec = make_spec()
    spec.mapper.ffm.memory_limit_per_process = 50e6
    with pytest.warns(af.SpecWarning, match="MEMORY_LIMIT"):
        mappings = map_workload_to_arch(spec)
    assert len(mappings) == 0 and mappings.data.empty


def test_start_validates_before_any_work() -> None:
    with pytest.raises(ValueError, match="n_workers must be an integer >= 1"):
        start(make_spec(), n_workers=0)
    with pytest.raises(ValueError, match="not both"):
        start(make_spec(), n_workers=1, executor=InProcessExecutor())


def test_executors() -> None:
    with InProcessExecutor() as executor:
        assert executor.submit(divmod, 7, 2).result() == (3, 1)
        assert isinstance(executor.submit(divmod, 1, 0).exception(), ZeroDivisionError)
    with pytest.raises(RuntimeError, match="after shutdown"):
        executor.submit(divmod, 1, 1)
    with pytest.raises(ValueError, match="'fork' is unsafe"):
        ProcessExecutor(1, start_method="fork")  # type: ignore[arg-type]
    with ProcessExecutor(1) as pool:
        future = pool.submit(divmod, 9, 4)
        assert isinstance(future, cf.Future) and future.result(timeout=BOUND) == (2, 1)


def test_run_on_a_callers_executor_leaves_it_open() -> None:
    executor = InProcessExecutor()
    run = start(make_spec(), executor=executor)
    assert run.result(timeout=BOUND) is not None and run.status == "OK"
    assert executor.submit(divmod, 4, 2).result() == (2, 0)


class _DyingExecutor(InProcessExecutor):
    """Runs five units, then behaves like a pool whose worker process died."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def submit(self, fn: Any, /, *args: Any) -> cf.Future[Any]:
        self.calls += 1
        if self.calls <= 5:
            return super().submit(fn, *args)
        future: cf.Future[Any] = cf.Future()
        future.set_exception(BrokenProcessPool("a worker died"))
        return future


def test_dead_worker_ends_with_worker_failed_and_keeps_results() -> None:
    run = start(make_spec(), executor=_DyingExecutor())
    run.result(timeout=BOUND)
    assert run.status == "WORKER_FAILED"
    done = [e for e in run.events() if isinstance(e, TemplateDone)]
    assert len(done) == 5 and len(run.unfinished) == run.statistics["templates"] - 5
    assert any(isinstance(e, RunWarning) and "died" in e.message for e in run.events())


def test_a_crash_in_the_run_is_reported_and_reraised(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_join(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("bug in the join")

    monkeypatch.setattr(streaming, "join_and_evaluate", broken_join)
    run = start(make_spec(), n_workers=1)
    last = list(run.events())[-1]  # the consumer is released, not hung
    assert isinstance(last, RunFinished) and last.status == "WORKER_FAILED"
    assert "bug in the join" in last.message
    with pytest.raises(KeyError, match="bug in the join"):
        run.result(timeout=BOUND)


def test_a_tensor_no_memory_can_keep_ends_no_mapping_naming_the_tensor(tmp_path: Path) -> None:
    simple = Path(af.examples.arches.simple).read_text()
    arch = simple.replace("tensors: {keep: ~Intermediates, may_keep: All}", "tensors: {keep: ~T2}")
    arch = arch.replace("tensors: {keep: ~MainMemory, may_keep: All}", "tensors: {keep: ~T2}")
    assert arch.count("keep: ~T2") == 2
    (tmp_path / "arch.yaml").write_text(arch)
    (tmp_path / "workload.yaml").write_text(PLAIN)
    run = start(af.Spec.from_yaml(tmp_path / "arch.yaml", tmp_path / "workload.yaml"), n_workers=1)
    run.result(timeout=BOUND)
    assert run.status == "NO_MAPPING"
    message = list(run.events())[-1].message
    assert message == (
        "no valid mapping: Einsum T2 has no template: tensor(s) T2 can be kept by no Memory on "
        "the path (a Toll never holds a tensor): add it to a Memory's tensors.keep or may_keep"
    )


def test_a_run_without_a_valid_mapping_ends_no_mapping_and_says_why(tmp_path: Path) -> None:
    # Every tensor must sit in a 4-bit GlobalBuffer and values are 8 bits: no template has a
    # valid tile shape. The run must not end OK with an empty front.
    simple = Path(af.examples.arches.simple).read_text()
    arch = simple.replace("tensors: {keep: ~MainMemory, may_keep: All}", "tensors: {keep: All}")
    assert arch != simple
    (tmp_path / "arch.yaml").write_text(arch)
    (tmp_path / "workload.yaml").write_text(PLAIN)
    spec = af.Spec.from_yaml(
        tmp_path / "arch.yaml", tmp_path / "workload.yaml", jinja_parse_data={"GLB_SIZE": 4}
    )
    run = start(spec, n_workers=1)
    mappings = run.result(timeout=BOUND)
    assert mappings is not None and len(mappings) == 0
    assert run.status == "NO_MAPPING"
    last = list(run.events())[-1]
    assert isinstance(last, RunFinished) and last.front.empty
    closest = "closest: capacity: even the smallest tiles need 24 bits of GlobalBuffer (size 4)"
    assert last.message == (
        f"no valid mapping: Einsum(s) T1 (12 templates: no_valid_tile_shapes; {closest}); T2 "
        f"(12 templates: no_valid_tile_shapes; {closest}) have no valid pmapping: no tile shape "
        "of their templates meets the arch's constraints (capacity, keep, fanout, min_usage, "
        "loop limits)"
    )
    with pytest.warns(af.errors.SpecWarning, match=r"^no valid mapping: Einsum\(s\) T1 "):
        assert len(map_workload_to_arch(spec)) == 0
