"""Pmappings as a user reads them: objectives, usage per memory and the loop nest as text.

The tables the search and the join use hold tile shapes and reservation bits
(:meth:`EinsumPmappings.data`); exports add what a person needs to tell two pmappings apart.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from accelforge import columns as col
from accelforge.mapper._join.build import build_mapping
from accelforge.mapper._pmappings.make import EinsumPmappings, Pmappings
from accelforge.mapper._tiles.rows import TemplateRows

__all__ = ["all_pmapping_details", "pmapping_details"]


def all_pmapping_details(pmappings: Pmappings) -> pd.DataFrame:
    """:func:`pmapping_details` of every Einsum, in workload order, ``einsum`` column first."""
    capacities = pmappings.context.capacities
    frames = [
        pmapping_details(einsum_pmappings, capacities).assign(**{col.EINSUM: name})
        for name, einsum_pmappings in pmappings.einsums.items()
    ]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=[col.EINSUM, col.TEMPLATE, col.ROW, col.ENERGY, col.LATENCY])
    data = _no_usage_is_zero(pd.concat(frames, ignore_index=True))
    return data[[col.EINSUM, *[c for c in data.columns if c != col.EINSUM]]]


def pmapping_details(pmappings: EinsumPmappings, capacities: Mapping[str, float]) -> pd.DataFrame:
    """One row per pmapping of one Einsum, in template order, then row order.

    Columns: ``template``, ``row`` (as in ``TemplateDone.rows``), ``energy``, ``latency``,
    ``usage <memory>`` for every memory of finite capacity that the pmapping reserves (its
    reserved bits over the capacity; fused tensors' shares are counted as if alone) and
    ``loop nest`` (the pmapping's own mapping, one node per line, as ``Mapping.render``).
    """
    frames = [_template_details(table, capacities) for table in pmappings.tables if table.n]
    if not frames:
        return pd.DataFrame(columns=[col.TEMPLATE, col.ROW, col.ENERGY, col.LATENCY, col.LOOP_NEST])
    return _no_usage_is_zero(pd.concat(frames, ignore_index=True))


def _no_usage_is_zero(data: pd.DataFrame) -> pd.DataFrame:
    """Usage columns of templates that reserve nothing in that memory: 0, not missing."""
    usage = [c for c in data.columns if str(c).startswith(f"{col.USAGE} ")]
    data[usage] = data[usage].fillna(0.0)
    return data


def _template_details(table: TemplateRows, capacities: Mapping[str, float]) -> pd.DataFrame:
    columns: dict[str, object] = {
        col.TEMPLATE: [table.template.id] * table.n,
        col.ROW: np.arange(table.n),
        col.ENERGY: table.energy,
        col.LATENCY: table.latency,
    }
    for memory in sorted({r.memory for r in table.reservations}):
        capacity = capacities.get(memory, np.inf)
        if np.isfinite(capacity) and capacity > 0:
            bits = sum(
                (r.bits for r in table.reservations if r.memory == memory), np.zeros(table.n)
            )
            columns[col.usage_column(memory)] = bits / capacity
    path = table.template.path
    columns[col.LOOP_NEST] = [
        build_mapping([(path, list(table.tiles[:, row]))], [], []).render()
        for row in range(table.n)
    ]
    return pd.DataFrame(columns)
