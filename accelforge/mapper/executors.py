"""Executors: where the mapper's units of work run (ARCHITECTURE.md "Mapper pipeline").

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
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
from collections.abc import Callable
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

__all__ = ["Executor", "InProcessExecutor", "ProcessExecutor", "default_n_workers"]

T = TypeVar("T")

StartMethod = Literal["spawn", "forkserver"]


def default_n_workers() -> int:
    """The number of CPUs, or 1 when unknown."""
    return os.cpu_count() or 1


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

    def shutdown(self, cancel: bool = False) -> None:
        """Refuse further calls (nothing is ever pending)."""
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
        n = default_n_workers() if n_workers is None else n_workers
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n_workers must be an integer >= 1. Got {n_workers!r} instead.")
        self.n_workers = n
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

    def __enter__(self) -> ProcessExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
