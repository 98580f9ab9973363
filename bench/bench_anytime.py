"""Benchmark the anytime front (docs/MAPPER.md §14): time to RunStarted, to the first front, to
the final front, and the stop latency (cancel right after the first front -> result()).

Run: python3 bench/bench_anytime.py [--repeats 3] [--workers 1 2] [--cases readme ...]
Cases: the README spec, simple x 8 matmuls, and the GPT-3 6.7B prefill cases of bench_gpt3.py
(tpu_v4i unfused and fused, snowcat fused with a 2 MiB GlobalBuffer), all ENERGY|LATENCY. After
a cancel it also records the front's size, how many of its mappings ``evaluate_mapping``
reproduces exactly (-1: one did not) and the worker processes still alive.
Results are recorded in bench/results/anytime.md (medians of alternating runs).
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import accelforge as af
from accelforge.frontend._yaml import load_yaml_text
from accelforge.frontend.mapping import Mapping
from accelforge.mapper import FrontUpdate, RunFinished, start
from accelforge.mapper.events import RunStarted
from accelforge.model import evaluate_mapping


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


def gpt3(case: str) -> Callable[[], af.Spec]:
    """A GPT-3 6.7B prefill case of bench_gpt3.py (2048 tokens), ENERGY|LATENCY."""
    from bench_gpt3 import gpt3_spec  # bench/ is the script's directory

    return lambda: gpt3_spec(case, metrics=af.Metrics.ENERGY | af.Metrics.LATENCY)


CASES: dict[str, Callable[[], af.Spec]] = {
    "readme": readme_spec,
    "simple_x8": matmuls_spec,
    "tpu_unfused": gpt3("tpu_unfused"),
    "tpu_fused": gpt3("tpu_fused"),
    "snowcat_fused": gpt3("snowcat_fused"),
}


def _re_evaluated_exactly(spec: af.Spec, mappings: Any) -> int:
    """How many of the front's mappings, written to YAML and read back, ``evaluate_mapping``
    reproduces to 1e-9 in energy and latency; -1 if one does not."""
    if mappings is None:
        return 0
    for item in mappings:
        copy = spec.model_copy(deep=True)
        copy.mapping = Mapping.from_data(load_yaml_text(item.to_yaml(), name="m")["mapping"], ())
        result = evaluate_mapping(copy)
        for ours, theirs in (
            (result.energy(), item.result.energy()),
            (result.latency(), item.result.latency()),
        ):
            if abs(float(ours) - float(theirs)) > 1e-9 * abs(float(theirs)):
                return -1
    return len(mappings)


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
                    front = run.result(timeout=120)
                    out["stop_s"] = time.perf_counter() - stop
                    out["children_after_stop"] = len(multiprocessing.active_children())
                    out["front_after_stop"] = 0 if front is None else len(front)
                    out["re_evaluated"] = _re_evaluated_exactly(spec, front)
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
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    args = parser.parse_args()
    samples: dict[tuple[str, int, bool], list[dict[str, float]]] = {}
    for _ in range(args.repeats):
        for name in args.cases:
            make = CASES[name]
            for workers in args.workers:
                for cancel in (False, True):
                    key = (name, workers, cancel)
                    samples.setdefault(key, []).append(timeline(make(), workers, cancel=cancel))
    print(
        "| case | workers | RunStarted s | first front s | final s | first/final | stop s "
        "| front at stop | re-evaluated exactly | processes left |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in args.cases:
        for workers in args.workers:
            full = samples[(name, workers, False)]
            stopped = samples[(name, workers, True)]

            def med(rows: list[dict[str, float]], key: str) -> float:
                return statistics.median(r[key] for r in rows if key in r)

            first, final = med(full, "first_front_s"), med(full, "final_s")
            print(
                f"| {name} | {workers} | {med(full, 'started_s'):.2f} | {first:.2f} | "
                f"{final:.2f} | {first / final:.2f} | {med(stopped, 'stop_s'):.2f} | "
                f"{min(r['front_after_stop'] for r in stopped)} | "
                f"{min(r['re_evaluated'] for r in stopped)} | "
                f"{max(r['children_after_stop'] for r in stopped)} |"
            )


if __name__ == "__main__":
    main()
