"""A page reload's ``request_states``: figures are answered one by one, with current data."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("ipywidgets", reason="the notebook extra is not installed")
pytest.importorskip("plotly", reason="the notebook extra is not installed")
pytest.importorskip("anywidget", reason="the notebook extra is not installed")

import ipywidgets as widgets  # noqa: E402
from accelforge.widgets import Explorer  # noqa: E402
from accelforge.widgets._slots import install_hook, live_slots  # noqa: E402

from tests.widgets.fakes import FakeRun, events  # noqa: E402


class ControlComm:
    """Stands in for the kernel's widget control comm: records what it would send."""

    def __init__(self) -> None:
        self.sent: list[dict] = []

    def send(self, data: dict, buffers: list | None = None) -> None:
        self.sent.append(data)


def _request_states(monkeypatch) -> dict:
    comm = ControlComm()
    monkeypatch.setattr(widgets.Widget, "_control_comm", comm)
    widgets.Widget._handle_control_comm_msg({"content": {"data": {"method": "request_states"}}})
    assert len(comm.sent) == 1 and comm.sent[0]["method"] == "update_states"
    return comm.sent[0]["states"]


def test_the_hook_wraps_ipywidgets_handler_once() -> None:
    assert install_hook() and install_hook()
    handler = widgets.Widget._handle_control_comm_msg
    assert handler.__func__.__qualname__.endswith("install_hook.<locals>.handle")


def test_a_reload_gets_no_figure_in_its_reply_and_fresh_figures_after(spec, monkeypatch) -> None:
    explorer = Explorer(spec, starter=lambda s: FakeRun(events()))
    try:
        explorer.run(wait=True, timeout=10)
        explorer.tick(force=True)
        before = explorer.front.figure
        x_before = list(before.data[-1].x)
        states = _request_states(monkeypatch)
        bundles = [s for s in states.values() if len(s["state"].get("_esm", "")) > 1_000_000]
        assert bundles == []  # no figure's 5 MB Plotly bundle in the one big reply
        assert max(len(json.dumps(state)) for state in states.values()) < 1_000_000
        assert explorer.front.figure is not before and before.comm is None  # closed
        assert list(explorer.front.figure.data[-1].x) == x_before  # current data
        assert explorer.front.slot.box.children == (explorer.front.figure,)
        assert all(slot.rebuilds >= 1 for slot in live_slots() if slot is explorer.front.slot)
        # the rebuilt front still inspects the point clicked
        trace = explorer.front.figure.data[-1]
        points = type("Points", (), {"point_inds": [0]})()
        explorer.front._clicked(trace, points, None)
        assert "mapping" in explorer.inspector.title.value
        assert list(explorer.front.figure._config["toImageButtonOptions"]) == [
            "format", "filename", "scale"
        ]  # fmt: skip
    finally:
        explorer.close()
    assert explorer.front.slot not in live_slots()  # a closed explorer is not rebuilt


def test_other_control_messages_reach_ipywidgets(monkeypatch) -> None:
    monkeypatch.setattr(widgets.Widget, "_control_comm", ControlComm())
    with pytest.raises(RuntimeError, match="Unknown front-end to back-end widget control msg"):
        widgets.Widget._handle_control_comm_msg({"content": {"data": {"method": "nope"}}})


def test_a_reload_after_an_explorer_was_closed_still_gets_its_reply(spec, monkeypatch) -> None:
    explorer = Explorer(spec, starter=lambda s: FakeRun(events()))
    explorer.run(wait=True, timeout=10)

    def tree(widget) -> list:
        return [widget, *(w for child in getattr(widget, "children", ()) for w in tree(child))]

    ids = {widget.model_id for widget in tree(explorer)}
    explorer.close()  # as re-executing its cell does
    states = _request_states(monkeypatch)  # raised AttributeError when containers stayed open
    assert not ids & set(states)  # every widget of the explorer left the kernel
