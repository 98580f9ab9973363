"""``Inspector``: the view of one clicked mapping (loop nest, breakdowns, memory usage).

"Pin for comparison" keeps the shown mapping; the next point clicked is drawn beside it in
every chart, with a line of ratios (:func:`comparison_text`).
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go
from accelforge.widgets._plots import inspector_figure
from accelforge.widgets._selection import Selection
from accelforge.widgets._slots import FigureSlot

from accelforge import columns as col
from accelforge.units import NO_UNITS, Units

__all__ = ["Inspector", "comparison_text"]

_HINT = "<i>Click a point of the joined front to inspect its mapping.</i>"


class Inspector(widgets.VBox):
    """Shows a :class:`~accelforge.widgets._selection.Selection`; CSS class ``af-inspector``."""

    def __init__(self, **kwargs: Any) -> None:
        self.title = widgets.HTML(_HINT)
        self.title.add_class("af-inspector-title")
        self.loop_nest = widgets.HTML("")
        self.loop_nest.add_class("af-loop-nest")
        self.loop_nest_panel = widgets.Accordion(children=[self.loop_nest], selected_index=0)
        """The loop nest, collapsible (open at first)."""
        self.loop_nest_panel.set_title(0, "Loop nest")
        self.slot = FigureSlot(inspector_figure(None), "mapping")
        self.selection: Selection | None = None
        """The selection shown, or None."""
        self.pinned: Selection | None = None
        """The selection pinned for comparison, or None."""
        self.pin_button = widgets.Button(description="Pin for comparison", icon="thumb-tack")
        self.pin_button.add_class("af-pin")
        self.pin_button.disabled = True
        self.pin_button.on_click(lambda _: self.toggle_pin())
        self.comparison = widgets.HTML("")
        self.comparison.add_class("af-comparison")
        self._units: Units | None = None
        super().__init__(
            [
                widgets.HBox([self.title, self.pin_button]),
                self.comparison,
                self.loop_nest_panel,
                self.slot.box,
            ],
            **kwargs,
        )
        self.add_class("af-inspector")

    @property
    def figure(self) -> go.FigureWidget:
        """The bar charts shown."""
        return self.slot.figure

    def show(self, selection: Selection, units: Units | None = None) -> None:
        """Display ``selection``: its summary, loop nest and bar charts (one batch).

        ``units`` labels the charts' axes (``energy (J)``).
        """
        self.selection, self._units = selection, units
        self.pin_button.disabled = False
        self.title.value = f"<b>Inspecting {html.escape(selection.summary())}</b>"
        if selection.loop_nest_html:
            nest = selection.loop_nest_html
        elif selection.loop_nest_text:
            nest = f"<pre>{html.escape(selection.loop_nest_text)}</pre>"
        else:
            nest = "<i>No loop nest: this run's mappings are not available.</i>"
        self.loop_nest.value = f"<b>Loop nest</b>{nest}"
        self._draw()

    def toggle_pin(self) -> None:
        """Pin the mapping shown for comparison, or unpin the pinned one."""
        if self.pinned is None and self.selection is not None:
            self.pinned = self.selection
            self.pin_button.description = f"Unpin mapping {self.pinned.index}"
        else:
            self.pinned = None
            self.pin_button.description = "Pin for comparison"
        self._draw()

    def _draw(self) -> None:
        """Redraw the charts (pinned beside shown) and the comparison line, in one batch."""
        pinned, shown = self.pinned, self.selection
        same = pinned is not None and shown is not None and pinned is shown
        self.comparison.value = "" if pinned is None or same else comparison_text(pinned, shown)
        fresh = inspector_figure(shown, self._units or NO_UNITS, pinned)
        with self.figure.batch_update():
            for axis in ("yaxis", "yaxis2", "yaxis4", "yaxis5"):
                self.figure.layout[axis].title.text = fresh.layout[axis].title.text
            for trace, source in zip(self.figure.data, fresh.data, strict=True):
                trace.update(x=source.x, y=source.y, name=source.name, visible=source.visible)

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


def comparison_text(pinned: Selection, shown: Selection | None) -> str:
    """HTML: the shown mapping against the pinned one (ratios of energy and latency, usage)."""
    if shown is None:
        return f"<b>Pinned mapping {pinned.index}</b>: click another point to compare."
    parts = []
    for name in (col.ENERGY, col.LATENCY):
        a, b = _number(pinned.row.get(name)), _number(shown.row.get(name))
        if a and b is not None:
            parts.append(f"{name} \u00d7{b / a:.3g}")
    for memory in sorted(set(pinned.memory_usage.index) | set(shown.memory_usage.index)):
        a, b = pinned.memory_usage.get(memory), shown.memory_usage.get(memory)
        parts.append(f"usage {html.escape(str(memory))} {_percent(a)} \u2192 {_percent(b)}")
    return f"<b>mapping {shown.index} vs pinned mapping {pinned.index}</b>: " + "; ".join(parts)


def _number(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _percent(value: object) -> str:
    number = _number(value)
    return "-" if number is None or pd.isna(number) else f"{100 * number:.0f}%"
