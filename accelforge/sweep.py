"""``af.sweep``: map a spec at every point of a grid of settings, into one long DataFrame.

A grid maps override paths to lists of values; the Cartesian product is mapped, each point one
mapper run (in one process), the points spread over a process pool, a local Dask cluster
(``executor="dask"``) or a ``dask.distributed.Client``. Paths:

- ``"arch.<node>.<field>"`` (``"arch.GlobalBuffer.size"``; deeper fields with more dots);
- ``"mapper.<knob>"`` (an FFM knob or ``metrics``);
- ``"jinja.<VAR>"``: the spec's files are rendered again with ``VAR`` set (the spec must come
  from ``Spec.from_yaml``; its mapper settings are kept, other edits made in Python are not).

:class:`SweepRun` streams a :class:`SweepPointDone` per point as it finishes; ``result()`` is
one row per (point, front mapping), a column per grid path first. A point that fails is
reported with its status and message, not raised.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import queue
import threading
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from accelforge.errors import SpecError
from accelforge.frontend.spec import Spec
from accelforge.mapper.executors import InProcessExecutor, resolve_executor, worker_count

__all__ = ["SweepPointDone", "SweepRun", "apply_overrides", "sweep"]

_PREFIXES = ("arch", "mapper", "jinja")


@dataclass(frozen=True)
class SweepPointDone:
    """One point of a sweep finished.

    Attributes
    ----------
    index : int
        The point's position in the grid's Cartesian product (row-major, paths in grid order).
    values : dict
        Path -> value at this point.
    status : str
        The mapper run's status (``OK``, ``NO_MAPPING``, ...) or ``ERROR`` when the point could
        not be built or run.
    front : pandas.DataFrame or None
        The point's front (``Mappings.data``); None without one.
    message : str or None
        Why a point is not ``OK``.
    seconds : float
        Wall time of the point's run.
    """

    index: int
    values: dict[str, Any]
    status: str
    front: pd.DataFrame | None
    message: str | None
    seconds: float


def apply_overrides(spec: Spec, values: Mapping[str, Any]) -> Spec:
    """A copy of ``spec`` with every ``path: value`` of ``values`` applied (module docstring).

    Raises
    ------
    SpecError
        For a path that names nothing, or a value the field refuses.
    """
    jinja = {p.split(".", 1)[1]: v for p, v in values.items() if p.startswith("jinja.")}
    point = _rendered(spec, jinja) if jinja else spec.model_copy(deep=True)
    for path, value in values.items():
        prefix, _, rest = path.partition(".")
        if prefix not in _PREFIXES or not rest:
            raise SpecError(
                f"sweep path {path!r}: it must start with one of {', '.join(_PREFIXES)} and a "
                "name (arch.GlobalBuffer.size, mapper.max_fused_loops, jinja.M)."
            )
        if prefix == "arch":
            node, _, field = rest.partition(".")
            _set(point.arch.find(node), field, value, path)
        elif prefix == "mapper":
            _set(point.mapper, rest, value, path)
    return point


def _set(target: Any, dotted: str, value: Any, path: str) -> None:
    names = dotted.split(".") if dotted else []
    if not names:
        raise SpecError(f"sweep path {path!r} names a node but no field of it.")
    for name in names[:-1]:
        target = _get(target, name, path)
    _get(target, names[-1], path)  # a typo is an error, not a new attribute
    try:
        setattr(target, names[-1], value)
    except SpecError as err:
        raise SpecError(f"sweep path {path!r} = {value!r}: {err}") from None


def _get(target: Any, name: str, path: str) -> Any:
    fields = set(getattr(type(target), "model_fields", {}))
    fields |= set(getattr(type(getattr(target, "ffm", None)), "model_fields", {}))
    if name not in fields and not hasattr(target, name):
        known = ", ".join(sorted(fields))
        raise SpecError(f"sweep path {path!r}: {type(target).__name__} has no {name!r}. Its "
                        f"fields: {known}.")  # fmt: skip
    return getattr(target, name)


def _rendered(spec: Spec, jinja: Mapping[str, Any]) -> Spec:
    source = spec._source
    if source is None:
        raise SpecError(
            "jinja.* sweep paths render the spec's files again, but this spec was not loaded "
            "with Spec.from_yaml (build it from its files to sweep Jinja variables)."
        )
    data = {**source["jinja_parse_data"], **jinja}
    point = Spec.from_yaml(*source["files"], jinja_parse_data=data, **source["options"])
    point.mapper = spec.mapper.model_copy(deep=True)
    return point


def map_point(spec: Spec, values: dict[str, Any]) -> tuple[str, pd.DataFrame | None, str | None]:
    """Map one point (in this process); never raises: ``(status, front, message)``."""
    from accelforge.mapper import RunFinished, start

    try:
        point = apply_overrides(spec, values)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run = start(point, n_workers=1, anytime=False)
            final = [e for e in run.events() if isinstance(e, RunFinished)][-1]
            mappings = run.result()
        front = mappings.data if mappings is not None and len(mappings) else None
        return final.status, front, final.message
    except Exception as err:  # noqa: BLE001 - a failed point is reported, not fatal
        return "ERROR", None, f"{type(err).__name__}: {err}"


class SweepRun:
    """A sweep going on in the background; made by :func:`sweep`."""

    def __init__(self, spec: Spec, grid: Mapping[str, Sequence[Any]], executor: Any) -> None:
        paths = list(grid)
        self.points = [dict(zip(paths, combo, strict=True)) for combo in _product(grid)]
        """Path -> value of every point, in order."""
        self.paths = paths
        self._spec = spec
        self._executor, self._owns = executor
        self._events: queue.Queue[SweepPointDone | None] = queue.Queue()
        self._done: dict[int, SweepPointDone] = {}
        self._cancel = threading.Event()
        self._finished = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="accelforge-sweep")
        self._thread.start()

    def _run(self) -> None:
        try:
            pending: dict[cf.Future[Any], tuple[int, float]] = {}
            window = (
                1
                if isinstance(self._executor, InProcessExecutor)
                else 2 * max(1, self._executor.n_workers)
            )
            todo = list(range(len(self.points)))
            while (todo or pending) and not self._cancel.is_set():
                while todo and len(pending) < window and not self._cancel.is_set():
                    index = todo.pop(0)
                    future = self._executor.submit(map_point, self._spec, self.points[index])
                    pending[future] = (index, time.monotonic())
                if not pending:
                    break
                done, _ = cf.wait(pending, timeout=0.2, return_when=cf.FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: pending[f][0]):
                    index, began = pending.pop(future)
                    self._report(index, future, time.monotonic() - began)
            for future in pending:
                future.cancel()
        finally:
            if self._owns:
                self._executor.shutdown(cancel=True)
            self._finished.set()
            self._events.put(None)

    def _report(self, index: int, future: cf.Future[Any], seconds: float) -> None:
        try:
            status, front, message = future.result()
        except Exception as err:  # noqa: BLE001 - a worker lost for good, say
            status, front, message = "ERROR", None, f"{type(err).__name__}: {err}"
        event = SweepPointDone(index, self.points[index], status, front, message, seconds)
        self._done[index] = event
        self._events.put(event)

    def events(self) -> Iterator[SweepPointDone]:
        """One event per point as it finishes (blocking); ends when the sweep ends."""
        while True:
            event = self._events.get()
            if event is None:
                self._events.put(None)  # later callers end too
                return
            yield event

    def cancel(self) -> None:
        """Stop: no new point starts; points not finished are dropped."""
        self._cancel.set()

    @property
    def done(self) -> bool:
        """Whether the sweep ended (every point, or a cancel)."""
        return self._finished.is_set()

    def finished_points(self) -> list[SweepPointDone]:
        """The points finished so far, in grid order (does not consume :meth:`events`)."""
        return [e for _, e in sorted(dict(self._done).items())]

    def failed(self) -> list[SweepPointDone]:
        """The points that ended without ``OK`` so far."""
        return [e for e in self.finished_points() if e.status != "OK"]

    def result(self, timeout: float | None = None) -> pd.DataFrame:
        """Wait for the end, then :meth:`table`."""
        if not self._finished.wait(timeout):
            raise TimeoutError(f"the sweep is still running after {timeout} s")
        return self.table()

    def table(self) -> pd.DataFrame:
        """The points finished so far: one row per (point, front mapping), grid columns first.

        Also ``point`` (the index), ``status`` and ``message``; a point without a front has
        one row with no front values.
        """
        frames = []
        for event in self.finished_points():
            index = event.index
            front = event.front if event.front is not None else pd.DataFrame(index=[0])
            head = {"point": index, **event.values, "status": event.status,
                    "message": event.message}  # fmt: skip
            frames.append(pd.DataFrame([head] * len(front)).join(front.reset_index(drop=True)))
        if not frames:
            return pd.DataFrame(columns=["point", *self.paths, "status", "message"])
        return pd.concat(frames, ignore_index=True)


def _product(grid: Mapping[str, Sequence[Any]]) -> list[tuple[Any, ...]]:
    for path, values in grid.items():
        if isinstance(values, (str, bytes)) or not len(values):
            raise SpecError(f"sweep grid: {path!r} needs a non-empty list of values.")
    return list(itertools.product(*grid.values()))


def sweep(
    spec: Spec,
    grid: Mapping[str, Sequence[Any]],
    *,
    executor: Any = None,
    metrics: Any = None,
    n_workers: int | None = None,
) -> SweepRun:
    """Map ``spec`` at every point of ``grid`` (path -> values); return the running sweep.

    ``executor``: None for a process pool of ``n_workers`` (default: one per CPU; this
    process for 1), ``"dask"`` for a local Dask cluster, or a ``dask.distributed.Client``.
    ``metrics`` sets ``spec.mapper.metrics`` for every point. Every path is checked at once,
    with its first value, so a typo raises ``SpecError`` before anything runs.
    """
    _product(grid)
    spec = spec.model_copy(deep=True)
    if metrics is not None:
        spec.mapper.metrics = metrics
    apply_overrides(spec, {path: values[0] for path, values in grid.items() if len(values)})
    n = worker_count(n_workers, executor)
    return SweepRun(spec, grid, resolve_executor(executor, n))
