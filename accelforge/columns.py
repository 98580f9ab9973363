"""The result-table column convention: every column name is built and parsed here.

A column name is words joined by single spaces; Einsum, memory, component, tensor and rank
variable names contain no spaces. The model, the mapper, the CLI and the widgets build names
with the functions below and read them back with :func:`parse_column` only.

==============  ============================================  =================================
Family          Pattern                                       Example
==============  ============================================  =================================
total           energy, dynamic energy, leak energy,          energy-delay product
                latency, energy-delay product
einsum          <einsum> energy, <einsum> latency             Matmul0 energy
usage           usage <memory>, usage <component>.<dim>       usage GlobalBuffer, usage PE.X
detailed_usage  usage <einsum> <memory> <tensor>              usage Matmul0 GlobalBuffer T0
actions         actions <einsum> <component> [<tensor>]       actions Matmul0 MainMemory T0
                <action>                                      read; actions Matmul0 MAC compute
objective       dynamic_energy, leak_energy (with energy      leak_energy
                and latency: the pmapping objectives)
reservation     reservation <memory> <tensor> (depth <d>)     reservation GlobalBuffer T1
                                                              (depth 2)
tile            tile <index> [spatial ]<rank variable>        tile 0 m, tile 3 spatial n
info            template, compute, fused loops, row, einsum   fused loops
other           anything else
==============  ============================================  =================================

A mapping's row (``ModelResult.data``, ``Mappings.data``) holds total, einsum and usage columns,
plus actions and detailed_usage ones when the metrics ask for them. A pmapping table
(``EinsumPmappings.data()``) holds info, ``energy``, ``latency``, reservation and tile columns;
a streamed chunk (``TemplateDone.rows``) the objectives, ``template`` and ``row``. ``energy``
and ``latency`` parse as totals wherever they appear.

``usage <memory>`` and ``usage <einsum> <memory> <tensor>`` share a keyword and
``<einsum> energy`` has none, so :func:`parse_column` takes the workload's Einsum names:
``usage <x>`` is a total usage column only when ``x`` is not an Einsum, ``<x> energy`` a
per-Einsum one only when it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "ACTIONS",
    "COMPUTE",
    "DYNAMIC_ENERGY",
    "DYNAMIC_ENERGY_OBJECTIVE",
    "EINSUM",
    "EINSUM_QUANTITIES",
    "ENERGY",
    "ENERGY_DELAY_PRODUCT",
    "FUSED_LOOPS",
    "INFO",
    "LATENCY",
    "LEAK_ENERGY",
    "LEAK_ENERGY_OBJECTIVE",
    "OBJECTIVES",
    "RESERVATION",
    "ROW",
    "TEMPLATE",
    "TILE",
    "TOTALS",
    "USAGE",
    "Column",
    "Family",
    "actions_column",
    "detailed_usage_column",
    "einsum_column",
    "fanout_name",
    "is_front_axis",
    "is_total_usage",
    "is_usage",
    "parse_column",
    "per_einsum_values",
    "reservation_column",
    "tile_column",
    "total_usage_values",
    "usage_column",
]

# --- fixed names ------------------------------------------------------------------------

ENERGY = "energy"
"""Total energy (a mapping's row; also a pmapping objective)."""
DYNAMIC_ENERGY = "dynamic energy"
"""Total energy of every action but leak."""
LEAK_ENERGY = "leak energy"
"""Total leak energy."""
LATENCY = "latency"
"""Total latency (a mapping's row; also a pmapping objective)."""
ENERGY_DELAY_PRODUCT = "energy-delay product"
"""Total energy times total latency."""
TOTALS = (ENERGY, DYNAMIC_ENERGY, LEAK_ENERGY, LATENCY, ENERGY_DELAY_PRODUCT)
"""The whole-mapping totals, in column order."""

DYNAMIC_ENERGY_OBJECTIVE = "dynamic_energy"
"""The dynamic-energy objective of pmapping tables and streamed chunks."""
LEAK_ENERGY_OBJECTIVE = "leak_energy"
"""The leak-energy objective of pmapping tables and streamed chunks."""
OBJECTIVES = (ENERGY, DYNAMIC_ENERGY_OBJECTIVE, LEAK_ENERGY_OBJECTIVE, LATENCY)
"""The additive objectives summed through the join, in column order."""

EINSUM_QUANTITIES = (ENERGY, LATENCY)
"""The figures a mapping's row has per Einsum (``<einsum> <quantity>``)."""

TEMPLATE = "template"
"""A pmapping's template id."""
COMPUTE = "compute"
"""A pmapping's compute unit."""
FUSED_LOOPS = "fused loops"
"""How many of a pmapping's loops are fused."""
ROW = "row"
"""A streamed row's index within its template."""
EINSUM = "einsum"
"""The Einsum of a row in a table that mixes Einsums."""
LOOP_NEST = "loop nest"
"""A pmapping's loop nest as text (exports)."""
INFO = (TEMPLATE, COMPUTE, FUSED_LOOPS, ROW, EINSUM, LOOP_NEST)
"""Bookkeeping columns of pmapping tables."""

USAGE = "usage"
"""Keyword of usage and detailed-usage columns."""
ACTIONS = "actions"
"""Keyword of action-count columns."""
RESERVATION = "reservation"
"""Keyword of reservation columns."""
TILE = "tile"
"""Keyword of tile-shape columns."""
_SPATIAL = "spatial"

Family = Literal[
    "total",
    "objective",
    "einsum",
    "usage",
    "detailed_usage",
    "actions",
    "reservation",
    "tile",
    "info",
    "other",
]
"""The kinds of column (see the module's table)."""

_RESERVATION = re.compile(rf"^{RESERVATION} (\S+) (\S+) \(depth (-?\d+)\)$")


@dataclass(frozen=True)
class Column:
    """A parsed column name; fields a family does not have are None (``spatial`` False).

    Attributes
    ----------
    name : str
        The column name as given.
    family : Family
        Its kind (see the module's table).
    what : str or None
        The quantity of total, objective, einsum and info columns (``"energy"``, ...).
    einsum : str or None
        The Einsum of einsum, detailed_usage and actions columns.
    component : str or None
        The memory (usage, detailed_usage, reservation), the ``component.dimension`` of a
        fanout (usage) or the component (actions).
    tensor : str or None
        The tensor of detailed_usage and reservation columns, and of actions ones that
        have one.
    action : str or None
        The action of actions columns.
    depth : int or None
        The loop depth of reservation columns (negative for persistent reservations).
    index : int or None
        The loop index of tile columns.
    rank_variable : str or None
        The rank variable of tile columns.
    spatial : bool
        Whether a tile column's loop is spatial.
    """

    name: str
    family: Family
    what: str | None = None
    einsum: str | None = None
    component: str | None = None
    tensor: str | None = None
    action: str | None = None
    depth: int | None = None
    index: int | None = None
    rank_variable: str | None = None
    spatial: bool = False


# --- builders ---------------------------------------------------------------------------


def einsum_column(einsum: str, what: str) -> str:
    """``<einsum> <what>``: one Einsum's energy or latency (``what`` in EINSUM_QUANTITIES)."""
    if what not in EINSUM_QUANTITIES:
        raise ValueError(f"per-Einsum columns are {EINSUM_QUANTITIES}, not {what!r}")
    return f"{einsum} {what}"


def fanout_name(component: str, dimension: str) -> str:
    """``<component>.<dimension>``: how a fanout dimension is named in usage columns."""
    return f"{component}.{dimension}"


def usage_column(name: str) -> str:
    """``usage <name>``: peak usage of a memory (or of a fanout, see :func:`fanout_name`)."""
    return f"{USAGE} {name}"


def detailed_usage_column(einsum: str, memory: str, tensor: str) -> str:
    """``usage <einsum> <memory> <tensor>``: one tensor's share of a memory in one Einsum."""
    return f"{USAGE} {einsum} {memory} {tensor}"


def actions_column(einsum: str, component: str, tensor: str | None, action: str) -> str:
    """``actions <einsum> <component> [<tensor>] <action>``: an action count.

    A tensor of None or ``""`` (a compute action, say) is left out.
    """
    parts = (ACTIONS, einsum, component, tensor, action)
    return " ".join(p for p in parts if p)


def reservation_column(memory: str, tensor: str, depth: int) -> str:
    """``reservation <memory> <tensor> (depth <depth>)``: bits a pmapping reserves."""
    return f"{RESERVATION} {memory} {tensor} (depth {depth})"


def tile_column(index: int, rank_variable: str, spatial: bool = False) -> str:
    """``tile <index> [spatial ]<rank_variable>``: the tile shape of a pmapping's loop."""
    kind = f"{_SPATIAL} " if spatial else ""
    return f"{TILE} {index} {kind}{rank_variable}"


# --- the parser -------------------------------------------------------------------------


def parse_column(name: str, einsums: Collection[str]) -> Column:
    """Parse a column name (the only parser of the convention).

    Parameters
    ----------
    name : str
        The column name (non-strings are converted with ``str``).
    einsums : collection of str
        The workload's Einsum names: ``<einsum> energy`` is recognised only for these,
        and ``usage <x>`` with ``x`` an Einsum is not a usage column. Pass ``()`` for
        tables without per-Einsum columns (pmapping tables).

    Returns
    -------
    Column
        Its family and parts; family ``"other"`` for a name outside the convention.
    """
    name = str(name)
    family = _FIXED.get(name)
    if family is not None:
        return Column(name, family, what=name)
    words = name.split(" ")
    keyword = _KEYWORDS.get(words[0])
    if keyword is not None:
        column = keyword(name, words, einsums)
    elif len(words) == 2 and words[0] in einsums and words[1] in EINSUM_QUANTITIES:
        column = Column(name, "einsum", what=words[1], einsum=words[0])
    else:
        column = None
    return column if column is not None else Column(name, "other")


def _usage(name: str, words: list[str], einsums: Collection[str]) -> Column | None:
    if len(words) == 2 and words[1] and words[1] not in einsums:
        return Column(name, "usage", component=words[1])
    if len(words) == 4 and all(words[1:]):
        _, einsum, memory, tensor = words
        return Column(name, "detailed_usage", einsum=einsum, component=memory, tensor=tensor)
    return None


def _actions(name: str, words: list[str], _einsums: Collection[str]) -> Column | None:
    if len(words) not in (4, 5) or not all(words[1:]):
        return None
    tensor = words[3] if len(words) == 5 else None
    return Column(
        name, "actions", einsum=words[1], component=words[2], tensor=tensor, action=words[-1]
    )


def _reservation(name: str, _words: list[str], _einsums: Collection[str]) -> Column | None:
    match = _RESERVATION.match(name)
    if match is None:
        return None
    memory, tensor, depth = match.groups()
    return Column(name, "reservation", component=memory, tensor=tensor, depth=int(depth))


def _tile(name: str, words: list[str], _einsums: Collection[str]) -> Column | None:
    n = len(words)
    if n not in (3, 4) or not words[1].isdigit() or not words[-1]:
        return None
    if n == 4 and words[2] != _SPATIAL:
        return None
    return Column(name, "tile", index=int(words[1]), rank_variable=words[-1], spatial=n == 4)


_FIXED: dict[str, Family] = {
    **dict.fromkeys(INFO, "info"),
    **dict.fromkeys(OBJECTIVES, "objective"),
    **dict.fromkeys(TOTALS, "total"),
}
"""Names with no parts, by family (a total wins over the same objective name)."""
_KEYWORDS: dict[str, Callable[[str, list[str], Collection[str]], Column | None]] = {
    USAGE: _usage,
    ACTIONS: _actions,
    RESERVATION: _reservation,
    TILE: _tile,
}
"""Parsers of the names that start with a keyword; None when the rest does not fit."""


# --- helpers for readers ----------------------------------------------------------------


def is_total_usage(name: str, einsums: Collection[str]) -> bool:
    """Whether ``name`` is ``usage <memory>`` (or a fanout's), not a detailed usage column."""
    return parse_column(name, einsums).family == "usage"


def is_usage(name: str, einsums: Collection[str]) -> bool:
    """Whether ``name`` is a usage column, total or detailed."""
    return parse_column(name, einsums).family in ("usage", "detailed_usage")


def is_front_axis(name: str, einsums: Collection[str]) -> bool:
    """Whether ``name`` is a whole-mapping figure a front plot can use as an axis.

    False for per-Einsum, actions and detailed usage columns and for anything else that
    starts with the ``usage`` or ``actions`` keyword or an Einsum name; True otherwise.
    """
    column = parse_column(name, einsums)
    if column.family in ("total", "objective", "usage", "info", "reservation", "tile"):
        return True
    if column.family != "other":
        return False
    head = column.name.partition(" ")[0]
    return head not in (USAGE, ACTIONS) and head not in einsums


def per_einsum_values(row: Any, einsums: Iterable[str], what: str) -> dict[str, float]:
    """``{einsum: row[<einsum> <what>]}`` for the Einsums the row has that column for.

    ``row`` is a pandas Series or a mapping from column name to value.
    """
    out: dict[str, float] = {}
    for einsum in einsums:
        column = einsum_column(einsum, what)
        if column in row:
            out[einsum] = float(row[column])
    return out


def total_usage_values(row: Any, einsums: Collection[str]) -> dict[str, float]:
    """``{memory or component.dimension: value}`` of the row's total usage columns.

    ``row`` is a pandas Series or a mapping from column name to value.
    """
    out: dict[str, float] = {}
    for name, value in row.items():
        column = parse_column(name, einsums)
        if column.family == "usage" and column.component is not None:
            out[column.component] = float(value)
    return out
