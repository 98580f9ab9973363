"""``SweepView``: an ``af.sweep`` drawn live, one line per series, with a CSV download.

Each finished point adds its front's best ``y`` at its ``x`` (e.g. energy against
``arch.GlobalBuffer.size``); ``series`` splits the points into lines (fused vs unfused). The
view polls the run a few times a second on the kernel's loop (:class:`Ticker`) and never
consumes ``run.events()``, so a notebook may read them too.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go
from accelforge.widgets._download import DownloadButton
from accelforge.widgets._serialize import table_bytes
from accelforge.widgets._slots import FigureSlot, close_tree
from accelforge.widgets._ticker import Ticker

__all__ = ["SweepView", "sweep_lines"]


def sweep_lines(table: pd.DataFrame, x: str, y: str, series: str | None) -> dict[str, pd.DataFrame]:
    """Per series value: the lowest ``y`` of each point's front, by increasing ``x``."""
    if table.empty or y not in table or x not in table:
        return {}
    ok = table[table["status"] == "OK"]
    best = ok.groupby("point", sort=True).agg(
        {x: "first", y: "min", **({series: "first"} if series else {})}
    )
    groups = best.groupby(series, sort=False) if series else [("front", best)]
    return {str(name): part.sort_values(x)[[x, y]] for name, part in groups}


class SweepView(widgets.VBox):
    """A sweep run drawn live: ``y`` (lowest on each point's front) against ``x``.

    Parameters
    ----------
    run : SweepRun
        What ``af.sweep`` returned.
    x : str
        A grid path (``"arch.GlobalBuffer.size"``).
    y : str
        A front column (default ``"energy"``).
    series : str, optional
        A grid path whose values are drawn as separate lines.
    log_x : bool
        A logarithmic x axis (buffer sizes).
    """

    def __init__(
        self,
        run: Any,
        x: str,
        y: str = "energy",
        series: str | None = None,
        *,
        log_x: bool = True,
        interval: float = 0.25,
    ) -> None:
        self.run, self.x, self.y, self.series = run, x, y, series
        self.status = widgets.HTML()
        self.status.add_class("af-sweep-status")
        figure = go.Figure(layout={"height": 420, "width": 900, "title": f"{y} vs {x}"})
        figure.update_xaxes(title_text=x, type="log" if log_x else "linear")
        figure.update_yaxes(title_text=f"lowest {y}")
        self.slot = FigureSlot(figure, "sweep")
        self.download = DownloadButton(
            "sweep CSV", "sweep.csv", "text/csv", lambda: table_bytes(run.table(), "csv", {})
        )
        self.drawn = -1
        """Finished points drawn so far (-1: nothing drawn yet)."""
        super().__init__([self.status, self.slot.box, self.download])
        self.ticker = Ticker(self.tick, interval)
        self.ticker.start()

    def tick(self) -> None:
        """Redraw when more points finished; stop polling once the run is done and drawn."""
        done = self.run.done
        points = self.run.finished_points()
        if len(points) != self.drawn:
            self._draw(len(points))
        if done and len(self.run.finished_points()) == self.drawn:
            self.ticker.stop()

    def _draw(self, finished: int) -> None:
        lines = sweep_lines(self.run.table(), self.x, self.y, self.series)
        figure = self.slot.figure
        with figure.batch_update():
            for name, line in lines.items():
                trace = next((t for t in figure.data if t.name == name), None)
                if trace is None:
                    figure.add_scatter(name=name, mode="lines+markers", line={"shape": "hv"})
                    trace = figure.data[-1]
                trace.x, trace.y = line[self.x].tolist(), line[self.y].tolist()
        failed = len(self.run.failed())
        state = "done" if self.run.done else "running"
        text = f"sweep {state}: {finished} of {len(self.run.points)} points"
        self.status.value = html.escape(text + (f", {failed} failed" if failed else ""))
        self.drawn = finished

    def close(self) -> None:
        """Stop polling and close the widgets (the run goes on; ``run.cancel()`` stops it)."""
        self.ticker.stop()
        self.slot.close()
        close_tree(self)
        super().close()
