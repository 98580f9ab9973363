"""The blocking mapper entry points: ``join_pmappings`` and ``map_workload_to_arch``.

``map_workload_to_arch`` is a consumer of the streaming run's events
(:func:`accelforge.mapper._run.streaming.start`): the same code path, in the caller's thread.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from accelforge.errors import SpecWarning
from accelforge.mapper._join.evaluate import OnStep, dropped_message, join_and_evaluate
from accelforge.mapper._pmappings.make import Pmappings
from accelforge.mapper._run.streaming import start
from accelforge.mapper.events import Event, JoinStep, RunStarted, RunWarning, TemplateDone
from accelforge.results import Mappings

if TYPE_CHECKING:
    from accelforge.frontend.spec import Spec

__all__ = ["join_pmappings", "map_workload_to_arch"]


def join_pmappings(
    spec: Spec, pmappings: Pmappings, *, on_step: OnStep | None = None, ties: bool = False
) -> Mappings:
    """Join per-Einsum pmappings into the Pareto-optimal full mappings (docs/MAPPER.md §6-§7).

    With one objective the result is the optimum (with ``ties``, and its exact ties that
    survive to the final join step; pruning within the search keeps one of a tie).

    Parameters
    ----------
    spec : Spec
        The spec the pmappings were made from.
    pmappings : Pmappings
        Every Einsum's pmappings (``make_pmappings``).
    on_step : callable, optional
        Called as ``on_step(stats, partials)`` after each Einsum is joined; an exception it
        raises stops the join and propagates.
    ties : bool
        With one objective, return every exact tie of the optimum; by default one mapping,
        the ties broken by latency, then energy, then memory usage (docs/MAPPER.md §7).
    """
    mappings, dropped = join_and_evaluate(spec, pmappings, on_step=on_step, ties=ties)
    if dropped:
        warnings.warn(SpecWarning(dropped_message(dropped)), stacklevel=2)
    return mappings


def map_workload_to_arch(
    spec: Spec,
    *,
    on_event: Callable[[Event], None] | None = None,
    n_workers: int | None = 1,
    executor: Any = None,
    show_progress: bool = False,
    ties: bool = False,
) -> Mappings:
    """Make every Einsum's pmappings, join them, evaluate each Pareto-optimal mapping.

    A blocking consumer of :func:`accelforge.mapper.start`'s events.

    Parameters
    ----------
    spec : Spec
        Architecture, workload and mapper settings.
    on_event : callable, optional
        Called in the caller's thread with every event, in order (``RunStarted`` first,
        ``RunFinished`` last).
    n_workers : int
        Worker processes; 1 runs everything in this process.
    executor : dask.distributed.Client, "dask" or Executor, optional
        Run the units there instead (``start``'s ``executor``); then ``n_workers`` is unused.
    show_progress : bool
        Show ``tqdm`` progress bars (templates, then join steps).
    ties : bool
        With one objective, return every exact tie of the optimum; by default one mapping,
        the ties broken by latency, then energy, then memory usage (docs/MAPPER.md §7).

    Returns
    -------
    Mappings
        The Pareto front (with one objective, the optimum); empty when the
        run ended without one (cancelled, or a limit stopped the join). Run warnings,
        including a non-``OK`` status, are issued as ``SpecWarning``.
    """
    workers = None if executor is not None else n_workers
    run = start(spec, n_workers=workers, executor=executor, ties=ties, anytime=False)
    bars = _ProgressBars() if show_progress else None
    try:
        for event in run.events():
            if bars is not None:
                bars.update(event)
            if on_event is not None:
                on_event(event)
            if isinstance(event, RunWarning) and not event.issued:
                warnings.warn(SpecWarning(event.message), stacklevel=2)
    except BaseException:
        run.cancel()
        raise
    finally:
        if bars is not None:
            bars.close()
    mappings = run.result()
    if mappings is None:
        names = list(run.objectives.names)
        return Mappings(spec, [], names, [])
    return mappings


class _ProgressBars:
    """``tqdm.auto`` bars fed by events: one for templates, then one for join steps."""

    def __init__(self) -> None:
        from tqdm.auto import tqdm

        self._tqdm = tqdm
        self._bar: Any = None

    def update(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self._bar = self._tqdm(total=event.n_templates, desc="pmappings", unit="template")
        elif isinstance(event, TemplateDone) and self._bar is not None:
            self._bar.update(1)
        elif isinstance(event, JoinStep):
            if event.index == 0:
                self.close()
                self._bar = self._tqdm(total=event.n, desc="join", unit="Einsum")
            self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
