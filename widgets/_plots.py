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
from accelforge.widgets._slots import FigureSlot
from accelforge.widgets._types import Update
from plotly.subplots import make_subplots

from accelforge import columns as col
from accelforge.pareto import pareto_rows
from accelforge.units import NO_UNITS, Units

__all__ = [
    "CloudsView",
    "Front3DView",
    "FrontView",
    "clouds_figure",
    "front3d_figure",
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
        figure.add_trace(_cloud_trace(cloud, update, i == 0), **where)
        figure.add_trace(_einsum_front_trace(front, i == 0), **where)
        figure.update_xaxes(title_text=update.units.label(col.LATENCY), **where)
        figure.update_yaxes(title_text=update.units.label(col.ENERGY), **where)
    figure.update_layout(
        height=300 * rows,
        width=340 * cols + 160,
        title="Pmappings per Einsum (latency vs energy; red: each Einsum's Pareto front)",
        margin={"t": 70, "b": 40},
    )
    return figure


def _cloud_trace(data: pd.DataFrame | None, update: Update, legend: bool) -> Any:
    """One Einsum's (decimated) pmappings: SVG, or WebGL with ``update.webgl``.

    SVG by default: a page without a GPU (headless, VMs, remote desktops) emulates WebGL, and
    creating its context blocked the page for over a second; a thousand points per Einsum
    redraw cheaply as SVG. WebGL pays off for tens of thousands of points on a real GPU.
    """
    values = _column(data, update.cloud_colour)
    marker: dict[str, Any] = {"size": 5, "opacity": 0.5, "color": "#7f7f7f", "showscale": False}
    if values:
        marker.update(color=values, colorscale="Viridis", showscale=legend)
    kind = go.Scattergl if update.webgl else go.Scatter
    return kind(
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
        ordered = _x_order(data, x)
        traces.append(
            go.Scatter(
                x=_in_order(data, x, ordered),
                y=_in_order(data, y, ordered),
                mode="lines+markers" if _is_objective_plane(update) else "markers",
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
        marker["colorbar"] = {"title": {"text": _label(update, colour)}}
    order = _x_order(front, x)
    on_axes = _front_on_axes(front, x, y)
    if not shade and front is not None and len(front) and not _is_objective_plane(update):
        # projected points: those dominated on the two columns shown are faded, none joined
        marker["color"] = ["#1f77b4" if i in on_axes else "#c6dbef" for i in order]
    traces.append(
        go.Scatter(
            x=_in_order(front, x, order),
            y=_in_order(front, y, order),
            customdata=order,
            mode="lines+markers" if _is_objective_plane(update) else "markers",
            name=_front_name(update, bool(previous)),
            selected={"marker": {"size": 16, "color": "#d62728"}},
            unselected={"marker": {"opacity": 0.55}},
            marker=marker,
            line={"color": "#1f77b4"},
            text=[f"mapping {i}" for i in order],
            hovertemplate="%{text}<br>"
            + f"{_label(update, x)} %{{x:.4g}}<br>{_label(update, y)} %{{y:.4g}}<extra></extra>",
        )
    )
    return traces


def _label(update: Update, column: str | None) -> str:
    """``column`` with its unit (``"energy (J)"``)."""
    return update.units.label(column or "", update.einsums)


def _in_order(data: pd.DataFrame | None, column: str | None, order: list[int]) -> list[Any]:
    """The values of ``column`` in row order ``order`` (the column is read once)."""
    values = _column(data, column)
    return [values[i] for i in order] if values else []


def _x_order(front: pd.DataFrame | None, x: str) -> list[int]:
    """Row indices of ``front`` by increasing ``x`` (a front's line is drawn in this order)."""
    values = _column(front, x)
    return sorted(range(len(values)), key=lambda i: (values[i], i))


def _front_on_axes(front: pd.DataFrame | None, x: str, y: str) -> set[int]:
    """Rows of ``front`` not dominated on the two plotted columns."""
    if front is None or not len(front) or x not in front or y not in front:
        return set()
    return _non_dominated(front, [x, y])


def _non_dominated(front: pd.DataFrame | None, columns: list[str]) -> set[int]:
    """Rows (positions) of ``front`` not dominated on ``columns`` (as ``Mappings.pareto``)."""
    if front is None or not len(front) or any(c not in front for c in columns):
        return set()
    return {int(i) for i in pareto_rows(front.reset_index(drop=True), columns).index}


def _is_objective_plane(update: Update) -> bool:
    """Whether the axes are exactly the run's two objectives (a 2-D front: draw its line)."""
    objectives = set(update.objectives) or {col.ENERGY, col.LATENCY}
    return objectives == {col.ENERGY, col.LATENCY} and set(update.axes[:2]) == objectives


def _front_name(update: Update, after_others: bool) -> str:
    name = "latest run" if after_others else "current run"
    return f"{name} ({update.front_basis})" if update.front_basis else name


def _front_title(update: Update) -> str:
    """The front's title: what it rests on, or that it is still to come."""
    if update.front is None or not len(update.front):
        if update.run_index >= 0 and update.progress.phase != "finished":
            return "Joined Pareto front: waiting for the first front\u2026"
        return "Joined Pareto front (run the mapper)"
    basis = {"partial join": "partial, improving while the mapper runs"}.get(
        update.front_basis or "", update.front_basis or ""
    )
    return f"Joined Pareto front: {basis} (click a point to inspect it)"


def front_figure(update: Update) -> go.Figure:
    """The joined front of the latest run over earlier runs' fronts (faded)."""
    x, y, _ = update.axes
    figure = go.Figure(_front_traces(update))
    figure.update_layout(
        title=_front_title(update),
        xaxis_title=_label(update, x),
        yaxis_title=_label(update, y),
        height=440,
        width=900,
        clickmode="event",
        hovermode="closest",
        legend={"orientation": "h", "y": -0.2},
    )
    return figure


def front3d_figure(update: Update) -> go.Figure:
    """The joined front over three columns (x, y and ``update.z``), for a resource run.

    Points not dominated on the three shown columns are solid, the others faded; nothing is
    joined by a line (the points are a projection when the run has more objectives).
    """
    x, y, _ = update.axes
    z = update.z or col.ENERGY
    front = update.front
    rows = list(range(len(front))) if front is not None else []
    solid = _non_dominated(front, [x, y, z])
    hover = "<br>".join(
        f"{_label(update, name)} %{{{axis}:.4g}}"
        for axis, name in zip("xyz", (x, y, z), strict=True)
    )
    trace = go.Scatter3d(
        x=_column(front, x),
        y=_column(front, y),
        z=_column(front, z),
        customdata=rows,
        mode="markers",
        name=_front_name(update, False),
        marker={"size": 5, "color": ["#1f77b4" if i in solid else "#c6dbef" for i in rows]},
        text=[f"mapping {i}" for i in rows],
        hovertemplate="%{text}<br>" + hover + "<extra></extra>",
    )
    figure = go.Figure([trace])
    figure.update_layout(
        title=f"Joined front in 3-D (solid: non-dominated on the three axes; {len(solid)} of "
        f"{len(rows)})",
        scene={
            "xaxis_title": _label(update, x),
            "yaxis_title": _label(update, y),
            "zaxis_title": _label(update, z),
        },
        height=520,
        width=900,
        margin={"t": 50, "b": 10},
    )
    return figure


def inspector_figure(
    selection: Selection | None, units: Units = NO_UNITS, pinned: Selection | None = None
) -> go.Figure:
    """Bar charts: energy and latency per component and per Einsum, memory usage per level.

    Each chart has two bar traces: the ``pinned`` point (grey, hidden when None) and the
    ``selection``, side by side for comparison.
    """
    titles = [
        "energy per component",
        "latency per component",
        "memory usage per level",
        "energy per Einsum",
        "latency per Einsum",
        "",
    ]
    figure = make_subplots(rows=2, cols=3, subplot_titles=titles)
    for i, (mine, theirs) in enumerate(
        zip(inspector_series(selection), inspector_series(pinned), strict=True)
    ):
        where = {"row": i // 3 + 1, "col": i % 3 + 1}
        figure.add_trace(
            _bars(theirs, _pinned_name(pinned), "#9e9e9e", pinned is not None), **where
        )
        figure.add_trace(_bars(mine, _point_name(selection), "#1f77b4", True), **where)
    figure.update_yaxes(title_text="fraction of capacity", row=1, col=3)
    for row in (1, 2):
        figure.update_yaxes(title_text=units.label(col.ENERGY), row=row, col=1)
        figure.update_yaxes(title_text=units.label(col.LATENCY), row=row, col=2)
    figure.update_layout(
        height=480, width=960, margin={"t": 40, "b": 40}, barmode="group", showlegend=False
    )
    return figure


def _bars(series: pd.Series, name: str, colour: str, visible: bool) -> go.Bar:
    return go.Bar(
        x=list(map(str, series.index)),
        y=series.tolist(),
        name=name,
        visible=visible,
        marker={"color": colour},
    )


def _point_name(selection: Selection | None) -> str:
    return f"mapping {selection.index}" if selection is not None else ""


def _pinned_name(pinned: Selection | None) -> str:
    return f"pinned: mapping {pinned.index}" if pinned is not None else "pinned"


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


_FRONT_STYLE = (
    "x",
    "y",
    "name",
    "visible",
    "marker",
    "text",
    "hovertemplate",
    "mode",
    "customdata",
)
"""Trace properties a front redraw copies from a freshly built figure."""


def _restyle(target: Any, source: Any, properties: tuple[str, ...]) -> None:
    """Copy ``properties`` of trace ``source`` onto the drawn trace ``target``."""
    target.update(**{name: getattr(source, name) for name in properties if name in source})


def _copy_layout(figure: go.FigureWidget, fresh: go.Figure, paths: tuple[str, ...]) -> None:
    """Copy the layout values at dotted ``paths`` (``"xaxis.title.text"``) from ``fresh``."""
    for path in paths:
        figure.layout[path] = fresh.layout[path]


class CloudsView:
    """The per-Einsum figure: rebuilt when a run's Einsums are known, restyled after that."""

    def __init__(self) -> None:
        empty = Update(0, -1, (), {}, {}, None, None, (), IDLE_PROGRESS)
        self.slot = FigureSlot(clouds_figure(empty), "pmappings")
        self.container = self.slot.box
        """The ``Box`` whose child is the current ``FigureWidget``."""
        self.redraws = 0
        """Batched redraws sent (each is one ``batch_update``)."""
        self._key: tuple[int, tuple[str, ...]] | None = None

    @property
    def figure(self) -> go.FigureWidget:
        """The figure shown."""
        return self.slot.figure

    def apply(self, update: Update) -> None:
        """Draw ``update``'s changed clouds (rebuild for a new run or new Einsums)."""
        key = (update.run_index, update.einsums)
        if key != self._key:
            self._key = key
            self.slot.replace(clouds_figure(update))
            self.redraws += 1
            return
        if not update.clouds:
            return
        with self.figure.batch_update():
            for einsum, cloud in update.clouds.items():
                i = update.einsums.index(einsum)
                fresh = _cloud_trace(cloud, update, i == 0)
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
        self.redraws = 0
        self._on_click = on_click
        self._run, self._selected = -1, None
        self.slot = FigureSlot(
            front_figure(empty), "front", lambda f: f.data[-1].on_click(self._clicked)
        )

    @property
    def figure(self) -> go.FigureWidget:
        """The figure shown."""
        return self.slot.figure

    def _clicked(self, trace: Any, points: Any, selector: Any) -> None:  # noqa: ARG002 - plotly
        indices = list(getattr(points, "point_inds", []) or [])
        if indices:  # points are drawn by increasing x; customdata holds their front rows
            rows = list(getattr(trace, "customdata", None) or [])
            index = int(indices[0])
            self._on_click(int(rows[index]) if index < len(rows) else index)

    def highlight(self, row: int | None) -> None:
        """Mark front row ``row`` as selected (larger, the others faded); None clears it."""
        current = self.figure.data[-1]
        rows = list(current.customdata or [])
        self._selected = row
        current.selectedpoints = [rows.index(row)] if row in rows else None

    def apply(self, update: Update) -> None:
        """Restyle every trace from ``update`` in one batch."""
        if update.run_index != self._run:
            self._run, self._selected = update.run_index, None  # a new run: nothing selected
        fresh = front_figure(update)
        with self.figure.batch_update():
            for target, source in zip(self.figure.data, fresh.data, strict=True):
                _restyle(target, source, _FRONT_STYLE)
            _copy_layout(self.figure, fresh, ("title.text", "xaxis.title.text", "yaxis.title.text"))
            rows = list(fresh.data[-1].customdata or [])
            picked = [rows.index(self._selected)] if self._selected in rows else None
            self.figure.data[-1].selectedpoints = picked
        self.redraws += 1


class Front3DView:
    """The 3-D front figure, restyled in place; clicks call ``on_click(row)``."""

    def __init__(self, on_click: Callable[[int], None]) -> None:
        empty = Update(0, -1, (), {}, {}, None, None, (), IDLE_PROGRESS)
        self._on_click = on_click
        self.slot = FigureSlot(
            front3d_figure(empty), "front-3d", lambda f: f.data[0].on_click(self._clicked)
        )

    @property
    def figure(self) -> go.FigureWidget:
        """The figure shown."""
        return self.slot.figure

    def _clicked(self, trace: Any, points: Any, selector: Any) -> None:  # noqa: ARG002 - plotly
        indices = list(getattr(points, "point_inds", []) or [])
        if indices:
            self._on_click(int(indices[0]))  # the 3-D trace keeps the front's row order

    def apply(self, update: Update) -> None:
        """Restyle from ``update`` in one batch (nothing to do without a third axis)."""
        if update.z is None:
            return
        fresh = front3d_figure(update)
        with self.figure.batch_update():
            _restyle(self.figure.data[0], fresh.data[0], (*_FRONT_STYLE, "z"))
            axes = tuple(f"scene.{axis}.title.text" for axis in ("xaxis", "yaxis", "zaxis"))
            _copy_layout(self.figure, fresh, ("title.text", *axes))
