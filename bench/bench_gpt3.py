"""Benchmark the mapper on the GPT-3 6.7B prefill layer (docs/MAPPER.md §12, issue 4 targets).

Cases: tpu_v4i unfused (MainMemory keeps every tensor) and fused (max_fused_loops = 1), and
snowcat fused with a 2 MiB GlobalBuffer; N_TOKENS = 2048, ENERGY objective. Needs the
reference specs in ../shared/reference.

Run: python3 bench/bench_gpt3.py [--cases tpu_unfused tpu_fused snowcat_fused] [--workers 1 2]
[--tokens 2048] [--metrics energy latency]. Results are recorded in bench/results/mapper.md.
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings
from pathlib import Path

import accelforge as af

SPECS = Path(__file__).resolve().parents[2] / "shared" / "reference" / "specs"


def gpt3_spec(case: str, tokens: int = 2048, metrics: af.Metrics = af.Metrics.ENERGY) -> af.Spec:
    """The GPT-3 prefill layer on the case's arch, set up as the reference's runs were."""
    arch = "snowcat" if case.startswith("snowcat") else "tpu_v4i"
    spec = af.Spec.from_yaml(
        SPECS / f"arches/{arch}.yaml",
        SPECS / "workloads/gpt3_6.7B.yaml",
        jinja_parse_data={"N_TOKENS": tokens},
    )
    if case == "tpu_unfused":
        spec.arch.components["MainMemory"].tensors.keep = "All"
    elif case == "tpu_fused":
        spec.mapper.ffm.max_fused_loops = 1
    else:
        spec.arch.components["GlobalBuffer"].size = 2 * 1024 * 1024 * 8
    spec.mapper.metrics = metrics
    return spec


def run_case(
    case: str, n_workers: int, tokens: int = 2048, metrics: af.Metrics = af.Metrics.ENERGY
) -> dict[str, object]:
    """Map one case; wall time, peak memory of this process, counts, the lowest energy and the
    number of mappings returned (the front, or the optimum and its ties)."""
    spec = gpt3_spec(case, tokens, metrics)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = af.mapper.start(spec, n_workers=n_workers)
        mappings = run.result()
    seconds = time.perf_counter() - start
    stats = run.statistics
    return {
        "case": case,
        "workers": n_workers,
        "seconds": seconds,
        "status": run.status,
        "templates": sum(s["templates"] for s in stats["einsums"].values()),
        "evaluated": sum(s["evaluated"] for s in stats["einsums"].values()),
        "kept": sum(s["kept"] for s in stats["einsums"].values()),
        "energy": float(mappings.data["energy"].min()),
        "mappings": len(mappings),
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=["tpu_unfused", "tpu_fused", "snowcat_fused"])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--tokens", type=int, default=2048)
    parser.add_argument("--metrics", nargs="+", default=["energy"], help="e.g. energy latency")
    args = parser.parse_args()
    metrics = af.Metrics(0)
    for name in args.metrics:
        metrics |= af.Metrics[name.upper()]
    print(
        "| case | workers | status | templates | evaluated | kept | seconds | peak MiB | energy "
        "| mappings |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for case in args.cases:
        for n in args.workers:
            r = run_case(case, n, args.tokens, metrics)
            print(
                f"| {r['case']} | {r['workers']} | {r['status']} | {r['templates']} | "
                f"{r['evaluated']:,} | {r['kept']:,} | {r['seconds']:.1f} | "
                f"{r['peak_mib']:.0f} | {r['energy']:.8g} | {r['mappings']} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
