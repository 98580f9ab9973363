"""What a streaming run reports: its rows as DataFrames and its end-of-run messages."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from accelforge import columns as col
from accelforge.mapper._tiles.rows import TemplateRows

if TYPE_CHECKING:
    from accelforge.mapper._run.plan import Plan, UnitResult

__all__ = [
    "no_mapping_message",
    "rows_frame",
    "status_message",
    "unit_reason",
    "unit_statistics",
]


def rows_frame(
    template_id: str, tables: list[TemplateRows], objectives: Sequence[str]
) -> pd.DataFrame:
    """A template's surviving rows as a DataFrame: objectives, ``template``, ``row``."""
    first = [col.ENERGY, col.LATENCY]
    names = first + [o for o in objectives if o not in first]
    columns: dict[str, Any] = {
        name: np.concatenate([getattr(t, name) for t in tables]) if tables else np.zeros(0)
        for name in names
    }
    n = len(columns[col.ENERGY])
    columns[col.TEMPLATE] = [template_id] * n
    columns[col.ROW] = np.arange(n)
    return pd.DataFrame(columns)


def status_message(status: str, unfinished: int, no_front: bool) -> str:
    """The warning for a run that did not end OK: its status, what did not finish."""
    message = f"the mapper run ended with status {status}"
    if unfinished:
        message += f"; {unfinished} template(s) did not finish"
    if no_front:
        message += "; there is no front (the pmappings found are in run.pmappings)"
    return message


def no_mapping_message(
    empty: Mapping[str, Sequence[str]], join_steps: Sequence[Mapping[str, Any]]
) -> str:
    """Why a complete run found no valid mapping.

    ``empty`` maps each Einsum without a valid pmapping to its templates' statuses; when there
    is none, the first join step that kept no row (``join_steps``) is named.
    """
    untemplated = {n: s for n, s in empty.items() if s and s[0].startswith("no template")}
    if untemplated:
        return "no valid mapping: " + "; ".join(
            f"Einsum {name} has {statuses[0]}" for name, statuses in untemplated.items()
        )
    if empty:
        counts = []
        for name, entries in empty.items():
            statuses = sorted({e.split(": ", 1)[0] for e in entries})
            reasons = [e.split(": ", 1)[1] for e in entries if ": " in e]
            closest = f"; closest: {min(reasons, key=_shortfall)}" if reasons else ""
            counts.append(f"{name} ({len(entries)} templates: {', '.join(statuses)}{closest})")
        return (
            f"no valid mapping: Einsum(s) {'; '.join(counts)} have no valid pmapping: no "
            "tile shape of their templates meets the arch's constraints (capacity, keep, "
            "fanout, min_usage, loop limits)"
        )
    emptied = next((s for s in join_steps if not s["rows_out"]), None)
    where = ""
    if emptied is not None:
        where = (
            f" at Einsum {emptied['einsum']} ({emptied['capacity_drops']} joined rows over a "
            "memory's capacity)"
        )
    return (
        "no valid mapping: every Einsum has pmappings, but no combination of them is "
        f"compatible and fits{where}"
    )


def _shortfall(reason: str) -> tuple[int, float]:
    """Sort key: capacity reasons by the ratio of bits needed to size, then the others."""
    match = re.search(r"need ([\d.e+]+) bits of \S+ \(size ([\d.e+]+)\)", reason)
    if match is None:
        return (1, 0.0)
    return (0, float(match[1]) / max(float(match[2]), 1e-300))


def unit_statistics(plan: Plan, units: Sequence[UnitResult | None]) -> dict[str, Any]:
    """Counts over the run's units: per status, per Einsum, and the errors."""
    statuses = dict.fromkeys(
        ("ok", "time_limit", "memory_limit", "error", "no_valid_tile_shapes"), 0
    )
    per_einsum = {
        name: dict.fromkeys(("templates", "reported", "evaluated", "valid", "kept"), 0)
        for name in plan.einsums
    }
    errors = []
    for template, unit, position in zip(plan.units, units, plan.einsum_of, strict=True):
        entry = per_einsum[plan.einsums[position]]
        entry["templates"] += 1
        if unit is None:
            continue
        statuses[unit.status] += 1
        entry["reported"] += 1
        entry["evaluated"] += unit.evaluated
        entry["valid"] += unit.valid
        entry["kept"] += unit.kept
        if unit.status == "error":
            errors.append({"template": template.id, "message": unit.message})
    return {
        "templates": len(plan.units),
        "unit_status": statuses,
        "einsums": per_einsum,
        "errors": errors,
    }


def unit_reason(unit: UnitResult) -> str:
    """A unit's status, with the search's reason when it found no valid tile shape."""
    if unit.status == "no_valid_tile_shapes" and unit.message:
        return f"{unit.status}: {unit.message}"
    return unit.status
