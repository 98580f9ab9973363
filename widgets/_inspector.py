"""``Inspector``: the view of one clicked mapping (loop nest, breakdowns, memory usage)."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go
from accelforge.widgets._plots import inspector_figure, inspector_series
from accelforge.widgets._selection import Selection

from accelforge.units import Units

__all__ = ["Inspector"]

_HINT = "<i>Click a point of the joined front to inspect its mapping.</i>"


class Inspector(widgets.VBox):
    """Shows a :class:`~accelforge.widgets._selection.Selection`; CSS class ``af-inspector``."""

    def __init__(self, **kwargs: Any) -> None:
        self.title = widgets.HTML(_HINT)
        self.title.add_class("af-inspector-title")
        self.loop_nest = widgets.HTML("")
        self.loop_nest.add_class("af-loop-nest")
        self.figure = go.FigureWidget(inspector_figure(None))
        self.selection: Selection | None = None
        """The selection shown, or None."""
        super().__init__([self.title, self.loop_nest, self.figure], **kwargs)
        self.add_class("af-inspector")

    def show(self, selection: Selection, units: Units | None = None) -> None:
        """Display ``selection``: its summary, loop nest and bar charts (one batch).

        ``units`` labels the charts' axes (``energy (J)``).
        """
        self.selection = selection
        self.title.value = f"<b>Inspecting {html.escape(selection.summary())}</b>"
        if selection.loop_nest_html:
            nest = selection.loop_nest_html
        elif selection.loop_nest_text:
            nest = f"<pre>{html.escape(selection.loop_nest_text)}</pre>"
        else:
            nest = "<i>No loop nest: this run's mappings are not available.</i>"
        self.loop_nest.value = f"<b>Loop nest</b>{nest}"
        with self.figure.batch_update():
            if units is not None:
                labelled = inspector_figure(None, units).layout
                for axis in ("yaxis", "yaxis2", "yaxis4", "yaxis5"):
                    self.figure.layout[axis].title.text = labelled[axis].title.text
            for trace, series in zip(self.figure.data, inspector_series(selection), strict=True):
                trace.x = [str(i) for i in series.index]
                trace.y = series.tolist()

    def mark_stale(self) -> None:
        """Say the point shown belongs to an earlier run (a new run started)."""
        if self.selection is None:
            return
        shown = html.escape(self.selection.summary())
        self.title.value = (
            f'<span style="color:#777"><b>Inspecting {shown}</b> from an earlier run; '
            "click a point of the current front.</span>"
        )

    def show_error(self, message: str) -> None:
        """Say why nothing can be shown (no front yet, a bad index)."""
        self.title.value = f'<span style="color:#b00020">{html.escape(message)}</span>'
