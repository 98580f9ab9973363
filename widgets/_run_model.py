"""One mapper run as seen by the explorer: the DataFrames and counts built from its events.

:class:`RunModel` is fed the events of ``accelforge.mapper.start(spec).events()`` (or any
iterable of the same event classes, such as a test's fake stream) one at a time through
:meth:`RunModel.apply`, and answers what the views draw: per-Einsum pmapping clouds and their
Pareto fronts while the pmapper runs, the joined front at the end, and a progress snapshot.
The progress is the core reducer's (:class:`~accelforge.mapper.progress.RunProgress`, the same
one ``MapperRun.progress`` uses); the model only adds view state: ``STOPPING`` after Stop, an
``ERROR`` status, and the elapsed time by its own clock. It holds no lock and starts no thread;
the controller serialises access.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from accelforge import columns as col
from accelforge.mapper.events import FrontUpdate, RunFinished, RunWarning, TemplateDone
from accelforge.mapper.progress import RUNNING, RunProgress

__all__ = ["IDLE_PROGRESS", "RunModel", "run_label", "thin"]

IDLE, STOPPING, ERROR = "IDLE", "STOPPING", "ERROR"
"""View statuses: before any run, after Stop, a failed run (the others are ``RUNNING`` and the
``RunFinished`` statuses, from the reducer)."""

IDLE_PROGRESS = RunProgress(status=IDLE)
"""What the progress bar shows before the first run."""


def run_label(number: int, settings: dict[str, Any], before: dict[str, Any] | None) -> str:
    """A run's label, ``"run 2: objective_tolerance=0.1"``: the knobs it changed.

    Changed since the previous run's ``settings`` (``before``), or for the first run, since
    the defaults.
    """
    from accelforge.frontend.mapper import FFM

    ffm, metrics = settings.get("ffm", {}), settings.get("metrics", [])
    if before is None:
        defaults = FFM().model_dump()
        changed = {k: v for k, v in ffm.items() if defaults.get(k) != v}
    else:
        changed = {k: v for k, v in ffm.items() if before.get("ffm", {}).get(k) != v}
        if before.get("metrics") != metrics:
            changed = {"metrics": "|".join(metrics), **changed}
    text = ", ".join(
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in changed.items()
    )
    return f"run {number}: {text}" if text else f"run {number}"


def thin(data: pd.DataFrame, cap: int, keep: pd.DataFrame | None = None) -> pd.DataFrame:
    """At most about ``cap`` rows of ``data`` for drawing: every k-th row, plus ``keep``'s rows."""
    if len(data) <= cap:
        return data
    step = math.ceil(len(data) / cap)
    sample = data.iloc[::step]
    if keep is not None and not keep.empty:
        sample = pd.concat([sample, keep])
        sample = sample[~sample.index.duplicated()]
    return sample


@dataclass
class RunModel:
    """The DataFrames and counts of one run, updated event by event.

    Parameters
    ----------
    label : str
        How the run is named in legends (``"run 2: objective_tolerance=0.1"``).
    settings : dict
        The mapper settings the run started with (``spec.mapper.to_section()``).
    clock : callable
        Monotonic seconds, for ``elapsed``.
    """

    label: str
    settings: dict[str, Any]
    clock: Callable[[], float] = time.monotonic
    front: pd.DataFrame | None = None
    """The latest joined front (``FrontUpdate``, then ``RunFinished.front``); None before."""
    front_basis: str | None = None
    """What :attr:`front` rests on (see :attr:`Update.front_basis`)."""
    warnings: list[str] = field(default_factory=list)
    status: str = RUNNING
    """The view's status: ``RUNNING``, ``STOPPING`` (set by Stop), then the final one."""
    dirty: set[str] = field(default_factory=set)
    """Einsums whose pmappings changed since :meth:`take_dirty`."""

    def __post_init__(self) -> None:
        self._began = self.clock()
        self._ended: float | None = None
        self._chunks: dict[str, list[pd.DataFrame]] = {}
        self._cache: dict[str, tuple[int, pd.DataFrame]] = {}
        self._progress = RunProgress()

    # --- events ----------------------------------------------------------------------------

    def apply(self, event: Any) -> None:
        """Update the state with one event (unknown event types are ignored)."""
        if isinstance(event, RunFinished):
            self.finish(event.status, event.front, event.message, event=event)
            return
        self._progress = self._progress.advance(event)
        if isinstance(event, TemplateDone):
            self._add_rows(event.einsum, event.rows)
        elif isinstance(event, RunWarning):
            self.warnings.append(event.message)
        elif isinstance(event, FrontUpdate) and len(event.front):
            self.front = event.front.reset_index(drop=True)
            self.front_basis = event.basis

    def finish(
        self,
        status: str,
        front: pd.DataFrame | None,
        message: str | None = None,
        *,
        event: RunFinished | None = None,
    ) -> None:
        """End the run: its ``RunFinished`` (``event``), or a stream that stopped early or failed.

        Without ``event``, the progress folds a ``RunFinished`` with ``status`` and no front.
        """
        if self._ended is not None:
            return
        self._ended = self.clock()
        self.status = status
        if front is not None and len(front):
            self.front = front.reset_index(drop=True)
        if self.front is not None:  # a stream that ended early keeps the latest front
            self.front_basis = "final" if status == "OK" else f"partial ({status})"
        if event is None:
            empty = pd.DataFrame(columns=[col.ENERGY])
            event = RunFinished(status, empty, {}, message=message)  # type: ignore[arg-type]
        self._progress = self._progress.advance(event)

    def _add_rows(self, einsum: str, rows: pd.DataFrame) -> None:
        chunks = self._chunks.setdefault(einsum, [])
        if rows is None or rows.empty:
            return
        chunks.append(rows)
        self.dirty.add(einsum)

    # --- queries ---------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """Whether the run ended."""
        return self._ended is not None

    @property
    def einsums(self) -> tuple[str, ...]:
        """The run's Einsums in workload order (from ``RunStarted``, then any other seen)."""
        return self._progress.einsums

    def pmappings(self, einsum: str | None = None) -> pd.DataFrame:
        """The pmappings kept for ``einsum``; for None, all, with an ``einsum`` column."""
        if einsum is None:
            frames = [self.pmappings(name).assign(**{col.EINSUM: name}) for name in self.einsums]
            frames = [f for f in frames if not f.empty]
            if not frames:
                return pd.DataFrame(columns=[col.EINSUM, col.ENERGY, col.LATENCY])
            data = pd.concat(frames, ignore_index=True)
            return data[[col.EINSUM, *[c for c in data.columns if c != col.EINSUM]]]
        chunks = self._chunks.get(einsum, [])
        n, cached = self._cache.get(einsum, (0, None))
        if cached is None or n != len(chunks):
            parts = ([cached] if cached is not None else []) + chunks[n:]
            cached = (
                pd.concat(parts, ignore_index=True)
                if parts
                else pd.DataFrame(columns=[col.ENERGY, col.LATENCY])
            )
            self._cache[einsum] = (len(chunks), cached)
        return cached

    def take_dirty(self) -> set[str]:
        """The Einsums changed since the last call (and forget them)."""
        dirty, self.dirty = self.dirty, set()
        return dirty

    def progress(self) -> RunProgress:
        """The reducer's snapshot, with the view's status and the elapsed time by its clock."""
        end = self._ended if self._ended is not None else self.clock()
        return replace(self._progress, status=self.status, elapsed=end - self._began)
