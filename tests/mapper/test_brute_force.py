"""The mapper's front equals an exhaustive brute-force front on tiny specs (docs/MAPPER.md §13).

``brute_force.py`` enumerates every mapping of the mapspace independently of the mapper and
evaluates each with the (trusted) model; here the mapper's ENERGY|LATENCY front must be exactly
that front: every brute-force front point is returned with equal values, and the mapper returns no
other point (so none is dominated by, or better than, the brute-force front).

Shipped ``simple`` arch (MainMemory -> GlobalBuffer -> MAC) with DRAM energy 10 and a GlobalBuffer
throughput of 1 bit per cycle, so energy and latency trade off; GlobalBuffer sizes small enough
that capacity decides which placements, tiles and fusions are valid (a 2 x 2 tensor is 32 bits).
Workloads: the shipped ``matmuls`` chain, and the same two-matmul chain written here with one
size per rank (``T1[m, n1] = T0[m, n0] * W0[n0, n1]``, ``T2[m, n2] = T1[m, n1] * W1[n1, n2]``), so
the fused loops over m and n1 can be exercised while the other ranks stay tiny. Each case runs in
under a minute; the shipped chain with N = 2, M = 4 (40-90 s) is marked ``slow`` (CI runs it;
``pytest -m "not slow"`` leaves it out).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import accelforge as af
from accelforge.mapper import map_workload_to_arch
from tests.mapper.brute_force import (
    _einsum_info,
    brute_force_front,
    placements,
    resolve_set,
    storage_orders,
)
from tests.mapper.specs import simple_arch_spec

CHAIN = """
workload:
  bits_per_value: {{All: 8}}
  iteration_space_shape:
    m: 0 <= m < {m}
    n0: 0 <= n0 < {n0}
    n1: 0 <= n1 < {n1}
    n2: 0 <= n2 < {n2}
  einsums:
  - name: Matmul0
    tensor_accesses:
    - {{name: T0, projection: [m, n0]}}
    - {{name: W0, projection: [n0, n1]}}
    - {{name: T1, projection: [m, n1], output: true}}
  - name: Matmul1
    tensor_accesses:
    - {{name: T1, projection: [m, n1]}}
    - {{name: W1, projection: [n1, n2]}}
    - {{name: T2, projection: [m, n2], output: true}}
"""

# Workload: {"N_EINSUMS", "M", "KN"} for the shipped matmuls.yaml, or {"m", "n0", "n1", "n2"}
# for CHAIN; plus the GlobalBuffer size in bits.
CASES = [
    pytest.param({"N_EINSUMS": 1, "M": 4, "KN": 2}, 64, id="matmuls_N1_M4_KN2_glb64"),
    pytest.param({"N_EINSUMS": 1, "M": 4, "KN": 2}, 24, id="matmuls_N1_M4_KN2_glb24"),
    pytest.param({"N_EINSUMS": 2, "M": 2, "KN": 2}, 64, id="matmuls_N2_M2_KN2_glb64"),
    pytest.param({"N_EINSUMS": 2, "M": 2, "KN": 2}, 24, id="matmuls_N2_M2_KN2_glb24"),
    pytest.param({"m": 4, "n0": 1, "n1": 2, "n2": 1}, 16, id="chain_m4_n0-1_n1-2_n2-1_glb16"),
    pytest.param({"m": 4, "n0": 2, "n1": 2, "n2": 1}, 32, id="chain_m4_n0-2_n1-2_n2-1_glb32"),
    pytest.param(
        {"N_EINSUMS": 2, "M": 4, "KN": 2},
        32,
        id="matmuls_N2_M4_KN2_glb32_slow",
        marks=pytest.mark.slow,
    ),
]


def _spec(workload: dict[str, int], glb_size: int, folder: Path) -> af.Spec:
    jinja = {"GLB_SIZE": glb_size, "DRAM_ENERGY": 10, "GLB_THROUGHPUT": 1}
    if "N_EINSUMS" in workload:
        spec = af.Spec.from_yaml(
            af.examples.arches.simple,
            af.examples.workloads.matmuls,
            jinja_parse_data=jinja | workload,
        )
    else:
        spec = simple_arch_spec(CHAIN.format(**workload), folder, **jinja)
    spec.mapper.metrics = af.Metrics.ENERGY | af.Metrics.LATENCY
    return spec


def _same(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return all(math.isclose(x, y, rel_tol=1e-9) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize(("workload", "glb_size"), CASES)
def test_mapper_front_equals_brute_force(
    workload: dict[str, int], glb_size: int, tmp_path: Path
) -> None:
    brute = brute_force_front(_spec(workload, glb_size, tmp_path), check_samples=50)
    assert brute.front, "brute force found no valid mapping"

    mappings = map_workload_to_arch(_spec(workload, glb_size, tmp_path))
    data = mappings.data
    yaml_of = {
        (float(row.energy), float(row.latency)): item.to_yaml()
        for item, row in zip(mappings, data.itertuples(), strict=True)
    }
    ours = list(yaml_of)

    missed = [p for p in brute.front if not any(_same(p, q) for q in ours)]
    dominated = [
        q
        for q in ours
        if any(p[0] <= q[0] and p[1] <= q[1] and not _same(p, q) for p in brute.front)
    ]
    unexplained = [
        q for q in ours if q not in dominated and not any(_same(p, q) for p in brute.front)
    ]
    report = []
    for p in missed:
        report.append(
            f"brute-force front point {p} not returned; a mapping:\n{brute.mappings[p].to_yaml()}"
        )
    for q in dominated:
        report.append(f"mapper point {q} is dominated by the brute-force front:\n{yaml_of[q]}")
    for q in unexplained:
        report.append(f"mapper point {q} is not reproduced by brute force:\n{yaml_of[q]}")
    assert not report, (
        f"brute-force front {brute.front}\nmapper front {sorted(ours)}\n" + "\n".join(report)
    )
    assert len(data) == len(brute.front), "duplicate points in the mapper's front"


@pytest.mark.parametrize(
    ("n_einsums", "einsum", "expected"), [(1, "Matmul0", 16), (2, "Matmul1", 27)]
)
def test_enumerator_structures_match_mapper_md_counts(
    n_einsums: int, einsum: str, expected: int, tmp_path: Path
) -> None:
    # docs/MAPPER.md §3.2 count check on simple: one matmul 16 (placements x storage orders), an end
    # Einsum of a chain 27. Guards the enumerator's placement and storage-order rules.
    spec = _spec({"N_EINSUMS": n_einsums, "M": 2, "KN": 2}, 64, tmp_path)
    workload = spec.evaluate_workload()
    users: dict[str, int] = {}
    for name in workload.einsums:
        for t in workload.einsums[name].einsum.tensor_names:
            users[t] = users.get(t, 0) + 1
    info = _einsum_info(spec, workload, einsum, users)
    total = sum(len(storage_orders(info, p, True)) for p in placements(info))
    assert total == expected


def test_resolve_set() -> None:
    universe = frozenset({"A", "B", "C"})
    scope = {"MainMemory": frozenset({"A"}), "Inputs": frozenset({"A", "B"})}
    assert resolve_set("~MainMemory", scope, universe) == {"B", "C"}
    assert resolve_set("Inputs - MainMemory", scope, universe) == {"B"}
    assert resolve_set("~(Inputs | MainMemory) | MainMemory", scope, universe) == {"A", "C"}
