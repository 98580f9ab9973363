"""AccelForge 1.0.467's tutorial calls, written once, run by both implementations.

Each function makes the calls of one tutorial notebook (mapper, model, design-space
exploration, memory size vs accesses), as the notebook makes them, at sizes a test can afford
(the mapper tutorial at its own size), and returns the figures they print. The reference's
figures were recorded by running this file with AccelForge itself
(``bench/reference_tutorial_calls.py``); ``tests/test_tutorial_calls.py`` runs it with this
project and compares. Only names both implementations share may appear here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

Figures = dict[str, Any]


def _plain(values: Any) -> Any:
    """Breakdowns as ``{str: float}`` (either implementation's dict or Series)."""
    return {str(k): float(v) for k, v in dict(values).items()}


def model_tutorial(af: Any, examples_dir: Path) -> Figures:
    """notebooks/tutorials/model.ipynb."""
    data = {"N_EINSUMS": 2, "M": 64, "KN": 32, "MainMemoryEnergy": 10, "GlobalBufferSize": 1e5}

    def with_mapping(name: str) -> Any:
        return af.Spec.from_yaml(
            examples_dir / "arches" / "simple.yaml",
            examples_dir / "workloads" / "matmuls.yaml",
            examples_dir / "mappings" / f"{name}.yaml",
            jinja_parse_data=data,
        )

    spec = with_mapping("unfused_matmuls_to_simple")
    result = spec.evaluate_mapping()
    from accelforge.plotting.mappings import plot_energy_breakdown, plot_memory_usage_breakdown

    plot_memory_usage_breakdown([result], memory_levels=["GlobalBuffer"])
    plot_energy_breakdown([result], separate_by=["component"])
    plot_energy_breakdown([result], separate_by=["component"], stack_by=["einsum"])
    plot_energy_breakdown([result], separate_by=["component"], stack_by=["tensor"])
    fused = with_mapping("fused_matmuls_to_simple").evaluate_mapping()
    rendered = fused.render(with_reservations=False, with_tile_shape=False)
    plot_energy_breakdown(
        [result, fused], separate_by=["component"], stack_by=["tensor"], labels=["Unfused", "Fused"]
    )
    return {
        "energy": float(result.energy()),
        "latency": float(result.latency()),
        "energy_per_component": _plain(result.energy(per_component=True)),
        "energy_per_einsum": _plain(result.energy(per_einsum=True)),
        "fused_energy": float(fused.energy()),
        "fused_latency": float(fused.latency()),
        "rendered": isinstance(rendered, str) and len(rendered) > 0,
    }


def mapper_tutorial(af: Any, examples_dir: Path) -> Figures:
    """notebooks/tutorials/mapper.ipynb, at its own size (GPT-3 6.7B, 8192 tokens, unfused)."""
    af.set_n_parallel_jobs(os.cpu_count(), print_message=True)
    spec = af.Spec.from_yaml(
        examples_dir / "arches" / "tpu_v4i.yaml",
        examples_dir / "workloads" / "gpt3_6.7B.yaml",
        jinja_parse_data={"BATCH_SIZE": 1, "N_TOKENS": 8192},
    )
    for node in spec.arch.nodes:
        if isinstance(node, af.arch.Memory):
            node.tensors.keep = "All"
            break
    spec.mapper.metrics = af.mapper.Metrics.ENERGY
    spec.mapper.max_fused_loops = 1
    mapping = spec.map_workload_to_arch()
    return {
        "energy": float(mapping.energy()),
        "energy_per_compute": float(mapping.per_compute().energy()),
        "energy_per_compute_per_component": _plain(
            mapping.per_compute().energy(per_component=True)
        ),
        "latency": float(mapping.latency()),
        "latency_per_compute_per_component": _plain(
            mapping.per_compute().latency(per_component=True)
        ),
    }


def get_mapper_result(spec: Any, global_buffer_size: int) -> Any:
    """The design-space tutorial's helper (module level, so worker processes can run it)."""
    spec.arch.find("GlobalBuffer").size = global_buffer_size
    return spec.map_workload_to_arch(print_progress=False, print_number_of_pmappings=False)


def get_area(spec: Any, size: int) -> Any:
    """The design-space tutorial's area helper."""
    spec.arch.find("GlobalBuffer").size = size
    return spec.calculate_component_costs()


def design_space_tutorial(af: Any, examples_dir: Path) -> Figures:
    """notebooks/tutorials/design_space_exploration.ipynb on tpu_v4i (its eyeriss needs
    hwcomponents), three buffer sizes."""
    from accelforge.util import delayed, parallel

    spec = af.Spec.from_yaml(
        examples_dir / "arches" / "tpu_v4i.yaml",
        examples_dir / "workloads" / "matmuls.yaml",
        jinja_parse_data={"N_EINSUMS": 1, "M": 256, "KN": 256},
    )
    spec.mapper.metrics = af.Metrics.ENERGY
    sizes = [2**13, 2**17, 2**21]
    jobs = {size: delayed(get_mapper_result)(spec, size) for size in sizes}
    results = parallel(jobs, pbar="Generating Mappings")
    areas = parallel({k: delayed(get_area)(spec, k) for k in sizes}, pbar="Calculating Area")
    return {
        "energy_per_compute": [float(v.per_compute().energy()) for v in results.values()],
        "per_component": [
            _plain(v.per_compute().energy(per_component=True)) for v in results.values()
        ],
        "per_component_area": [_plain(s.arch.per_component_total_area) for s in areas.values()],
    }


def memory_size_tutorial(af: Any, examples_dir: Path) -> Figures:  # noqa: ARG001 - same shape
    """notebooks/tutorials/memory_size_vs_access_tradeoff.ipynb, its matmul part (smaller)."""
    spec = af.Spec.from_yaml(
        af.examples.arches.snowcat,
        af.examples.workloads.matmuls,
        jinja_parse_data={"N_EINSUMS": 1, "M": 512, "KN": 512},
    )
    spec.mapper.metrics = af.Metrics.ENERGY | af.Metrics.RESOURCE_USAGE
    results = spec.map_workload_to_arch()
    size = spec.arch.find("GlobalBuffer").size
    usage = results.resource_usage(list_if_one_mapping=True)["GlobalBuffer"]
    energy = results.energy(list_if_one_mapping=True)
    points = sorted((float(e), float(u) * float(size)) for e, u in zip(energy, usage, strict=True))
    return {"front": points, "columns": len(results.columns) > 0}


TUTORIALS = {
    "model": model_tutorial,
    "mapper": mapper_tutorial,
    "design_space": design_space_tutorial,
    "memory_size": memory_size_tutorial,
}
