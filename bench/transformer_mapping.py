"""A mapping template for the shipped transformer block on the TPU-like arch (benchmarks)."""

from __future__ import annotations

import accelforge as af
from accelforge.frontend.mapping import Mapping


def transformer_spec() -> af.Spec:
    """The shipped 10-Einsum transformer block on the shipped TPU-like arch."""
    return af.Spec.from_yaml(af.examples.arches.tpu_like, af.examples.workloads.transformer_block)


def unfused_mapping(spec: af.Spec, only: str | None = None) -> Mapping:
    """Every Einsum in its own branch: DRAM -> outer m loop -> GLB -> loops -> PE array.

    With ``only``, the mapping holds that one Einsum (a single pmapping template).
    """
    workload = spec.evaluate_workload()
    top = {"tag": "Storage", "tensors": list(workload.tensors), "component": "DRAM"}
    branches = []
    for name, facts in workload.einsums.items():
        if only is not None and name != only:
            continue
        bounds = facts.rank_variable_bounds
        tensors = facts.einsum.tensor_names
        weight = facts.renames["weight"].names
        nodes = [{"tag": "Temporal", "rank_variable": "m", "tile_shape": bounds["m"]}]
        nodes.append({"tag": "Storage", "tensors": tensors, "component": "GlobalBuffer"})
        nodes += _spatial_loops(facts, bounds)
        for var in sorted(bounds):
            nodes.append({"tag": "Temporal", "rank_variable": var, "tile_shape": 1})
        if weight:
            nodes.append(
                {"tag": "Storage", "tensors": sorted(weight), "component": "WeightRegister"}
            )
        nodes.append({"tag": "Compute", "einsum": name, "component": "MAC"})
        branches.append({"tag": "Nested", "nodes": nodes})
    data = {"nodes": [top, {"tag": "Sequential", "nodes": branches}]}
    return Mapping.from_data(_tagged(data), ("mapping",))


def _spatial_loops(facts, bounds: dict[str, int]) -> list[dict]:  # noqa: ANN001
    """Rows share the input (a variable of the weight only), columns reduce the output."""
    accesses = {a.name: a.rank_variables for a in facts.einsum.tensor_accesses}
    inputs = set().union(*(accesses[t] for t in facts.renames["input"].names))
    outputs = set().union(*(accesses[t] for t in facts.renames["output"].names))
    loops = []
    for dim, candidates in (("rows", sorted(outputs - inputs)), ("cols", sorted(inputs - outputs))):
        usable = [v for v in candidates if bounds[v] % 16 == 0]
        if usable:
            var = usable[-1]
            loops.append(
                {
                    "tag": "Spatial",
                    "rank_variable": var,
                    "tile_shape": bounds[var] // 16,
                    "name": dim,
                    "component": "PEArray",
                }
            )
    return loops


def _tagged(data: dict) -> dict:
    from accelforge.frontend._yaml import YamlList, YamlMap

    def convert(value):  # noqa: ANN001, ANN202
        if isinstance(value, dict):
            tag = value.pop("tag", None)
            return YamlMap({k: convert(v) for k, v in value.items()}, tag=tag)
        if isinstance(value, list):
            return YamlList([convert(v) for v in value])
        return value

    return convert(dict(data))
