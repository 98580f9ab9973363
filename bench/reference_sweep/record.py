"""Record AccelForge 1.0.467's optima on every in-scope (arch, workload) example pair.

For each pair of the reference's example arches and workloads (``../shared/reference/specs``)
at small sizes (Jinja parameters chosen per workload family in ``WORKLOAD_JINJA``), this runs
the reference mapper with ENERGY and with ENERGY|LATENCY, each case in its own process under a
timeout, and writes the optimum energy (ENERGY) or the returned front (ENERGY|LATENCY) with a
status (``ok``, ``no mapping``, ``load error``, ``error``, ``timeout``) to
``tests/data/reference_sweep.json``, which ``tests/mapper/test_reference_sweep.py`` reads.

It must run under the reference's Python (AccelForge 1.0.467 installed, e.g. a Python 3.12
venv: ``pip install accelforge==1.0.467``); the project's own ``accelforge`` package is never
imported (a script's directory, not the working directory, is on ``sys.path``; the child
checks the version it imported). The reference writes a debug ``mapping.svg`` to its working
directory and renders it with graphviz ``dot``: each case runs in a scratch directory, and a
``dot`` must be on ``PATH`` (a stub printing an empty SVG will do). Command used for the
recorded file (one case at a time, 2 reference workers, on the project's 2-core machine)::

    PATH=/work/refrun/fakebin:$PATH /work/refvenv/bin/python \\
        bench/reference_sweep/record.py --jobs 2 --timeout 240

Options: ``--only REGEX`` runs only the case ids matching (``re.search``); cases already in
the output file are kept and not rerun unless ``--redo`` (so an interrupted sweep resumes);
``--list`` prints the case ids and exits; ``--out PATH`` writes elsewhere. The file is
rewritten after every case. Internally a case runs as ``record.py --one CASE_JSON``, which
prints one ``RESULT {...}`` line.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import sys
import time
from pathlib import Path
from typing import Any

from child import run_child

REPO = Path(__file__).resolve().parents[2]
SPECS = REPO.parent / "shared" / "reference" / "specs"
OUT = REPO / "tests" / "data" / "reference_sweep.json"
REFERENCE_VERSION = "1.0.467"

# In scope: every example arch except compute-in-memory ones (another engineer's) and those
# needing hwcomponents' CACTI models (not working on this machine's Python 3.12 yet).
ARCHES = [
    "arches/simple.yaml",
    "arches/snowcat.yaml",
    "arches/tpu_v4i.yaml",
    "arches/nvdla.yaml",
    "arches/fanout_variations/at_glb.yaml",
    "arches/fanout_variations/at_glb_with_fanout_node.yaml",
    "arches/fanout_variations/at_mac.yaml",
    "arches/fanout_variations/at_mac_with_constraints.yaml",
    "arches/fanout_variations/at_mac_with_fanout_node.yaml",
]
SKIPPED_ARCHES = {
    "arches/eyeriss.yaml": "needs hwcomponents (CACTI component models), not run here",
    "arches/simba.yaml": "needs hwcomponents (CACTI component models), not run here",
    "arches/compute_in_memory/*": "compute-in-memory arches: out of scope for this sweep",
}

# Small sizes per workload family. Workloads whose sizes are fixed in the YAML (GPT-3's
# layer dimensions, mobilenet, mamba, matvecs, three_matmuls_annotated) keep them; only
# their token / batch knobs are set.
SMALL_ATTENTION = {"N_TOKENS": 8, "N_HEADS": 2, "N_EMB_PER_HEAD": 4, "N_HIDDEN_DIMS": 8}
WORKLOAD_JINJA: dict[str, dict[str, Any]] = {
    "workloads/matmuls.yaml": {"N_EINSUMS": 2, "M": 64, "KN": 64},
    "workloads/matvecs.yaml": {},
    "workloads/three_matmuls_annotated.yaml": {},
    "workloads/mamba.yaml": {"BATCH_SIZE": 1},
    "workloads/mobilenet_28.yaml": {"BATCH_SIZE": 1},
    "workloads/mobilenet_various_separate.yaml": {"BATCH_SIZE": 1},
    "workloads/gpt3_6.7B.yaml": {"N_TOKENS": 16},
    "workloads/gpt3_6.7B_kv_cache.yaml": {"N_TOKENS": 16},
    "workloads/gpt3_175B.yaml": {"N_TOKENS": 16},
    "workloads/gpt3_175B_kv_cache.yaml": {"N_TOKENS": 16},
    "workloads/attention_decode/multi_head_attention.yaml": SMALL_ATTENTION,
    "workloads/attention_decode/multi_head_latent_attention.yaml": {
        **SMALL_ATTENTION,
        "N_LATENT_DIMS": 8,
    },
}
METRICS = [["ENERGY"], ["ENERGY", "LATENCY"]]


def _stem(path: str) -> str:
    return Path(path).stem


def case_id(arch: str, workload: str, metrics: list[str]) -> str:
    """``arch__workload__METRICS``, e.g. ``simple__matmuls__ENERGY_LATENCY``."""
    return f"{_stem(arch)}__{_stem(workload)}__{'_'.join(metrics)}"


def all_cases() -> list[dict[str, Any]]:
    """Every case of the sweep, workload-major (the order they are run and stored in)."""
    cases = []
    for workload, jinja in WORKLOAD_JINJA.items():
        for arch in ARCHES:
            for metrics in METRICS:
                cases.append(
                    {
                        "id": case_id(arch, workload, metrics),
                        "arch": arch,
                        "workload": workload,
                        "jinja": dict(jinja),
                        "metrics": list(metrics),
                    }
                )
    return cases


# ---------------------------------------------------------------------------------------------
# Child: one case, in the reference's process.


def _first_line(text: object, limit: int = 400) -> str:
    """The first three non-empty lines of an error message, joined (pydantic's first line
    only counts the errors)."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return " / ".join(lines[:3])[:limit]


def _run_one(case: dict[str, Any], jobs: int) -> dict[str, Any]:
    import warnings
    from importlib.metadata import version

    import accelforge as af

    if version("accelforge") != REFERENCE_VERSION or "site-packages" not in af.__file__:
        raise SystemExit(f"not the reference AccelForge {REFERENCE_VERSION}: {af.__file__}")
    af.set_n_parallel_jobs(jobs)
    metrics = af.Metrics(0)
    for name in case["metrics"]:
        metrics |= getattr(af.Metrics, name)
    result: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            spec = af.Spec.from_yaml(
                SPECS / case["arch"], SPECS / case["workload"], jinja_parse_data=case["jinja"]
            )
            einsums = [e.name for e in spec.workload.einsums]
        except Exception as ex:  # noqa: BLE001 - recorded, not raised
            return {"status": "load error", "error": f"{type(ex).__name__}: {_first_line(ex)}"}
        spec.mapper.metrics = metrics
        start = time.perf_counter()
        try:
            mappings = spec.map_workload_to_arch(print_progress=False)
        except Exception as ex:  # noqa: BLE001 - recorded, not raised
            result["seconds"] = round(time.perf_counter() - start, 2)
            message = f"{type(ex).__name__}: {_first_line(ex)}"
            no_mapping = "has no pmappings" in message
            result.update(status="no mapping" if no_mapping else "error", error=message)
            return result
        result["seconds"] = round(time.perf_counter() - start, 2)
        if len(mappings) == 0:
            result["status"] = "no mapping"
            return result
        energies = [float(x) for x in mappings.energy(list_if_one_mapping=True)]
        latencies = [float(x) for x in mappings.latency(list_if_one_mapping=True)]
        best = min(range(len(energies)), key=lambda i: (energies[i], latencies[i]))
        try:
            item = mappings[best] if len(mappings) > 1 else mappings
            covered = sorted(item.energy(per_einsum=True))
        except Exception as ex:  # noqa: BLE001 - informational only
            covered = f"per-Einsum breakdown failed: {type(ex).__name__}"
    front = sorted(set(zip(energies, latencies, strict=True)))
    result.update(
        status="ok",
        energy=energies[best],
        latency_at_best=latencies[best],
        n_mappings=len(energies),
        einsums=einsums,
        einsums_in_best=covered,
    )
    if len(case["metrics"]) > 1:
        result["front"] = [{"energy": e, "latency": lat} for e, lat in front]
    return result


# ---------------------------------------------------------------------------------------------
# Parent: the sweep.


def _run_case_process(case: dict[str, Any], jobs: int, timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", json.dumps(case)]
    child = run_child([*cmd, "--jobs", str(jobs)], timeout, "refsweep-")
    if child.timed_out:
        return {"status": "timeout", "timeout_s": timeout, "wall_s": round(timeout, 1)}
    wall = round(child.wall_s, 2)
    if child.result is not None:
        return {**child.result, "wall_s": wall}
    error = f"exit {child.returncode}: {child.last_error_line[:400]}"
    return {"status": "error", "error": error, "wall_s": wall}


def _host() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
    }


def _load(path: Path) -> dict[str, Any]:
    if path.is_file():
        return json.loads(path.read_text())
    return {"cases": []}


def _write(path: Path, data: dict[str, Any]) -> None:
    order = {c["id"]: i for i, c in enumerate(all_cases())}
    data["cases"].sort(key=lambda c: order.get(c["id"], len(order)))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, default=2, help="reference worker processes")
    parser.add_argument("--timeout", type=float, default=240, help="seconds per case")
    parser.add_argument("--only", help="regex on case ids")
    parser.add_argument("--redo", action="store_true", help="rerun cases already recorded")
    parser.add_argument("--list", action="store_true", help="print the case ids and exit")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if args.one:
        print("RESULT " + json.dumps(_run_one(json.loads(args.one), args.jobs)), flush=True)
        return
    cases = [c for c in all_cases() if not args.only or re.search(args.only, c["id"])]
    if args.list:
        print("\n".join(c["id"] for c in cases))
        return
    from importlib.metadata import version

    data = _load(args.out)
    data.update(
        accelforge_version=version("accelforge"),
        date=datetime.date.today().isoformat(),
        host=_host(),
        command=(
            "PATH=<dir with a dot>:$PATH <reference python> bench/reference_sweep/record.py "
            + " ".join(sys.argv[1:])
        ),
        settings={"jobs": args.jobs, "timeout_s": args.timeout},
        skipped_arches=SKIPPED_ARCHES,
        workload_jinja=WORKLOAD_JINJA,
    )
    done = {c["id"] for c in data["cases"]}
    for case in cases:
        if case["id"] in done and not args.redo:
            continue
        result = _run_case_process(case, args.jobs, args.timeout)
        data["cases"] = [c for c in data["cases"] if c["id"] != case["id"]]
        result["recorded"] = datetime.datetime.now().isoformat(timespec="seconds")
        data["cases"].append({**case, "result": result})
        _write(args.out, data)
        shown = {k: v for k, v in result.items() if k not in ("front", "einsums")}
        print(f"{case['id']}: {json.dumps(shown)}", flush=True)


if __name__ == "__main__":
    main()
