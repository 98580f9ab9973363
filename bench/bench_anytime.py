"""Benchmark the anytime front (docs/MAPPER.md §14): time to RunStarted, to the first front, to
the final front, and the stop latency (cancel right after the first front -> result()).

Run: python3 bench/bench_anytime.py [--repeats 3] [--workers 1 2]
Results are recorded in bench/results/anytime.md (medians of alternating runs).
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time
import warnings
from collections.abc import Callable

import accelforge as af
from accelforge.mapper import FrontUpdate, RunFinished, start
from accelforge.mapper.events import RunStarted


def readme_spec() -> af.Spec:
    """The README's default example (the CLI's ``accelforge map`` with no arguments)."""
    from accelforge.cli import MAP_DEFAULTS

    arch, workload, jinja = MAP_DEFAULTS
    spec = af.Spec.from_yaml(
        getattr(af.examples.arches, arch),
        getattr(af.examples.workloads, workload),
        jinja_parse_data=jinja,
    )
    spec.mapper.metrics = af.Metrics.ENERGY | af.Metrics.LATENCY
    return spec


def matmuls_spec(n: int = 8, size: int = 64) -> af.Spec:
    """simple x N matmuls (ENERGY|LATENCY), as in bench_mapper.py."""
    spec = af.Spec.from_yaml(
        af.examples.arches.simple,
        af.examples.workloads.matmuls,
        jinja_parse_data={"N_EINSUMS": n, "M": size, "KN": size},
    )
    spec.mapper.metrics = af.Metrics.ENERGY | af.Metrics.LATENCY
    return spec


CASES: dict[str, Callable[[], af.Spec]] = {"readme": readme_spec, "simple_x8": matmuls_spec}


def timeline(spec: af.Spec, workers: int, *, cancel: bool) -> dict[str, float]:
    """Seconds to each milestone of one run; with ``cancel``, stop at the first front."""
    began = time.perf_counter()
    out: dict[str, float] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = start(spec, n_workers=workers)
        for event in run.events():
            now = time.perf_counter() - began
            if isinstance(event, RunStarted):
                out["started_s"] = now
            elif isinstance(event, FrontUpdate) and "first_front_s" not in out:
                out["first_front_s"] = now
                if cancel:
                    stop = time.perf_counter()
                    run.cancel()
                    run.result(timeout=120)
                    out["stop_s"] = time.perf_counter() - stop
                    break
            elif isinstance(event, RunFinished):
                out["final_s"] = now
    while multiprocessing.active_children():
        time.sleep(0.05)
    return out


def main() -> None:
    """Alternate the cases, print one Markdown row per case and worker count (medians)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    samples: dict[tuple[str, int, bool], list[dict[str, float]]] = {}
    for _ in range(args.repeats):
        for name, make in CASES.items():
            for workers in args.workers:
                for cancel in (False, True):
                    key = (name, workers, cancel)
                    samples.setdefault(key, []).append(timeline(make(), workers, cancel=cancel))
    print("| case | workers | RunStarted s | first front s | final s | first/final | stop s |")
    print("|---|---|---|---|---|---|---|")
    for name in CASES:
        for workers in args.workers:
            full = samples[(name, workers, False)]
            stopped = samples[(name, workers, True)]

            def med(rows: list[dict[str, float]], key: str) -> float:
                return statistics.median(r[key] for r in rows if key in r)

            first, final = med(full, "first_front_s"), med(full, "final_s")
            print(
                f"| {name} | {workers} | {med(full, 'started_s'):.2f} | {first:.2f} | "
                f"{final:.2f} | {first / final:.2f} | {med(stopped, 'stop_s'):.2f} |"
            )


if __name__ == "__main__":
    main()
