"""Map every case of tests/data/reference_sweep.json with our mapper and print it beside the
reference's recorded result (a Markdown table; the same checks as
tests/mapper/test_reference_sweep.py, but it reports instead of failing, with timings).

Run (the project's venv): python bench/reference_sweep/compare.py [--only REGEX] [--workers 1]
[--time-limit 600] [--json OUT.json]. ``--time-limit`` sets ``mapper.ffm.time_limit`` so a
run that cannot finish ends with status TIME_LIMIT instead of hanging the table.
"""

from __future__ import annotations

import argparse
import json
import re
import time
import warnings
from pathlib import Path
from typing import Any

import accelforge as af

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "reference_sweep.json"
SPECS = REPO.parent / "shared" / "reference" / "specs"
RTOL = 1e-6


def map_case(case: dict[str, Any], workers: int, time_limit: float) -> dict[str, Any]:
    """Our status, optimum energy, front and wall seconds for one recorded case."""
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spec = af.Spec.from_yaml(
                SPECS / case["arch"], SPECS / case["workload"], jinja_parse_data=case["jinja"]
            )
            spec.mapper.metrics = af.Metrics.parse(case["metrics"])
            spec.mapper.ffm.time_limit = time_limit
            run = af.mapper.start(spec, n_workers=workers)
            mappings = run.result()
    except Exception as ex:  # noqa: BLE001 - reported in the table
        kind = "spec error" if isinstance(ex, af.SpecError) else "CRASH"
        seconds = time.perf_counter() - start
        return {"status": kind, "error": f"{type(ex).__name__}: {ex}"[:300], "seconds": seconds}
    seconds = time.perf_counter() - start
    out: dict[str, Any] = {"status": run.status, "seconds": seconds, "n": 0}
    if mappings is not None and len(mappings):
        data = mappings.data
        out["n"] = len(mappings)
        out["energy"] = float(data["energy"].min())
        out["front"] = sorted(
            (float(e), float(lat)) for e, lat in zip(data["energy"], data["latency"], strict=True)
        )
    return out


def verdict(case: dict[str, Any], ours: dict[str, Any]) -> str:
    """``same``, ``ours lower``, ``ours higher``, ``front dominated`` ... for one case."""
    ref = case["result"]
    if ours["status"] == "OK" and not ours["n"]:
        return "OK WITH EMPTY FRONT"
    if ours["status"] == "CRASH":
        return "CRASH"
    if ref["status"] != "ok":
        return f"reference {ref['status']}; ours {ours['status']}"
    if "energy" not in ours:
        return f"ours {ours['status']} with no mapping"
    if len(case["metrics"]) == 1:
        e, r = ours["energy"], ref["energy"]
        if abs(e - r) <= RTOL * abs(r):
            return "same"
        return f"ours {'lower' if e < r else 'higher'} ({(e - r) / r:+.3e})"
    missed = [
        p
        for p in ref["front"]
        if not any(
            e <= p["energy"] * (1 + RTOL) and lat <= p["latency"] * (1 + RTOL)
            for e, lat in ours["front"]
        )
    ]
    if missed:
        return f"{len(missed)}/{len(ref['front'])} reference points not dominated"
    same = len(ours["front"]) == len(ref["front"])
    return "front dominates" + ("" if same else f" ({ours['n']} vs {len(ref['front'])} points)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="regex on case ids")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=600)
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    cases = json.loads(DATA.read_text())["cases"]
    rows = []
    print("| case | reference | ref s | ours | our s | verdict |")
    print("|---|---|---|---|---|---|")
    for case in cases:
        if args.only and not re.search(args.only, case["id"]):
            continue
        ref = case["result"]
        ours = map_case(case, args.workers, args.time_limit)
        v = verdict(case, ours)
        ref_text = f"{ref['energy']:.10g}" if ref["status"] == "ok" else ref["status"]
        our_text = f"{ours['energy']:.10g}" if "energy" in ours else ours["status"]
        if len(case["metrics"]) > 1:
            if ref["status"] == "ok":
                ref_text += f" ({len(ref['front'])} pts)"
            if "energy" in ours:
                our_text += f" ({ours['n']} pts)"
        print(
            f"| {case['id']} | {ref_text} | {ref.get('wall_s', '')} | {our_text} | "
            f"{ours['seconds']:.1f} | {v} |",
            flush=True,
        )
        rows.append({"id": case["id"], "ours": ours, "verdict": v})
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
