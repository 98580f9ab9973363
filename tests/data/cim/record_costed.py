"""Map a CIM example arch with made-up explicit costs (no cost model needed).

Runs with either package (this project or AccelForge 1.0.467) and prints one JSON line with the
front. Usage: ``python record_costed.py ARCH METRIC`` (e.g. ``basic_analog ENERGY``).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

CIM = Path(__file__).resolve().parents[3].parent / "shared/reference/specs/arches/compute_in_memory"
sys.path.insert(0, str(CIM))

from _load_spec import get_spec  # noqa: E402

import accelforge as af  # noqa: E402


def costed_spec(name: str, metric: str) -> af.Spec:
    """The arch's spec, every component a Dummy with explicit action energies/throughputs."""
    spec = get_spec(name, add_dummy_main_memory=True)
    for i, node in enumerate(spec.arch.nodes):
        if isinstance(node, af.arch.Component):
            node.component_class = "Dummy"
            for j, action in enumerate(node.actions):
                action.energy = round(1 + 0.37 * i + 0.11 * j, 2)
                if getattr(action, "latency", None) is None:
                    action.throughput = 1e9 * (1 + i % 3)
    spec.mapper.metrics = getattr(af.Metrics, metric)
    return spec


def main() -> None:
    """Map and print the front."""
    name, metric = sys.argv[1], sys.argv[2]
    spec = costed_spec(name, metric)
    start = time.time()
    if hasattr(spec, "map_workload_to_arch"):
        af.set_n_parallel_jobs(2)
        mappings = spec.map_workload_to_arch(print_progress=False)
        energy = mappings.energy(list_if_one_mapping=True)
        latency = mappings.latency(list_if_one_mapping=True)
    else:
        from accelforge.mapper import map_workload_to_arch

        data = map_workload_to_arch(spec).data
        energy, latency = list(data["energy"]), list(data["latency"])
    front = sorted([float(e), float(lat)] for e, lat in zip(energy, latency, strict=True))
    result = {"arch": name, "metric": metric, "map": round(time.time() - start, 2), "front": front}
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
