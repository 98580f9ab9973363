"""Benchmark ``af.sweep``: a 32-point sweep on 1 process, the process pool and a local Dask cluster.

    python bench/bench_sweep.py [--workers 2] [--out bench/results/sweep.md]

The grid is 16 global-buffer sizes x fused / unfused on 'simple' x 2 matmuls (64 x 64),
ENERGY. For each executor: wall time, efficiency (the 1-process time over workers x wall
time) and the peak resident memory of the largest worker process. Every executor's table is
checked equal to the 1-process one.
"""

from __future__ import annotations

import argparse
import platform
import resource
import time
from pathlib import Path

import pandas as pd

import accelforge as af

GRID = {
    "arch.GlobalBuffer.size": [2 ** (k / 2) // 8 * 8 for k in range(20, 36)],
    "arch.MainMemory.tensors.keep": ["All", "~Intermediates"],
}


def spec() -> af.Spec:
    data = {"N_EINSUMS": 2, "M": 64, "KN": 64, "DRAM_ENERGY": 10, "GLB_THROUGHPUT": 1}
    loaded = af.Spec.from_yaml(
        af.examples.arches.simple, af.examples.workloads.matmuls, jinja_parse_data=data
    )
    loaded.mapper.metrics = af.Metrics.ENERGY
    return loaded


def peak_mib() -> float:
    """Largest resident set of this process or of any child it waited for, in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def timed(executor: object, workers: int) -> tuple[float, pd.DataFrame]:
    began = time.perf_counter()
    table = af.sweep(
        spec(), GRID, executor=executor, n_workers=workers if executor is None else None
    )
    data = table.result()
    return time.perf_counter() - began, data


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default="bench/results/sweep.md")
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    serial, expected = timed(None, 1)
    rows = [("1 process", 1, serial, 1.0, peak_mib())]
    pool, data = timed(None, args.workers)
    pd.testing.assert_frame_equal(data, expected)
    rows.append(("process pool", args.workers, pool, serial / (args.workers * pool), peak_mib()))
    cluster = LocalCluster(
        n_workers=args.workers, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    )
    client = Client(cluster)
    try:
        dask, data = timed(client, args.workers)
        pd.testing.assert_frame_equal(data, expected)

        def worker_peak() -> float:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        worker_mib = max(client.run(worker_peak).values())
    finally:
        client.close()
        cluster.close()
    rows.append(
        ("local Dask cluster", args.workers, dask, serial / (args.workers * dask), worker_mib)
    )
    lines = [
        "# Sweep benchmark (`bench/bench_sweep.py`)",
        "",
        f"Command: `python bench/bench_sweep.py --workers {args.workers}` on {platform.node()}, "
        f"{time.strftime('%Y-%m-%d %H:%M')}; 32 points (16 GlobalBuffer sizes x fused/unfused), "
        "simple x 2 matmuls 64x64, ENERGY. Every executor's table equals the 1-process one.",
        "",
        "| executor | workers | wall (s) | efficiency | peak RSS of the largest process (MiB) |",
        "|---|---|---|---|---|",
        *[f"| {n} | {w} | {t:.1f} | {e:.2f} | {m:.0f} |" for n, w, t, e, m in rows],
        "",
    ]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))  # noqa: T201


if __name__ == "__main__":
    main()
