"""Pmapping templates of one Einsum (docs/MAPPER.md §3): placements, storage orders, loops.

A template fixes everything but tile shapes: which memories hold which tensors, the order of
the storage nodes, and one loop per allowed rank variable in each gap between them. It is an
:class:`~accelforge.model.paths.EinsumPath` whose loop tiles are filled in by the tile search.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from accelforge.frontend.evaluate_arch import EvaluatedArch, EvaluatedComponent, EvaluatedTensors
from accelforge.frontend.evaluate_workload import EinsumFacts
from accelforge.frontend.mapper.ffm import FFM
from accelforge.frontend.sets import TensorSet
from accelforge.frontend.values import Where, evaluate_set
from accelforge.mapper._templates.crossing import crossing_variants
from accelforge.model.access import RELEVANT, TensorInfo
from accelforge.model.paths import Compute, EinsumPath, Hold, Loop

__all__ = ["Template", "TemplateStats", "make_templates", "placements"]


@dataclass
class Template:
    """One pmapping template: a path whose loops still need tile shapes."""

    einsum: str
    compute: str
    ordinal: int
    path: EinsumPath

    @property
    def id(self) -> str:
        """Stable id: Einsum, compute unit, ordinal."""
        return f"{self.einsum}/{self.compute}/{self.ordinal}"


@dataclass
class TemplateStats:
    """Counts reported for one (Einsum, compute unit)."""

    placements: int = 0
    dropped_placements: int = 0
    templates: int = 0
    capped: bool = False
    notes: list[str] = field(default_factory=list)
    unheld: set[str] | None = None
    """Tensors that every dropped placement left without a Memory (None: none dropped)."""

    def why_no_template(self) -> str:
        """The reason an Einsum got no template, for the no-mapping message."""
        if self.unheld:
            return (
                f"tensor(s) {', '.join(sorted(self.unheld))} can be kept by no Memory on the "
                "path (a Toll never holds a tensor): add it to a Memory's tensors.keep or "
                "may_keep"
            )
        return "no storage placement meets the arch's keep / may_keep / back sets"


def _memories(flat: list) -> list[EvaluatedComponent]:
    return [
        n for n in flat if isinstance(n, EvaluatedComponent) and n.kind == "Memory" and n.enabled
    ]


def _placement_sets(memory: EvaluatedComponent) -> EvaluatedTensors:
    """``memory``'s tensor placement sets (every evaluated Memory has them)."""
    tensors = memory.tensors
    if tensors is None:
        raise TypeError(f"memory {memory.name} has no evaluated tensor placement sets")
    return tensors


def _resolve(value: Any, scope: Mapping[str, Any], where: str) -> TensorSet:
    if isinstance(value, str):
        return evaluate_set(value, scope, Where(where))
    return value


def placements(flat: list, facts: EinsumFacts) -> Iterator[dict[str, frozenset[str]]]:
    """Every dataplacement (memory -> tensors kept) allowed by keep / may_keep / back (§3.1)."""
    memories = _memories(flat)
    everything = facts.symbols["All"]

    def walk(i: int, chosen: dict[str, frozenset[str]]) -> Iterator[dict[str, frozenset[str]]]:
        if i == len(memories):
            yield dict(chosen)
            return
        memory = memories[i]
        above: set[str] = set().union(*chosen.values()) if chosen else set()
        scope = {**facts.symbols, "Above": everything._new(above)}
        scope.update({name: everything._new(tensors) for name, tensors in chosen.items()})
        where = f"arch.nodes.{memory.name}.tensors"
        sets = _placement_sets(memory)
        keep = _resolve(sets.keep, scope, f"{where}.keep")
        back = sets.back
        may_keep = _resolve(sets.may_keep, scope, f"{where}.may_keep")
        if back.names & above:
            return
        must = keep.names | back.names
        optional = may_keep.names - must
        if facts.einsum.is_copy_operation:
            optional -= above
        for size in range(len(optional) + 1):
            for subset in itertools.combinations(sorted(optional), size):
                chosen[memory.name] = frozenset(must | set(subset))
                yield from walk(i + 1, chosen)
                del chosen[memory.name]

    yield from walk(0, {})


@dataclass(frozen=True)
class _Node:
    memory: str
    tensor: str
    level: int
    backing: bool
    persistent: bool
    required: bool


def _orders(
    nodes: list[_Node], facts: EinsumFacts, ffm: FFM, fusable: set[str], flat: list
) -> Iterator[list[_Node]]:
    """Storage orders obeying §3.2 rules 1-5 and 7, built with early pruning."""
    outermost = memory_level(flat, _memories(flat)[0].name)
    first = sorted(
        (n for n in nodes if n.level == outermost or n.persistent),
        key=lambda n: (n.tensor, n.level),
    )
    rest = [n for n in nodes if n not in first]
    forced = {m.name: _placement_sets(m).force_memory_hierarchy_order for m in _memories(flat)}
    fanout = {n.name: getattr(n, "cumulative_fanout", 1) for n in flat}
    hierarchy = bool(ffm.force_memory_hierarchy_order)

    def build(placed: list[_Node], remaining: list[_Node]) -> Iterator[list[_Node]]:
        if not remaining:
            yield list(placed)
            return
        for node in remaining:
            if _may_follow(placed, node, remaining, fusable, hierarchy, forced, fanout):
                rest_nodes = [n for n in remaining if n is not node]
                yield from build([*placed, node], rest_nodes)

    for order in build(list(first), rest):
        if _order_options_ok(order, flat, facts, ffm):
            yield order


def _may_follow(
    placed: list[_Node],
    node: _Node,
    remaining: list[_Node],
    fusable: set[str],
    hierarchy: bool,
    forced: Mapping[str, bool],
    fanout: Mapping[str, int],
) -> bool:
    """Whether ``node`` may come next after ``placed``, above the rest of ``remaining``.

    ``hierarchy`` is the FFM's ``force_memory_hierarchy_order``, ``forced`` each memory's own
    flag, ``fanout`` each node's cumulative fanout.
    """
    for other in remaining:
        if other is node:
            continue
        # other will sit below node: check node may be above other
        if other.tensor == node.tensor and other.level < node.level:
            return False
        if other.level < node.level and (
            other.backing
            and other.tensor in fusable
            or (
                hierarchy
                and forced[node.memory]
                and forced[other.memory]
                and not other.persistent
                and not node.persistent
            )
        ):
            return False
    if placed:
        last = placed[-1]
        if (
            last.tensor == node.tensor
            and fanout[last.memory] == fanout[node.memory]
            and not last.required
            and not last.backing
        ):
            return False
    return True


def _order_options_ok(order: list[_Node], flat: list, facts: EinsumFacts, ffm: FFM) -> bool:
    for memory in _memories(flat):
        mine = [n for n in order if n.memory == memory.name]
        options = [
            [set(s) if not isinstance(s, str) else set() for s in option]
            for option in _placement_sets(memory).tensor_order_options
        ]
        if not options and ffm.prioritize_reuse_of_unfused_tensors:
            above = {n.tensor for n in order if n.level < memory_level(flat, memory.name)}
            options = [[above, set(facts.einsum.tensor_names) - above]]
        if options and not any(_satisfies(mine, option) for option in options):
            return False
    return True


def memory_level(flat: list, name: str) -> int:
    """Index of ``name`` in the flattened architecture."""
    return next(i for i, n in enumerate(flat) if n.name == name)


def _satisfies(nodes: list[_Node], option: list[set[str]]) -> bool:
    rank = {t: i for i, group in enumerate(option) for t in group}
    ranks = [rank[n.tensor] for n in nodes if n.tensor in rank]
    return ranks == sorted(ranks)


def _gap_variables(
    order: list[_Node],
    index: int,
    infos: Mapping[str, TensorInfo],
    variables: list[str],
    fusable: set[str],
    ffm: FFM,
    fused_depth: int,
    landing: bool,
) -> list[str]:
    """Rank variables that get a loop in the gap after ``order[index]`` (§3.3 rules 1-7).

    ``index`` -1 is the gap above every node, which exists when no node is in the outermost
    memory or persistent (the first group is empty). ``landing`` (rule 7) keeps the loops that
    rules 5-6 would drop.
    """
    placed = {n.tensor for n in order[: index + 1]}
    unplaced = [t for t in infos if t not in placed]
    allowed = []
    for var in variables:
        if any(infos[t].relevance(var) != RELEVANT for t in unplaced):
            continue
        if ffm.max_fused_loops == 0 and any(t in fusable for t in unplaced):
            continue
        if landing:
            allowed.append(var)
            continue
        below = order[index] if index >= 0 else None
        if below and not below.backing and infos[below.tensor].relevance(var) == RELEVANT:
            continue
        if index + 1 < len(order) and index + 1 > fused_depth:
            above = order[index + 1]
            earlier_partial = any(
                infos[n.tensor].relevance(var) == "partial" for n in order[: index + 1]
            )
            if infos[above.tensor].relevance(var) != RELEVANT and not earlier_partial:
                continue
        allowed.append(var)
    return allowed


def _spatials_may_land(
    order: list[_Node], index: int, group_end: int, fanout: Mapping[str, int]
) -> bool:
    """§3.3 rule 7: spatial loops replicating ``order[index]`` may be placed below its gap.

    AccelForge 1.0.467's test: the node's fanout exceeds the next node's and every earlier
    node's, i.e. the storage order lifted it above memories outside its fanout.
    """
    if index == group_end:
        return False
    here = fanout[order[index].memory]
    below = fanout[order[index + 1].memory] if index + 1 < len(order) else math.inf
    return below < here and all(fanout[n.memory] < here for n in order[:index])


def make_templates(
    arch: EvaluatedArch, compute: str, facts: EinsumFacts, ffm: FFM, fusable: set[str]
) -> tuple[list[Template], TemplateStats]:
    """Every template of one Einsum on one compute unit, in a deterministic order."""
    flat = arch.path_to(compute)
    stats = TemplateStats()
    if not arch.components[compute].enabled:
        stats.notes.append(f"{compute} is disabled for Einsum {facts.name}")
        return [], stats
    infos = {
        a.name: TensorInfo.build(a.name, a.projection, a.output)
        for a in facts.einsum.tensor_accesses
    }
    variables = sorted(v for v, b in facts.rank_variable_bounds.items() if b > 1)
    templates: list[Template] = []
    seen: set[tuple] = set()
    limit = float(ffm.max_pmapping_templates_per_einsum)  # evaluated: an int or inf
    for path in _candidate_paths(flat, facts, ffm, fusable, infos, variables, stats):
        key = _dedupe_key(path)
        if key in seen:
            continue
        seen.add(key)
        if len(templates) >= limit:
            stats.capped = True
            break
        templates.append(Template(facts.name, compute, len(templates), path))
    stats.templates = len(templates)
    return templates, stats


def _candidate_paths(
    flat: list,
    facts: EinsumFacts,
    ffm: FFM,
    fusable: set[str],
    infos: Mapping[str, TensorInfo],
    variables: list[str],
    stats: TemplateStats,
) -> Iterator[EinsumPath]:
    """Template paths before deduplication: placement x order x loop order x crossing fix."""
    compute = flat[-1].name
    level = {n.name: i for i, n in enumerate(flat)}
    remove_spatials = bool(ffm.out_of_order_hierarchy_explore_removing_spatials_for_more_temporals)
    for placement in placements(flat, facts):
        stats.placements += 1
        held = set().union(*placement.values()) if placement else set()
        if set(infos) - held:
            stats.dropped_placements += 1
            missing = set(infos) - held
            stats.unheld = missing if stats.unheld is None else stats.unheld & missing
            continue
        nodes = _placement_nodes(placement, flat, facts, level)
        for order in _orders(nodes, facts, ffm, fusable, flat):
            if facts.einsum.is_copy_operation:
                order = _through_last_backing(order)
            for first in _first_loop_choices(order, infos, variables, ffm):
                path = _template_path(
                    order, infos, variables, fusable, ffm, facts, compute, flat, first
                )
                yield from crossing_variants(path, level, infos, remove_spatials)


def _through_last_backing(order: list[_Node]) -> list[_Node]:
    """A copy Einsum's storage order, ending once every tensor has its backing node.

    As in AccelForge 1.0.467 (the copy is counted on its backing nodes only, docs/MODEL.md §11).
    """
    last = max(i for i, node in enumerate(order) if node.backing)
    return order[: last + 1]


def _placement_nodes(
    placement: Mapping[str, frozenset[str]],
    flat: list,
    facts: EinsumFacts,
    level: Mapping[str, int],
) -> list[_Node]:
    nodes = []
    backed: set[str] = set()
    memories = _memories(flat)
    for memory in memories:
        sets = _placement_sets(memory)
        required = sets.back.names
        keep = sets.keep
        if not isinstance(keep, str):
            required = required | keep.names
        for tensor in sorted(placement.get(memory.name, ())):
            nodes.append(
                _Node(
                    memory.name,
                    tensor,
                    level[memory.name],
                    tensor not in backed,
                    tensor not in backed and facts.persistent[tensor],
                    tensor in required,
                )
            )
            backed.add(tensor)
    return nodes


def _template_path(
    order: list[_Node],
    infos: Mapping[str, TensorInfo],
    variables: list[str],
    fusable: set[str],
    ffm: FFM,
    facts: EinsumFacts,
    compute: str,
    flat: list,
    first: Mapping[int, str] | None = None,
) -> EinsumPath:
    """The template path for one storage order; ``first[gap]`` puts that variable first."""
    first = first or {}
    outermost = memory_level(flat, _memories(flat)[0].name)
    group_end = max(
        (i for i, n in enumerate(order) if n.level == outermost or n.persistent), default=-1
    )
    fused_backing = [i for i, n in enumerate(order) if n.backing and n.tensor in fusable]
    fused_depth = max(fused_backing) if fused_backing else -1
    spatial = _spatial_slots(order, flat, infos, variables)
    fanout = {m.name: m.cumulative_fanout for m in _memories(flat)}
    path = EinsumPath(facts.name)
    if group_end < 0:
        top = _gap_variables(order, -1, infos, variables, fusable, ffm, fused_depth, False)
        path.nodes.extend(Loop(var, 1.0, node_id=i) for i, var in enumerate(top))
        _append_spatial_loops(path, spatial.get(-1, []), ffm)
    for index, node in enumerate(order):
        path.nodes.append(Hold(node.tensor, node.memory, node.persistent, len(path.nodes)))
        if index < group_end:
            continue
        landing = _spatials_may_land(order, index, group_end, fanout)
        gap = _gap_variables(order, index, infos, variables, fusable, ffm, fused_depth, landing)
        if index in first and first[index] in gap:
            gap = [first[index]] + [v for v in gap if v != first[index]]
        for var in gap:
            path.nodes.append(Loop(var, 1.0, node_id=len(path.nodes)))
        _append_spatial_loops(path, spatial.get(index, []), ffm)
    backing_positions = [
        i for i, n in enumerate(path.nodes) if isinstance(n, Hold) and _is_backing(order, n)
    ]
    fused_positions = [
        i
        for i, n in enumerate(path.nodes)
        if isinstance(n, Hold) and _is_backing(order, n) and n.tensor in fusable
    ]
    fused_end = max(fused_positions, default=-1)
    looped = {
        n.rank_variable
        for i, n in enumerate(path.nodes)
        if isinstance(n, Loop) and not n.spatial and i > fused_end
    }
    insert_at = max(backing_positions)
    for var in variables:
        if var not in looped:
            insert_at += 1
            path.nodes.insert(insert_at, Loop(var, 1.0, node_id=len(path.nodes) + 1000))
    path.nodes.append(Compute(facts.name, compute))
    path.chain = [(i, isinstance(n, Loop)) for i, n in enumerate(path.nodes)]
    return path


def _append_spatial_loops(path: EinsumPath, slot: list[tuple[str, str, str]], ffm: FFM) -> None:
    """One gap's spatial loops, each (component, dimension, variable).

    With ``explore_imperfect_spatial_loops``, then room for an imperfect split (§4.2).
    """
    for component, dimension, var in slot:
        path.nodes.append(
            Loop(
                var,
                1.0,
                spatial=True,
                component=component,
                dimension=dimension,
                node_id=len(path.nodes),
            )
        )
    if ffm.explore_imperfect_spatial_loops:
        for var in dict.fromkeys(var for _, _, var in slot):
            path.nodes.append(Loop(var, 1.0, node_id=len(path.nodes)))


def _first_loop_choices(
    order: list[_Node], infos: Mapping[str, TensorInfo], variables: list[str], ffm: FFM
) -> list[dict[int, str]]:
    """Loop-order variants (§3.3): each partially relevant variable tried first in its gap.

    Only partially relevant variables (convolution windows) can make loop order matter, through
    where a lowered reservation stops; with ``explore_loop_orders`` off one order is kept.
    """
    partial = sorted(
        v for v in variables if any(info.relevance(v) == "partial" for info in infos.values())
    )
    if not ffm.explore_loop_orders or not partial:
        return [{}]
    choices: list[dict[int, str]] = [{}]
    for index in range(len(order)):
        choices += [{index: var} for var in partial]
    return choices


def _is_backing(order: list[_Node], hold: Hold) -> bool:
    return next(n.backing for n in order if n.tensor == hold.tensor and n.memory == hold.component)


def _spatial_slots(
    order: list[_Node], flat: list, infos: Mapping[str, TensorInfo], variables: list[str]
) -> dict[int, list[tuple[str, str, str]]]:
    """Spatial loops by the index of the holder they follow (§3.5)."""
    slots: dict[int, list[tuple[str, str, str]]] = {}
    outermost = memory_level(flat, _memories(flat)[0].name)
    for home, node in enumerate(flat):
        for dim in node.spatial:
            if dim.fanout <= 1:
                continue
            above = [i for i, n in enumerate(order) if n.level < home]
            if not above and any(n.level == outermost for n in order):
                continue  # a fanout of the outermost memory itself: no loop replicates it
            index = max(above, default=-1)  # -1: nothing is held above, loops go on top
            placed = {n.tensor for n in order[: index + 1]}
            unplaced = [t for t in infos if t not in placed]
            shared = (
                set().union(*(infos[t].projection_variables for t in dim.reuse if t in infos))
                if dim.reuse
                else set()
            )
            forced_one = set()
            for names, op, value in dim.loop_bounds:
                if value == 1 and op.removeprefix("product") in ("==", "<=", "<"):
                    forced_one |= set(names)
            for var in variables:
                if var in shared or var in forced_one:
                    continue
                if any(infos[t].relevance(var) != RELEVANT for t in unplaced):
                    continue
                slots.setdefault(index, []).append((node.name, dim.name, var))
    return slots


def _dedupe_key(path: EinsumPath) -> tuple:
    key: list[Any] = []
    run: set[tuple[str, str]] = set()
    for node in path.nodes:
        if isinstance(node, Hold):
            run.add((node.component, node.tensor))
            continue
        if run:
            key.append(frozenset(run))
            run = set()
        key.append(
            (node.rank_variable, node.component, node.dimension)
            if isinstance(node, Loop)
            else "compute"
        )
    return tuple(key)
