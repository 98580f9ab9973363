"""A mapper run's progress as a pure reducer over its events (docs/MAPPER.md §11).

:class:`RunProgress` is an immutable snapshot; :meth:`RunProgress.advance` returns the snapshot
after one more event, so the progress of any event stream is a fold::

    progress = RunProgress.fold(run.events())

``MapperRun.progress`` is this fold over the events the run emitted (plus the live elapsed
time), and the Jupyter explorer folds the same events with the same reducer; it only adds view
states such as ``"STOPPING"`` after Stop was pressed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from accelforge import columns as col

if TYPE_CHECKING:
    import pandas as pd
from accelforge.mapper.events import (
    EinsumDone,
    FrontUpdate,
    JoinStep,
    RunFinished,
    RunStarted,
    RunWarning,
    TemplateDone,
)

__all__ = ["RUNNING", "Phase", "RunProgress"]

RUNNING = "RUNNING"
"""``RunProgress.status`` until ``RunFinished`` (then that event's status)."""

Phase = Literal["pmappings", "join", "finished"]


@dataclass(frozen=True)
class RunProgress:
    """A snapshot of a run's progress (``MapperRun.progress``), folded from its events.

    Attributes
    ----------
    phase : str
        ``"pmappings"``; ``"join"`` once every Einsum's pmappings are final (the last
        ``EinsumDone``) or a ``JoinStep`` arrived; ``"finished"`` after ``RunFinished``.
    templates_done, templates_total : int
        Templates reported and planned.
    einsums_done, einsums_total : int
        Einsums whose templates have all reported, and Einsums.
    rows_kept : int
        Pmappings kept so far, over all Einsums.
    elapsed : float
        Seconds since the run started (``MapperRun.progress`` adds the live time while the run
        goes on; the fold alone takes it from ``JoinStep`` and ``RunFinished.statistics``).
    best_energy : float
        The lowest energy of a full mapping once the join finished; before, the sum of the
        per-Einsum lowest pmapping energies (:attr:`energy_lower_bound`); ``inf`` while an
        Einsum has none, and after a run that ended without a front.
    join_done : int
        Join steps done (one per Einsum).
    front_size : int
        Mappings on the latest front (``FrontUpdate``, then ``RunFinished``; 0 before).
    front_energy : float
        The lowest energy on the latest front: a complete mapping's (``inf`` before the first).
    status : str
        ``"RUNNING"``, then ``RunFinished.status``.
    message : str or None
        ``RunFinished.message`` when it has one, else the last ``RunWarning``'s message.
    einsums : tuple of str
        The Einsums, in workload order (from ``RunStarted``).
    lowest_energies : tuple of float
        Per Einsum (same order), the lowest energy of its pmappings so far (``inf``: none yet).
    template_elapsed : float
        ``elapsed`` of the latest ``TemplateDone`` that carried it (0: none did).
    join_started : float
        ``elapsed`` when the join phase began (``inf`` before).
    join_estimate : float
        Expected seconds of the final join: the latest partial join's wall time scaled by
        templates planned / templates it included (0 before any partial join).
    floor : float
        The highest :attr:`percent` reported at an event so far (keeps it monotone).
    metrics : tuple of str
        The run's objectives (``RunStarted.metrics``: ``"ENERGY"``, ``"LATENCY"``,
        ``"RESOURCE_USAGE"``); empty when unknown.
    front_latency : float
        The lowest latency on the latest front (``inf`` before the first).
    """

    phase: Phase = "pmappings"
    templates_done: int = 0
    templates_total: int = 0
    einsums_done: int = 0
    einsums_total: int = 0
    rows_kept: int = 0
    elapsed: float = 0.0
    best_energy: float = math.inf
    join_done: int = 0
    front_size: int = 0
    front_energy: float = math.inf
    status: str = RUNNING
    message: str | None = None
    einsums: tuple[str, ...] = ()
    lowest_energies: tuple[float, ...] = ()
    template_elapsed: float = 0.0
    join_started: float = math.inf
    join_estimate: float = 0.0
    floor: float = 0.0
    metrics: tuple[str, ...] = ()
    front_latency: float = math.inf

    # --- the reducer ----------------------------------------------------------------------

    def advance(self, event: Any) -> RunProgress:
        """The progress after ``event``.

        ``event`` is any event of :mod:`accelforge.mapper.events`; other objects leave the
        progress unchanged.
        """
        step = _STEPS.get(type(event))
        if step is None:
            return self
        after = step(self, event)
        if isinstance(event, RunStarted):  # a new run starts afresh
            return after
        return replace(after, floor=max(self.floor, self.percent, after.percent))

    def _run_started(self, event: RunStarted) -> RunProgress:
        einsums = tuple(event.einsums)
        return RunProgress(
            templates_total=event.n_templates,
            einsums_total=len(einsums),
            einsums=einsums,
            lowest_energies=(math.inf,) * len(einsums),
            metrics=tuple(str(m).upper() for m in event.metrics),
        )

    def _einsum_done(self, _event: EinsumDone) -> RunProgress:
        done = self.einsums_done + 1
        last = done >= self.einsums_total and self.phase == "pmappings"
        if not last:
            return replace(self, einsums_done=done)
        return replace(self, einsums_done=done, phase="join", join_started=self.elapsed)

    def _join_step(self, event: JoinStep) -> RunProgress:
        started = min(self.join_started, self.elapsed)
        return replace(
            self,
            phase="join",
            join_done=event.index + 1,
            elapsed=event.elapsed,
            join_started=started,
        )

    def _front_update(self, event: FrontUpdate) -> RunProgress:
        front = event.front
        estimate = self.join_estimate
        if event.join_seconds > 0 and event.templates_done:
            estimate = event.join_seconds * self.templates_total / event.templates_done
        return replace(
            self,
            front_size=len(front),
            front_energy=_lowest(front, col.ENERGY),
            front_latency=_lowest(front, col.LATENCY),
            elapsed=max(self.elapsed, event.elapsed),
            join_estimate=estimate,
        )

    def _run_warning(self, event: RunWarning) -> RunProgress:
        return replace(self, message=event.message)

    def _run_finished(self, event: RunFinished) -> RunProgress:
        front = event.front
        return replace(
            self,
            phase="finished",
            status=event.status,
            front_size=0 if front is None else len(front),
            best_energy=_lowest(front, col.ENERGY),
            front_energy=_lowest(front, col.ENERGY),
            front_latency=_lowest(front, col.LATENCY),
            message=event.message or self.message,
            elapsed=float((event.statistics or {}).get("elapsed", self.elapsed)),
        )

    def _template_done(self, event: TemplateDone) -> RunProgress:
        rows = event.rows
        n = 0 if rows is None else len(rows)
        einsums, lowest = self.einsums, list(self.lowest_energies)
        if event.einsum not in einsums:
            einsums, lowest = (*einsums, event.einsum), [*lowest, math.inf]
        if n and col.ENERGY in rows:
            i = einsums.index(event.einsum)
            lowest[i] = min(lowest[i], float(rows[col.ENERGY].min()))
        lowest_energies = tuple(lowest)
        return replace(
            self,
            templates_done=event.done,
            templates_total=event.total,
            rows_kept=self.rows_kept + n,
            einsums=einsums,
            lowest_energies=lowest_energies,
            best_energy=sum(lowest_energies) if lowest_energies else math.inf,
            elapsed=max(self.elapsed, event.elapsed),
            template_elapsed=event.elapsed or self.template_elapsed,
        )

    @classmethod
    def fold(cls, events: Iterable[Any], start: RunProgress | None = None) -> RunProgress:
        """The progress after every event of ``events``, from ``start`` (default: nothing)."""
        progress = cls() if start is None else start
        for event in events:
            progress = progress.advance(event)
        return progress

    # --- derived values -------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """Whether ``RunFinished`` was folded in."""
        return self.phase == "finished"

    @property
    def energy_lower_bound(self) -> float:
        """The sum of the per-Einsum lowest pmapping energies (``inf`` while one has none)."""
        return sum(self.lowest_energies) if self.lowest_energies else math.inf

    @property
    def eta(self) -> float | None:
        """Estimated seconds until the run ends (docs/MAPPER.md §14.1); None while unknown.

        Tile search: the templates left at the rate so far, plus the expected final join
        (:attr:`join_estimate`). Join: the steps left at the rate of the steps so far. Both
        count down between events. None before the first timed template.
        """
        if self.finished:
            return 0.0
        if self.phase == "join" and math.isfinite(self.join_started):
            spent = max(self.elapsed - self.join_started, 0.0)
            if self.join_done and self.einsums_total:
                per_step = spent / self.join_done
                return max(per_step * (self.einsums_total - self.join_done), 0.0)
            return max(self.join_estimate - spent, 0.0)
        if not (self.template_elapsed > 0 and self.templates_done and self.templates_total):
            return None
        per_template = self.template_elapsed / self.templates_done
        search = per_template * (self.templates_total - self.templates_done)
        since = max(self.elapsed - self.template_elapsed, 0.0)
        return max(search - since, 0.0) + self.join_estimate

    @property
    def percent(self) -> float:
        """0 to 100 (at most 99 until finished), never lower than at an earlier event.

        By time: elapsed / (elapsed + :attr:`eta`), so tile search and join count in the same
        unit, seconds of work. Without timings (events built by hand): templates count for
        90 %, join steps for the last 10 %.
        """
        if self.finished:
            return 100.0
        eta = self.eta
        if eta is not None and self.elapsed > 0:
            done = 100.0 * self.elapsed / (self.elapsed + eta)
        else:
            done = (
                90.0 * self.templates_done / self.templates_total if self.templates_total else 0.0
            )
            if self.einsums_total:
                done += 10.0 * self.join_done / self.einsums_total
        return min(max(done, self.floor), 99.0)  # 100 only once finished

    def text(self) -> str:
        """One line: status, objectives, counts, elapsed time, best value of each objective.

        Energy is shown while the run goes as the sum of the Einsums' lowest (``≥``: a lower
        bound) until a front exists; latency once a front exists. Only the run's objectives
        are shown (both when they are unknown).
        """
        parts = [
            self.status,
            *(
                [f"objectives {' | '.join(m.lower() for m in self.metrics)}"]
                if self.metrics
                else []
            ),
            f"templates {self.templates_done}/{self.templates_total}",
            f"pmappings kept {self.rows_kept}",
            f"Einsums {self.einsums_done}/{self.einsums_total}",
            f"join {self.join_done}/{self.einsums_total}",
            f"{self.elapsed:.1f} s",
        ]
        eta = self.eta
        if eta is not None and not self.finished:
            parts.append(f"ETA {eta:.0f} s")
        wanted = set(self.metrics) or {"ENERGY", "LATENCY"}
        energy = self.best_energy if math.isfinite(self.best_energy) else self.energy_lower_bound
        if "ENERGY" in wanted and math.isfinite(energy):
            bound = "" if self.finished else "\u2265 "
            parts.append(f"best energy {bound}{energy:.4g}")
        if "LATENCY" in wanted and math.isfinite(self.front_latency):
            parts.append(f"best latency {self.front_latency:.4g}")
        if self.finished:
            parts.append(f"front {self.front_size} points")
        return " \u00b7 ".join(parts)


def _lowest(front: pd.DataFrame | None, column: str) -> float:
    """The lowest ``column`` of ``front`` (``inf`` without one)."""
    if front is None or not len(front) or column not in front:
        return math.inf
    return float(front[column].min())


_STEPS: dict[type, Callable[[RunProgress, Any], RunProgress]] = {
    RunStarted: RunProgress._run_started,
    TemplateDone: RunProgress._template_done,
    EinsumDone: RunProgress._einsum_done,
    JoinStep: RunProgress._join_step,
    RunWarning: RunProgress._run_warning,
    FrontUpdate: RunProgress._front_update,
    RunFinished: RunProgress._run_finished,
}
"""The reducer's step for each event class."""
