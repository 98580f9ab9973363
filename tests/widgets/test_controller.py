"""The controller without widgets: fake event streams, throttling, cancel, selection, exports."""

from __future__ import annotations

import math
import threading
from dataclasses import replace

import pandas as pd
import pytest
from accelforge.widgets import ExplorerController
from accelforge.widgets._run_model import thin
from accelforge.widgets._serialize import read_table, table_formats

import accelforge as af
from accelforge.mapper.events import RunFinished
from accelforge.mapper.progress import RunProgress
from accelforge.pareto import pareto_front_2d
from tests.widgets.fakes import EINSUMS, FakeClock, FakeRun, events, front_frame


def controller_for(
    spec, stream, pause_at: int | None = None, **kwargs
) -> tuple[ExplorerController, list[FakeRun]]:
    handles: list[FakeRun] = []

    def starter(_spec):
        handles.append(FakeRun(stream, pause_at))
        return handles[-1]

    return ExplorerController(spec, starter=starter, **kwargs), handles


def test_a_fake_stream_gives_the_expected_dataframes(spec) -> None:
    stream = events(templates=4, rows=10)
    c, handles = controller_for(spec, stream)
    c.run(wait=True, timeout=10)
    chunks = {
        e: [ev.rows for ev in stream if getattr(ev, "einsum", None) == e and hasattr(ev, "rows")]
        for e in EINSUMS
    }
    for einsum in EINSUMS:
        expected = pd.concat(chunks[einsum], ignore_index=True)
        pd.testing.assert_frame_equal(c.pmappings(einsum), expected)
    everything = c.pmappings()
    assert list(everything["einsum"].unique()) == list(EINSUMS) and len(everything) == 80
    pd.testing.assert_frame_equal(c.front, front_frame())
    p = c.progress
    assert (p.status, p.phase, p.templates_done, p.templates_total) == ("OK", "finished", 8, 8)
    assert (p.rows_kept, p.einsums_done, p.join_done, p.front_size) == (80, 2, 2, 3)
    assert p.best_energy == 100.0 and p.percent == 100.0
    assert "front 3 points" in p.text() and p.message == "a harmless warning"
    assert not c.running and c.can_run


def test_the_progress_is_the_core_reducers_with_the_views_status(spec) -> None:
    stream = events(templates=3, rows=4)
    c = ExplorerController(spec)
    assert c.progress.status == "IDLE" and c.progress.percent == 0.0
    c.feed(stream[:5])  # RunStarted, 3 templates of Matmul0, EinsumDone; then the stream ends
    expected = RunProgress.fold(stream[:5])
    assert expected.status == "RUNNING" and expected.phase == "pmappings"
    ended = RunFinished(
        "PARTIAL",
        pd.DataFrame(columns=["energy"]),
        {},
        message="the run's events ended before RunFinished",
    )
    assert replace(c.progress, elapsed=0.0) == replace(expected.advance(ended), elapsed=0.0)
    c.feed(stream)
    assert replace(c.progress, elapsed=0.0) == replace(RunProgress.fold(stream), elapsed=0.0)


def test_each_einsum_front_is_its_pareto_set(spec) -> None:
    c, _ = controller_for(spec, events())
    c.run(wait=True, timeout=10)
    update = c.take_update(force=True)
    assert update is not None and set(update.einsum_fronts) == set(EINSUMS)
    for einsum, front in update.einsum_fronts.items():
        data = c.pmappings(einsum)
        for _, point in data.iterrows():  # nothing on the front is dominated
            dominated = (front["latency"] <= point["latency"]) & (
                front["energy"] <= point["energy"]
            )
            assert dominated.any() or point.name in front.index
        assert front["latency"].is_monotonic_increasing
        assert front["energy"].is_monotonic_decreasing


def test_updates_are_bounded_by_time_not_by_events(spec) -> None:
    clock = FakeClock()
    c = ExplorerController(spec, clock=clock, redraws_per_second=4.0)
    stream = events(templates=100, rows=5)  # 200+ events over 2.1 simulated seconds
    updates = []

    def paced():
        for event in stream:
            clock.now += 0.01
            yield event
            update = c.take_update()
            if update is not None:
                updates.append(update)

    c.feed(paced())
    final = c.take_update(force=True)
    assert final is not None
    seconds = clock.now
    assert len(stream) > 200 and seconds == pytest.approx(len(stream) * 0.01)
    assert 2 <= len(updates) <= seconds * 4 + 1
    assert c.updates_issued == len(updates) + 1
    assert c.take_update(force=True) is None  # nothing changed since


def test_a_new_run_redraws_every_einsum(spec) -> None:
    c = ExplorerController(spec, clock=FakeClock())
    c.feed(events(templates=3, rows=4)[:4])  # RunStarted + 3 templates of Matmul0; ends early
    first = c.take_update(force=True)
    assert first is not None and set(first.clouds) == set(EINSUMS)  # a new run: everything
    assert c.current.status == "PARTIAL"


def test_only_changed_einsums_are_redrawn(spec) -> None:
    # Updates taken while the run goes on carry the clouds of the Einsums whose pmappings
    # changed since the last update, and no others.
    c = ExplorerController(spec, clock=FakeClock())
    stream = events(templates=3, rows=4)  # RunStarted, 3 x Matmul0, EinsumDone, 3 x Matmul1, ...
    drawn: list[set[str]] = []

    def paced():
        for position, event in enumerate(stream):
            yield event
            if position in (1, 3, 5, 7):
                update = c.take_update(force=True)
                drawn.append(set(update.clouds) if update is not None else set())

    c.feed(paced())
    assert drawn == [set(EINSUMS), {"Matmul0"}, {"Matmul1"}, {"Matmul1"}]
    assert c.current.status == "OK"


def test_cancel_mid_stream_keeps_what_was_found(spec) -> None:
    stream = events(templates=5, rows=10)
    c, handles = controller_for(spec, stream, pause_at=4)
    c.run()
    assert handles[0].paused.wait(10)
    assert c.running and not c.can_run
    c.cancel()
    assert c.progress.status in ("STOPPING", "CANCELLED")
    assert c.wait(10)
    assert handles[0].cancel_calls == 1
    p = c.progress
    assert p.status == "CANCELLED" and p.templates_done == 3 and p.rows_kept == 30
    assert len(c.pmappings("Matmul0")) == 30 and c.pmappings("Matmul1").empty
    assert c.front.empty and not c.running and c.can_run


def test_cancel_while_feeding_stops_reading(spec) -> None:
    c = ExplorerController(spec)
    seen = []

    def stream():
        for i, event in enumerate(events()):
            seen.append(i)
            if i == 3:
                c.cancel()
            yield event

    c.feed(stream())
    assert seen == [0, 1, 2, 3]
    assert c.progress.status == "CANCELLED" and c.progress.templates_done == 3


def test_a_failing_stream_becomes_an_error_status(spec) -> None:
    def broken():
        yield events()[0]
        raise OSError("worker vanished")

    c = ExplorerController(spec)
    c.feed(broken())
    assert c.progress.status == "ERROR" and "worker vanished" in c.progress.message


def test_run_is_refused_while_the_form_is_invalid(spec) -> None:
    c, handles = controller_for(spec, events())
    c.form.set("objective_tolerance", 1.5)
    assert not c.can_run
    with pytest.raises(RuntimeError, match="objective_tolerance"):
        c.run()
    assert handles == []


def test_second_run_is_labelled_and_overlays_the_first(spec) -> None:
    c, _ = controller_for(spec, events())
    c.run(wait=True, timeout=10)
    spec.mapper.ffm.objective_tolerance = 0.1
    c.run(wait=True, timeout=10)
    labels = [label for label, _ in c.fronts()]
    assert labels == ["run 1", "run 2: objective_tolerance=0.1"]
    update = c.take_update(force=True)
    assert [label for label, _ in update.previous] == ["run 1"]
    assert update.front is not None and len(update.front) == 3


def test_axes(spec) -> None:
    c, _ = controller_for(spec, events())
    c.run(wait=True, timeout=10)
    options = c.axis_options()
    assert "usage GlobalBuffer" in options and "usage MainMemory" in options
    assert not [o for o in options if o.startswith("Matmul")]
    c.take_update(force=True)
    c.set_axes(x="usage GlobalBuffer", colour="usage MainMemory")
    update = c.take_update(force=True)
    assert update is not None and update.axes == (
        "usage GlobalBuffer",
        "energy",
        "usage MainMemory",
    )


def test_selection_without_mappings_uses_the_row(spec) -> None:
    c, _ = controller_for(spec, events())
    with pytest.raises(IndexError, match="no front"):
        c.select(0)
    c.run(wait=True, timeout=10)
    selected = c.select(1)
    assert selected.energy_per_einsum.to_dict() == {"Matmul0": 90.0, "Matmul1": 110.0}
    assert selected.memory_usage.to_dict() == {"MainMemory": 0.0, "GlobalBuffer": 0.5}
    assert selected.loop_nest_html is None and "mapping 1" in selected.summary()
    with pytest.raises(IndexError, match="3 points"):
        c.select(3)


@pytest.mark.parametrize("fmt", table_formats())
def test_exported_front_parses_back_the_same_inf_included(spec, fmt) -> None:
    c, _ = controller_for(spec, events())
    c.run(wait=True, timeout=10)
    sidecar = c.export_metadata() if fmt == "csv" else None
    data, metadata = read_table(c.export_front(fmt), fmt, sidecar)
    pd.testing.assert_frame_equal(data, front_frame(), check_dtype=False)
    assert math.isinf(data["spare capacity"][0])
    assert metadata["mapper"]["metrics"] == ["LATENCY", "ENERGY"] and metadata["status"] == "OK"


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_exported_pmappings_parse_back(spec, fmt) -> None:
    c, _ = controller_for(spec, events(templates=2, rows=3))
    c.run(wait=True, timeout=10)
    data, _ = read_table(c.export_pmappings(fmt), fmt)
    pd.testing.assert_frame_equal(data, c.pmappings(), check_dtype=False)


def test_real_run_end_to_end(spec) -> None:
    c = ExplorerController(spec, n_workers=1)
    c.run(wait=True, timeout=120)
    assert c.progress.status == "OK" and len(c.front) > 1
    selected = c.select(0)
    assert "Matmul0" in (selected.loop_nest_text or "")
    assert "<" in (selected.loop_nest_html or "")
    assert set(selected.energy_per_component.index) >= {"MainMemory", "GlobalBuffer"}
    assert set(selected.energy_per_einsum.index) == {"Matmul0", "Matmul1"}
    assert "GlobalBuffer" in selected.memory_usage.index
    assert selected.latency_per_einsum.sum() > 0
    data, _ = read_table(c.export_front("csv"), "csv")
    assert len(data) == len(c.front)
    pmappings, _ = read_table(c.export_pmappings("csv"), "csv")
    assert len(pmappings) == len(c.pmappings())  # every kept pmapping, with details
    assert {"loop nest", "usage GlobalBuffer"} <= set(pmappings.columns)
    assert pmappings["loop nest"].str.contains("compute Matmul0 on MAC").any()


def test_helpers() -> None:
    data = pd.DataFrame({"latency": [3, 1, 2, 2, 4], "energy": [1, 5, 3, 2, 1]})
    assert pareto_front_2d(data, "latency", "energy").index.tolist() == [1, 3, 0]
    assert pareto_front_2d(data.iloc[0:0], "latency", "energy").empty
    big = pd.DataFrame({"latency": range(100), "energy": range(100, 0, -1)})
    small = thin(big, 10, keep=big.iloc[[5]])
    assert len(small) <= 11 and 5 in small.index
    assert thin(big, 1000) is big


def test_starter_errors_propagate(spec) -> None:
    def refuse(_spec):
        raise af.SpecError("bad spec", loc=("arch",))

    c = ExplorerController(spec, starter=refuse)
    with pytest.raises(af.SpecError, match="bad spec"):
        c.run()
    assert c.current is None and c.can_run


class _GatedExecutor(af.mapper.InProcessExecutor):
    """Runs units in the run's thread, but only once the test opens the gate."""

    def __init__(self, gate: threading.Event) -> None:
        super().__init__()
        self.gate = gate

    def submit(self, fn, /, *args):
        self.gate.wait(30)
        return super().submit(fn, *args)


def test_cancel_a_real_run_keeps_what_was_found(spec) -> None:
    gate = threading.Event()
    c = ExplorerController(
        spec, starter=lambda s: af.mapper.start(s, executor=_GatedExecutor(gate))
    )
    c.run()
    c.cancel()
    gate.set()
    assert c.wait(60)
    p = c.progress
    assert p.status in ("CANCELLED", "PARTIAL") and not c.running
    assert p.templates_done < p.templates_total and c.front.empty
    assert len(c.pmappings()) == p.rows_kept
