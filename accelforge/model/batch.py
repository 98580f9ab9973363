"""Vectorised evaluation: one mapping template, many tile-shape candidates at once.

The formulas are the scalar model's own (:func:`~accelforge.model.einsum_eval.einsum_quantities`
is written for floats and numpy arrays alike); this module feeds them arrays of tile shapes
and turns the model's errors (fanout, capacity, tile validity) into a validity mask.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from accelforge.frontend import mapping as m
from accelforge.model.einsum_eval import check_structure, einsum_quantities
from accelforge.model.evaluate import simple_variables, tile_values
from accelforge.model.occupancy import bits_by_memory, joint_usage, memory_size
from accelforge.model.paths import assign_factors, einsum_paths
from accelforge.model.result import leak_energy

if TYPE_CHECKING:
    from accelforge.frontend.spec import Spec

__all__ = ["BatchResult", "evaluate_batch", "loop_nodes"]


@dataclass
class BatchResult:
    """Per-candidate figures (arrays of length N) for one mapping template."""

    valid: np.ndarray
    energy: np.ndarray
    latency: np.ndarray
    einsum_energy: dict[str, np.ndarray] = field(default_factory=dict)
    einsum_latency: dict[str, np.ndarray] = field(default_factory=dict)
    actions: dict[tuple[str, str, str | None, str], np.ndarray] = field(default_factory=dict)
    """(einsum, component, tensor, action) -> action counts."""
    peak_bits: dict[str, np.ndarray] = field(default_factory=dict)
    peak_fraction: dict[str, np.ndarray] = field(default_factory=dict)
    """Peak fraction of each memory's size (0 for ``inf`` sizes)."""


def loop_nodes(mapping: m.Mapping) -> list[m.Temporal]:
    """The loop nodes of a mapping in tree order; row k of the tile array is loop k."""
    return [node for _, node in m.iter_nodes(mapping) if isinstance(node, m.Temporal)]


def evaluate_batch(spec: Spec, mapping: m.Mapping, tiles: Sequence[Any]) -> BatchResult:
    """Evaluate ``mapping`` for every column of ``tiles`` (shape: loops x candidates).

    Row k holds candidate tile shapes of :func:`loop_nodes` ``(mapping)[k]``. Candidates
    that break a rule the scalar model would raise for are marked invalid, not raised.
    """
    grid = np.asarray(tiles, dtype=float)
    workload = spec.evaluate_workload()
    loops = loop_nodes(mapping)
    if grid.ndim != 2 or grid.shape[0] != len(loops):
        raise ValueError(f"tiles must have shape ({len(loops)}, N); got {grid.shape}")
    paths = einsum_paths(
        mapping,
        {n: f.einsum.tensor_names for n, f in workload.einsums.items()},
        {n: f.rank_variable_bounds for n, f in workload.einsums.items()},
        tile_values(mapping, workload.variables),
        simple_variables(spec),
    )
    row = {id(node): k for k, node in enumerate(loops)}
    n = grid.shape[1]
    valid = np.ones(n, dtype=bool)
    out = BatchResult(valid=valid, energy=np.zeros(n), latency=np.zeros(n))
    order = [e for e in workload.einsums if e in paths]
    archs = {e: spec.evaluate(e, workload=workload) for e in order}
    results = {}
    for einsum in order:
        path, facts, arch = paths[einsum], workload.einsums[einsum], archs[einsum]
        flat = arch.path_to(path.compute.component)
        check_structure(path, facts, flat)
        for loop in path.loops:
            loop.tile = grid[row[loop.node_id]]
        valid &= assign_factors(path, facts.rank_variable_bounds, simple_variables(spec))
        result = einsum_quantities(path, facts, arch, workload.variables)
        results[einsum] = result
        for node in flat:
            for dim in node.spatial:
                valid &= result.spatial_used[(node.name, dim.name)] <= dim.fanout + 1e-9
        for memory, bits in bits_by_memory(result.reservations).items():
            valid &= bits <= arch.components[memory].size
        repeat = facts.einsum.n_instances * spec.workload.n_instances
        leak = sum(leak_energy(c, arch, result) for c in arch.components.values())
        latency = np.broadcast_to(result.latency, (n,)) * repeat
        energy = (result.dynamic_energy + leak) * repeat
        out.einsum_energy[einsum] = np.broadcast_to(energy, (n,))
        out.einsum_latency[einsum] = latency
        out.energy = out.energy + energy
        out.latency = out.latency + latency
        for a in result.actions:
            out.actions[(einsum, a.component, a.tensor, a.action)] = np.broadcast_to(
                a.count * repeat, (n,)
            )
    usage = joint_usage(
        order,
        paths,
        {e: results[e].reservations for e in order},
        lambda einsum, memory: memory_size(archs[einsum], memory),
    )
    for memory, joint in usage.items():
        out.peak_bits[memory] = np.broadcast_to(joint.bits, (n,))
        out.peak_fraction[memory] = np.broadcast_to(joint.fraction, (n,))
        valid &= joint.fits
    out.valid = valid
    return out
