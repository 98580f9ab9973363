"""Figure slots: the explorer's Plotly ``FigureWidget``s, rebuilt when a browser page reloads.

Why: each ``FigureWidget`` carries Plotly's whole front-end bundle (about 5 MB) in its state.
When a page reloads (or a saved notebook is reopened), JupyterLab asks the kernel for every
widget's state in one ``request_states`` message. With the explorer's four figures that reply
is over 20 MB; decoding it blocks the page past the 2 s that outputs and anywidget wait for a
model, so the output shows "model not found" or figures that never update again. A figure
built before the reload also comes back with the data it had when it was built.

So every figure lives in a :class:`FigureSlot`. On ``request_states`` (:func:`install_hook`)
each live slot hands its figure over as a plain copy and closes it, the kernel answers with
the small remaining state, and each slot then builds a fresh figure from its copy: the page
receives one figure per message, with its current data. Views re-register their callbacks
through ``on_new``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go

__all__ = ["FigureSlot", "close_tree", "install_hook", "live_slots"]

_SLOTS: weakref.WeakSet[FigureSlot] = weakref.WeakSet()
_ORIGINAL: Any = None
"""ipywidgets' own control-message handler, once :func:`install_hook` has wrapped it."""


def figure_widget(figure: go.Figure, filename: str) -> go.FigureWidget:
    """``figure`` as a ``FigureWidget`` whose toolbar camera saves a PNG in the browser.

    The camera button is Plotly's ``toImage``: it needs no kaleido and no server-side browser.
    """
    widget = go.FigureWidget(figure)
    widget._config = {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": filename, "scale": 2},
    }
    return widget


class FigureSlot:
    """One figure of a view, in its own ``Box`` so it can be replaced and rebuilt."""

    def __init__(
        self,
        figure: go.Figure,
        filename: str,
        on_new: Callable[[go.FigureWidget], None] | None = None,
    ) -> None:
        self.box = widgets.Box()
        """What the layout shows; its one child is :attr:`figure`."""
        self.filename = filename
        self.rebuilds = 0
        """Figures built after the first (one per page reload)."""
        self._on_new = on_new
        self._parked: go.Figure | None = None
        self.figure = figure_widget(figure, filename)
        self.box.children = (self.figure,)
        if on_new is not None:
            on_new(self.figure)
        install_hook()
        _SLOTS.add(self)

    def replace(self, figure: go.Figure) -> go.FigureWidget:
        """Show ``figure``'s traces and layout in the same widget (a new structure).

        The widget is kept: a new one would make the page load Plotly's 5 MB bundle again,
        which blocks it for over a second. ``on_new`` runs again for the new traces.
        """
        with self.figure.batch_update():
            self.figure.data = []
        self.figure.add_traces(list(figure.data))
        self.figure.layout = figure.layout
        if self._on_new is not None:
            self._on_new(self.figure)
        return self.figure

    def park(self) -> None:
        """Keep a plain copy of the figure and close it (its state leaves the kernel)."""
        if self._parked is None:
            self._parked = go.Figure(self.figure)
            self.box.children = ()
            self.figure.close()

    def unpark(self) -> None:
        """Build the figure again from its parked copy (one message, current data)."""
        if self._parked is not None:
            parked, self._parked = self._parked, None
            self.figure = figure_widget(parked, self.filename)
            self.box.children = (self.figure,)
            self.rebuilds += 1
            if self._on_new is not None:
                self._on_new(self.figure)

    def close(self) -> None:
        """Close the figure and the box; the slot is no longer rebuilt."""
        _SLOTS.discard(self)
        self.figure.close()
        self.box.close()


def close_tree(widget: Any) -> None:
    """Close ``widget``'s descendants (``children``), innermost first; not ``widget`` itself.

    ipywidgets' ``close()`` leaves children open: a container left open that lists a closed
    widget would break the state reply of the next page reload.
    """
    for child in list(getattr(widget, "children", ()) or ()):
        close_tree(child)
        child.close()


def live_slots() -> list[FigureSlot]:
    """The slots whose figures a page reload rebuilds."""
    return list(_SLOTS)


def install_hook() -> bool:
    """Wrap ipywidgets' ``request_states`` handler once; False when it cannot be found.

    The handler is private to ipywidgets (8.x); without it reloads work as ipywidgets alone
    allows (the test suite checks that it is found).
    """
    global _ORIGINAL
    if _ORIGINAL is not None:
        return True
    original = getattr(widgets.Widget, "_handle_control_comm_msg", None)
    if original is None:
        return False
    _ORIGINAL = original.__func__

    def handle(cls: type, msg: dict[str, Any]) -> Any:
        data = (msg.get("content") or {}).get("data") or {}
        if data.get("method") != "request_states":
            return _ORIGINAL(cls, msg)
        slots = live_slots()
        for slot in slots:
            slot.park()
        try:
            return _ORIGINAL(cls, msg)
        finally:
            for slot in slots:
                slot.unpark()

    widgets.Widget._handle_control_comm_msg = classmethod(handle)  # type: ignore[assignment]
    return True
