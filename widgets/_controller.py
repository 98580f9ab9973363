"""The explorer's controller: all its state and logic, with no widget in sight.

:class:`ExplorerController` owns the form model (a ``FormModel`` bound to ``spec.mapper``),
the run lifecycle (start, a consumer thread reading the run's events, cancel), one ``RunModel``
per run (pmapping DataFrames, fronts, progress), the redraw throttle, the axes of the front
plot, the selected point and the export bytes. The views (``FFMForm``, ``Explorer``) subscribe
and render; the logic is tested without a browser.

Runs are started through a *starter*, ``starter(spec) -> handle``; the handle needs
``events()`` (an iterable of :mod:`accelforge.mapper.events` objects ending with
``RunFinished``) and ``cancel()``, and may have ``result()`` returning the ``Mappings`` (used to
inspect a point). The default starter is :func:`accelforge.mapper.start`; tests pass a fake.
:meth:`ExplorerController.feed` consumes any iterable of events directly.

Throttling: the consumer thread only updates the models and bumps a version number. The UI
task asks :meth:`ExplorerController.take_update` for an :class:`Update`; it gets one only
when something changed and at least ``1 / redraws_per_second`` seconds passed since the last
one, so the number of redraws is bounded by time, not by the number of events.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from accelforge.widgets._form_model import FormModel
from accelforge.widgets._run_model import (
    ERROR,
    IDLE_PROGRESS,
    STOPPING,
    RunModel,
    run_label,
    thin,
)
from accelforge.widgets._selection import Selection, make_selection
from accelforge.widgets._serialize import figure_bytes, metadata_bytes, table_bytes
from accelforge.widgets._types import RunHandle, Starter, Update, default_starter

from accelforge import columns as col
from accelforge.mapper._pmappings.make import Pmappings
from accelforge.mapper._run.pmapping_details import all_pmapping_details
from accelforge.mapper.events import RunFinished
from accelforge.mapper.progress import RUNNING, RunProgress
from accelforge.pareto import pareto_front_2d
from accelforge.units import NO_UNITS, Units, units_of

__all__ = [
    "ERROR",
    "RUNNING",
    "STOPPING",
    "ExplorerController",
    "RunHandle",
    "Selection",
    "Update",
    "default_starter",
]


@dataclass
class _Draw:
    version: int = 0
    drawn: int = -1
    last: float = -math.inf
    run_drawn: int = -1
    count: int = 0


@dataclass
class ExplorerController:
    """State and logic of the explorer (see the module docstring).

    Parameters
    ----------
    spec : Spec
        The spec to map; ``spec.mapper`` is edited live by the form.
    starter : callable, optional
        ``starter(spec) -> handle``; default :func:`accelforge.mapper.start`.
    n_workers : int, optional
        Worker processes for the default starter (1 runs in this process).
    redraws_per_second : float
        Upper bound on :meth:`take_update` results per second.
    max_cloud_points : int
        Pmappings drawn per Einsum (the front's rows always are).
    webgl_clouds : bool
        Draw the clouds with WebGL (worth it for many more points, on a GPU); SVG by default.
    keep_runs : int
        Earlier fronts overlaid on the plot.
    clock : callable
        Monotonic seconds (tests pass a fake).
    """

    spec: Any
    starter: Starter | None = None
    n_workers: int | None = None
    redraws_per_second: float = 4.0
    max_cloud_points: int = 1000
    webgl_clouds: bool = False
    keep_runs: int = 5
    clock: Callable[[], float] = time.monotonic
    runs: list[RunModel] = field(default_factory=list, init=False)
    """Every run, oldest first."""

    def __post_init__(self) -> None:
        self.form = FormModel(self.spec)
        self._start: Starter = self.starter or default_starter(self.n_workers)
        self._lock = threading.RLock()
        self._draw = _Draw()
        self._handle: RunHandle | None = None
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._mappings: dict[int, Any] = {}
        self._axes: tuple[str, str, str | None] = (col.LATENCY, col.ENERGY, None)
        self._z: str | None = None
        self._units: Units | None = None
        self._selected: tuple[int, int, Any] | None = None

    @property
    def units(self) -> Units:
        """The units of the spec's results (:func:`accelforge.units.units_of`, once).

        ``NO_UNITS`` (labels without units) when the architecture cannot be evaluated.
        """
        if self._units is None:
            try:
                first = next(iter(self.spec.evaluate_workload().einsums))
                self._units = units_of(self.spec.evaluate(first))
            except Exception:  # noqa: BLE001 - labels only; the run reports the real error
                self._units = NO_UNITS
        return self._units

    # --- run lifecycle -----------------------------------------------------------------

    @property
    def current(self) -> RunModel | None:
        """The latest run, or None before the first."""
        return self.runs[-1] if self.runs else None

    @property
    def running(self) -> bool:
        """Whether a run is going on."""
        return self.current is not None and not self.current.finished

    @property
    def can_run(self) -> bool:
        """True when the form is valid and no run is going on."""
        return self.form.valid and not self.running

    def run(self, *, wait: bool = False, timeout: float | None = None) -> None:
        """Start a run with the current ``spec.mapper`` and consume its events in a thread.

        Raises
        ------
        RuntimeError
            When a run is going on or a form field holds a rejected value.
        SpecError
            When the spec cannot be mapped (raised by the starter before any work).
        """
        self.form.sync()
        if self.running:
            raise RuntimeError("A run is going on: press Stop (or call cancel()) first.")
        if not self.form.valid:
            raise RuntimeError("Fix the form first: " + "; ".join(self.form.errors.values()))
        settings = self.form.mapper.to_section()
        handle = self._start(self.spec)
        model = self._begin(settings)
        self._handle = handle
        self._thread = threading.Thread(
            target=self._consume,
            args=(model, handle.events(), handle),
            daemon=True,
            name="accelforge-explorer-events",
        )
        self._thread.start()
        if wait:
            self.wait(timeout)

    def feed(self, events: Iterable[Any], *, settings: dict[str, Any] | None = None) -> None:
        """Consume ``events`` as a new run, in this thread (replays, scripts and tests).

        :meth:`cancel` (from another thread or an ``on_event`` hook) stops the reading.
        """
        if self.running:
            raise RuntimeError("A run is going on: press Stop (or call cancel()) first.")
        model = self._begin(settings or self.form.mapper.to_section())
        self._handle = None
        self._consume(model, events, None)

    def cancel(self) -> None:
        """Stop the current run; what was found so far is kept."""
        with self._lock:
            run = self.current
            if run is None or run.finished:
                return
            self._cancel.set()
            run.status = STOPPING
            self._draw.version += 1
        if self._handle is not None:
            self._handle.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the current run's events are consumed; False on timeout."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def _begin(self, settings: dict[str, Any]) -> RunModel:
        with self._lock:
            before = self.current.settings if self.current is not None else None
            label = run_label(len(self.runs) + 1, settings, before)
            model = RunModel(label, settings, clock=self.clock)
            self.runs.append(model)
            self._cancel.clear()
            self._draw.version += 1
            return model

    def _consume(self, model: RunModel, events: Iterable[Any], handle: Any) -> None:
        try:
            for event in events:
                with self._lock:
                    model.apply(event)
                    self._draw.version += 1
                if isinstance(event, RunFinished):
                    break
                if handle is None and self._cancel.is_set():
                    break
            mappings = None
            if handle is not None and callable(getattr(handle, "result", None)):
                mappings = handle.result()
        except Exception as exc:  # shown to the user as the run's status, never raised in a thread
            with self._lock:
                model.finish(ERROR, None, f"{type(exc).__name__}: {exc}")
            mappings = None
        with self._lock:
            if not model.finished:
                status = "CANCELLED" if self._cancel.is_set() else "PARTIAL"
                model.finish(status, None, "the run's events ended before RunFinished")
            if mappings is not None:
                self._mappings[self.runs.index(model)] = mappings
            self._draw.version += 1

    # --- data ----------------------------------------------------------------------------

    @property
    def progress(self) -> RunProgress:
        """The current run's progress (``IDLE`` before the first run)."""
        with self._lock:
            return self.current.progress() if self.current is not None else IDLE_PROGRESS

    def pmappings(self, einsum: str | None = None) -> pd.DataFrame:
        """The current run's pmappings (all Einsums, with an ``einsum`` column, for None)."""
        with self._lock:
            if self.current is None:
                return pd.DataFrame(columns=[col.EINSUM, col.ENERGY, col.LATENCY])
            return self.current.pmappings(einsum).copy()

    @property
    def front(self) -> pd.DataFrame:
        """The joined front of the latest run that has one (empty before)."""
        with self._lock:
            for run in reversed(self.runs):
                if run.front is not None and not run.front.empty:
                    return run.front.copy()
        return pd.DataFrame(columns=[col.ENERGY, col.LATENCY])

    def fronts(self) -> list[tuple[str, pd.DataFrame]]:
        """``(label, front)`` of every finished run with a front, oldest first."""
        with self._lock:
            return [(r.label, r.front) for r in self.runs if r.front is not None and len(r.front)]

    # --- axes of the front plot ---------------------------------------------------------

    def axis_options(self) -> list[str]:
        """Columns that can go on the front's axes: totals and one usage column per memory."""
        front = self.front
        einsums = set(self.current.einsums) if self.current is not None else set()
        options = []
        for column in front.columns:
            if not col.is_front_axis(str(column), einsums):
                continue
            if pd.api.types.is_numeric_dtype(front[column]):
                options.append(str(column))
        return options or [col.LATENCY, col.ENERGY]

    @property
    def axes(self) -> tuple[str, str, str | None]:
        """``(x, y, colour)`` columns of the front plot."""
        return self._axes

    def set_axes(self, x: str | None = None, y: str | None = None, colour: str | None = "") -> None:
        """Choose the front's axes (and colour; ``None`` for none, ``""`` to keep it)."""
        old = self._axes
        new = (x or old[0], y or old[1], old[2] if colour == "" else colour)
        if new != old:
            with self._lock:
                self._axes = new
                self._draw.version += 1

    @property
    def z(self) -> str | None:
        """The third axis of the 3-D front view (None: no 3-D view)."""
        return self._z

    def set_z(self, z: str | None) -> None:
        """Show the front in 3-D over the current ``x`` and ``y`` and ``z`` (None: hide it)."""
        if z != self._z:
            with self._lock:
                self._z = z
                self._draw.version += 1

    # --- throttled updates ---------------------------------------------------------------

    @property
    def updates_issued(self) -> int:
        """How many :class:`Update` objects :meth:`take_update` returned."""
        return self._draw.count

    def take_update(self, *, force: bool = False) -> Update | None:
        """The changes to draw, or None (nothing changed, or too soon after the last)."""
        with self._lock:
            d = self._draw
            if d.version == d.drawn:
                return None
            now = self.clock()
            if not force and now - d.last < 1.0 / self.redraws_per_second:
                return None
            d.drawn, d.last, d.count = d.version, now, d.count + 1
            run, index = self.current, len(self.runs) - 1
            if run is None:
                return self._make_update(set())
            dirty = run.take_dirty()
            if d.run_drawn != index:
                dirty, d.run_drawn = set(run.einsums), index
            return self._make_update(dirty)

    def _make_update(self, dirty: set[str]) -> Update:
        run, index = self.current, len(self.runs) - 1
        if run is None:
            return Update(self._draw.version, -1, (), {}, {}, None, None, (), IDLE_PROGRESS)
        clouds, fronts = {}, {}
        colour = None
        for einsum in sorted(dirty, key=lambda e: run.einsums.index(e)):
            data = run.pmappings(einsum)
            front = pareto_front_2d(data, col.LATENCY, col.ENERGY)
            clouds[einsum], fronts[einsum] = thin(data, self.max_cloud_points, front), front
            usage = [c for c in data.columns if col.is_usage(str(c), run.einsums)]
            colour = colour or (usage[0] if usage else None)
        previous = tuple(
            (r.label, r.front)
            for r in self.runs[:-1][-self.keep_runs :]
            if r.front is not None and len(r.front)
        )
        return Update(
            version=self._draw.version,
            run_index=index,
            einsums=run.einsums,
            clouds=clouds,
            einsum_fronts=fronts,
            cloud_colour=colour,
            front=run.front,
            previous=previous,
            progress=run.progress(),
            axes=self._axes,
            z=self._z,
            webgl=self.webgl_clouds,
            label=run.label,
            front_basis=run.front_basis,
            units=self.units,
            objectives=tuple(str(m).lower() for m in run.settings.get("metrics", [])),
        )

    # --- selection ---------------------------------------------------------------------

    def select(self, index: int) -> Selection:
        """Details of point ``index`` of the latest front (loop nest, breakdowns, usage).

        Raises
        ------
        IndexError
            When there is no such point.
        """
        with self._lock:
            for position in range(len(self.runs) - 1, -1, -1):
                run = self.runs[position]
                if run.front is not None and len(run.front):
                    break
            else:
                raise IndexError("There is no front yet: run the mapper first.")
            if not 0 <= index < len(run.front):
                raise IndexError(f"The front has {len(run.front)} points; got index {index}.")
            mappings = self._mappings.get(position, self._live_mappings(run))
            self._selected = (position, index, mappings)
            return make_selection(index, run.front.iloc[index], run.einsums, mappings)

    def _live_mappings(self, run: RunModel) -> Any | None:
        """The running handle's latest front as Mappings, if it is the one drawn (else None)."""
        front = getattr(self._handle, "front", None)
        if run is not self.current or run.finished or not callable(front):
            return None
        mappings = front()
        if mappings is None or run.front is None or len(mappings) != len(run.front):
            return None
        same = mappings.data[col.ENERGY].to_numpy() == run.front[col.ENERGY].to_numpy()
        return mappings if bool(same.all()) else None

    def selected_yaml(self) -> bytes:
        """The selected point's mapping as YAML (a ``mapping:`` section a spec can load).

        Raises
        ------
        RuntimeError
            When no point is selected, or its mapping is not available.
        """
        if self._selected is None:
            raise RuntimeError("Click a point of the joined front first.")
        _, index, mappings = self._selected
        if mappings is None:
            raise RuntimeError("This point's mapping is not available yet; wait for the front.")
        return str(mappings[index].to_yaml()).encode()

    # --- exports -----------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        """The settings of the latest run, stored with every export."""
        run = self.current
        if run is None:
            return {"mapper": self.form.mapper.to_section()}
        return {"mapper": run.settings, "run": run.label, "status": run.status}

    def export_metadata(self) -> bytes:
        """The settings of the latest run as JSON: the CSV exports' ``.meta.json`` sidecar."""
        return metadata_bytes(self.metadata())

    def export_front(self, fmt: str = "csv") -> bytes:
        """The joined front as ``csv``, ``parquet``, ``xlsx`` or ``json`` bytes."""
        return table_bytes(self.front, fmt, self.metadata())

    def export_pmappings(self, fmt: str = "csv") -> bytes:
        """The current run's pmappings (all Einsums) as ``csv``, ``parquet``, ``xlsx``, ``json``.

        From a mapper run each row carries its usage per memory and its loop nest as text
        (:meth:`pmapping_details`).
        """
        return table_bytes(self.pmapping_details(), fmt, self.metadata())

    def pmapping_details(self) -> pd.DataFrame:
        """The current run's pmappings with ``usage <memory>`` and ``loop nest`` columns.

        Runs that are not mapper runs (replayed events) have neither: their pmappings are
        returned as :meth:`pmappings` gives them.
        """
        source = getattr(self._handle, "pmappings", None)
        if isinstance(source, Pmappings):
            return all_pmapping_details(source)
        return self.pmappings()

    def export_figure(self, fmt: str = "html", which: str = "front") -> bytes:
        """The ``front`` (or per-Einsum ``clouds``) figure as ``html`` or ``png`` bytes."""
        return figure_bytes(self.figure(which), fmt)

    def figure(self, which: str = "front") -> Any:
        """A static copy (``go.Figure``) of the ``front`` or per-Einsum ``clouds`` figure."""
        from accelforge.widgets._plots import clouds_figure, front_figure

        if which not in ("front", "clouds"):
            raise ValueError(f"which must be 'front' or 'clouds'. Got {which!r} instead.")
        with self._lock:
            run = self.current
            update = self._make_update(set(run.einsums) if run is not None else set())
        return front_figure(update) if which == "front" else clouds_figure(update)
