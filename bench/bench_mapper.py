"""Benchmark the mapper on matmul chains (docs/MAPPER.md §13): time, peak memory, counts, optimum.

Run: python3 bench/bench_mapper.py [--sizes 64 256] [--chains 1 2 4 8 16]
Results are recorded in bench/results/mapper.md.
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings

import accelforge as af
from accelforge.mapper import make_pmappings
from accelforge.mapper._run.blocking import join_pmappings


def run_case(n_einsums: int, size: int, glb_bits: float | None) -> dict[str, float]:
    """Map an N-matmul chain of size x size on the simple arch; ENERGY objective."""
    jinja = {"N_EINSUMS": n_einsums, "M": size, "KN": size}
    if glb_bits is not None:
        jinja["GLB_SIZE"] = glb_bits
    spec = af.Spec.from_yaml(
        af.examples.arches.simple, af.examples.workloads.matmuls, jinja_parse_data=jinja
    )
    spec.mapper.metrics = af.Metrics.ENERGY
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pmappings = make_pmappings(spec)
        made = time.perf_counter()
        mappings = join_pmappings(spec, pmappings)
    end = time.perf_counter()
    templates = sum(s.templates for e in pmappings.einsums.values() for s in e.stats.values())
    evaluated = sum(t.evaluated for e in pmappings.einsums.values() for t in e.tables)
    kept = sum(e.n_rows for e in pmappings.einsums.values())
    return {
        "einsums": n_einsums,
        "size": size,
        "pmapping_s": made - start,
        "join_s": end - made,
        "total_s": end - start,
        "templates": templates,
        "evaluated": evaluated,
        "kept": kept,
        "energy": float(mappings.data["energy"].min()),
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256])
    args = parser.parse_args()
    print(
        "| einsums | size | templates | evaluated | kept | pmappings s | join s | total s "
        "| peak MiB | min energy |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for size in args.sizes:
        glb = 2**18 if size == 256 else None
        for n in args.chains:
            r = run_case(n, size, glb)
            print(
                f"| {n} | {size} | {r['templates']} | {r['evaluated']:,} | {r['kept']:,} | "
                f"{r['pmapping_s']:.2f} | {r['join_s']:.2f} | {r['total_s']:.2f} | "
                f"{r['peak_mib']:.0f} | {r['energy']:,.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
