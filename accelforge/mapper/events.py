"""The events a mapper run emits (docs/MAPPER.md §11), in this order for a given spec.

::

    RunStarted
    RunWarning*                          templates capped (already issued as Python warnings)
    per Einsum, in workload order:
        TemplateDone*                    one per template that ran, in template order
        EinsumDone                       then RunWarning* for templates skipped or failed
    JoinStep*                            one per joined Einsum (none if the join is skipped)
    RunWarning*                          joined mappings dropped; a status other than OK
    FrontUpdate                          basis "final": the front RunFinished carries
    RunFinished                          always last, exactly once

``FrontUpdate`` events with basis ``"partial join"`` come between the others as soon as every
Einsum has a pmapping: joins of what the run has found so far (docs/MAPPER.md §14).

Every event is a frozen dataclass holding only plain values and small DataFrames, so it pickles
and can cross a process boundary. Fields holding a dict or a DataFrame make an event unhashable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

__all__ = [
    "EinsumDone",
    "Event",
    "FrontUpdate",
    "JoinStep",
    "RunFinished",
    "RunStarted",
    "RunStatus",
    "RunWarning",
    "TemplateDone",
    "UnitStatus",
]

UnitStatus = Literal["ok", "time_limit", "memory_limit", "error", "no_valid_tile_shapes"]
"""How one unit (one template's tile search) ended."""

RunStatus = Literal[
    "OK", "NO_MAPPING", "CANCELLED", "TIME_LIMIT", "MEMORY_LIMIT", "WORKER_FAILED", "PARTIAL"
]
"""How a run ended; see :class:`RunFinished`."""


@dataclass(frozen=True)
class RunStarted:
    """The run's plan: templates are enumerated before any tile search starts.

    Attributes
    ----------
    run_id : str
        Unique id of this run.
    einsums : tuple of str
        Einsum names in workload (join) order.
    compute_units : dict
        Einsum name -> enabled compute units, in architecture order.
    template_counts : dict
        Einsum name -> number of templates (the units of work) over all its compute units.
    metrics : tuple of str
        Names of the chosen ``Metrics`` flags.
    knobs : dict
        The evaluated ``spec.mapper.ffm`` settings, by field name.
    n_workers : int
        Number of workers running the units.
    """

    run_id: str
    einsums: tuple[str, ...]
    compute_units: dict[str, tuple[str, ...]]
    template_counts: dict[str, int]
    metrics: tuple[str, ...]
    knobs: dict[str, Any]
    n_workers: int = 1

    @property
    def n_templates(self) -> int:
        """Templates over all Einsums."""
        return sum(self.template_counts.values())


@dataclass(frozen=True)
class TemplateDone:
    """One template's tile search ended; ``rows`` are its Pareto-surviving pmappings.

    Rows are final for the template; the join may still use or drop them.

    Attributes
    ----------
    einsum, template, compute : str
        Einsum name, template id (``einsum/compute/ordinal``) and compute unit.
    status : str
        ``"ok"``; ``"no_valid_tile_shapes"`` (the search ran, nothing was valid);
        ``"time_limit"`` (not started before the run's deadline, no rows; or it ran past
        ``time_limit_per_pmapping_template``, rows complete); ``"memory_limit"`` (the worker
        was over its memory limit before the unit, no rows; or after it, rows complete);
        ``"error"`` (the unit raised; ``message`` says what, no rows).
    rows : pandas.DataFrame
        Columns ``energy``, ``latency``, ``template``, ``row`` (0-based within the
        template), plus any other objective column of the run.
    einsum_done, einsum_total : int
        Templates of this Einsum reported so far (this one included), and in total.
    done, total : int
        The same over the whole run.
    evaluated, valid, kept : int
        Tile-shape candidates evaluated, valid, and kept after Pareto pruning.
    complete : bool
        Whether the template's search ran to the end (its rows are all there are).
    message : str or None
        Error or limit details.
    seconds : float
        Wall time of the unit in its worker.
    elapsed : float
        Seconds since the run started, when the template was reported (0: not known).
    """

    einsum: str
    template: str
    compute: str
    status: UnitStatus
    rows: pd.DataFrame
    einsum_done: int
    einsum_total: int
    done: int
    total: int
    evaluated: int = 0
    valid: int = 0
    kept: int = 0
    complete: bool = True
    message: str | None = None
    seconds: float = 0.0
    elapsed: float = 0.0


@dataclass(frozen=True)
class EinsumDone:
    """Every template of an Einsum has reported (or the pmapping phase ended early).

    Attributes
    ----------
    einsum : str
        Einsum name.
    rows_kept : int
        Pmappings kept for the join, over all its templates.
    templates_done, templates_total : int
        Templates that reported, and templates planned.
    complete : bool
        True when every template reported a complete search.
    """

    einsum: str
    rows_kept: int
    templates_done: int
    templates_total: int
    complete: bool = True


@dataclass(frozen=True)
class JoinStep:
    """One Einsum was joined (FFM, docs/MAPPER.md §6.4).

    Attributes
    ----------
    index, n : int
        0-based step number and number of steps (Einsums).
    einsum : str
        The Einsum added in this step.
    group_pairs, candidate_pairs, rows_in, rows_out, capacity_drops : int
        The join's statistics for this step.
    elapsed : float
        Seconds since the run started.
    """

    index: int
    n: int
    einsum: str
    group_pairs: int
    candidate_pairs: int
    rows_in: int
    rows_out: int
    capacity_drops: int
    elapsed: float


@dataclass(frozen=True)
class RunWarning:
    """Something the user should know; the run goes on.

    Attributes
    ----------
    message : str
        What happened.
    unit : str or None
        The template or ``einsum/compute`` it concerns, if any.
    issued : bool
        True when the library already issued it as a Python warning in the caller's thread
        (when :func:`~accelforge.mapper.start` enumerated the templates).
    """

    message: str
    unit: str | None = None
    issued: bool = False


@dataclass(frozen=True)
class FrontUpdate:
    """The current joined front, while the run goes on (docs/MAPPER.md §14).

    Attributes
    ----------
    front : pandas.DataFrame
        The front, with the columns of ``Mappings.data``; every row is a complete mapping.
    basis : str
        What it rests on: ``"partial join"`` (a join of the pmappings found so far) or
        ``"final"`` (the run's final front, emitted just before ``RunFinished``).
    elapsed : float
        Seconds since the run started.
    templates_done : int
        Templates whose pmappings the front includes.
    join_seconds : float
        Wall time of the partial join behind it (0 for the final front).
    """

    front: pd.DataFrame
    basis: str
    elapsed: float
    templates_done: int = 0
    join_seconds: float = 0.0


@dataclass(frozen=True)
class RunFinished:
    """The run ended; always the last event.

    Attributes
    ----------
    status : str
        ``"OK"``: everything explored and joined, and the front has a mapping.
        ``"NO_MAPPING"``: everything explored and joined, and no mapping is valid
        (``message`` names the Einsums without a valid pmapping, or the join step that
        emptied). ``"CANCELLED"``: cancelled; the front is the latest ``FrontUpdate``'s
        (empty if none came). ``"PARTIAL"``: some units failed (the join ran on the rest).
        ``"TIME_LIMIT"`` / ``"MEMORY_LIMIT"``: a limit stopped units or the join (the join runs
        on what was found while time remains; a stopped join leaves the latest
        ``FrontUpdate``'s front). ``"WORKER_FAILED"``: a worker
        process died (the join ran on the rest), or the run itself failed (``message``).
    front : pandas.DataFrame
        The final Pareto front (``Mappings.data``); empty when there is none.
    statistics : dict
        Counts and timings: per Einsum, per unit status, per join step.
    unfinished : tuple of str
        Ids of the templates whose search did not complete, in template order.
    message : str or None
        Details when the run itself failed.
    """

    status: RunStatus
    front: pd.DataFrame
    statistics: dict[str, Any]
    unfinished: tuple[str, ...] = ()
    message: str | None = None


Event = RunStarted | TemplateDone | EinsumDone | JoinStep | RunWarning | FrontUpdate | RunFinished
"""Any event of a mapper run."""
