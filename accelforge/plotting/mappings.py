"""Energy and memory-usage breakdowns of mappings, as Plotly figures.

The names and parameters are AccelForge's (``plot_energy_breakdown``,
``plot_memory_usage_breakdown``); the figures are Plotly's (``go.Figure``: ``.show()`` in a
notebook, ``.write_html(...)``), not matplotlib's, so ``ax`` is refused. Each mapping is one
subplot, titled by ``labels`` (default: its position).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from accelforge.errors import MissingExtraError
from accelforge.results import Mappings

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from accelforge.model.result import ModelResult

__all__ = ["plot_energy_breakdown", "plot_memory_usage_breakdown"]

KEYS = ("einsum", "component", "tensor", "action")
"""What ``separate_by`` and ``stack_by`` may name."""


def plot_energy_breakdown(
    mappings: Iterable[Mappings] | Mappings,
    separate_by: Sequence[str],
    stack_by: Sequence[str] | None = None,
    labels: Iterable[str] | None = None,
    ax: Any = None,
    hide_zeros: bool = False,
) -> go.Figure:
    """Bars of energy, one per ``separate_by`` key, stacked by ``stack_by``; a plot per mapping.

    ``separate_by`` and ``stack_by`` name breakdown keys: ``einsum``, ``component``, ``tensor``,
    ``action`` (leak energy has tensor ``None`` and action ``leak``). ``hide_zeros`` leaves out
    bars whose total is 0.
    """
    if ax is not None:
        raise TypeError("plot_energy_breakdown draws a Plotly figure: pass no matplotlib 'ax'.")
    separate, stack = _keys(separate_by, "separate_by"), _keys(stack_by or [], "stack_by")
    results, titles = _results(mappings, labels)
    figure = _figure(len(results), titles)
    shown: set[str] = set()
    for column, result in enumerate(results, start=1):
        table = result.breakdown.astype({"tensor": object}).fillna({"tensor": "None"})
        sums = table.groupby(separate + stack, sort=False, dropna=False)["energy"].sum()
        frame = sums.reset_index()
        frame["bar"] = _joined(frame, separate)
        if hide_zeros:
            totals = frame.groupby("bar", sort=False)["energy"].transform("sum")
            frame = frame[totals != 0]
        frame["segment"] = _joined(frame, stack) if stack else "energy"
        for segment, part in frame.groupby("segment", sort=False):
            _bars(figure, str(segment), part["bar"], part["energy"], shown, (1, column))
    figure.update_layout(barmode="stack", title="Energy breakdown")
    figure.update_yaxes(title_text="energy")
    return figure


def plot_memory_usage_breakdown(
    mappings: Iterable[Mappings] | Mappings,
    memory_levels: Iterable[str] | None = None,
    labels: Iterable[str] | None = None,
) -> go.Figure:
    """Each memory's used fraction per Einsum, stacked by tensor.

    A row per memory level (``memory_levels``, default: every memory of the results) and a
    column per mapping.
    """
    results, titles = _results(mappings, labels)
    levels = list(memory_levels) if memory_levels is not None else _memories(results)
    figure = _figure(len(results), titles, rows=max(1, len(levels)))
    shown: set[str] = set()
    for column, result in enumerate(results, start=1):
        usage = result.memory_usage
        for row, memory in enumerate(levels, start=1):
            part = usage[usage["memory"] == memory]
            for tensor, rows in part.groupby("tensor", sort=False):
                _bars(figure, str(tensor), rows["einsum"], rows["fraction"], shown, (row, column))
            figure.update_yaxes(title_text=f"{memory} (fraction used)", row=row, col=1)
    figure.update_layout(barmode="stack", title="Memory usage breakdown")
    return figure


def _bars(
    figure: go.Figure, name: str, x: pd.Series, y: pd.Series, shown: set[str], at: tuple[int, int]
) -> None:
    """One bar trace in subplot ``at``; its legend entry only the first time ``name`` shows."""
    figure.add_bar(
        x=x.tolist(),
        y=y.tolist(),
        name=name,
        legendgroup=name,
        showlegend=name not in shown,
        row=at[0],
        col=at[1],
    )
    shown.add(name)


def _keys(keys: Sequence[str], what: str) -> list[str]:
    keys = list(keys)
    wrong = [k for k in keys if k not in KEYS]
    if wrong:
        raise ValueError(f"{what} names {wrong}; the keys are {list(KEYS)}.")
    return keys


def _results(
    mappings: Iterable[Mappings] | Mappings, labels: Iterable[str] | None
) -> tuple[list[ModelResult], list[str]]:
    """Every mapping's model result, in order, and a title for each."""
    groups = [mappings] if isinstance(mappings, Mappings) else list(mappings)
    results, names = [], []
    for position, group in enumerate(groups):
        for index, item in enumerate(group):
            results.append(item.result)
            names.append(str(position) if len(group) == 1 else f"{position}.{index}")
    titles = names if labels is None else [str(label) for label in labels]
    if len(titles) != len(results):
        raise ValueError(f"{len(titles)} labels for {len(results)} mappings; give one each.")
    return results, titles


def _memories(results: list[ModelResult]) -> list[str]:
    return list(dict.fromkeys(m for r in results for m in r.memory_usage["memory"]))


def _joined(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    return frame[keys].astype(str).agg(" / ".join, axis=1)


def _figure(columns: int, titles: list[str], rows: int = 1) -> go.Figure:
    try:
        from plotly.subplots import make_subplots
    except ImportError as err:  # the notebook extra is missing
        raise MissingExtraError(
            'accelforge.plotting needs Plotly: pip install "accelforge-explorer[notebook]"'
        ) from err
    return make_subplots(rows=rows, cols=max(1, columns), subplot_titles=titles, shared_yaxes=True)
