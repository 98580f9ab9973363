"""Streaming, cancellable mapper runs (docs/MAPPER.md §10-§11): ``start`` and ``MapperRun``.

:func:`start` validates the spec and enumerates every Einsum's templates in the caller's thread
(spec errors and template-cap warnings surface there, before any work starts), then returns. A
background thread in the calling process submits one unit per template to an executor (at most
two per worker in flight, so cancelling is quick; twin templates, whose searches are equal up to
names, travel with the first of them so that one process searches once), collects the results
and releases them as events **in template order**, whatever order they complete in: the event
sequence and the pmapping tables, hence the front, are the same for any number of workers. Then
it joins, in that thread, emitting a ``JoinStep`` per Einsum, and ends with one ``RunFinished``.

Limits are cooperative; nothing is killed. The parent checks cancel and ``time_limit`` every
0.1 s while waiting for units: at 80 % of the budget no unit starts (workers also refuse units
after that instant), running units may finish until 90 %, then the join runs on what was found
and is stopped between steps at 100 %. A join step and the detailed evaluation of the final
mappings are not interruptible, so a run can overshoot by one of them. Workers check their
resident memory around each unit against min(``memory_limit_per_process``, ``memory_limit`` /
workers) (:func:`~accelforge.mapper.executors.guarded_call`); the join checks the parent's
against ``memory_limit``. Nothing is written to disk.
"""

from __future__ import annotations

import concurrent.futures as cf
import copy
import math
import threading
import time
import uuid
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace as _replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from accelforge import columns as col
from accelforge.mapper._join.evaluate import dropped_message, join_and_evaluate
from accelforge.mapper._pmappings.make import (
    PmappingContext,
    Pmappings,
    twin_pmappings,
)
from accelforge.mapper._run.anytime import FrontKeeper, IncumbentSnapshots, incumbent_first
from accelforge.mapper._run.plan import Plan, UnitResult, make_plan
from accelforge.mapper._run.report import (
    no_mapping_message,
    rows_frame,
    status_message,
    unit_reason,
    unit_statistics,
)
from accelforge.mapper.events import (
    EinsumDone,
    Event,
    JoinStep,
    RunFinished,
    RunStarted,
    RunStatus,
    RunWarning,
    TemplateDone,
)
from accelforge.mapper.executors import (
    CallLimits,
    Executor,
    InProcessExecutor,
    Outcome,
    guarded_call,
    release,
    resolve_executor,
    rss_bytes,
    worker_count,
)
from accelforge.mapper.objectives import Objectives
from accelforge.mapper.progress import RunProgress

if TYPE_CHECKING:
    from collections.abc import Iterator

    from accelforge.frontend.spec import Spec
    from accelforge.mapper._join.join import JoinStats
    from accelforge.results import Mappings

__all__ = ["MapperRun", "start"]

_POLL = 0.1
"""Seconds between the parent's checks of cancel and the time limit."""
_STOP_UNITS, _ABANDON_UNITS = 0.8, 0.9
"""Fractions of ``time_limit``: no unit starts after the first; running ones are abandoned
after the second."""


def start(
    spec: Spec,
    *,
    n_workers: int | None = None,
    executor: Executor | None = None,
    ties: bool = False,
    anytime: bool = True,
) -> MapperRun:
    """Start a mapper run in the background and return its handle at once.

    Parameters
    ----------
    spec : Spec
        Architecture, workload and mapper settings; copied, so later edits do not affect the run.
    n_workers : int, optional
        Worker processes; default ``os.cpu_count()``. 1 runs the units in this process (in
        the run's background thread).
    executor : Executor, dask.distributed.Client or "dask", optional
        Run the units there instead; excludes ``n_workers``. A Client's cluster (or an
        Executor) is not shut down by the run; ``"dask"`` starts a local Dask cluster for
        the run (:mod:`accelforge.mapper.dask_executor`).
    ties : bool
        With one objective, return every exact tie of the optimum; by default one mapping,
        the ties broken by latency, then energy, then memory usage (docs/MAPPER.md §7).
    anytime : bool
        Join what has been found so far while the search runs (``FrontUpdate`` events with
        basis ``"partial join"``, docs/MAPPER.md §14); off, only the final front comes (the
        blocking ``map_workload_to_arch`` saves that work).

    Returns
    -------
    MapperRun
        Iterate ``run.events()``, read ``run.progress``, ``run.cancel()``, ``run.result()``.

    Raises
    ------
    SpecError
        For an invalid spec, before any work starts.
    MainGuardError
        When worker processes are wanted and a script calls this at its top level outside
        ``if __name__ == "__main__":`` (each worker would run the script again).
    """
    n = worker_count(n_workers, executor)
    began = time.monotonic()
    spec = copy.deepcopy(spec)
    context = PmappingContext.build(spec)
    plan = make_plan(context, list(spec.evaluate_workload().einsums))
    executor, owns = resolve_executor(executor, n)
    run = MapperRun(context, plan, executor, owns=owns, began=began, ties=ties, anytime=anytime)
    run._thread.start()
    return run


class MapperRun:
    """A running (or finished) mapper run; made by :func:`start`.

    Attributes
    ----------
    run_id : str
        Unique id, also in ``RunStarted``.
    """

    def __init__(
        self,
        context: PmappingContext,
        plan: Plan,
        executor: Executor,
        *,
        owns: bool,
        began: float,
        ties: bool = False,
        anytime: bool = True,
    ) -> None:
        self.run_id = uuid.uuid4().hex
        self._ties = ties
        self._context, self._plan, self._executor = context, plan, executor
        self._owns, self._began = owns, began
        self._ffm = context.evaluated(plan.einsums[0])[2].model_dump() if plan.einsums else {}
        budget = float(self._ffm.get("time_limit", math.inf))
        self._stop_units = began + _STOP_UNITS * budget
        self._abandon_units = began + _ABANDON_UNITS * budget
        self._end = began + budget
        self._memory_limit = float(self._ffm.get("memory_limit", math.inf))
        self._cond = threading.Condition()
        self._events: list[Event] = []
        self._cancel = threading.Event()
        self._finished = threading.Event()
        self._units: list[UnitResult | None] = [None] * len(plan.units)
        self._released = self._einsums_released = 0
        self._progress = RunProgress(
            templates_total=len(plan.units), einsums_total=len(plan.einsums)
        )
        self._join_steps: list[dict[str, Any]] = []
        self._seconds: dict[str, float] = {}
        self._mappings: Mappings | None = None
        self._final: RunFinished | None = None
        self._error: BaseException | None = None
        self._broken = False
        self._generation = 0  # units collected so far: the anytime front joins when it grows
        self._keeper = FrontKeeper(
            context.spec, self._emit, lambda: time.monotonic() - began, ties=ties
        )
        if not anytime:
            self._keeper.stop()
        self._thread = threading.Thread(
            target=self._drive, name=f"accelforge-run-{self.run_id[:8]}", daemon=True
        )

    # --- public API ---------------------------------------------------------------------

    def events(self) -> Iterator[Event]:
        """Yield every event of the run, from ``RunStarted`` to ``RunFinished``, blocking.

        Each call replays from the first event, so several consumers may iterate.
        """
        index = 0
        while True:
            with self._cond:
                while index >= len(self._events):
                    self._cond.wait(0.5)
                batch = self._events[index:]
            for event in batch:
                yield event
                if isinstance(event, RunFinished):
                    return
            index += len(batch)

    @property
    def progress(self) -> RunProgress:
        """A snapshot of the run's progress."""
        with self._cond:
            progress = self._progress
            if progress.phase == "finished":
                return progress
            return _replace(progress, elapsed=time.monotonic() - self._began)

    def cancel(self) -> None:
        """Stop the run: no new unit starts, pending ones are dropped, the join stops.

        Returns at once; the run ends with ``CANCELLED`` and the best front found so far (the
        latest ``FrontUpdate``; none if there was none); ``unfinished`` lists the templates
        whose search did not complete.
        """
        self._cancel.set()

    def front(self) -> Mappings | None:
        """The best front so far (the final one once done), or None before the first.

        Every mapping in it is complete and valid (docs/MAPPER.md §14).
        """
        return self._mappings if self.done else self._keeper.latest

    def result(self, timeout: float | None = None) -> Mappings | None:
        """Block until the run finishes; return its front, or None when it has none.

        Raises
        ------
        TimeoutError
            When ``timeout`` seconds pass first.
        """
        if not self._finished.wait(timeout):
            raise TimeoutError(f"mapper run {self.run_id} still running after {timeout} s")
        if self._error is not None:
            raise self._error
        return self._mappings

    @property
    def done(self) -> bool:
        """Whether ``RunFinished`` was emitted."""
        return self._finished.is_set()

    @property
    def status(self) -> str:
        """``"RUNNING"``, then the final status (see :class:`RunFinished`)."""
        return self._final.status if self._final is not None else "RUNNING"

    @property
    def statistics(self) -> dict[str, Any] | None:
        """The final statistics, or None while running."""
        return self._final.statistics if self._final is not None else None

    @property
    def unfinished(self) -> tuple[str, ...]:
        """Ids of templates whose search did not complete (final once the run is done)."""
        with self._cond:
            return self._unfinished()

    @property
    def objectives(self) -> Objectives:
        """What the run optimises: objective names, tolerances (resolved once by ``start``)."""
        return self._context.objectives

    @property
    def pmappings(self) -> Pmappings:
        """Every Einsum's pmappings released so far (all that are final once done)."""
        with self._cond:
            einsums = {
                name: _replace(pm, tables=list(pm.tables), skipped=dict(pm.skipped))
                for name, pm in self._plan.pmappings.items()
            }
        c = self._context
        return Pmappings(einsums=einsums, fusable=c.fusable, tracked=c.tracked, context=c)

    def __repr__(self) -> str:
        p = self.progress
        return f"<MapperRun {self.run_id[:8]} {self.status} {p.templates_done}/{p.templates_total}>"

    # --- the background thread ------------------------------------------------------------

    def _drive(self) -> None:
        try:
            self._emit(self._started())
            for note in self._plan.warnings:
                self._emit(note)
            self._join(self._make_pmappings())
        except BaseException as exc:  # a bug in the run itself: report it, never hang consumers
            self._error = exc
            if self._final is None:
                self._finish("WORKER_FAILED", message=f"{type(exc).__name__}: {exc}")
        finally:
            if self._owns:
                self._executor.shutdown(cancel=True)

    def _started(self) -> RunStarted:
        plan = self._plan
        counts = {name: plan.ends[i] - plan.first(i) for i, name in enumerate(plan.einsums)}
        return RunStarted(
            run_id=self.run_id,
            einsums=tuple(plan.einsums),
            compute_units=dict(plan.compute_units),
            template_counts=counts,
            metrics=tuple(self._context.objectives.metrics.names()),
            knobs=dict(self._ffm),
            n_workers=self._executor.n_workers,
        )

    def _make_pmappings(self) -> str | None:
        """Run every unit; return why it stopped early (cancel, time, broken) or None."""
        began, units = time.monotonic(), self._plan.units
        per_process = float(self._ffm.get("memory_limit_per_process", math.inf))
        limits = CallLimits(
            start_deadline=time.time() + (self._stop_units - began),
            seconds=float(self._ffm.get("time_limit_per_pmapping_template", math.inf)),
            memory_bytes=min(per_process, self._memory_limit / self._executor.n_workers),
        )
        in_process = isinstance(self._executor, InProcessExecutor)
        window = 1 if in_process else 2 * self._executor.n_workers
        pending: dict[cf.Future[Outcome], int] = {}
        jobs = self._plan.jobs
        order = incumbent_first(self._plan, self._context)
        self._snapshots = IncumbentSnapshots(self._plan, self._context, order)
        submitted, stop = 0, None
        while True:
            if self._cancel.is_set():
                stop = "cancel"
            elif stop is None and time.monotonic() >= self._stop_units:
                stop = "time"
            if stop is None and submitted < len(jobs) and len(pending) < window:
                templates = [units[i] for i in jobs[order[submitted]]]
                future = self._executor.submit(
                    guarded_call, limits, twin_pmappings, self._context, templates
                )
                pending[future] = order[submitted]
                submitted += 1
                continue
            if stop is not None:
                for future in [f for f in pending if f.cancel()]:
                    del pending[future]
                if stop == "cancel" or time.monotonic() >= self._abandon_units:
                    break
            if not pending:
                if stop is not None or submitted == len(jobs):
                    break
                continue
            done, _ = cf.wait(pending, timeout=_POLL, return_when=cf.FIRST_COMPLETED)
            for future in sorted(done, key=pending.__getitem__):
                stop = self._collect(pending.pop(future), future) or stop
            self._keeper.offer(self._generation, self._snapshot)
        if self._owns:  # free the workers before the join (cancelled: end busy ones now)
            release(self._executor, now=stop == "cancel")
        self._release(flush=True)
        self._seconds["pmappings"] = time.monotonic() - began
        return stop

    def _collect(self, job: int, future: cf.Future[Outcome]) -> str | None:
        """Keep the units of one finished job (a template and its twins)."""
        indices = self._plan.jobs[job]
        try:
            outcome = future.result()
            per_template = outcome.value or [None] * len(indices)
            units = [  # the first template did the search; its twins only renamed the rows
                UnitResult.of(
                    _replace(outcome, value=tables, seconds=0.0 if i else outcome.seconds)
                )
                for i, tables in enumerate(per_template)
            ]
        except cf.CancelledError:
            return None
        except BrokenProcessPool as err:
            if not self._broken:
                self._broken = True
                self._emit(RunWarning(f"a worker process died; units in flight are lost: {err}"))
            return "broken"
        except Exception as err:  # e.g. a result that did not unpickle
            message = f"{type(err).__name__}: {err}"
            units = [UnitResult("error", complete=False, message=message) for _ in indices]
        with self._cond:
            for index, unit in zip(indices, units, strict=True):
                self._units[index] = unit
            self._generation += 1
        self._release()
        return None

    def _release(self, *, flush: bool = False) -> None:
        """Emit collected units in template order; with ``flush``, skip missing ones."""
        plan = self._plan
        while True:
            while (
                self._einsums_released < len(plan.einsums)
                and self._released == plan.ends[self._einsums_released]
            ):
                self._einsum_done(self._einsums_released)
                self._einsums_released += 1
            if self._released >= len(plan.units):
                return
            unit = self._units[self._released]
            if unit is None and not flush:
                return
            if unit is not None:
                self._template_done(self._released, unit)
            self._released += 1

    def _template_done(self, index: int, unit: UnitResult) -> None:
        plan, template = self._plan, self._plan.units[index]
        position = plan.einsum_of[index]
        einsum, first = plan.einsums[position], plan.first(position)
        with self._cond:
            pm = plan.pmappings[einsum]
            pm.tables.extend(unit.tables)
            if unit.too_large:
                pm.skipped[template.id] = unit.message or ""
            done = self._progress.templates_done + 1
            einsum_done = sum(u is not None for u in self._units[first : index + 1])
        self._emit(
            TemplateDone(
                einsum=einsum,
                template=template.id,
                compute=template.compute,
                status=unit.status,
                rows=rows_frame(template.id, unit.tables, self._context.objectives.names),
                einsum_done=einsum_done,
                einsum_total=plan.ends[position] - first,
                done=done,
                total=len(plan.units),
                evaluated=unit.evaluated,
                valid=unit.valid,
                kept=unit.kept,
                complete=unit.complete,
                message=unit.message,
                seconds=unit.seconds,
                elapsed=time.monotonic() - self._began,
            )
        )

    def _einsum_done(self, position: int) -> None:
        name, pm = self._plan.einsums[position], self._plan.pmappings[self._plan.einsums[position]]
        units = self._units[self._plan.first(position) : self._plan.ends[position]]
        reported = [u for u in units if u is not None]
        complete = len(reported) == len(units) and all(u.complete for u in reported)
        self._emit(EinsumDone(name, pm.n_rows, len(reported), len(units), complete))
        failed = [u.message for u in reported if u.status == "error" and not u.too_large]
        for count, what, first in (
            (len(pm.skipped), "skipped", next(iter(pm.skipped.values()), "")),
            (len(failed), "failed", failed[0] if failed else ""),
        ):
            if count:
                message = f"Einsum {name}: {count} template(s) {what}, so the result may not "
                self._emit(RunWarning(f"{message}be optimal; first: {first}", name))

    def _join(self, stop: str | None) -> None:
        if stop == "cancel" or self._cancel.is_set():
            self._finish("CANCELLED")  # with the best front found so far, if any
            return
        if time.monotonic() >= self._end:
            self._finish("TIME_LIMIT")
            return
        began = time.monotonic()
        self._keeper.stop(keep_first=True)  # later fronts: the final join supersedes them
        try:
            mappings, dropped = join_and_evaluate(
                self._context.spec, self.pmappings, on_step=self._on_step, ties=self._ties
            )
        except _Stop as halt:
            self._seconds["join"] = time.monotonic() - began
            self._finish(halt.status)
            return
        self._seconds["join"] = time.monotonic() - began
        if dropped:
            self._emit(RunWarning(dropped_message(dropped)))
        status = self._final_status(stop)
        if status == "OK" and not len(mappings):
            message = self._why_no_mapping()
            self._emit(RunWarning(message))
            self._finish("NO_MAPPING", mappings, message)
            return
        self._finish(status, mappings)

    def _why_no_mapping(self) -> str:
        """Why a complete run has an empty front: Einsums without pmappings, or the join."""
        plan, empty = self._plan, {}
        for position, name in enumerate(plan.einsums):
            if not plan.pmappings[name].n_rows:
                units = self._units[plan.first(position) : plan.ends[position]]
                empty[name] = [unit_reason(u) for u in units if u is not None] or [
                    "no template: " + stats.why_no_template()
                    for stats in plan.pmappings[name].stats.values()
                ]
        return no_mapping_message(empty, self._join_steps)

    def _on_step(self, stats: JoinStats, partials: Any) -> None:  # noqa: ARG002 - OnStep
        index, n = len(self._join_steps), len(self._plan.einsums)
        numbers = {
            key: getattr(stats, key)
            for key in ("group_pairs", "candidate_pairs", "rows_in", "rows_out", "capacity_drops")
        }
        self._join_steps.append({"einsum": stats.einsum, **numbers})
        elapsed = time.monotonic() - self._began
        self._emit(JoinStep(index=index, n=n, einsum=stats.einsum, elapsed=elapsed, **numbers))
        if index + 1 >= n:
            return  # joined; only the final Pareto step and the evaluation remain
        if self._cancel.is_set():
            raise _Stop("CANCELLED")
        if time.monotonic() >= self._end:
            raise _Stop("TIME_LIMIT")
        if math.isfinite(self._memory_limit) and rss_bytes() > self._memory_limit:
            raise _Stop("MEMORY_LIMIT")

    def _final_status(self, stop: str | None) -> RunStatus:
        incomplete = {u.status for u in self._units if u is not None and not u.complete}
        if self._cancel.is_set():
            return "CANCELLED"
        if stop == "time" or "time_limit" in incomplete:
            return "TIME_LIMIT"
        if "memory_limit" in incomplete:
            return "MEMORY_LIMIT"
        if stop == "broken":
            return "WORKER_FAILED"
        return "PARTIAL" if self._unfinished() else "OK"

    def _finish(
        self, status: RunStatus, mappings: Mappings | None = None, message: str | None = None
    ) -> None:
        # the final front, else (stopped early) the best one found so far; a FrontUpdate too
        mappings = (
            self._keeper.finish(mappings if mappings is not None and len(mappings) else None)
            or mappings
        )
        front = mappings.data if mappings is not None else pd.DataFrame(columns=[col.ENERGY])
        unfinished = self._unfinished()
        if status != "OK" and (unfinished or mappings is None):
            self._emit(RunWarning(status_message(status, len(unfinished), mappings is None)))
        self._mappings = mappings
        self._final = RunFinished(
            status, front, self._statistics(status, len(front)), unfinished, message
        )
        self._emit(self._final)
        self._finished.set()

    # --- helpers --------------------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        with self._cond:
            self._events.append(event)
            self._progress = self._progress.advance(event)
            self._cond.notify_all()

    def _unfinished(self) -> tuple[str, ...]:
        return tuple(
            template.id
            for template, unit in zip(self._plan.units, self._units, strict=True)
            if unit is None or not unit.complete
        )

    def _statistics(self, status: str, front_size: int) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "status": status,
            "n_workers": self._executor.n_workers,
            "elapsed": time.monotonic() - self._began,
            "pmapping_seconds": self._seconds.get("pmappings", 0.0),
            "join_seconds": self._seconds.get("join", 0.0),
            **unit_statistics(self._plan, self._units),
            "join_steps": list(self._join_steps),
            "front_size": front_size,
        }

    def _snapshot(self) -> tuple[Pmappings, int] | None:
        with self._cond:
            units = list(self._units)
        return self._snapshots(units)


class _Stop(Exception):
    """Raised from the join's step callback to stop the join."""

    def __init__(self, status: RunStatus) -> None:
        super().__init__(status)
        self.status: RunStatus = status
