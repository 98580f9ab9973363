"""Large example cases side by side: AccelForge 1.0.467 and ours, same machine, same hour.

Cases (``CASES``): GPT-3 6.7B decode with a KV cache (8192 tokens, one new token) on tpu_v4i
fused (``max_fused_loops = 1``), the attention_decode workloads (multi-head and multi-head
latent) at their default, realistic sizes on tpu_v4i, and mobilenet_28 on tpu_v4i and on
simple. ENERGY objective unless a case says otherwise. Each case runs the reference, then
ours, each in its own process with 2 workers (``af.set_n_parallel_jobs(2)`` / ``n_workers=2``)
under a wall-clock timeout (default 600 s, then the process group is killed and the case is
recorded as a timeout).

Run from the repo root (the reference's Python must have accelforge 1.0.467; a ``dot`` on
``PATH``, as for record.py)::

    PATH=/work/refrun/fakebin:$PATH /work/venv/bin/python bench/reference_sweep/large.py \\
        --ref-python /work/refvenv/bin/python [--cases NAME ...] [--timeout 600]

It prints a Markdown table and writes every measurement to
``bench/reference_sweep/large_results.json`` (merged by case and side, so cases can be rerun
one at a time). Internally each side runs as ``large.py --one CASE --side ours|reference``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import resource
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from child import run_child

REPO = Path(__file__).resolve().parents[2]
SPECS = REPO.parent / "shared" / "reference" / "specs"
RESULTS = Path(__file__).resolve().parent / "large_results.json"

CASES: dict[str, dict[str, Any]] = {
    "gpt3_6.7B_kv_cache-tpu_v4i-fused": {
        "arch": "arches/tpu_v4i.yaml",
        "workload": "workloads/gpt3_6.7B_kv_cache.yaml",
        "jinja": {"N_TOKENS": 8192, "N_NEW_TOKENS": 1},
        "max_fused_loops": 1,
    },
    "multi_head_attention-tpu_v4i": {
        "arch": "arches/tpu_v4i.yaml",
        "workload": "workloads/attention_decode/multi_head_attention.yaml",
        "jinja": {},
    },
    "multi_head_latent_attention-tpu_v4i": {
        "arch": "arches/tpu_v4i.yaml",
        "workload": "workloads/attention_decode/multi_head_latent_attention.yaml",
        "jinja": {},
    },
    "mobilenet_28-tpu_v4i": {
        "arch": "arches/tpu_v4i.yaml",
        "workload": "workloads/mobilenet_28.yaml",
        "jinja": {},
    },
    "mobilenet_28-simple": {
        "arch": "arches/simple.yaml",
        "workload": "workloads/mobilenet_28.yaml",
        "jinja": {},
    },
}
WORKERS = 2


def _one(name: str, side: str, metrics_names: list[str]) -> dict[str, Any]:
    import accelforge as af

    case = CASES[name]
    metrics = af.Metrics(0)
    for m in metrics_names:
        metrics |= getattr(af.Metrics, m)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spec = af.Spec.from_yaml(
            SPECS / case["arch"], SPECS / case["workload"], jinja_parse_data=case["jinja"]
        )
        spec.mapper.metrics = metrics
        if "max_fused_loops" in case:  # the reference's spec.mapper is its FFM settings
            ffm = spec.mapper if side == "reference" else spec.mapper.ffm
            ffm.max_fused_loops = case["max_fused_loops"]
        if side == "reference":
            from importlib.metadata import version

            assert version("accelforge") == "1.0.467", version("accelforge")  # noqa: S101
            af.set_n_parallel_jobs(WORKERS)
            mappings = spec.map_workload_to_arch(print_progress=False)
            energies = [float(x) for x in mappings.energy(list_if_one_mapping=True)]
            latencies = [float(x) for x in mappings.latency(list_if_one_mapping=True)]
            status = "ok" if energies else "no mapping"
        else:
            run = af.mapper.start(spec, n_workers=WORKERS)
            mappings = run.result()
            status = run.status
            data = mappings.data if mappings is not None else None
            energies = [] if data is None else [float(x) for x in data["energy"]]
            latencies = [] if data is None else [float(x) for x in data["latency"]]
    seconds = time.perf_counter() - start
    front = sorted(set(zip(energies, latencies, strict=True)))
    return {
        "status": status,
        "seconds": round(seconds, 1),
        "energy": min(energies) if energies else None,
        "front": front if len(metrics_names) > 1 else None,
        "n_mappings": len(energies),
        "peak_mib_main_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def _spawn(python: str, name: str, side: str, metrics: list[str], timeout: float) -> dict:
    cmd = [python, str(Path(__file__).resolve()), "--one", name, "--side", side]
    child = run_child([*cmd, "--metrics", *metrics], timeout, "large-")
    if child.timed_out:
        return {"status": f"timeout (killed after {timeout:.0f} s)", "wall_s": timeout}
    wall = round(child.wall_s, 1)
    if child.result is not None:
        return {**child.result, "wall_s": wall}
    return {"status": f"error: {child.last_error_line[:300]}", "wall_s": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--side", choices=["ours", "reference"], help=argparse.SUPPRESS)
    parser.add_argument("--metrics", nargs="+", default=["ENERGY"])
    parser.add_argument("--cases", nargs="+", default=list(CASES))
    parser.add_argument("--ref-python", default="/work/refvenv/bin/python")
    parser.add_argument("--ours-python", default=sys.executable)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--sides", nargs="+", default=["reference", "ours"])
    args = parser.parse_args()
    if args.one:
        print("RESULT " + json.dumps(_one(args.one, args.side, args.metrics)), flush=True)
        return
    stored = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    for name in args.cases:
        key = f"{name} {'|'.join(args.metrics)}"
        for side in args.sides:
            python = args.ref_python if side == "reference" else args.ours_python
            began = datetime.datetime.now().isoformat(timespec="seconds")
            result = _spawn(python, name, side, args.metrics, args.timeout)
            result.update(started=began, case=CASES[name], metrics=args.metrics)
            stored.setdefault(key, {})[side] = result
            RESULTS.write_text(json.dumps(stored, indent=1) + "\n")
            shown = {k: v for k, v in result.items() if k not in ("case", "front")}
            print(f"{key} [{side}]: {json.dumps(shown)}", flush=True)


if __name__ == "__main__":
    main()
