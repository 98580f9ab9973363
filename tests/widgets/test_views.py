"""The widget views without a browser: the form, the explorer, the download button."""

from __future__ import annotations

import contextlib
import functools
import math
import operator
import re
import time

import pytest

pytest.importorskip("ipywidgets", reason="the notebook extra is not installed")
pytest.importorskip("plotly", reason="the notebook extra is not installed")
pytest.importorskip("anywidget", reason="the notebook extra is not installed")

import ipywidgets as widgets  # noqa: E402
from accelforge.widgets import DownloadButton, Explorer, FFMForm  # noqa: E402
from accelforge.widgets._serialize import read_table  # noqa: E402

import accelforge as af  # noqa: E402
from accelforge.mapper.events import FrontUpdate  # noqa: E402
from tests.widgets.fakes import FakeRun, events, front_frame  # noqa: E402


def count_messages(figure) -> list[str]:
    """Record every message the figure sends to the browser."""
    sent: list[str] = []
    for kind in ("update", "restyle", "relayout", "addTraces", "deleteTraces"):
        original = getattr(figure, f"_send_{kind}_msg")

        def record(*args, _kind=kind, _original=original, **kwargs):
            sent.append(_kind)
            return _original(*args, **kwargs)

        setattr(figure, f"_send_{kind}_msg", record)
    return sent


def test_form_is_generated_with_the_right_controls(spec) -> None:
    form = FFMForm(spec, watch=False)
    assert set(form.rows) == {n for n in af.FFM.model_fields if not n.startswith("_")}
    tolerance = form.rows["objective_tolerance"]
    assert isinstance(tolerance.slider, widgets.FloatSlider)
    assert isinstance(tolerance.box, widgets.Text) and tolerance.unlimited is None
    assert isinstance(form.rows["explore_loop_orders"].box, widgets.Checkbox)
    limit = form.rows["max_fused_loops"]
    assert isinstance(limit.box, widgets.Text) and limit.unlimited.value is True
    assert limit.box.disabled
    assert isinstance(form.rows["time_limit"].box, widgets.Text)
    assert "(1 + objective_tolerance) times optimal" in tolerance.box.tooltip  # plain text
    assert form.metric_buttons["ENERGY"].value and form.metric_buttons["LATENCY"].value
    assert not form.metric_buttons["RESOURCE_USAGE"].value
    assert "af-field-objective_tolerance" in tolerance.widget._dom_classes


def test_form_edits_the_object(spec) -> None:
    form = FFMForm(spec, watch=False)
    form.rows["objective_tolerance"].slider.value = 0.05
    assert spec.mapper.ffm.objective_tolerance == pytest.approx(0.05)
    assert form.rows["objective_tolerance"].box.value == "0.05"
    limit = form.rows["max_fused_loops"]
    limit.unlimited.value = False
    limit.box.value = "2"
    assert spec.mapper.ffm.max_fused_loops == 2
    limit.unlimited.value = True
    assert math.isinf(spec.mapper.ffm.max_fused_loops)
    form.metric_buttons["RESOURCE_USAGE"].value = True
    assert af.Metrics.RESOURCE_USAGE in spec.mapper.metrics


def test_object_edits_reach_the_form(spec) -> None:
    form = FFMForm(spec, watch=False)
    spec.mapper.ffm.objective_tolerance = 0.2
    spec.mapper.ffm.max_loops = 5
    spec.mapper.metrics = af.Metrics.LATENCY
    assert set(form.refresh()) == {"objective_tolerance", "max_loops", "metrics"}
    assert form.rows["objective_tolerance"].slider.value == pytest.approx(0.2)
    assert form.rows["max_loops"].box.value == "5" and not form.rows["max_loops"].unlimited.value
    assert not form.metric_buttons["ENERGY"].value


def test_every_plot_saves_a_png_from_the_browser_toolbar(spec) -> None:
    explorer = Explorer(spec, starter=lambda s: FakeRun(events()))
    try:
        explorer.run(wait=True, timeout=10)
        explorer.tick(force=True)
        figures = {
            "pmappings": explorer.clouds.figure,
            "front": explorer.front.figure,
            "front-3d": explorer.front3d.figure,
        }
        for filename, figure in figures.items():
            options = figure._config["toImageButtonOptions"]
            assert options == {"format": "png", "filename": filename, "scale": 2}
    finally:
        explorer.close()


def test_objective_toggles_always_equal_the_model(spec) -> None:
    explorer = Explorer(spec, starter=lambda s: FakeRun(events()))
    buttons = explorer.form.metric_buttons

    def shown() -> af.Metrics:
        flags = [af.Metrics[name] for name, button in buttons.items() if button.value]
        return functools.reduce(operator.or_, flags, af.Metrics(0))

    try:
        for name in ("ENERGY", "LATENCY"):  # clear every objective, the last one is refused
            buttons[name].value = False
            assert shown() == spec.mapper.metrics
        assert buttons["LATENCY"].value and spec.mapper.metrics == af.Metrics.LATENCY
        assert "at least one optimisation metric" in explorer.form.metrics_message.value
        assert not explorer.run_button.disabled  # the object still holds a valid objective
        for name in ("ENERGY", "RESOURCE_USAGE"):  # then latency, energy and usage
            buttons[name].value = True
            assert shown() == spec.mapper.metrics
        assert explorer.form.metrics_message.value == ""
        wanted = af.Metrics.ENERGY | af.Metrics.LATENCY | af.Metrics.RESOURCE_USAGE
        assert spec.mapper.metrics == wanted
    finally:
        explorer.close()


def test_invalid_value_shows_the_message_and_disables_run(spec) -> None:
    explorer = Explorer(spec, starter=lambda s: FakeRun(events()))
    try:
        row = explorer.form.rows["objective_tolerance"]
        row.box.value = "1.5"
        assert "must be a number &gt;= 0 and &lt; 1" in row.message.value
        assert "Got 1.5 instead" in row.message.value
        assert explorer.run_button.disabled
        assert spec.mapper.ffm.objective_tolerance == 0.0
        row.box.value = "0.1"
        assert row.message.value == "" and not explorer.run_button.disabled
    finally:
        explorer.close()


def test_explorer_runs_draws_in_batches_and_inspects(spec) -> None:
    explorer = Explorer(spec, starter=lambda s: FakeRun(events(templates=50, rows=5)))
    try:
        figure = explorer.front.figure
        messages = count_messages(figure)
        explorer.run(wait=True, timeout=10)
        assert explorer.controller.progress.status == "OK"
        assert explorer.redraws <= 3  # one at start, at most one during the run, the final one
        assert 1 <= len(messages) <= explorer.redraws  # one batched message per redraw
        current = figure.data[-1]  # drawn by increasing latency; customdata: the front's rows
        assert list(current.y) == front_frame().sort_values("latency")["energy"].tolist()
        assert list(current.customdata) == [2, 1, 0] and current.mode == "lines+markers"
        assert figure.layout.title.text.startswith("Joined Pareto front: final")
        assert explorer.progress_bar.bar_style == "success"
        assert "front 3 points" in explorer.status.value
        assert explorer.progress_bar.value == 100
        clouds = explorer.clouds.figure
        assert len(clouds.data) == 4 and len(clouds.data[0].x) == 250
        assert clouds.data[0].type == "scatter"  # SVG: no emulated WebGL context to create
        assert "usage GlobalBuffer" in explorer.axis_x.options
        explorer.inspect(2)
        assert "mapping 2" in explorer.inspector.title.value
        panel = explorer.inspector.loop_nest_panel  # collapsible, open at first
        assert panel.selected_index == 0 and panel.get_title(0) == "Loop nest"
        assert panel.children == (explorer.inspector.loop_nest,)
        energy_per_einsum = explorer.inspector.figure.data[7]  # (pinned, shown) per chart
        assert list(energy_per_einsum.y) == [150.0, 250.0]
        explorer.run(wait=True, timeout=10)
        assert figure.data[0].visible and figure.data[0].name == "run 1"
    finally:
        explorer.close()


def _pausing_starter(stream=None, pause_at: int = 3):
    """A starter whose runs replay ``stream`` (default ``events()``) and pause before event
    ``pause_at`` until cancelled; the list collects the run handles."""
    handles: list[FakeRun] = []

    def starter(_spec):
        handles.append(FakeRun(events() if stream is None else stream, pause_at=pause_at))
        return handles[-1]

    return starter, handles


@contextlib.contextmanager
def _paused_explorer(spec, stream=None, pause_at: int = 3):
    """An explorer whose run is paused before event ``pause_at`` and drawn; closed after."""
    starter, handles = _pausing_starter(stream, pause_at)
    explorer = Explorer(spec, starter=starter)
    try:
        explorer.run()
        assert handles[0].paused.wait(10)
        explorer.tick(force=True)
        yield explorer
    finally:
        explorer.close()


def test_explorer_stop_keeps_the_pmappings(spec) -> None:
    with _paused_explorer(spec) as explorer:
        assert explorer.run_button.disabled and not explorer.stop_button.disabled
        assert "a run is going" in explorer.run_reason.value
        explorer.stop()
        assert explorer.wait(10)
        assert explorer.controller.progress.status == "CANCELLED"
        assert len(explorer.controller.pmappings()) == 40
        assert not explorer.run_button.disabled and explorer.stop_button.disabled


def test_elapsed_time_ticks_between_events(spec) -> None:
    def elapsed(explorer) -> float:
        return float(re.search(r"(\d+\.\d) s", explorer.status.value).group(1))

    with _paused_explorer(spec) as explorer:  # no event arrives while paused
        before = elapsed(explorer)
        time.sleep(1.2)
        explorer.tick()
        assert elapsed(explorer) >= before + 1.0
        assert "RUNNING" in explorer.status.value


def _with_partial_front() -> list:
    """events() with a partial front of two points after the last EinsumDone (index 13)."""
    stream = events()
    at = max(i for i, e in enumerate(stream) if type(e).__name__ == "EinsumDone") + 1
    partial = FrontUpdate(front_frame().iloc[:2], "partial join", 0.5, 10, 0.2)
    return [*stream[:at], partial, *stream[at:]]


def test_explorer_draws_the_partial_front_live_and_keeps_it_at_stop(spec) -> None:
    stream = _with_partial_front()
    at = next(i for i, e in enumerate(stream) if isinstance(e, FrontUpdate))
    with _paused_explorer(spec, stream, pause_at=at + 1) as explorer:
        figure = explorer.front.figure
        assert list(figure.data[-1].y) == [200.0, 100.0]  # the partial front, by latency
        assert "partial, improving while the mapper runs" in figure.layout.title.text
        assert figure.data[-1].name == "current run (partial join)"
        explorer.stop()
        assert explorer.wait(10)
        explorer.tick(force=True)
        assert explorer.controller.progress.status == "CANCELLED"
        assert list(figure.data[-1].y) == [200.0, 100.0]  # Stop keeps the latest front
        assert "partial (CANCELLED)" in figure.layout.title.text
        assert explorer.progress_bar.bar_style == "warning"
        assert "#b26a00" in explorer.status.value
        assert len(explorer.controller.front) == 2  # inspectable and exportable
        explorer.inspect(1)
        assert "mapping 1" in explorer.inspector.title.value


def test_explorer_says_it_waits_for_the_first_front(spec) -> None:
    with _paused_explorer(spec) as explorer:
        title = explorer.front.figure.layout.title.text
        assert title == "Joined Pareto front: waiting for the first front\u2026"
        explorer.stop()
        assert explorer.wait(10)


def test_a_new_explorer_closes_the_previous_one_and_cancels_its_run(spec) -> None:
    starter, handles = _pausing_starter()

    first = Explorer(spec, starter=starter)
    second = None
    try:
        first.run()
        assert handles[0].paused.wait(10) and first.ticker.active
        second = Explorer(spec, starter=starter)  # as re-executing the cell does
        assert not first.ticker.active and handles[0].cancel_calls == 1
        assert first.wait(10) and first.controller.progress.status == "CANCELLED"
        first.close()  # idempotent
        assert handles[0].cancel_calls == 1 and second.ticker.active
    finally:
        first.close()
        if second is not None:
            second.close()
            assert not second.ticker.active


def test_axes_hover_and_inspector_carry_the_specs_units(spec) -> None:
    explorer = Explorer(spec, starter=lambda s: FakeRun(events()))
    try:
        explorer.run(wait=True, timeout=10)  # simple.yaml: unit energies, per-cycle throughput
        layout = explorer.front.figure.layout
        assert (layout.xaxis.title.text, layout.yaxis.title.text) == (
            "latency (cycles)",
            "energy (energy units)",
        )
        hover = explorer.front.figure.data[-1].hovertemplate
        assert "latency (cycles) %{x:.4g}" in hover and "energy (energy units)" in hover
        clouds = explorer.clouds.figure.layout
        assert clouds.xaxis.title.text == "latency (cycles)"
        explorer.controller.set_axes(x="usage GlobalBuffer", y="energy")
        explorer.tick(force=True)
        assert layout.xaxis.title.text == "usage GlobalBuffer (fraction of capacity)"
        explorer.inspect(0)
        inspector = explorer.inspector.figure.layout
        assert inspector.yaxis.title.text == "energy (energy units)"
        assert inspector.yaxis2.title.text == "latency (cycles)"
    finally:
        explorer.close()


def test_projected_axes_draw_points_without_a_line(spec) -> None:
    explorer = Explorer(spec, starter=lambda s: FakeRun(events()))
    try:
        explorer.run(wait=True, timeout=10)
        explorer.controller.set_axes(x="usage GlobalBuffer", y="energy")
        explorer.tick(force=True)
        current = explorer.front.figure.data[-1]
        assert current.mode == "markers"
        # usage 0.9/0.5/0.1 against energy 100/200/400: every point is non-dominated on these
        assert list(current.marker.color) == ["#1f77b4"] * 3
        explorer.controller.set_axes(x="energy-delay product", y="energy")
        explorer.tick(force=True)
        colours = list(explorer.front.figure.data[-1].marker.color)
        # EDP 3000 with energy 100 is lower in both than (4000, 200) and (4000, 400): faded
        assert colours == ["#1f77b4", "#c6dbef", "#c6dbef"]
    finally:
        explorer.close()


def test_clouds_draw_with_webgl_when_asked(spec) -> None:
    explorer = Explorer(spec, starter=lambda s: FakeRun(events(templates=50, rows=5)))
    try:
        explorer.controller.webgl_clouds = True
        explorer.run(wait=True, timeout=10)
        explorer.tick(force=True)
        types = {trace.type for trace in explorer.clouds.figure.data}
        assert types == {"scattergl", "scatter"}  # clouds in WebGL, Einsum fronts in SVG
        assert len(explorer.clouds.figure.data[0].x) == 250
    finally:
        explorer.close()


def test_the_3d_view_shows_the_front_over_three_columns_and_inspects_a_click(spec) -> None:
    explorer = Explorer(spec, starter=lambda s: FakeRun(events()))
    try:
        explorer.run(wait=True, timeout=10)
        explorer.tick(force=True)
        assert explorer.front3d_box.children == ()  # no z axis: no 3-D view
        assert "usage GlobalBuffer" in explorer.axis_z.options
        explorer.axis_x.value, explorer.axis_y.value = "energy-delay product", "energy"
        explorer.axis_z.value = "usage MainMemory"
        explorer.tick(force=True)
        assert explorer.front3d_box.children == (explorer.front3d.slot.box,)
        trace = explorer.front3d.figure.data[0]
        assert list(trace.z) == [0.0, 0.0, 0.0] and list(trace.x) == [3000.0, 4000.0, 4000.0]
        # (EDP, energy, usage MainMemory): (3000, 100, 0) dominates the two others
        assert list(trace.marker.color) == ["#1f77b4", "#c6dbef", "#c6dbef"]
        scene = explorer.front3d.figure.layout.scene
        assert scene.zaxis.title.text.startswith("usage MainMemory")
        assert "1 of 3" in explorer.front3d.figure.layout.title.text
        explorer.axis_z.value = "usage GlobalBuffer"  # 0.9 / 0.5 / 0.1: none dominated now
        explorer.tick(force=True)
        assert list(explorer.front3d.figure.data[0].marker.color) == ["#1f77b4"] * 3
        points = type("Points", (), {"point_inds": [2]})()
        explorer.front3d._clicked(explorer.front3d.figure.data[0], points, None)
        assert "mapping 2" in explorer.inspector.title.value
        explorer.axis_z.value = "(none)"
        assert explorer.front3d_box.children == () and explorer.controller.z is None
    finally:
        explorer.close()


def test_the_clicked_point_is_highlighted_and_goes_stale_with_a_new_run(spec) -> None:
    explorer = Explorer(spec, starter=lambda s: FakeRun(events()))
    try:
        explorer.run(wait=True, timeout=10)
        explorer.inspect(0)  # row 0 is drawn last: points go by increasing latency
        current = explorer.front.figure.data[-1]
        assert list(current.selectedpoints) == [2]
        with pytest.raises(RuntimeError, match="not available yet"):
            explorer.controller.selected_yaml()  # the fake run has no Mappings
        explorer.run(wait=True, timeout=10)
        assert "from an earlier run" in explorer.inspector.title.value
        assert explorer.front.figure.data[-1].selectedpoints is None
    finally:
        explorer.close()


def test_a_pinned_point_is_compared_with_the_next_one_clicked(spec) -> None:
    explorer = Explorer(spec, starter=lambda s: FakeRun(events()))
    inspector = explorer.inspector
    try:
        assert inspector.pin_button.disabled  # nothing shown yet
        explorer.run(wait=True, timeout=10)
        explorer.inspect(0)
        inspector.pin_button.click()
        assert inspector.pin_button.description == "Unpin mapping 0"
        assert inspector.comparison.value == ""  # the pinned point is the one shown
        explorer.inspect(2)
        text = inspector.comparison.value
        # front rows: energy 100 / 400, latency 30 / 10, usage GlobalBuffer 0.9 / 0.1
        assert "mapping 2 vs pinned mapping 0" in text
        assert "energy \u00d74;" in text and "latency \u00d70.333" in text
        assert "usage GlobalBuffer 90% \u2192 10%" in text
        pinned, shown = inspector.figure.data[6], inspector.figure.data[7]  # energy per Einsum
        assert pinned.visible and pinned.name == "pinned: mapping 0"
        assert list(pinned.y) == [40.0, 60.0] and list(shown.y) == [150.0, 250.0]
        inspector.pin_button.click()
        assert inspector.comparison.value == "" and not inspector.figure.data[6].visible
    finally:
        explorer.close()


def test_selected_mapping_downloads_as_yaml_a_spec_can_load(spec) -> None:
    from accelforge.frontend._yaml import load_yaml_text
    from accelforge.frontend.mapping import Mapping
    from accelforge.model import evaluate_mapping

    explorer = Explorer(spec, n_workers=1)
    try:
        with pytest.raises(RuntimeError, match="Click a point"):
            explorer.controller.selected_yaml()
        explorer.run(wait=True, timeout=120)
        assert explorer.controller.progress.status == "OK"
        explorer.inspect(0)
        text = explorer.downloads["mapping-yaml"].download()
        assert text is not None and text.startswith(b"mapping:")
        copy = spec.model_copy(deep=True)
        copy.mapping = Mapping.from_data(load_yaml_text(text.decode(), name="m")["mapping"], ())
        energy = explorer.controller.front["energy"].iloc[0]
        assert evaluate_mapping(copy).energy() == pytest.approx(energy, rel=1e-9)
    finally:
        explorer.close()


def test_download_buttons_send_the_export_bytes(spec) -> None:
    explorer = Explorer(spec, starter=lambda s: FakeRun(events()))
    try:
        explorer.run(wait=True, timeout=10)
        button = explorer.downloads["front-csv"]
        sent = []
        button.send = lambda content, buffers=None: sent.append((content, buffers))
        button._handle_message(button, {"type": "request"}, [])
        content, buffers = sent[0]
        assert content == {"type": "file", "filename": "front.csv", "mime": "text/csv"}
        data, _ = read_table(bytes(buffers[0]), "csv")
        assert len(data) == 3
        html = explorer.downloads["figure-html"].download()
        assert html is not None and b"plotly" in html[:5000].lower()
    finally:
        explorer.close()


def test_download_button_shows_producer_errors() -> None:
    def fail() -> bytes:
        raise RuntimeError("nothing to export yet")

    button = DownloadButton("x", "x.bin", "application/octet-stream", fail)
    assert button.download() is None and button.error == "nothing to export yet"


def test_building_the_views_leaves_the_spec_untouched(spec) -> None:
    before = spec.mapper.to_section()
    FFMForm(spec, watch=False)
    Explorer(spec, starter=lambda s: FakeRun(events())).close()
    assert spec.mapper.to_section() == before


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("max_loops", "2.5", "max_loops must be a whole number (like 4). Got &#x27;2.5&#x27;."),
        ("max_loops", "abc", "max_loops must be a whole number (like 4). Got &#x27;abc&#x27;."),
        ("time_limit", "1e400", "time_limit must be a number within range. Got &#x27;1e400&#x27;."),
        ("time_limit", "abc", "time_limit must be a number (like 0.05). Got &#x27;abc&#x27;."),
        (
            "objective_tolerance",
            "inf",
            "objective_tolerance must be a number; it has no &#x27;unlimited&#x27;. Got",
        ),
    ],
)
def test_numeric_boxes_refuse_bad_text_with_a_message(spec, field, text, message) -> None:
    explorer = Explorer(spec, starter=lambda s: FakeRun(events()))
    try:
        row = explorer.form.rows[field]
        if row.unlimited is not None:
            row.unlimited.value = False
        before = getattr(spec.mapper.ffm, field)
        row.box.value = text
        assert message in row.message.value
        assert explorer.run_button.disabled and getattr(spec.mapper.ffm, field) == before
        assert f"fix {field} to run" in explorer.run_reason.value  # said beside the button
        good = "0.25" if field == "objective_tolerance" else "3"
        row.box.value = good
        assert row.message.value == "" and not explorer.run_button.disabled
        assert explorer.run_reason.value == ""
        assert getattr(spec.mapper.ffm, field) == float(good)
    finally:
        explorer.close()


def test_expression_values_are_shown_as_notes(spec) -> None:
    spec.mapper.ffm.max_loops = "2 * 3"
    form = FFMForm(spec, watch=False)
    assert "expression &#x27;2 * 3&#x27;" in form.rows["max_loops"].message.value
    form.rows["max_loops"].unlimited.value = False
    form.rows["max_loops"].box.value = "4"
    assert spec.mapper.ffm.max_loops == 4


def test_limit_fields_show_units_and_tooltips_are_plain_text(spec) -> None:
    from accelforge.widgets._fields import plain_text

    explorer = Explorer(spec, starter=lambda s: FakeRun(events()))
    try:
        memory = explorer.form.rows["memory_limit"].label.value
        time_limit = explorer.form.rows["time_limit"].label.value
        assert ">memory limit (B)<" in memory and ">time limit (s)<" in time_limit
        for row in explorer.form.rows.values():
            assert "``" not in row.label.value and ":func:" not in row.label.value
    finally:
        explorer.close()
    rst = "Seconds; ``inf``: none. See :func:`~accelforge.mapper.start`, :ref:`docs <x>`, *a*."
    assert plain_text(rst) == "Seconds; inf: none. See start, docs, a."
