"""Mapper runs on a Dask cluster: :class:`DaskExecutor` (the ``dask`` extra).

``start(spec, executor=client)`` with a ``dask.distributed.Client`` (local or remote) runs
each unit of work as a Dask task; ``executor="dask"`` starts a ``LocalCluster`` on 127.0.0.1
sized to the machine (one single-threaded worker process per CPU) and closes it with the run.
The run itself is unchanged: it sees ``concurrent.futures`` futures, so events, fronts and
statistics equal an in-process run's. Cancelling a run cancels its pending tasks; a task whose
worker dies is run again by Dask on another worker (``distributed.scheduler.allowed-failures``
times), so a lost worker costs time, not results.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
from collections.abc import Callable
from typing import Any, TypeVar

from accelforge.errors import MissingExtraError

__all__ = ["DaskExecutor", "is_dask_client"]

T = TypeVar("T")
_INSTALL = 'pip install "accelforge-explorer[dask]"'


def is_dask_client(value: Any) -> bool:
    """Whether ``value`` is a ``dask.distributed.Client`` (without importing Dask)."""
    return any(
        cls.__name__ == "Client" and cls.__module__.startswith("distributed")
        for cls in type(value).__mro__
    )


class _TaskFuture(cf.Future[Any]):
    """A ``concurrent.futures`` future standing for a Dask task; cancelling it cancels both."""

    def __init__(self, task: Any) -> None:
        super().__init__()
        self.task = task

    def cancel(self) -> bool:
        cancelled = super().cancel()
        if cancelled:
            self.task.cancel()
        return cancelled


class DaskExecutor:
    """Runs units of work as tasks of a Dask ``Client``.

    Parameters
    ----------
    client : dask.distributed.Client
        Where the tasks go; its workers need this package installed.
    owns : bool
        Close the client (and its cluster) on :meth:`shutdown`.
    """

    def __init__(self, client: Any, *, owns: bool = False) -> None:
        self.client = client
        self.owns = owns
        threads = sum((client.nthreads() or {}).values())
        self.n_workers = max(1, int(threads))
        """Tasks that may run at once: the cluster's worker threads."""
        self._tasks: list[_TaskFuture] = []

    @classmethod
    def local(cls, n_workers: int | None = None) -> DaskExecutor:
        """A ``LocalCluster`` on 127.0.0.1 (one single-threaded worker process per CPU)."""
        distributed = _distributed()
        cluster = distributed.LocalCluster(
            n_workers=n_workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
        return cls(distributed.Client(cluster), owns=True)

    def submit(self, fn: Callable[..., T], /, *args: Any) -> cf.Future[T]:
        """Run ``fn(*args)`` as a Dask task; the returned future follows it."""
        task = self.client.submit(fn, *args, pure=False)
        future = _TaskFuture(task)
        self._tasks.append(future)
        task.add_done_callback(lambda done: _settle(future, done))
        return future

    def shutdown(self, cancel: bool = False) -> None:
        """Cancel the tasks not started (with ``cancel``); close what this executor started."""
        if cancel:
            for future in self._tasks:
                future.cancel()
        self._tasks = [f for f in self._tasks if not f.done()]
        if self.owns:
            cluster = getattr(self.client, "cluster", None)
            self.client.close()
            if cluster is not None:
                cluster.close()


def _settle(future: _TaskFuture, task: Any) -> None:
    """Copy a finished Dask task's outcome to ``future`` (unless it was cancelled)."""
    if not future.set_running_or_notify_cancel():
        return
    if task.cancelled():
        future.set_exception(cf.CancelledError("the Dask task was cancelled"))
        return
    try:
        future.set_result(task.result())
    except BaseException as err:  # noqa: BLE001 - the task's own error, handed to the run
        future.set_exception(err)


def _distributed() -> Any:
    try:
        import distributed
    except ImportError as err:
        raise MissingExtraError(f"Dask runs need dask.distributed: {_INSTALL}") from err
    return distributed
