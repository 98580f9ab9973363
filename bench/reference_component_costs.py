"""Record AccelForge 1.0.467's ``spec.calculate_component_costs()`` figures for the tests.

Run with the reference's Python (a scratch 3.12 venv with ``accelforge==1.0.467`` and the
hwcomponents model packages), from outside this repository:

    /path/to/refvenv/bin/python bench/reference_component_costs.py \
        ../shared/reference/specs tests/data/reference_component_costs.json

It writes, per arch (one 64 x 64 x 64 matmul), the arch totals and every component's area,
leak power, total area and action energies and throughputs; an arch the reference refuses is
recorded with its error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import accelforge as af  # the reference, not this project

ARCHES = ["tpu_v4i", "snowcat", "nvdla", "eyeriss", "simba"]


def record(specs: Path, arch: str) -> dict[str, object]:
    """One arch's figures (or its error)."""
    spec = af.Spec.from_yaml(
        specs / "arches" / f"{arch}.yaml",
        specs / "workloads" / "matmuls.yaml",
        jinja_parse_data={"N_EINSUMS": 1, "M": 64, "KN": 64},
    )
    try:
        costed = spec.calculate_component_costs()
    except Exception as err:  # noqa: BLE001 - recorded as the reference's behaviour
        return {"error": f"{type(err).__name__}: {err}"[:300]}
    nodes = {}
    for node in costed.arch.nodes:
        if hasattr(node, "actions") and hasattr(node, "area"):
            nodes[node.name] = {
                "area": float(node.area),
                "leak_power": float(node.leak_power),
                "total_area": float(node.total_area),
                "actions": {a.name: [float(a.energy), float(a.throughput)] for a in node.actions},
            }
    return {
        "total_area": float(costed.arch.total_area),
        "total_leak_power": float(costed.arch.total_leak_power),
        "per_component_total_area": dict(costed.arch.per_component_total_area),
        "per_component_total_leak_power": dict(costed.arch.per_component_total_leak_power),
        "nodes": nodes,
    }


def main() -> None:
    specs, out = Path(sys.argv[1]), Path(sys.argv[2])
    cases = {arch: record(specs, arch) for arch in ARCHES}
    command = "python bench/reference_component_costs.py ../shared/reference/specs " + str(out)
    payload = {"reference": "accelforge 1.0.467", "command": command, "cases": cases}
    out.write_text(json.dumps(payload, indent=1, default=float) + "\n")


if __name__ == "__main__":
    main()
