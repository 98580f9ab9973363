"""The default number of worker processes, and a small parallel map over calls.

``set_n_parallel_jobs(n)`` sets how many worker processes later mapper runs use when they are
not told (``start(spec)``, ``Spec.map_workload_to_arch()``); ``get_n_parallel_jobs()`` reads it
(the number of CPUs until set). ``parallel`` runs a list (or dict) of ``delayed(f)(*args,
**kwargs)`` calls in worker processes and returns their results in order, as AccelForge's
design-space tutorial loops do. Functions must be importable by the workers (defined at
module level); a call that cannot be sent to a worker (a lambda, a local function) makes the
whole batch run here, in order, with a warning.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import pickle
import sys
import warnings
from collections.abc import Callable, Generator, Iterable, Mapping
from typing import Any, Literal

from accelforge.util.main_guard import unguarded_message

__all__ = ["delayed", "get_n_parallel_jobs", "parallel", "set_n_parallel_jobs"]

Job = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]
"""A call: the function, its positional and its keyword arguments."""
ReturnAs = Literal["list", "generator", "generator_unordered"]

_n_jobs: int | None = None
"""The default set by :func:`set_n_parallel_jobs` (None: the number of CPUs)."""


def set_n_parallel_jobs(n_jobs: int, print_message: bool = False) -> None:
    """Set the number of worker processes later runs use by default.

    Parameters
    ----------
    n_jobs : int
        Worker processes (1: run in this process).
    print_message : bool
        Print ``Using n parallel jobs``.
    """
    global _n_jobs
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise ValueError(f"n_jobs must be an integer >= 1. Got {n_jobs!r} instead.")
    _n_jobs = n_jobs
    if print_message:
        print(f"Using {n_jobs} parallel job{'s' if n_jobs > 1 else ''}")  # noqa: T201


def get_n_parallel_jobs() -> int:
    """The default number of worker processes: as set, else the number of CPUs."""
    return _n_jobs if _n_jobs is not None else (os.cpu_count() or 1)


def delayed(function: Callable[..., Any]) -> Callable[..., Job]:
    """``delayed(f)(*args, **kwargs)``: the call, not run yet, for :func:`parallel`."""

    def capture(*args: Any, **kwargs: Any) -> Job:
        return function, args, kwargs

    return capture


def parallel(
    jobs: Iterable[Job] | Mapping[Any, Job],
    n_jobs: int | None = None,
    pbar: str | None = None,
    pbar_position: int = 0,
    return_as: ReturnAs | None = None,
) -> list[Any] | Generator[Any, None, None] | dict[Any, Any]:
    """Run ``jobs`` (``delayed`` calls) in worker processes.

    Parameters
    ----------
    jobs : list of calls, or dict of name -> call
        What to run. A dict returns a dict with the same keys.
    n_jobs : int, optional
        Worker processes; default :func:`get_n_parallel_jobs`. 1 runs the calls here.
    pbar : str, optional
        Show a progress bar with this label.
    pbar_position : int
        Its line (for several bars at once).
    return_as : {"list", "generator", "generator_unordered"}, optional
        A list in the jobs' order (default), a generator in that order, or one yielding
        results as they finish.
    """
    if isinstance(jobs, Mapping):
        if return_as not in (None, "list"):
            raise ValueError("return_as applies to a list of jobs, not a dict.")
        keys = list(jobs)
        results = parallel([jobs[k] for k in keys], n_jobs, pbar, pbar_position)
        return dict(zip(keys, results, strict=True))
    calls = list(jobs)
    if return_as not in (None, "list", "generator", "generator_unordered"):
        raise ValueError(
            "return_as must be 'list', 'generator' or 'generator_unordered'. "
            f"Got {return_as!r} instead."
        )
    workers = get_n_parallel_jobs() if n_jobs is None else n_jobs
    stream = _results(calls, workers, unordered=return_as == "generator_unordered")
    stream = _with_bar(stream, len(calls), pbar, pbar_position)
    if return_as in ("generator", "generator_unordered"):
        return stream
    return list(stream)


def _results(calls: list[Job], workers: int, *, unordered: bool) -> Generator[Any, None, None]:
    if workers <= 1 or len(calls) <= 1 or not _picklable(calls) or not _guarded():
        for function, args, kwargs in calls:
            yield function(*args, **kwargs)
        return
    context = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(min(workers, len(calls)), mp_context=context) as pool:
        futures = [pool.submit(f, *args, **kwargs) for f, args, kwargs in calls]
        if unordered:
            for future in cf.as_completed(futures):
                yield future.result()
        else:
            for future in futures:
                yield future.result()


def _guarded() -> bool:
    """False, with a warning, in a script's top level outside ``if __name__ == "__main__":``."""
    problem = unguarded_message("accelforge.util.parallel", sys._getframe(1))
    if problem is not None:
        warnings.warn(
            f"{problem} The calls run here, one after another; put the code under the guard "
            "to run them in parallel.",
            RuntimeWarning,
            stacklevel=4,
        )
    return problem is None


def _picklable(calls: list[Job]) -> bool:
    try:
        pickle.dumps(calls)
    except Exception as err:  # noqa: BLE001 - any reason it cannot travel to a worker
        warnings.warn(
            f"parallel: the calls cannot be sent to worker processes ({err}); running them "
            "here, one after another. Define the function at module level to run in parallel.",
            RuntimeWarning,
            stacklevel=4,
        )
        return False
    return True


def _with_bar(
    stream: Generator[Any, None, None], total: int, label: str | None, position: int
) -> Generator[Any, None, None]:
    if not label:
        yield from stream
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=label, position=position, leave=True) as bar:
        for result in stream:
            bar.update(1)
            yield result
