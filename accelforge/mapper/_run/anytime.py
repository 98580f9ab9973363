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
from accelforge.mapper._pmappings.make import Pmappings
from accelforge.mapper.events import FrontUpdate

if TYPE_CHECKING:
    from accelforge.frontend.spec import Spec
    from accelforge.mapper._join.join import JoinStats
    from accelforge.mapper._pmappings.make import PmappingContext
    from accelforge.mapper._run.plan import Plan, UnitResult
    from accelforge.results import Mappings

__all__ = ["FrontKeeper", "incumbent_first", "pmappings_found"]


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

    def stop(self) -> None:
        """No more partial joins; one in flight stops at its next join step."""
        self._stopped.set()

    def finish(self, final: Mappings | None) -> Mappings | None:
        """Stop, and emit the run's final front (``final``, else the latest); return it."""
        self.stop()
        with self._lock:
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
            if self._stopped.is_set():
                return
            latest = self._latest
            self._latest = mappings if latest is None else latest.merged(mappings)
            seconds = self._last_end - began
            front = self._latest.data
            self._emit(FrontUpdate(front, "partial join", self._elapsed(), templates, seconds))

    def _check(self, _stats: JoinStats, _partials: Any) -> None:
        if self._stopped.is_set():
            raise _Stopped


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


def incumbent_first(plan: Plan) -> list[int]:
    """Job order: each Einsum's first job, then the rest, so every Einsum soon has pmappings."""
    seen: set[int] = set()
    first: list[int] = []
    for job, indices in enumerate(plan.jobs):
        position = plan.einsum_of[indices[0]]
        if position not in seen:
            seen.add(position)
            first.append(job)
    chosen = set(first)
    return first + [job for job in range(len(plan.jobs)) if job not in chosen]
