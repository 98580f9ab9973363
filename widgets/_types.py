"""Types shared by the controller and the views: :class:`Update`, :class:`RunHandle`.

An :class:`Update` is what the controller hands the views on each (throttled) redraw; a
:class:`RunHandle` is what a *starter* returns: ``accelforge.mapper.start``'s ``MapperRun``, or
a test double replaying events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from accelforge import columns as col
from accelforge.mapper.progress import RunProgress
from accelforge.units import NO_UNITS, Units

__all__ = ["RunHandle", "Starter", "Update", "default_starter"]


class RunHandle(Protocol):
    """What a starter returns: ``accelforge.mapper.MapperRun`` or a test double."""

    def events(self) -> Iterable[Any]:
        """The run's events, ``RunStarted`` first and ``RunFinished`` last (blocking)."""
        ...

    def cancel(self) -> None:
        """Ask the run to stop; it still ends with ``RunFinished``."""
        ...


Starter = Callable[[Any], RunHandle]


@dataclass(frozen=True)
class Update:
    """What changed since the last update: the views redraw from this, in one batch each.

    Attributes
    ----------
    version : int
        Increases with every change.
    run_index : int
        Index of the current run (a new value means: rebuild the per-Einsum figure).
    einsums : tuple of str
        Einsums of the current run, in workload order.
    clouds, einsum_fronts : dict
        Per changed Einsum: the pmappings to draw (thinned) and their (latency, energy) front.
    cloud_colour : str or None
        Column used as the clouds' marker colour (a resource usage), if any.
    front : DataFrame or None
        The current run's latest joined front (``FrontUpdate``), None before the first.
    previous : tuple
        ``(label, front)`` of earlier runs, drawn faded beneath the current one.
    progress : RunProgress
        Counts for the progress bar (the core reducer's, with the view's status).
    axes : tuple
        ``(x, y, colour)`` columns of the front plot.
    label : str
        The current run's label (``"run 2: objective_tolerance=0.1"``).
    front_basis : str or None
        What ``front`` rests on: ``"partial join"`` while the run goes, ``"final"``, or
        ``"partial (CANCELLED)"`` (any status but OK) once it ended; None without a front.
    objectives : tuple of str
        The front's objective columns (``Mappings.objectives``; empty: energy and latency).
    units : Units
        The units of the spec's results, for axis titles and hover labels.
    z : str or None
        The third axis of the 3-D front view (None: no 3-D view).
    webgl : bool
        Draw the pmapping clouds with WebGL (``Scattergl``) instead of SVG.
    """

    version: int
    run_index: int
    einsums: tuple[str, ...]
    clouds: dict[str, pd.DataFrame]
    einsum_fronts: dict[str, pd.DataFrame]
    cloud_colour: str | None
    front: pd.DataFrame | None
    previous: tuple[tuple[str, pd.DataFrame], ...]
    progress: RunProgress
    axes: tuple[str, str, str | None] = (col.LATENCY, col.ENERGY, None)
    label: str = ""
    front_basis: str | None = None
    objectives: tuple[str, ...] = ()
    units: Units = NO_UNITS
    z: str | None = None
    webgl: bool = False


def default_starter(n_workers: int | None = None) -> Starter:
    """A starter calling :func:`accelforge.mapper.start` with ``n_workers``."""

    def start(spec: Any) -> RunHandle:
        from accelforge.mapper import start as start_run

        return start_run(spec, n_workers=n_workers)  # type: ignore[no-any-return]

    return start
