"""Brute-force oracle for the mapper: every mapping of a tiny spec's mapspace, evaluated.

Test-only code, written from MAPPER.md / MODEL.md alone; it imports nothing from
``accelforge.mapper``. The mapspace is the one MAPPER.md defines (§3.1 placements, §3.2 storage
orders, §3.3 loops with the no-recomputation rule, §4.1-4.2 perfect tile chains, §5-§6 fusion with
``max_fused_loops_per_rank_variable``), but built the naive way: instead of the mapper's "one loop
per variable per gap" templates, every interleaving of storage nodes and loops is generated, so
the mapper's equivalence arguments (§3.3 rules 5-6, loop order inside a gap) are tested rather than
assumed.

Supported: a linear memory hierarchy without fanouts, persistent tensors, Tolls or copy Einsums,
one enabled Compute, and one or two Einsums (a chain). Everything else is rejected loudly.

What is deliberately *not* enumerated, and why it cannot change the front:

* **Loops with factor 1** (tile equal to the enclosing tile). They leave every count unchanged
  (MODEL.md §4: counts are products of loop factors) and can only stop a pending reservation
  earlier (MODEL.md §8.2: an irrelevant temporal loop stops lowering whatever its factor), which
  raises occupancy, or, in a shared prefix, add a shared loop, which only holds more
  reservations across Einsums (MODEL.md §8.4). So each is weakly dominated by the same mapping
  without it. MAPPER.md §3.3 makes them vanish too ("a loop whose tile equals its enclosing tile
  has factor 1 and vanishes").
* **Loops above the outermost memory's nodes.** MAPPER.md §3.2 rule 3 puts those nodes first with
  no loop between them; the order among them is irrelevant (they are all backing, so every
  reservation sits directly under its node at depth 0 with the full tensor).
* **Interleavings of the two Einsums' private storage nodes inside a shared prefix.** Path
  normalisation (MODEL.md §1.3) drops the other Einsum's tensors, so the order between one
  Einsum's nodes and the other's changes no path; each Einsum's own order is enumerated in full.
* **Shared loops below the fused tensor's backing node** (or shared loops when the fused tensor is
  backed in the outermost memory). Each path is the same as with those loops private to the
  branches, and sharing them only adds reservations to the joint live set (MODEL.md §8.4: "depth <
  L(i, j)" holds more when L grows): weakly dominated, and outside MAPPER.md §3.6's definition of
  fused loops anyway. Shared loops are therefore exactly the loops above the fused tensor's
  backing node, as MAPPER.md §3.6 and MODEL.md §1.4 ("held in the same memory under the same
  shared loops on both paths") require.

Outside the mapspace, hence filtered (the model accepts them or only warns):
``InvalidMappingError`` (capacity, ...), any "breaks constraints the mapper enforces" warning, a
loop above the first storage node of a tensor its variable does not index (MAPPER.md §3.3 rule 2,
no recomputation), and more than ``max_fused_loops_per_rank_variable`` fused loops over one
variable (every generated loop is non-trivial, so all count).

Two Einsums: every path of each Einsum is enumerated and evaluated alone
(``evaluate_mapping(..., allow_partial=True)``), then pairs of paths with the same fusion
interface (the fused tensor's backing memory and the exact shared loops) are joined into one
tree. Enumerating every pair is the mapspace; evaluating all of them would take minutes, so pairs
are visited in increasing (energy, latency) of the sum of their paths' values, and a pair is
evaluated with ``evaluate_mapping`` on the full tree only if that sum is not weakly dominated by
a full mapping already found valid. This is exact because (MODEL.md §9.5, §10.4) total energy and
latency are sums over Einsums — asserted on every evaluated pair — and a full mapping is invalid
whenever one of its paths is invalid alone (per-Einsum capacity, placement, tile-1 loops and
constraint notes are checked per path). A skipped pair can therefore only repeat or be dominated
by a point already on the front; ``check_samples`` evaluates random skipped pairs to confirm it.
"""

from __future__ import annotations

import itertools
import math
import random
import re
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from accelforge.errors import InvalidMappingError
from accelforge.frontend.mapping import Compute, Mapping, Nested, Sequential, Storage, Temporal
from accelforge.model import evaluate_mapping

__all__ = ["BruteForceResult", "brute_force_front", "pareto_front"]

CONSTRAINT_WARNING = "breaks constraints the mapper enforces"

# A path is a tuple of nodes: ("S", memory, tensor) or ("L", rank_variable, tile_shape).
Node = tuple[str, str, Any]


# --------------------------------------------------------------------------------------------
# Set expressions of tensors.keep / may_keep (SPEC_FORMAT §5.4), resolved here, not by the package


_TOKEN = re.compile(r"\s*(~|\||&|-|\^|\(|\)|[A-Za-z_][A-Za-z0-9_]*)")


def _set_tokens(expr: str) -> list[str]:
    """The tokens of a set expression: names, operators and parentheses."""
    tokens: list[str] = []
    pos = 0
    text = expr.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise ValueError(f"cannot parse set expression {expr!r}")
        tokens.append(match.group(1))
        pos = match.end()
    return tokens


def resolve_set(expr: Any, scope: dict[str, frozenset[str]], universe: frozenset[str]) -> frozenset:
    """Evaluate a set expression (``~MainMemory``, ``A | B``, ...) over ``universe``."""
    if not isinstance(expr, str):
        return frozenset(expr)
    tokens = _set_tokens(expr)
    index = 0

    def peek() -> str | None:
        return tokens[index] if index < len(tokens) else None

    def take() -> str:
        nonlocal index
        index += 1
        return tokens[index - 1]

    def atom() -> frozenset:
        token = take()
        if token == "~":
            return universe - atom()
        if token == "(":
            value = binary()
            if take() != ")":
                raise ValueError(f"unbalanced parentheses in {expr!r}")
            return value
        if token not in scope:
            raise ValueError(f"unknown name {token!r} in set expression {expr!r}")
        return scope[token] & universe

    def binary() -> frozenset:
        value = atom()
        while peek() in ("|", "&", "-", "^"):
            op = take()
            other = atom()
            value = {"|": value | other, "&": value & other, "-": value - other}.get(
                op, value ^ other
            )
        return value

    result = binary()
    if index != len(tokens):
        raise ValueError(f"trailing tokens in set expression {expr!r}")
    return result


# --------------------------------------------------------------------------------------------
# Per-Einsum facts


@dataclass
class EinsumInfo:
    """What the enumerator needs about one Einsum on its flattened architecture."""

    name: str
    tensors: tuple[str, ...]
    indexes: dict[str, frozenset[str]]
    """Rank variables directly indexing each tensor."""
    bounds: dict[str, int]
    symbols: dict[str, frozenset[str]]
    memories: list[Any]
    """Evaluated Memory components, outermost first."""
    compute: str
    fusable: frozenset[str]
    """Tensors of this Einsum used by at least two Einsums."""


def _einsum_info(spec: Any, workload: Any, einsum: str, users: dict[str, int]) -> EinsumInfo:
    facts = workload.einsums[einsum]
    arch = spec.evaluate(einsum, workload=workload)
    computes = [c for c in arch.components.values() if c.kind == "Compute"]
    assert len(computes) == 1, "brute force supports exactly one Compute"
    flat = arch.path_to(computes[0].name)
    memories = []
    for node in flat:
        assert not getattr(node, "spatial", None), "brute force does not support fanouts"
        if node.kind == "Memory":
            memories.append(node)
        else:
            assert node.kind == "Compute", f"brute force does not support {node.kind} nodes"
    assert not facts.einsum.is_copy_operation, "brute force does not support copy Einsums"
    indexes: dict[str, frozenset[str]] = {}
    for access in facts.einsum.tensor_accesses:
        assert not access.persistent, "brute force does not support persistent tensors"
        direct = frozenset(access.directly_indexing.values())
        assert direct == frozenset(access.rank_variables), "only simple (direct) projections"
        indexes[access.name] = direct
    symbols = {
        name: frozenset(value)
        for name, value in facts.symbols.items()
        if type(value).__name__ == "TensorSet"
    }
    tensors = tuple(facts.einsum.tensor_names)
    return EinsumInfo(
        name=einsum,
        tensors=tensors,
        indexes=indexes,
        bounds=dict(facts.rank_variable_bounds),
        symbols=symbols,
        memories=memories,
        compute=computes[0].name,
        fusable=frozenset(t for t in tensors if users[t] >= 2),
    )


# --------------------------------------------------------------------------------------------
# Structural enumeration of one Einsum


def placements(info: EinsumInfo) -> list[dict[str, frozenset[str]]]:
    """Every dataplacement of MAPPER.md §3.1 (memories outermost first)."""
    universe = frozenset(info.tensors)
    out: list[dict[str, frozenset[str]]] = []

    def rec(i: int, chosen: dict[str, frozenset[str]]) -> None:
        if i == len(info.memories):
            if frozenset().union(*chosen.values()) == universe:
                out.append(dict(chosen))
            return
        memory = info.memories[i]
        above = frozenset().union(*chosen.values())
        scope = dict(info.symbols) | chosen | {"Above": above}
        keep = resolve_set(memory.tensors.keep, scope, universe)
        back = resolve_set(memory.tensors.back, scope, universe)
        may = resolve_set(memory.tensors.may_keep, scope, universe)
        must = keep | back
        if back & above:
            return
        optional = sorted(may - must)
        for r in range(len(optional) + 1):
            for subset in itertools.combinations(optional, r):
                rec(i + 1, chosen | {memory.name: must | frozenset(subset)})

    rec(0, {})
    return out


def storage_orders(
    info: EinsumInfo, placement: dict[str, frozenset[str]], force_order: bool
) -> list[tuple[list[Node], list[Node]]]:
    """(top group, rest) for every storage order allowed by MAPPER.md §3.2.

    The top group is the outermost memory's nodes (rule 3, alphabetical); the rest is every
    permutation of the other nodes keeping an inner memory's node of a tensor below the outer
    memory's node of it (rule 2, automatic here since outer nodes of the outermost memory are on
    top; checked anyway), the hierarchy order when forced (rule 1; the model warns about it in any
    case), and an outer memory's backing node of a fusable tensor above every inner memory's node.
    """
    level = {m.name: i for i, m in enumerate(info.memories)}
    outermost = info.memories[0].name
    top = [("S", outermost, t) for t in sorted(placement.get(outermost, ()))]
    rest = [("S", m.name, t) for m in info.memories[1:] for t in sorted(placement.get(m.name, ()))]
    forced = {m.name: force_order and m.tensors.force_memory_hierarchy_order for m in info.memories}
    backing: dict[str, str] = {}
    for m in info.memories:
        for t in placement.get(m.name, ()):
            backing.setdefault(t, m.name)
    out = []
    for perm in itertools.permutations(rest):
        ok = True
        for i, (_, mem_a, t_a) in enumerate(perm):
            for _, mem_b, t_b in perm[i + 1 :]:
                # node a sits above node b
                if level[mem_a] > level[mem_b]:
                    if t_a == t_b:
                        ok = False
                    elif forced[mem_a] and forced[mem_b]:
                        ok = False
                    elif t_b in info.fusable and backing[t_b] == mem_b:
                        ok = False
        if ok:
            out.append((top, list(perm)))
    return out


def tile_chains(bound: int) -> list[tuple[int, ...]]:
    """Strictly decreasing chains of tile shapes, each dividing the previous, ending in 1.

    Every loop of such a chain has a factor > 1 (factor-1 loops: see the module docstring).
    """
    if bound == 1:
        return [()]
    out: list[tuple[int, ...]] = []
    for d in range(1, bound):
        if bound % d == 0:
            out += [(d, *rest) for rest in tile_chains(d)] if d > 1 else [(1,)]
    return out


def interleavings(sequences: list[list[Node]]) -> Iterator[list[Node]]:
    """Every merge of the sequences that keeps each one's own order."""
    sequences = [s for s in sequences if s]
    if not sequences:
        yield []
        return
    for i, seq in enumerate(sequences):
        rest = sequences[:i] + [seq[1:]] + sequences[i + 1 :]
        for tail in interleavings(rest):
            yield [seq[0], *tail]


def _no_recomputation(info: EinsumInfo, top: list[Node], rest: list[Node]) -> bool:
    """MAPPER.md §3.3 rule 2: a loop above a tensor's first storage node must index it."""
    unstored = set(info.tensors) - {t for _, _, t in top}
    for kind, a, b in rest:
        if kind == "S":
            unstored.discard(b)
        elif any(a not in info.indexes[t] for t in unstored):
            return False
    return True


@dataclass
class EinsumPath:
    """One Einsum's complete path (outermost-memory group, then the rest), and its interface."""

    top: list[Node]
    rest: list[Node]
    key: tuple
    """Fusion interface: ((fusable tensor, backing memory), ...), and the shared loops."""
    energy: float = float("nan")
    latency: float = float("nan")


def einsum_paths(info: EinsumInfo, ffm: Any) -> Iterator[EinsumPath]:
    """Every path of the Einsum in the mapspace (before evaluation)."""
    variables = sorted(v for v, b in info.bounds.items() if b > 1)
    chain_options = [tile_chains(info.bounds[v]) for v in variables]
    for placement in placements(info):
        for top, rest_storage in storage_orders(info, placement, ffm.force_memory_hierarchy_order):
            for chains in itertools.product(*chain_options):
                loops = [[("L", v, t) for t in c] for v, c in zip(variables, chains, strict=True)]
                for rest in interleavings([rest_storage, *loops]):
                    if not _no_recomputation(info, top, rest):
                        continue
                    key = _interface(info, top, rest, ffm)
                    if key is not None:
                        yield EinsumPath(top, rest, key)


def _interface(info: EinsumInfo, top: list[Node], rest: list[Node], ffm: Any) -> tuple | None:
    """The fused tensors' backing memories and the loops above the deepest backing node.

    None when the fused loops break ``max_fused_loops_per_rank_variable`` / ``max_fused_loops``.
    """
    backing: dict[str, str] = {}
    deepest = 0
    for _, mem, t in top:
        backing.setdefault(t, mem)
    for i, (kind, a, b) in enumerate(rest):
        if kind == "S" and b not in backing:
            backing[b] = a
            if b in info.fusable:
                deepest = i
    fused = tuple((a, b) for kind, a, b in rest[:deepest] if kind == "L")
    per_variable: dict[str, int] = {}
    for v, _ in fused:
        per_variable[v] = per_variable.get(v, 0) + 1
    if any(n > ffm.max_fused_loops_per_rank_variable for n in per_variable.values()):
        return None
    if len(fused) > ffm.max_fused_loops:
        return None
    return tuple(sorted((t, backing[t]) for t in info.fusable)), fused


# --------------------------------------------------------------------------------------------
# Mapping trees and evaluation


def _nodes(nodes: Iterable[Node]) -> list[Any]:
    out: list[Any] = []
    for kind, a, b in nodes:
        if kind == "S":
            out.append(Storage(tensors=[b], component=a))
        else:
            out.append(Temporal(rank_variable=a, tile_shape=b))
    return out


def single_mapping(info: EinsumInfo, path: EinsumPath) -> Mapping:
    """The mapping holding only this Einsum's path."""
    return Mapping(
        nodes=[*_nodes(path.top + path.rest), Compute(einsum=info.name, component=info.compute)]
    )


def fused_mapping(infos: list[EinsumInfo], paths: list[EinsumPath]) -> Mapping:
    """One tree for two Einsums whose paths have the same interface (see the module docstring)."""
    first, second = paths
    (fused,) = infos[0].fusable
    top = sorted({n for p in paths for n in p.top}, key=lambda n: n[2])
    backing_memory = dict(first.key[0])[fused]
    prefix: list[Node] = list(top)
    branches: list[list[Node]] = []
    if backing_memory == infos[0].memories[0].name:
        branches = [first.rest, second.rest]
    else:
        node = ("S", backing_memory, fused)
        cuts = [p.rest.index(node) for p in paths]
        befores = [p.rest[:c] for p, c in zip(paths, cuts, strict=True)]
        branches = [p.rest[c + 1 :] for p, c in zip(paths, cuts, strict=True)]
        segments = []
        for before in befores:
            parts: list[list[Node]] = [[]]
            loops = []
            for n in before:
                if n[0] == "L":
                    loops.append(n)
                    parts.append([])
                else:
                    parts[-1].append(n)
            segments.append((parts, loops))
        assert segments[0][1] == segments[1][1], "paths with different shared loops"
        loops = segments[0][1]
        for k in range(len(loops) + 1):
            prefix += segments[0][0][k] + segments[1][0][k]
            if k < len(loops):
                prefix.append(loops[k])
        prefix.append(node)
    return Mapping(
        nodes=[
            *_nodes(prefix),
            Sequential(
                nodes=[
                    Nested(nodes=[*_nodes(b), Compute(einsum=info.name, component=info.compute)])
                    for info, b in zip(infos, branches, strict=True)
                ]
            ),
        ]
    )


def evaluate(spec: Any, mapping: Mapping, partial: bool = False) -> tuple[float, float] | None:
    """(energy, latency), or None when the mapping is invalid or outside the mapper's space."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = evaluate_mapping(spec, mapping, allow_partial=partial)
        except InvalidMappingError:
            return None
    if any(CONSTRAINT_WARNING in str(w.message) for w in caught):
        return None
    return float(result.energy()), float(result.latency())


def _close(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return all(math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-12) for x, y in zip(a, b, strict=True))


def pareto_front(points: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """The exact Pareto front (minimise both), equal points deduplicated, sorted by energy."""
    front: list[tuple[float, float]] = []
    for e, lat in sorted(set(points)):
        if not front or lat < front[-1][1]:
            front.append((e, lat))
    return front


# --------------------------------------------------------------------------------------------
# The oracle


@dataclass
class BruteForceResult:
    """The exact front and how it was obtained."""

    front: list[tuple[float, float]]
    mappings: dict[tuple[float, float], Mapping]
    """One mapping per front point."""
    enumerated: int
    """Full mappings in the mapspace (for two Einsums: pairs of paths with equal interfaces)."""
    evaluated: int
    """Calls of ``evaluate_mapping`` (single paths and full trees)."""
    valid: int
    """Evaluated full mappings (or single paths) that were valid."""
    seconds: float
    stats: dict[str, Any] = field(default_factory=dict)


def brute_force_front(spec: Any, check_samples: int = 0, seed: int = 0) -> BruteForceResult:
    """Enumerate the mapspace of a tiny spec and return the exact (energy, latency) front."""
    start = time.perf_counter()
    ffm = spec.mapper.ffm
    for knob, default in (
        ("max_loops", float("inf")),
        ("max_loops_minus_ranks", float("inf")),
        ("explore_imperfect_temporal_loops", False),
        ("prioritize_reuse_of_unfused_tensors", False),
        ("objective_tolerance", 0),
        ("resource_usage_tolerance", 0),
    ):
        assert getattr(ffm, knob) == default, f"brute force supports only the default {knob}"
    workload = spec.evaluate_workload()
    names = list(workload.einsums)
    assert 1 <= len(names) <= 2, "brute force supports one or two Einsums"
    users: dict[str, int] = {}
    for name in names:
        for t in workload.einsums[name].einsum.tensor_names:
            users[t] = users.get(t, 0) + 1
    infos = [_einsum_info(spec, workload, name, users) for name in names]
    if len(infos) == 1:
        return _single(spec, infos[0], ffm, start)
    return _pair(spec, infos, ffm, start, check_samples, seed)


def _single(spec: Any, info: EinsumInfo, ffm: Any, start: float) -> BruteForceResult:
    points: dict[tuple[float, float], Mapping] = {}
    enumerated = valid = 0
    for path in einsum_paths(info, ffm):
        enumerated += 1
        mapping = single_mapping(info, path)
        value = evaluate(spec, mapping)
        if value is not None:
            valid += 1
            points.setdefault(value, mapping)
    front = pareto_front(points)
    return BruteForceResult(
        front,
        {p: points[p] for p in front},
        enumerated,
        enumerated,
        valid,
        time.perf_counter() - start,
    )


def _pair(
    spec: Any,
    infos: list[EinsumInfo],
    ffm: Any,
    start: float,
    check_samples: int,
    seed: int,
) -> BruteForceResult:
    evaluated = 0
    by_key: list[dict[tuple, list[EinsumPath]]] = []
    counts: list[dict[tuple, int]] = []
    for info in infos:
        groups: dict[tuple, list[EinsumPath]] = {}
        count: dict[tuple, int] = {}
        for path in einsum_paths(info, ffm):
            count[path.key] = count.get(path.key, 0) + 1
            evaluated += 1
            value = evaluate(spec, single_mapping(info, path), partial=True)
            if value is not None:
                path.energy, path.latency = value
                groups.setdefault(path.key, []).append(path)
        by_key.append(groups)
        counts.append(count)
    per_einsum_valid = [sum(len(v) for v in g.values()) for g in by_key]
    enumerated = sum(n * counts[1].get(k, 0) for k, n in counts[0].items())

    # Every valid pair with equal interfaces, as (energy sum, latency sum, group, i, j).
    keys = sorted(set(by_key[0]) & set(by_key[1]), key=repr)
    columns: list[list[np.ndarray]] = [[], [], [], [], []]
    for g, key in enumerate(keys):
        left, right = by_key[0][key], by_key[1][key]
        e0 = np.array([p.energy for p in left])
        l0 = np.array([p.latency for p in left])
        e1 = np.array([p.energy for p in right])
        l1 = np.array([p.latency for p in right])
        i, j = np.meshgrid(np.arange(len(left)), np.arange(len(right)), indexing="ij")
        i, j = i.ravel(), j.ravel()
        columns[0].append(e0[i] + e1[j])
        columns[1].append(l0[i] + l1[j])
        columns[2].append(np.full(len(i), g))
        columns[3].append(i)
        columns[4].append(j)
    energy, latency, group, first, second = (np.concatenate(c) for c in columns)
    order = np.lexsort((latency, energy))

    points: dict[tuple[float, float], Mapping] = {}
    best_latency = float("inf")
    valid = 0
    tried = np.zeros(len(order), dtype=bool)
    for idx in order:
        if latency[idx] >= best_latency:
            continue
        key = keys[group[idx]]
        pair = [by_key[0][key][first[idx]], by_key[1][key][second[idx]]]
        mapping = fused_mapping(infos, pair)
        evaluated += 1
        tried[idx] = True
        value = evaluate(spec, mapping)
        if value is None:
            continue
        valid += 1
        assert _close(value, (energy[idx], latency[idx])), (
            "energy / latency of a fused mapping are not the sums of its Einsums' values",
            value,
            (energy[idx], latency[idx]),
            mapping.to_yaml(),
        )
        points.setdefault(value, mapping)
        best_latency = min(best_latency, value[1])
    front = pareto_front(points)

    # Confirm the skipping argument on random skipped pairs.
    rng = random.Random(seed)
    skipped = np.flatnonzero(~tried)
    for idx in rng.sample(list(skipped), min(check_samples, len(skipped))):
        key = keys[group[idx]]
        pair = [by_key[0][key][first[idx]], by_key[1][key][second[idx]]]
        mapping = fused_mapping(infos, pair)
        evaluated += 1
        value = evaluate(spec, mapping)
        if value is None:
            continue
        assert _close(value, (energy[idx], latency[idx])), (value, mapping.to_yaml())
        assert any(e <= value[0] and lat <= value[1] for e, lat in front), mapping.to_yaml()

    return BruteForceResult(
        front,
        {p: points[p] for p in front},
        enumerated,
        evaluated,
        valid,
        time.perf_counter() - start,
        stats={
            "paths_per_einsum": [sum(c.values()) for c in counts],
            "valid_paths_per_einsum": per_einsum_valid,
            "interfaces": len(keys),
            "valid_path_pairs": len(order),
            "pairs_evaluated": int(tried.sum()),
        },
    )
