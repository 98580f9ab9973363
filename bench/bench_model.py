"""Benchmark the model: one full mapping (scalar path) and many tile-shape candidates of one
template (vectorised path), on the shipped 10-Einsum transformer block and TPU-like arch.

Run: python3 bench/bench_model.py [--candidates 1000000] [--repeats 5]
Results are recorded in bench/results/model.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from transformer_mapping import transformer_spec, unfused_mapping  # noqa: E402

from accelforge.model import evaluate_mapping  # noqa: E402
from accelforge.model.batch import evaluate_batch, loop_nodes  # noqa: E402


def candidate_tiles(spec, mapping, n: int, seed: int = 0) -> np.ndarray:  # noqa: ANN001
    """Random divisor tile shapes for every loop whose tile in the template is not 1."""
    rng = np.random.default_rng(seed)
    bounds: dict[str, int] = {}
    for facts in spec.evaluate_workload().einsums.values():
        bounds.update(facts.rank_variable_bounds)
    loops = loop_nodes(mapping)
    tiles = np.ones((len(loops), n))
    for k, loop in enumerate(loops):
        if int(loop.tile_shape) == 1:
            continue
        bound = bounds[loop.rank_variable]
        divisors = np.array([d for d in range(1, bound + 1) if bound % d == 0], dtype=float)
        low = int(loop.tile_shape) if loop.__class__.__name__ == "Spatial" else 1
        tiles[k] = rng.choice(divisors[divisors >= low], size=n)
    return tiles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    spec = transformer_spec()
    mapping = unfused_mapping(spec)
    scalar = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        result = evaluate_mapping(spec, mapping)
        scalar.append(time.perf_counter() - start)
    tiles = candidate_tiles(spec, mapping, args.candidates)
    vector = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        batch = evaluate_batch(spec, mapping, tiles)
        vector.append(time.perf_counter() - start)
    median = statistics.median(vector)
    print(
        f"scalar: one 10-Einsum mapping, median {statistics.median(scalar) * 1e3:.1f} ms "
        f"(energy {result.energy():.6g} J, latency {result.latency():.6g} s)"
    )
    print(
        f"vectorised, whole 10-Einsum template: {args.candidates:,} candidates, median "
        f"{median:.3f} s = {args.candidates / median / 1e6:.2f} M candidates/s on one core "
        f"({int(batch.valid.sum()):,} valid)"
    )
    rates = []
    for einsum in spec.workload.einsum_names:
        single = unfused_mapping(spec, only=einsum)
        tiles = candidate_tiles(spec, single, args.candidates)
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            evaluate_batch(spec, single, tiles)
            times.append(time.perf_counter() - start)
        rates.append(args.candidates / statistics.median(times))
        print(
            f"vectorised, {einsum} pmapping template: median {statistics.median(times):.3f} s "
            f"= {rates[-1] / 1e6:.2f} M candidates/s"
        )
    print(
        f"per-Einsum templates: median {statistics.median(rates) / 1e6:.2f} M candidates/s "
        f"(min {min(rates) / 1e6:.2f}, max {max(rates) / 1e6:.2f})"
    )


if __name__ == "__main__":
    main()
