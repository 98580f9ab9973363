"""One mapper run as seen by the explorer: the DataFrames and counts built from its events.

:class:`RunModel` is fed the events of ``accelforge.mapper.start(spec).events()`` (or any
iterable of the same event classes, such as a test's fake stream) one at a time through
:meth:`RunModel.apply`, and answers what the views draw: per-Einsum pmapping clouds and their
Pareto fronts while the pmapper runs, the joined front at the end, and a :class:`Progress`
snapshot. It holds no lock and starts no thread; the controller serialises access.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from accelforge.mapper.events import (
    EinsumDone,
    JoinStep,
    RunFinished,
    RunStarted,
    RunWarning,
    TemplateDone,
)

__all__ = ["Progress", "RunModel", "pareto_front", "run_label", "thin"]

RUNNING, STOPPING, ERROR = "RUNNING", "STOPPING", "ERROR"
"""Statuses of a run that has not finished normally (the others are ``RunFinished.status``)."""


def pareto_front(data: pd.DataFrame, x: str = "latency", y: str = "energy") -> pd.DataFrame:
    """The rows of ``data`` not dominated in (``x``, ``y``), both minimised, sorted by ``x``."""
    if data.empty or x not in data or y not in data:
        return data.iloc[0:0]
    ordered = data.sort_values([x, y], kind="stable")
    ys = ordered[y].to_numpy(dtype=float)
    best_before = np.minimum.accumulate(np.concatenate([[math.inf], ys[:-1]]))
    return ordered[ys < best_before]


def run_label(number: int, settings: dict[str, Any], before: dict[str, Any] | None) -> str:
    """``"run 2: objective_tolerance=0.1"``: the knobs changed since the previous run's
    ``settings`` (``before``; for the first run, since the defaults)."""
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


@dataclass(frozen=True)
class Progress:
    """What the progress bar and its label show.

    Attributes
    ----------
    status : str
        ``"IDLE"`` before any run, ``"RUNNING"``, ``"STOPPING"`` after Stop, then the
        ``RunFinished`` status (``OK``, ``CANCELLED``, ``PARTIAL``, ...) or ``"ERROR"``.
    phase : str
        ``""``, ``"pmappings"``, ``"join"`` or ``"finished"``.
    templates_done, templates_total : int
        Pmapping templates explored, and planned.
    rows_kept : int
        Pmappings kept so far over all Einsums.
    einsums_done, einsums_total : int
        Einsums whose templates all reported, and Einsums.
    join_done : int
        Join steps done (one per Einsum).
    elapsed : float
        Seconds since the run started (frozen when it ends).
    best_energy : float
        Lowest energy of a full mapping once joined; before, the sum of each Einsum's lowest
        pmapping energy (a lower bound; ``inf`` while an Einsum has none).
    front_size : int
        Mappings on the joined front.
    message : str or None
        Why the run failed, or its last warning.
    """

    status: str = "IDLE"
    phase: str = ""
    templates_done: int = 0
    templates_total: int = 0
    rows_kept: int = 0
    einsums_done: int = 0
    einsums_total: int = 0
    join_done: int = 0
    elapsed: float = 0.0
    best_energy: float = math.inf
    front_size: int = 0
    message: str | None = None

    @property
    def running(self) -> bool:
        """Whether the run is still going (Stop may have been pressed)."""
        return self.status in (RUNNING, STOPPING)

    @property
    def percent(self) -> float:
        """0 to 100: templates count for 90 %, join steps for the last 10 %."""
        if self.phase == "finished":
            return 100.0
        done = 90.0 * self.templates_done / self.templates_total if self.templates_total else 0.0
        if self.einsums_total:
            done += 10.0 * self.join_done / self.einsums_total
        return min(done, 100.0)

    def text(self) -> str:
        """One line: status, counts, elapsed time, best energy so far."""
        parts = [
            self.status,
            f"templates {self.templates_done}/{self.templates_total}",
            f"pmappings kept {self.rows_kept}",
            f"Einsums {self.einsums_done}/{self.einsums_total}",
            f"join {self.join_done}/{self.einsums_total}",
            f"{self.elapsed:.1f} s",
        ]
        if math.isfinite(self.best_energy):
            bound = "" if self.phase == "finished" else "\u2265 "
            parts.append(f"best energy {bound}{self.best_energy:.4g}")
        if self.phase == "finished":
            parts.append(f"front {self.front_size} points")
        return " \u00b7 ".join(parts)


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
    einsums: tuple[str, ...] = ()
    front: pd.DataFrame | None = None
    """The joined front (``RunFinished.front``); None until the run finishes."""
    warnings: list[str] = field(default_factory=list)
    status: str = RUNNING
    message: str | None = None
    dirty: set[str] = field(default_factory=set)
    """Einsums whose pmappings changed since :meth:`take_dirty`."""

    def __post_init__(self) -> None:
        self._began = self.clock()
        self._ended: float | None = None
        self._chunks: dict[str, list[pd.DataFrame]] = {}
        self._cache: dict[str, tuple[int, pd.DataFrame]] = {}
        self._lowest: dict[str, float] = {}
        self._counts = Progress(status=RUNNING, phase="pmappings")

    # --- events ----------------------------------------------------------------------------

    def apply(self, event: Any) -> None:
        """Update the state with one event (unknown event types are ignored)."""
        c = self._counts
        if isinstance(event, RunStarted):
            self.einsums = tuple(event.einsums)
            for name in self.einsums:
                self._chunks.setdefault(name, [])
            self._counts = replace(
                c, templates_total=event.n_templates, einsums_total=len(self.einsums)
            )
        elif isinstance(event, TemplateDone):
            self._add_rows(event.einsum, event.rows)
            self._counts = replace(
                c,
                templates_done=event.done,
                templates_total=event.total,
                rows_kept=c.rows_kept + len(event.rows),
            )
        elif isinstance(event, EinsumDone):
            self._counts = replace(c, einsums_done=c.einsums_done + 1)
        elif isinstance(event, JoinStep):
            self._counts = replace(c, phase="join", join_done=event.index + 1)
        elif isinstance(event, RunWarning):
            self.warnings.append(event.message)
        elif isinstance(event, RunFinished):
            self.finish(event.status, event.front, event.message)

    def finish(self, status: str, front: pd.DataFrame | None, message: str | None = None) -> None:
        """End the run (a ``RunFinished``, a stream that stopped early, or a failure)."""
        if self._ended is not None:
            return
        self._ended = self.clock()
        self.status = status
        self.message = message
        self.front = front.reset_index(drop=True) if front is not None else None
        self._counts = replace(self._counts, phase="finished")

    def _add_rows(self, einsum: str, rows: pd.DataFrame) -> None:
        if einsum not in self._chunks:
            self._chunks[einsum] = []
            self.einsums = (*self.einsums, einsum)
        if rows is None or rows.empty:
            return
        self._chunks[einsum].append(rows)
        if "energy" in rows:
            lowest = float(rows["energy"].min())
            self._lowest[einsum] = min(self._lowest.get(einsum, math.inf), lowest)
        self.dirty.add(einsum)

    # --- queries ---------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """Whether the run ended."""
        return self._ended is not None

    def pmappings(self, einsum: str | None = None) -> pd.DataFrame:
        """The pmappings kept for ``einsum``; for None, all, with an ``einsum`` column."""
        if einsum is None:
            frames = [self.pmappings(name).assign(einsum=name) for name in self.einsums]
            frames = [f for f in frames if not f.empty]
            if not frames:
                return pd.DataFrame(columns=["einsum", "energy", "latency"])
            data = pd.concat(frames, ignore_index=True)
            return data[["einsum", *[c for c in data.columns if c != "einsum"]]]
        chunks = self._chunks.get(einsum, [])
        n, cached = self._cache.get(einsum, (0, None))
        if cached is None or n != len(chunks):
            parts = ([cached] if cached is not None else []) + chunks[n:]
            cached = (
                pd.concat(parts, ignore_index=True)
                if parts
                else pd.DataFrame(columns=["energy", "latency"])
            )
            self._cache[einsum] = (len(chunks), cached)
        return cached

    def take_dirty(self) -> set[str]:
        """The Einsums changed since the last call (and forget them)."""
        dirty, self.dirty = self.dirty, set()
        return dirty

    def progress(self) -> Progress:
        """A snapshot of the counts, elapsed time and best energy."""
        end = self._ended if self._ended is not None else self.clock()
        best = math.inf
        if self.front is not None and not self.front.empty and "energy" in self.front:
            best = float(self.front["energy"].min())
        elif self.einsums and len(self._lowest) == len(self.einsums):
            best = sum(self._lowest.values())
        message = self.message or (self.warnings[-1] if self.warnings else None)
        return replace(
            self._counts,
            status=self.status,
            elapsed=end - self._began,
            best_energy=best,
            front_size=0 if self.front is None else len(self.front),
            message=message,
        )
