"""What the inspector shows for one point of the front: :class:`Selection`.

With the run's ``Mappings`` (``run.result()``), everything comes from the mapping's model
result: the loop nest (``mapping.render()`` and its HTML), energy and latency per component
and per Einsum, and resource usage per memory level. Without it (a replayed event stream), the
per-Einsum figures and the usage come from the front's row and the rest is empty.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from accelforge import columns as col

__all__ = ["Selection", "make_selection"]


def _series(values: Any, name: str) -> pd.Series:
    if isinstance(values, pd.Series):
        return values.astype(float).rename(name)
    if isinstance(values, dict):
        return pd.Series(values, dtype=float, name=name)
    return pd.Series(dtype=float, name=name)


@dataclass(frozen=True)
class Selection:
    """One point of the front, with its breakdowns.

    Attributes
    ----------
    index : int
        Row of the front.
    row : pandas.Series
        The front's row (totals, per-Einsum figures, usage, actions).
    loop_nest_text, loop_nest_html : str or None
        The mapping's loop nest (``render()`` and its HTML); None without the mapping.
    energy_per_component, latency_per_component : pandas.Series
        Indexed by component name (empty without the mapping).
    energy_per_einsum, latency_per_einsum : pandas.Series
        Indexed by Einsum name.
    memory_usage : pandas.Series
        Fraction of each memory level's capacity used, indexed by memory name.
    """

    index: int
    row: pd.Series
    loop_nest_text: str | None
    loop_nest_html: str | None
    energy_per_component: pd.Series
    latency_per_component: pd.Series
    energy_per_einsum: pd.Series
    latency_per_einsum: pd.Series
    memory_usage: pd.Series

    def summary(self) -> str:
        """One line: index, energy, latency."""
        energy, latency = self.row.get(col.ENERGY), self.row.get(col.LATENCY)
        return f"mapping {self.index}: energy {energy:.6g}, latency {latency:.6g}"

    def _repr_html_(self) -> str:
        nest = self.loop_nest_html or (
            f"<pre>{html.escape(self.loop_nest_text)}</pre>" if self.loop_nest_text else ""
        )
        return f"<b>{html.escape(self.summary())}</b>{nest}"


def _from_row(row: pd.Series, einsums: Sequence[str], what: str) -> pd.Series:
    values = col.per_einsum_values(row, einsums, what)
    return pd.Series(values, dtype=float, name=what)


def _usage_from_row(row: pd.Series, einsums: Sequence[str]) -> pd.Series:
    values = col.total_usage_values(row, einsums)
    return pd.Series(values, dtype=float, name=col.USAGE)


def make_selection(
    index: int, row: pd.Series, einsums: Sequence[str], mappings: Any | None
) -> Selection:
    """Build the :class:`Selection` of front row ``index`` (``mappings``: the run's result)."""
    item = None
    if mappings is not None:
        try:
            item = mappings[index]
        except (IndexError, KeyError, TypeError):
            item = None
    if item is None:
        return Selection(
            index=index,
            row=row,
            loop_nest_text=None,
            loop_nest_html=None,
            energy_per_component=pd.Series(dtype=float, name=col.ENERGY),
            latency_per_component=pd.Series(dtype=float, name=col.LATENCY),
            energy_per_einsum=_from_row(row, einsums, col.ENERGY),
            latency_per_einsum=_from_row(row, einsums, col.LATENCY),
            memory_usage=_usage_from_row(row, einsums),
        )
    result = item.result
    return Selection(
        index=index,
        row=row,
        loop_nest_text=item.mapping.render(),
        loop_nest_html=item.mapping._repr_html_(),
        energy_per_component=_series(result.energy(per_component=True), col.ENERGY),
        latency_per_component=_series(result.latency(per_component=True), col.LATENCY),
        energy_per_einsum=_series(result.energy(per_einsum=True), col.ENERGY),
        latency_per_einsum=_series(result.latency(per_einsum=True), col.LATENCY),
        memory_usage=_series(result.resource_usage(), col.USAGE),
    )
