"""The blocking mapper entry points: ``join_pmappings`` and ``map_workload_to_arch``.

``map_workload_to_arch`` is a consumer of the streaming run's events
(:func:`accelforge.mapper.streaming.start`): the same code path, in the caller's thread.
"""

from __future__ import annotations

import copy
import functools
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from accelforge.errors import InvalidMappingError, SpecWarning
from accelforge.mapper.build import build_mapping
from accelforge.mapper.events import Event, JoinStep, RunStarted, RunWarning, TemplateDone
from accelforge.mapper.join import JoinStats, join
from accelforge.mapper.loop_blocks import counterparts
from accelforge.mapper.pmappings import Pmappings, backing_depths, objective_names
from accelforge.model import evaluate_mapping
from accelforge.results import MappedResult, Mappings

if TYPE_CHECKING:
    from accelforge.frontend.spec import Spec

__all__ = ["join_pmappings", "map_workload_to_arch"]

OnStep = Callable[[JoinStats, Any], None]


def join_pmappings(spec: Spec, pmappings: Pmappings, *, on_step: OnStep | None = None) -> Mappings:
    """Join per-Einsum pmappings into the Pareto-optimal full mappings (MAPPER.md §6-§7).

    With one objective the result is the optimum and its exact ties (those that survive to the
    final join step; pruning within the search keeps one of a tie).

    Parameters
    ----------
    spec : Spec
        The spec the pmappings were made from.
    pmappings : Pmappings
        Every Einsum's pmappings (``make_pmappings``).
    on_step : callable, optional
        Called as ``on_step(stats, partials)`` after each Einsum is joined; an exception it
        raises stops the join and propagates.
    """
    mappings, dropped = _join_and_evaluate(spec, pmappings, on_step=on_step)
    if dropped:
        warnings.warn(SpecWarning(dropped_message(dropped)), stacklevel=2)
    return mappings


def dropped_message(dropped: list[str]) -> str:
    """The warning for joined mappings dropped by the detailed evaluation."""
    return (
        f"{len(dropped)} joined mapping(s) overflow a memory whose size differs "
        f"between Einsums and were dropped; first: {dropped[0]}"
    )


def _join_and_evaluate(
    spec: Spec, pmappings: Pmappings, *, on_step: OnStep | None = None
) -> tuple[Mappings, list[str]]:
    """``join_pmappings`` without warning: the Mappings and the dropped mappings' errors."""
    workload = spec.evaluate_workload()
    order = list(workload.einsums)
    users = {t: sorted(order.index(e) for e in workload.graph.users(t)) for t in workload.tensors}
    archs = {e: spec.evaluate(e, workload=workload) for e in order}

    @functools.cache
    def size_of(memory: str) -> float:
        return next(a.components[memory].size for a in archs.values() if memory in a.components)

    facts = [workload.einsums[e] for e in order]
    indexing = [{a.name: a.directly_indexing for a in f.einsum.tensor_accesses} for f in facts]
    between = [
        {t for t, u in users.items() if k in u and k + 1 in u} for k in range(len(order) - 1)
    ]
    joined = join(pmappings, order, users, size_of, indexing, on_step=on_step)
    names = [
        counterparts(
            indexing[k],
            facts[k].rank_variable_bounds,
            indexing[k + 1],
            facts[k + 1].rank_variable_bounds,
            tensors,
        )
        for k, tensors in enumerate(between)
    ]
    first = archs[order[0]]
    memory_rank = {node.name: i for i, node in enumerate(first.nodes)}
    results: list[MappedResult] = []
    dropped: list[str] = []
    for row in range(len(joined.values)):
        paths, shared = [], []
        for k, einsum in enumerate(order):
            table_index, row_index = joined.choices[k]
            table = pmappings.einsums[einsum].tables[int(table_index[row])]
            path = copy.deepcopy(table.template.path)
            tiles = table.tiles[:, int(row_index[row])]
            for loop, tile in zip(path.loops, tiles, strict=True):
                loop.tile = float(tile)
            paths.append((path, list(tiles)))
            if k + 1 < len(order):
                depths = backing_depths(table)
                shared.append(max((depths[t][2] for t in between[k] if t in depths), default=0))
        mapping = build_mapping(paths, shared, names, memory_rank)
        try:
            result = evaluate_mapping(spec, mapping, evaluated=(workload, archs))
            results.append(MappedResult(mapping, result))
        except InvalidMappingError as err:
            dropped.append(str(err))
    return Mappings(spec, results, joined.objectives, joined.values, joined.steps), dropped


def map_workload_to_arch(
    spec: Spec,
    *,
    on_event: Callable[[Event], None] | None = None,
    n_workers: int = 1,
    show_progress: bool = False,
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
    show_progress : bool
        Show ``tqdm`` progress bars (templates, then join steps).

    Returns
    -------
    Mappings
        The Pareto front (with one objective, the optimum and its exact ties); empty when the
        run ended without one (cancelled, or a limit stopped the join). Run warnings,
        including a non-``OK`` status, are issued as ``SpecWarning``.
    """
    from accelforge.mapper.streaming import start  # streaming imports this module

    run = start(spec, n_workers=n_workers)
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
        names = objective_names(spec.evaluated_mapper().metrics)
        return Mappings(spec, [], names, np.zeros((0, len(names))), [])
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
