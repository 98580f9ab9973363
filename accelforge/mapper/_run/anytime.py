"""The anytime front of a streaming run: joins of the pmappings found so far (docs/MAPPER.md §14).

While the tile search runs, :class:`FrontKeeper` joins, in a background thread, a snapshot of
every Einsum's pmappings found so far, as soon as each Einsum has one, and again when more have
arrived (at most one join at a time, at least ``interval`` seconds apart). Every pmapping is
valid, so every joined mapping is a complete, valid mapping. Each new front is merged with the
previous one (the non-dominated mappings of both), so the fronts only improve.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from accelforge.mapper._join.evaluate import join_and_evaluate
from accelforge.mapper._pmappings.make import PmappingContext, Pmappings
from accelforge.mapper.events import FrontUpdate
from accelforge.model.paths import EinsumPath, Hold, Loop

if TYPE_CHECKING:
    from accelforge.frontend.spec import Spec
    from accelforge.mapper._join.join import JoinStats
    from accelforge.mapper._pmappings.make import PmappingContext
    from accelforge.mapper._run.plan import Plan, UnitResult
    from accelforge.results import Mappings

__all__ = [
    "FrontKeeper",
    "IncumbentSnapshots",
    "incumbent_first",
    "outermost_memory",
    "pmappings_found",
]


class _Stopped(Exception):
    """Raised inside a partial join when the run no longer wants it."""


class FrontKeeper:
    """Runs partial joins and keeps the best front found so far.

    ``emit`` receives each :class:`FrontUpdate`; ``elapsed`` gives the run's age in seconds.
    """

    def __init__(
        self,
        spec: Spec,
        emit: Callable[[FrontUpdate], None],
        elapsed: Callable[[], float],
        *,
        ties: bool = False,
        interval: float = 1.0,
    ) -> None:
        self._spec, self._emit, self._elapsed = spec, emit, elapsed
        self._ties, self._interval = ties, interval
        self._lock = threading.Lock()
        self._latest: Mappings | None = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._final = threading.Event()
        self._keep_first = False
        self._joined_generation = -1
        self._last_end = -float("inf")

    @property
    def latest(self) -> Mappings | None:
        """The best front so far (None before the first join that found a mapping)."""
        with self._lock:
            return self._latest

    def offer(self, generation: int, snapshot: Callable[[], tuple[Pmappings, int] | None]) -> None:
        """Start a partial join if the data changed (``generation``) and none is running.

        ``snapshot`` returns the pmappings to join and how many templates they cover, or None
        while some Einsum has no pmapping yet.
        """
        if self._stopped.is_set() or generation <= self._joined_generation:
            return
        if self._thread is not None and self._thread.is_alive():
            return
        if time.monotonic() - self._last_end < self._interval:
            return
        taken = snapshot()
        if taken is None:
            return
        self._joined_generation = generation
        self._thread = threading.Thread(
            target=self._join, args=taken, name="accelforge-anytime-join", daemon=True
        )
        self._thread.start()

    def stop(self, *, keep_first: bool = False) -> None:
        """No more partial joins; one in flight stops at its next join step.

        With ``keep_first`` (the tile search ended and the final join starts), a join in
        flight while no front exists yet runs on and emits the run's first front, unless the
        final front comes first.
        """
        self._keep_first = keep_first
        self._stopped.set()

    def finish(self, final: Mappings | None) -> Mappings | None:
        """Stop, and emit the run's final front (``final``, else the latest); return it."""
        self.stop()
        with self._lock:
            self._final.set()
            if final is not None:
                self._latest = final
            front = self._latest
        if front is not None:
            self._emit(FrontUpdate(front.data, "final", self._elapsed()))
        return front

    def _join(self, pmappings: Pmappings, templates: int) -> None:
        began = time.monotonic()
        try:
            mappings, _ = join_and_evaluate(
                self._spec, pmappings, on_step=self._check, ties=self._ties
            )
        except _Stopped:
            return
        except Exception:  # noqa: BLE001 - a partial join that fails only delays the front
            return
        finally:
            self._last_end = time.monotonic()
        if not len(mappings):
            return
        with self._lock:  # emit under the lock: no partial front after the final one
            if self._unwanted():
                return
            latest = self._latest
            self._latest = mappings if latest is None else latest.merged(mappings)
            seconds = self._last_end - began
            front = self._latest.data
            self._emit(FrontUpdate(front, "partial join", self._elapsed(), templates, seconds))

    def _check(self, _stats: JoinStats, _partials: Any) -> None:
        if self._unwanted():
            raise _Stopped

    def _unwanted(self) -> bool:
        """Whether the partial join in flight is no longer wanted (see :meth:`stop`)."""
        if self._final.is_set():
            return True
        return self._stopped.is_set() and not (self._keep_first and self._latest is None)


def pmappings_found(
    plan: Plan, units: list[UnitResult | None], context: PmappingContext
) -> tuple[Pmappings, int] | None:
    """Every Einsum's pmappings in ``units`` so far, and how many units reported.

    None while some Einsum has no pmapping yet.
    """
    einsums = {}
    for position, name in enumerate(plan.einsums):
        found = [u for u in units[plan.first(position) : plan.ends[position]] if u is not None]
        tables = [t for u in found for t in u.tables if t.n]
        if not tables:
            return None
        einsums[name] = replace(plan.pmappings[name], tables=tables, skipped={})
    pmappings = Pmappings(
        einsums=einsums, fusable=context.fusable, tracked=context.tracked, context=context
    )
    return pmappings, sum(u is not None for u in units)


class IncumbentSnapshots:
    """What partial joins join: the incumbent units alone first, then all found so far.

    The incumbents are the first job of each Einsum in ``order`` (:func:`incumbent_first`):
    unfused where possible, so their join is quick and the first front comes at once,
    whatever else has completed meanwhile. Once they are all in (or one found nothing),
    every unit reported so far.
    """

    def __init__(self, plan: Plan, context: PmappingContext, order: list[int]) -> None:
        self._plan, self._context = plan, context
        self._incumbents = {u for job in order[: len(plan.einsums)] for u in plan.jobs[job]}
        self._first_done = False

    def __call__(self, units: list[UnitResult | None]) -> tuple[Pmappings, int] | None:
        """The pmappings to join now (and how many units they cover), or None."""
        if not self._first_done:
            mine = [u if i in self._incumbents else None for i, u in enumerate(units)]
            taken = pmappings_found(self._plan, mine, self._context)
            reported = all(units[i] is not None for i in self._incumbents)
            self._first_done = taken is not None or reported
            if taken is not None or not reported:
                return taken
        return pmappings_found(self._plan, units, self._context)


def incumbent_first(plan: Plan, context: PmappingContext | None = None) -> list[int]:
    """Job order: one job per Einsum first, then the rest, so every Einsum soon has pmappings.

    Each Einsum's first job is its first unfused template (every tensor held in the Einsum's
    outermost memory, read from ``context``, above any loop), if it has one: unfused
    pmappings of neighbours always join, so the first partial join finds a front at once;
    fused first templates may not line up. Without ``context``, each Einsum's first job.
    """
    first: dict[int, int] = {}
    fallback: dict[int, int] = {}
    tops: dict[int, str | None] = {}
    for job, indices in enumerate(plan.jobs):
        position = plan.einsum_of[indices[0]]
        fallback.setdefault(position, job)
        if context is not None and position not in tops:
            tops[position] = outermost_memory(context.evaluated(plan.einsums[position])[1])
        top = tops.get(position)
        if position not in first and top and unfused(plan.units[indices[0]].path, top):
            first[position] = job
    chosen = [first.get(position, fallback[position]) for position in sorted(fallback)]
    taken = set(chosen)
    return chosen + [job for job in range(len(plan.jobs)) if job not in taken]


def unfused(path: EinsumPath, outermost: str) -> bool:
    """Whether every tensor's first holder is ``outermost``, above every loop."""
    tensors = {n.tensor for n in path.nodes if isinstance(n, Hold)}
    backed: set[str] = set()
    for node in path.nodes:
        if isinstance(node, Loop):
            break
        if isinstance(node, Hold) and node.tensor not in backed:
            if node.component != outermost:
                return False
            backed.add(node.tensor)
    return bool(tensors) and backed == tensors


def outermost_memory(arch: Any) -> str | None:
    """The name of an evaluated architecture's first enabled memory."""
    return next(
        (n.name for n in arch.nodes if getattr(n, "kind", "") == "Memory" and n.enabled), None
    )
