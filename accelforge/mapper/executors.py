"""Executors: where the mapper's units of work run (docs/ARCHITECTURE.md "Mapper pipeline").

An :class:`Executor` has two methods, ``submit(fn, *args)`` returning a
:class:`concurrent.futures.Future` and ``shutdown(cancel=...)``, plus ``n_workers``. The run
only waits on the futures, so any backend that returns such futures plugs in (a Dask client's
futures would be wrapped the same way).

- :class:`InProcessExecutor` runs each call at submit time in the calling thread: the test
  double, and the executor for ``n_workers == 1``.
- :class:`ProcessExecutor` runs calls in a pool of worker processes started with ``"spawn"``
  (default) or ``"forkserver"``. ``"fork"`` is refused: the run submits from a background
  thread, and Jupyter kernels run threads of their own, so a forked child could inherit a lock
  held by another thread and hang. ``"spawn"`` starts clean interpreters on every platform
  (the default on macOS and Windows), inherits nothing but what is pickled, and needs no
  helper process or socket file; its cost, importing the library once per worker, is paid once
  per run. ``"forkserver"`` (Unix only) is also thread-safe and starts workers faster, but keeps a
  server process and a socket in the temporary directory for the interpreter's lifetime.

Scripts that use a process executor must guard their entry point with
``if __name__ == "__main__":``, as for any ``multiprocessing`` code; notebooks need nothing.

Limits are honoured inside the worker by :func:`guarded_call`, whatever the executor: it refuses
to start a call after a deadline or while the process is over its memory limit, catches the
call's exception, and reports an :class:`Outcome` instead of ever raising or killing anything.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextvars
import math
import multiprocessing
import os
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

from accelforge.util.main_guard import check_main_guard, unguarded_message

__all__ = [
    "CallLimits",
    "Executor",
    "InProcessExecutor",
    "Outcome",
    "ProcessExecutor",
    "default_n_workers",
    "resolve_executor",
    "worker_count",
    "guarded_call",
    "interruption",
    "release",
    "rss_bytes",
]

T = TypeVar("T")

StartMethod = Literal["spawn", "forkserver"]


def default_n_workers() -> int:
    """The default worker count: ``af.set_n_parallel_jobs``'s, else the number of CPUs."""
    from accelforge.util.parallel import get_n_parallel_jobs

    return get_n_parallel_jobs()


def worker_count(n_workers: int | None, executor: Executor | None = None) -> int:
    """The worker count a run uses: ``n_workers`` checked (an integer >= 1; not with ``executor``).

    A script that asks for worker processes at its top level, outside
    ``if __name__ == "__main__":``, runs in its own process instead (1), with a
    ``RuntimeWarning`` that names the line: each worker would run the script again
    (:mod:`accelforge.util.main_guard`).
    """
    if executor is not None and n_workers is not None:
        raise ValueError("pass n_workers or executor, not both")
    n = _positive_count(n_workers)
    if executor is None and n > 1:
        problem = unguarded_message(f"a mapper run with n_workers={n}", sys._getframe(1))
        if problem is not None:
            warnings.warn(
                f"{problem} It runs in this process instead (one worker); put the call under "
                f"the guard to use {n} workers.",
                RuntimeWarning,
                stacklevel=2,
            )
            return 1
    return n


def resolve_executor(executor: Any, n_workers: int) -> tuple[Executor, bool]:
    """The executor a run uses, and whether the run owns it (closes it when done).

    ``None``: this process (1 worker) or a process pool of ``n_workers``; ``"dask"``: a local
    Dask cluster; a ``dask.distributed.Client``: its cluster (not closed by the run); any
    :class:`Executor`: itself.
    """
    from accelforge.mapper.dask_executor import DaskExecutor, is_dask_client

    if executor is None:
        pool = InProcessExecutor() if n_workers == 1 else ProcessExecutor(n_workers)
        return pool, True
    if isinstance(executor, str):
        if executor != "dask":
            raise ValueError(
                f"executor must be 'dask', a Dask Client or an Executor; got {executor!r}"
            )
        return DaskExecutor.local(), True
    if is_dask_client(executor):
        return DaskExecutor(executor), False
    if not isinstance(executor, Executor):
        raise TypeError(
            f"executor must be 'dask', a dask.distributed.Client or an Executor (submit, "
            f"shutdown, n_workers); got {type(executor).__name__}"
        )
    return executor, False


def _positive_count(n_workers: int | None) -> int:
    n = default_n_workers() if n_workers is None else n_workers
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n_workers must be an integer >= 1. Got {n_workers!r} instead.")
    return n


@runtime_checkable
class Executor(Protocol):
    """Runs units of work and hands back futures."""

    n_workers: int
    """How many units may run at once."""

    def submit(self, fn: Callable[..., T], /, *args: Any) -> cf.Future[T]:
        """Schedule ``fn(*args)``; return its future."""
        ...

    def shutdown(self, cancel: bool = False) -> None:
        """Release the workers; with ``cancel``, drop pending calls and do not wait."""
        ...


class InProcessExecutor:
    """Runs every call immediately, in the calling thread (tests, ``n_workers == 1``)."""

    n_workers = 1

    def __init__(self) -> None:
        self._closed = False

    def submit(self, fn: Callable[..., T], /, *args: Any) -> cf.Future[T]:
        """Run ``fn(*args)`` now; return a finished future holding its result or exception."""
        if self._closed:
            raise RuntimeError("cannot submit to an InProcessExecutor after shutdown()")
        future: cf.Future[T] = cf.Future()
        future.set_running_or_notify_cancel()
        try:
            future.set_result(fn(*args))
        except Exception as exc:  # the future carries it to the caller, as a pool would
            future.set_exception(exc)
        return future

    def shutdown(self, cancel: bool = False) -> None:  # noqa: ARG002 - Executor's signature
        """Refuse further calls (nothing is ever pending, so ``cancel`` changes nothing)."""
        self._closed = True

    def __enter__(self) -> InProcessExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


class ProcessExecutor:
    """A pool of worker processes (:class:`concurrent.futures.ProcessPoolExecutor`).

    Parameters
    ----------
    n_workers : int, optional
        Number of worker processes; default ``os.cpu_count()``.
    start_method : {"spawn", "forkserver"}
        How workers start; see the module docstring for why ``"fork"`` is refused.
    """

    def __init__(self, n_workers: int | None = None, *, start_method: StartMethod = "spawn"):
        if start_method not in ("spawn", "forkserver"):
            raise ValueError(
                f"start_method must be 'spawn' or 'forkserver'. Got {start_method!r} instead "
                "('fork' is unsafe once threads run: the mapper and Jupyter both start them)."
            )
        self.n_workers = n = _positive_count(n_workers)
        check_main_guard(f"ProcessExecutor({n})")
        self.start_method = start_method
        self._pool = cf.ProcessPoolExecutor(
            max_workers=n, mp_context=multiprocessing.get_context(start_method)
        )

    def submit(self, fn: Callable[..., T], /, *args: Any) -> cf.Future[T]:
        """Schedule ``fn(*args)`` in a worker; ``fn`` and ``args`` must pickle."""
        return self._pool.submit(fn, *args)

    def shutdown(self, cancel: bool = False) -> None:
        """Stop the pool; with ``cancel``, drop pending calls and return without waiting.

        Workers busy with a call finish it and then exit; the caller is never blocked by them.
        """
        self._pool.shutdown(wait=not cancel, cancel_futures=cancel)

    def terminate(self) -> None:
        """Stop at once: drop pending calls and end the worker processes mid-call.

        For a cancelled run, whose calls in flight are not wanted: no worker outlives it.
        """
        processes = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=5)

    def __enter__(self) -> ProcessExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


def release(executor: Executor, *, now: bool = False) -> None:
    """Shut ``executor`` down without waiting; with ``now``, also end busy worker processes."""
    if now and isinstance(executor, ProcessExecutor):
        executor.terminate()
    else:
        executor.shutdown(cancel=True)


# --- the worker-side guard ----------------------------------------------------------------


@dataclass(frozen=True)
class CallLimits:
    """Cooperative limits a worker checks around one call (:func:`guarded_call`).

    Attributes
    ----------
    start_deadline : float
        ``time.time()`` after which the call must not start (the wall clock is shared by
        processes on one machine).
    seconds : float
        A call running longer is reported as ``"time_limit"`` (its value is kept).
    memory_bytes : float
        Resident memory the worker process may use.
    """

    start_deadline: float = math.inf
    seconds: float = math.inf
    memory_bytes: float = math.inf


@dataclass
class Outcome:
    """How one guarded call ended.

    Attributes
    ----------
    status : {"ok", "time_limit", "memory_limit", "error"}
        ``"ok"``, or the limit or failure that applied.
    value : Any
        The call's return value; None when it did not complete.
    complete : bool
        Whether the call ran to the end (``value`` is its result).
    message : str or None
        What happened, for anything but ``"ok"``.
    error : str or None
        The class name of the exception the call raised.
    seconds : float
        Wall time of the call.
    """

    status: Literal["ok", "time_limit", "memory_limit", "error"]
    value: Any = None
    complete: bool = True
    message: str | None = None
    error: str | None = None
    seconds: float = 0.0


def rss_bytes() -> int:
    """The process's resident memory, from ``/proc`` or ``getrusage`` (peak); 0 if unknown."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        pass
    try:
        import resource
    except ImportError:  # Windows
        return 0
    peak = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


def _over_memory(limit: float) -> str | None:
    rss = rss_bytes() if math.isfinite(limit) else 0
    return f"worker memory {rss / 1e6:.0f} MB > limit {limit / 1e6:.0f} MB" if rss > limit else None


@dataclass
class _CallState:
    """Limits of the call in progress and why it was asked to stop, if it was."""

    deadline: float
    memory_bytes: float
    stopped: tuple[Literal["time_limit", "memory_limit"], str] | None = None


_CALL: contextvars.ContextVar[_CallState | None] = contextvars.ContextVar("_CALL", default=None)


def interruption() -> str | None:
    """Why the guarded call in progress should stop now, or None to go on (or outside a call).

    ``"time_limit"``: its own limit or the run's unit deadline passed; ``"memory_limit"``.

    Long calls (the tile search between chunks) poll this and return what is final so far.
    """
    state = _CALL.get()
    if state is None:
        return None
    if state.stopped is None:
        if time.time() >= state.deadline:
            state.stopped = ("time_limit", "stopped at its time limit; rows so far kept")
        else:
            over = _over_memory(state.memory_bytes)
            if over is not None:
                state.stopped = ("memory_limit", f"stopped: {over}; rows so far kept")
    return state.stopped[0] if state.stopped else None


def guarded_call(limits: CallLimits, fn: Callable[..., Any], /, *args: Any) -> Outcome:
    """Run ``fn(*args)`` under ``limits`` in the current (worker) process; never raises.

    Memory is checked before and after the call: over the limit before, the call does not
    start; over it after, the value is kept and the status says so. During the call
    :func:`interruption` tells it to stop at the time or memory limit.
    """
    if time.time() >= limits.start_deadline:
        return Outcome("time_limit", complete=False, message="not started: time_limit")
    over = _over_memory(limits.memory_bytes)
    if over is not None:
        return Outcome("memory_limit", complete=False, message=f"not started: {over}")
    began = time.perf_counter()
    state = _CallState(
        min(limits.start_deadline, time.time() + limits.seconds), limits.memory_bytes
    )
    token = _CALL.set(state)
    try:
        value = fn(*args)
    except Exception as err:  # reported, so one failing call never ends the run
        message = "".join(traceback.format_exception_only(type(err), err)).strip()
        seconds = time.perf_counter() - began
        return Outcome("error", None, False, message, type(err).__name__, seconds)
    finally:
        _CALL.reset(token)
    outcome = Outcome("ok", value, seconds=time.perf_counter() - began)
    if state.stopped is not None:
        outcome.status, outcome.message = state.stopped
        outcome.complete = False
        return outcome
    if outcome.seconds > limits.seconds:
        outcome.status = "time_limit"
        outcome.message = f"took {outcome.seconds:.3g} s > its limit; the result is complete"
    over = _over_memory(limits.memory_bytes)
    if over is not None:
        outcome.status, outcome.message = "memory_limit", f"{over} after the call; complete"
    return outcome
