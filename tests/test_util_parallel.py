"""accelforge.util.parallel: the default worker count (set_n_parallel_jobs) and parallel calls."""

from __future__ import annotations

import importlib
import operator

import pytest

import accelforge as af
from accelforge.mapper import RunStarted, start
from accelforge.util.parallel import delayed, get_n_parallel_jobs, parallel, set_n_parallel_jobs

par = importlib.import_module("accelforge.util.parallel")  # the module (the name is the function)


@pytest.fixture(autouse=True)
def _restore_default(monkeypatch) -> None:
    monkeypatch.setattr(par, "_n_jobs", None)


def test_set_n_parallel_jobs_is_the_default_worker_count_of_later_runs(capsys) -> None:
    af.set_n_parallel_jobs(1, print_message=True)
    assert capsys.readouterr().out == "Using 1 parallel job\n"
    assert get_n_parallel_jobs() == af.get_n_parallel_jobs() == 1
    spec = af.Spec.from_yaml(
        af.examples.arches.simple,
        af.examples.workloads.matmuls,
        jinja_parse_data={"N_EINSUMS": 1, "M": 8, "KN": 8},
    )
    run = start(spec)  # no n_workers: the default just set
    started = next(e for e in run.events() if isinstance(e, RunStarted))
    run.cancel()
    run.result(timeout=60)
    assert started.n_workers == 1
    set_n_parallel_jobs(3)
    assert get_n_parallel_jobs() == 3


@pytest.mark.parametrize("bad", [0, -2, 1.5, "2", True])
def test_set_n_parallel_jobs_refuses_what_is_not_a_positive_integer(bad) -> None:
    with pytest.raises(ValueError, match=f"n_jobs must be an integer >= 1. Got {bad!r}"):
        set_n_parallel_jobs(bad)


def test_parallel_runs_delayed_calls_in_workers_in_order() -> None:
    jobs = [delayed(operator.mul)(i, 10) for i in range(6)]
    assert parallel(jobs, n_jobs=2) == [0, 10, 20, 30, 40, 50]
    unordered = parallel(jobs, n_jobs=2, return_as="generator_unordered")
    assert sorted(unordered) == [0, 10, 20, 30, 40, 50]
    named = parallel({"a": delayed(operator.add)(1, 2), "b": delayed(pow)(2, 5)}, n_jobs=2)
    assert named == {"a": 3, "b": 32}


def test_calls_that_cannot_reach_a_worker_run_here_with_a_warning() -> None:
    jobs = [delayed(lambda x: x + 1)(i) for i in range(3)]
    with pytest.warns(RuntimeWarning, match="running them here, one after another"):
        assert parallel(jobs, n_jobs=2) == [1, 2, 3]
    with pytest.raises(ValueError, match="return_as must be"):
        parallel(jobs, return_as="set")
