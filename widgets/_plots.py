"""Plotly figures of the explorer, and the ``FigureWidget`` views that redraw them.

Pure functions (:func:`clouds_figure`, :func:`front_figure`, :func:`inspector_figure`) build
a ``go.Figure`` from the controller's :class:`~accelforge.widgets._controller.Update` or
:class:`~accelforge.widgets._selection.Selection`; the exports use them as they are. The views
keep one ``FigureWidget`` each, with a fixed set of traces, and apply an update as restyles
inside a single ``batch_update()`` (one message per redraw); a view rebuilds its figure only
when the structure changes (a new run's Einsums).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from accelforge.widgets._run_model import IDLE_PROGRESS
from accelforge.widgets._selection import Selection
from accelforge.widgets._types import Update
from plotly.subplots import make_subplots

from accelforge import columns as col

__all__ = [
    "CloudsView",
    "FrontView",
    "clouds_figure",
    "front_figure",
    "inspector_figure",
]

_PREVIOUS_SLOTS = 5
_COLUMNS = 3
_FADED = ["#9e9e9e", "#b39ddb", "#90caf9", "#a5d6a7", "#ffcc80"]


def _column(data: pd.DataFrame | None, name: str | None) -> list[Any]:
    if data is None or name is None or name not in data:
        return []
    return data[name].tolist()


def _grid(n: int) -> tuple[int, int]:
    cols = max(1, min(n, _COLUMNS))
    return max(1, math.ceil(n / cols)), cols


def clouds_figure(update: Update) -> go.Figure:
    """Per-Einsum pmapping clouds (latency vs energy) with each Einsum's Pareto front."""
    einsums = update.einsums or ("(waiting for the run)",)
    rows, cols = _grid(len(einsums))
    figure = make_subplots(rows=rows, cols=cols, subplot_titles=list(einsums))
    for i, einsum in enumerate(einsums):
        cloud, front = update.clouds.get(einsum), update.einsum_fronts.get(einsum)
        where = {"row": i // cols + 1, "col": i % cols + 1}
        figure.add_trace(_cloud_trace(cloud, update.cloud_colour, i == 0), **where)
        figure.add_trace(_einsum_front_trace(front, i == 0), **where)
        figure.update_xaxes(title_text=col.LATENCY, **where)
        figure.update_yaxes(title_text=col.ENERGY, **where)
    figure.update_layout(
        height=300 * rows,
        width=340 * cols + 160,
        title="Pmappings per Einsum (latency vs energy; red: each Einsum's Pareto front)",
        margin={"t": 70, "b": 40},
    )
    return figure


def _cloud_trace(data: pd.DataFrame | None, colour: str | None, legend: bool) -> go.Scatter:
    values = _column(data, colour)
    marker: dict[str, Any] = {"size": 5, "opacity": 0.5, "color": "#7f7f7f", "showscale": False}
    if values:
        marker.update(color=values, colorscale="Viridis", showscale=legend)
    return go.Scatter(
        x=_column(data, col.LATENCY),
        y=_column(data, col.ENERGY),
        mode="markers",
        name="pmappings",
        legendgroup="pmappings",
        showlegend=legend,
        marker=marker,
    )


def _einsum_front_trace(data: pd.DataFrame | None, legend: bool) -> go.Scatter:
    return go.Scatter(
        x=_column(data, col.LATENCY),
        y=_column(data, col.ENERGY),
        mode="lines+markers",
        name="Pareto front",
        legendgroup="front",
        showlegend=legend,
        line={"color": "#d62728", "shape": "hv"},
        marker={"color": "#d62728", "size": 7},
    )


def _front_traces(update: Update) -> list[go.Scatter]:
    x, y, colour = update.axes
    traces = []
    previous = list(update.previous)[-_PREVIOUS_SLOTS:]
    for slot in range(_PREVIOUS_SLOTS):
        label, data = previous[slot] if slot < len(previous) else ("", None)
        traces.append(
            go.Scatter(
                x=_column(data, x),
                y=_column(data, y),
                mode="lines+markers",
                name=label,
                visible=data is not None,
                opacity=0.45,
                line={"color": _FADED[slot], "dash": "dot"},
                marker={"color": _FADED[slot], "size": 7},
                hoverinfo="skip",  # context only: hover and clicks go to the latest front
            )
        )
    front = update.front
    marker: dict[str, Any] = {
        "size": 11,
        "color": "#1f77b4",
        "line": {"width": 1},
        "showscale": False,
    }
    shade = _column(front, colour)
    if shade:
        marker.update(color=shade, colorscale="Viridis", showscale=True)
        marker["colorbar"] = {"title": {"text": colour}}
    n = 0 if front is None else len(front)
    traces.append(
        go.Scatter(
            x=_column(front, x),
            y=_column(front, y),
            mode="lines+markers",
            name="current run" if not previous else "latest run",
            marker=marker,
            line={"color": "#1f77b4"},
            text=[f"mapping {i}" for i in range(n)],
            hovertemplate="%{text}<br>" + f"{x} %{{x:.4g}}<br>{y} %{{y:.4g}}<extra></extra>",
        )
    )
    return traces


def front_figure(update: Update) -> go.Figure:
    """The joined front of the latest run over earlier runs' fronts (faded)."""
    x, y, _ = update.axes
    figure = go.Figure(_front_traces(update))
    figure.update_layout(
        title="Joined Pareto front (click a point to inspect it)",
        xaxis_title=x,
        yaxis_title=y,
        height=440,
        width=900,
        clickmode="event",
        hovermode="closest",
        legend={"orientation": "h", "y": -0.2},
    )
    return figure


def inspector_figure(selection: Selection | None) -> go.Figure:
    """Bar charts: energy and latency per component and per Einsum, memory usage per level."""
    titles = [
        "energy per component",
        "latency per component",
        "memory usage per level",
        "energy per Einsum",
        "latency per Einsum",
        "",
    ]
    figure = make_subplots(rows=2, cols=3, subplot_titles=titles)
    parts = inspector_series(selection)
    for i, series in enumerate(parts):
        figure.add_trace(
            go.Bar(x=list(map(str, series.index)), y=series.tolist(), showlegend=False),
            row=i // 3 + 1,
            col=i % 3 + 1,
        )
    figure.update_yaxes(title_text="fraction of capacity", row=1, col=3)
    figure.update_layout(height=480, width=960, margin={"t": 40, "b": 40})
    return figure


def inspector_series(selection: Selection | None) -> list[pd.Series]:
    if selection is None:
        return [pd.Series(dtype=float)] * 5
    return [
        selection.energy_per_component,
        selection.latency_per_component,
        selection.memory_usage,
        selection.energy_per_einsum,
        selection.latency_per_einsum,
    ]


class CloudsView:
    """The per-Einsum figure: rebuilt when a run's Einsums are known, restyled after that."""

    def __init__(self, container: Any) -> None:
        self.container = container
        """An ipywidgets ``Box`` whose child is the current ``FigureWidget``."""
        self.figure: go.FigureWidget | None = None
        self.redraws = 0
        """Batched redraws sent (each is one ``batch_update``)."""
        self._key: tuple[int, tuple[str, ...]] | None = None

    def apply(self, update: Update) -> None:
        """Draw ``update``'s changed clouds (rebuild for a new run or new Einsums)."""
        key = (update.run_index, update.einsums)
        if key != self._key or self.figure is None:
            self._key = key
            self.figure = go.FigureWidget(clouds_figure(update))
            self.container.children = (self.figure,)
            self.redraws += 1
            return
        if not update.clouds:
            return
        with self.figure.batch_update():
            for einsum, cloud in update.clouds.items():
                i = update.einsums.index(einsum)
                fresh = _cloud_trace(cloud, update.cloud_colour, i == 0)
                self.figure.data[2 * i].update(x=fresh.x, y=fresh.y, marker=fresh.marker)
                front = update.einsum_fronts.get(einsum)
                self.figure.data[2 * i + 1].update(
                    x=_column(front, col.LATENCY), y=_column(front, col.ENERGY)
                )
        self.redraws += 1


class FrontView:
    """The joined-front figure with a fixed set of traces; clicks call ``on_click(index)``."""

    def __init__(self, on_click: Callable[[int], None]) -> None:
        empty = Update(0, -1, (), {}, {}, None, None, (), IDLE_PROGRESS)
        self.figure = go.FigureWidget(front_figure(empty))
        self.redraws = 0
        self._on_click = on_click
        self.figure.data[-1].on_click(self._clicked)

    def _clicked(self, trace: Any, points: Any, selector: Any) -> None:  # noqa: ARG002 - plotly
        indices = list(getattr(points, "point_inds", []) or [])
        if indices:
            self._on_click(int(indices[0]))

    def apply(self, update: Update) -> None:
        """Restyle every trace from ``update`` in one batch."""
        fresh = front_figure(update)
        with self.figure.batch_update():
            for target, source in zip(self.figure.data, fresh.data, strict=True):
                target.update(
                    x=source.x,
                    y=source.y,
                    name=source.name,
                    visible=source.visible,
                    marker=source.marker,
                    text=source.text,
                    hovertemplate=source.hovertemplate,
                )
            self.figure.layout.xaxis.title.text = update.axes[0]
            self.figure.layout.yaxis.title.text = update.axes[1]
        self.redraws += 1
