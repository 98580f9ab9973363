"""Access counting for one Einsum path (docs/MODEL.md §3-§5): reads and writes per holder.

Counts are in values; :mod:`accelforge.model.actions` converts them to actions. Each tensor is
counted in its own view of the path (§1.5): its holders, every loop and the Compute, with
spatial loops placed just above the first node they replicate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from accelforge.errors import InvalidMappingError
from accelforge.frontend.iteration_space import Affine, parse_affine
from accelforge.model.paths import Compute, EinsumPath, Hold, Loop

__all__ = ["TensorInfo", "TensorTransfers", "count_tensor", "tensor_view", "tile_size"]

RELEVANT, PARTIAL, IRRELEVANT = "relevant", "partial", "irrelevant"


@dataclass(frozen=True)
class TensorInfo:
    """What the counting rules need to know about one tensor of one Einsum."""

    name: str
    projection: tuple[Affine, ...]
    is_output: bool

    @classmethod
    def build(cls, name: str, projection: Mapping[str, str], is_output: bool) -> TensorInfo:
        """From an access's projection strings."""
        return cls(name, tuple(parse_affine(e) for e in projection.values()), is_output)

    @property
    def projection_variables(self) -> set[str]:
        """Every rank variable that appears in the projection."""
        return set().union(*(e.variables for e in self.projection)) if self.projection else set()

    def relevance(self, variable: str) -> str:
        """``relevant`` (a lone index), ``partial`` (inside a compound index) or ``irrelevant``."""
        found = IRRELEVANT
        for expr in self.projection:
            if variable in expr.variables:
                if expr.coefs == ((variable, 1),) and expr.const == 0:
                    return RELEVANT
                found = PARTIAL
        return found


def tile_size(info: TensorInfo, shape: Mapping[str, float]) -> float:
    """Values of ``info``'s tile for the given shapes: Π over ranks of Σ|c|(S - 1) + 1."""
    size = 1.0
    for expr in info.projection:
        size *= sum(abs(c) * (shape[v] - 1) for v, c in expr.coefs) + 1
    return size


def tensor_view(
    path: EinsumPath, info: TensorInfo, level: Mapping[str, int]
) -> list[Hold | Loop | Compute]:
    """The path as tensor ``info`` sees it: its holders, all loops and the Compute.

    A spatial loop replicates its component and everything below it, so it must sit below
    every holder of the tensor above that component and above every holder at or below it;
    where the written order disagrees, the loop is moved the shortest way (docs/MODEL.md §1.5).
    """
    view: list[Hold | Loop | Compute] = [
        n
        for n in path.nodes
        if (isinstance(n, Hold) and n.tensor == info.name) or not isinstance(n, Hold)
    ]
    for loop in [n for n in view if isinstance(n, Loop) and n.spatial]:
        home = level[loop.component or ""]
        at = view.index(loop)
        above = [i for i, n in enumerate(view[:at]) if _replicated(n, home, level)]
        below = [
            i
            for i, n in enumerate(view)
            if i > at and isinstance(n, Hold) and level[n.component] < home
        ]
        if above:
            view.pop(at)
            view.insert(above[0], loop)
        elif below:
            view.insert(below[-1] + 1, loop)
            view.pop(at)
    _check_no_swap(path, view, info)
    return view


def _replicated(node: Hold | Loop | Compute, home: int, level: Mapping[str, int]) -> bool:
    """Whether a spatial loop at arch level ``home`` replicates this holder or Compute."""
    if isinstance(node, Compute):
        return True
    return isinstance(node, Hold) and level[node.component] >= home


def _check_no_swap(path: EinsumPath, view: list, info: TensorInfo) -> None:
    original = {id(n): i for i, n in enumerate(path.nodes)}
    placed = {id(n): i for i, n in enumerate(view)}
    loops = [n for n in path.nodes if isinstance(n, Loop)]
    for a in loops:
        if not a.spatial or info.relevance(a.rank_variable) == IRRELEVANT:
            continue
        for b in loops:
            if b.spatial or b.rank_variable != a.rank_variable:
                continue
            if (original[id(a)] < original[id(b)]) != (placed[id(a)] < placed[id(b)]):
                raise InvalidMappingError(
                    f"the spatial loop over {a.rank_variable} on {a.component} would move past "
                    f"a temporal loop over the same rank variable for tensor {info.name} in "
                    f"Einsum {path.einsum}; place the spatial loop directly above the storage "
                    "node it replicates."
                )


@dataclass
class TensorTransfers:
    """Reads and writes (values) at each holder of one tensor, by holder index in the view.

    ``passing`` gives, for each requested toll level, the values crossing that level downward
    and upward (docs/MODEL.md §15); a level with no holder of the tensor above it is absent.
    """

    holders: list[Hold]
    reads: list[Any]
    writes: list[Any]
    passing: dict[int, tuple[Any, Any]] = field(default_factory=dict)


def count_tensor(
    view: list[Hold | Loop | Compute],
    info: TensorInfo,
    bounds: Mapping[str, int],
    skip_initial_output_write: Mapping[str, bool],
    may_reuse: Mapping[tuple[str, str], bool],
    unit_level: int | None = None,
    level: Mapping[str, int] | None = None,
    copy: bool = False,
    tolls: Sequence[int] = (),
) -> TensorTransfers:
    """Apply the core rule of docs/MODEL.md §4 to one tensor view.

    ``may_reuse[(component, dimension)]`` says whether the tensor may be multicast / reduced on
    that fanout dimension. With ``unit_level``, spatial loops replicating components at or
    above that arch level count 1 (per-instance counts for latency, §9.1). With ``copy`` (a
    copy Einsum, as AccelForge 1.0.467 counts it, docs/MODEL.md §11) the Compute exchanges
    nothing and data moves only upward: every holder below the first reads what it holds,
    once per iteration of the loops above it, and writes it into its parent. ``tolls`` are arch
    levels (``level`` required) whose crossing traffic is returned in ``passing``.
    """
    if copy:
        return _count_copy(view, info, bounds, unit_level, level)
    passing: dict[int, tuple[Any, Any]] = {}
    output = info.is_output
    holders = [n for n in view if isinstance(n, Hold)]
    reads: list[Any] = [0.0] * len(holders)
    writes: list[Any] = [0.0] * len(holders)
    shape: dict[str, Any] = {v: float(b) for v, b in bounds.items()}
    a_all, a_hat = _Product(), _Product()  # A_X and Â_X of docs/MODEL.md §4 (B_X divides A_X)
    spatial_open: list[Loop] = []  # spatial loops with no holder of the tensor below them yet
    vown: list[Any] = []
    kown: list[Any] = []
    for node in view:
        if isinstance(node, Loop):
            factor = _unit_factor(node, _factor(node, info), unit_level, level)
            a_all.multiply(factor)
            if node.spatial or info.relevance(node.rank_variable) == RELEVANT:
                a_hat.multiply(factor)
            if node.spatial:
                spatial_open.append(node)
            shape[node.rank_variable] = node.tile
            continue
        is_compute = isinstance(node, Compute)
        u = 1.0 if is_compute else tile_size(info, shape)
        multicast = _multicast_product(spatial_open, info, may_reuse, unit_level, level)
        vpar = a_all.value(u / multicast)
        if holders and node is not holders[0]:
            parent = len(holders) - 1 if isinstance(node, Compute) else holders.index(node) - 1
            _Edge(holders[parent], node, spatial_open, u).record(
                passing, tolls, level, (a_all, a_hat), info, may_reuse, skip_initial_output_write
            )
            reads[parent] = reads[parent] + vpar
            if output:
                s_x = float(skip_initial_output_write[node.component])
                s_p = float(skip_initial_output_write[holders[parent].component])
                if s_x and s_p:
                    reads[parent] = reads[parent] - a_hat.value(s_x * s_p * u / multicast)
                if parent > 0:
                    reads[parent] = reads[parent] + vown[parent]
                writes[parent] = writes[parent] + vpar
            if parent > 0:
                writes[parent] = writes[parent] + vown[parent] - kown[parent]
        if is_compute:
            break
        vown.append(a_all.value(u))
        s_x = float(skip_initial_output_write[node.component])
        kown.append(a_hat.value(s_x * u) if output and s_x else 0.0)
        spatial_open = []
    return TensorTransfers(holders, reads, writes, passing)


@dataclass
class _Edge:
    """The hop from a holder to the next holder (or the Compute) of one tensor."""

    parent: Hold
    child: Hold | Compute
    spatial: list[Loop]
    """Spatial loops between the two (they multicast or reduce along the hop)."""
    tile: Any
    """The child's tile of the tensor (1 for the Compute)."""

    def crosses(self, toll: int, level: Mapping[str, int]) -> bool:
        """Whether a toll at arch level ``toll`` sits on this hop."""
        return level[self.parent.component] < toll < level[self.child.component]

    def record(
        self,
        passing: dict[int, tuple[Any, Any]],
        tolls: Sequence[int],
        level: Mapping[str, int] | None,
        products: tuple[_Product, _Product],
        info: TensorInfo,
        may_reuse: Mapping[tuple[str, str], bool],
        skip: Mapping[str, bool],
    ) -> None:
        """Store in ``passing`` the crossing traffic of each toll level on this hop."""
        if not tolls:
            return
        if level is None:
            raise ValueError("toll levels need the arch levels ('level')")
        for toll in tolls:
            if toll not in passing and self.crosses(toll, level):
                passing[toll] = self.passing(toll, level, *products, info, may_reuse, skip)

    def passing(
        self,
        toll: int,
        level: Mapping[str, int],
        a_all: _Product,
        a_hat: _Product,
        info: TensorInfo,
        may_reuse: Mapping[tuple[str, str], bool],
        skip: Mapping[str, bool],
    ) -> tuple[Any, Any]:
        """Values crossing the toll downward and upward.

        Every instance of the toll pays for what it passes: only spatial loops below it
        multicast or reduce (docs/MODEL.md §15).
        """
        below = [loop for loop in self.spatial if level[loop.component or ""] > toll]
        multicast = _multicast_product(below, info, may_reuse, None, None)
        moved = a_all.value(self.tile / multicast)
        down = moved
        if info.is_output and skip[self.child.component]:
            down = moved - a_hat.value(self.tile / multicast)
        return down, (moved if info.is_output else 0.0)


def _count_copy(
    view: list[Hold | Loop | Compute],
    info: TensorInfo,
    bounds: Mapping[str, int],
    unit_level: int | None,
    level: Mapping[str, int] | None,
) -> TensorTransfers:
    """A copy Einsum's transfers of its source (see :func:`count_tensor`)."""
    holders = [n for n in view if isinstance(n, Hold)]
    reads: list[Any] = [0.0] * len(holders)
    writes: list[Any] = [0.0] * len(holders)
    shape: dict[str, Any] = {v: float(b) for v, b in bounds.items()}
    above = _Product()
    index = 0
    for node in view:
        if isinstance(node, Loop):
            above.multiply(_unit_factor(node, _factor(node, info), unit_level, level))
            shape[node.rank_variable] = node.tile
        elif isinstance(node, Hold):
            if index:
                held = above.value(tile_size(info, shape))
                reads[index] = reads[index] + held
                writes[index - 1] = writes[index - 1] + held
            index += 1
    return TensorTransfers(holders, reads, writes)


def _unit_factor(
    loop: Loop, factor: Any, unit_level: int | None, level: Mapping[str, int] | None
) -> Any:
    """``factor``, or 1 for a spatial loop replicating components at or above ``unit_level``.

    The latter counts per instance (§9.1).
    """
    if loop.spatial and unit_level is not None and level is not None:
        if level[loop.component or ""] <= unit_level:
            return 1.0
    return factor


class _Product:
    """A running product that keeps scalar and array factors apart.

    A product of many scalars and a few arrays then costs only the array multiplications.
    """

    __slots__ = ("array", "scalar")

    def __init__(self) -> None:
        self.scalar: float = 1.0
        self.array: np.ndarray | None = None

    def multiply(self, factor: Any) -> None:
        if isinstance(factor, np.ndarray):
            self.array = factor if self.array is None else self.array * factor
        else:
            self.scalar *= factor

    def value(self, times: Any = 1.0) -> Any:
        """The product multiplied by ``times``."""
        scaled = times * self.scalar
        return scaled if self.array is None else self.array * scaled


def _factor(loop: Loop, info: TensorInfo) -> float:
    """Exact factor for relevant tensors, padded iteration count for irrelevant ones (§7)."""
    return loop.factor if info.relevance(loop.rank_variable) != IRRELEVANT else loop.padded


def _multicast_product(
    loops: list[Loop],
    info: TensorInfo,
    may_reuse: Mapping[tuple[str, str], bool],
    unit_level: int | None,
    level: Mapping[str, int] | None,
) -> float:
    """Product of the factors of the loops that multicast / reduce to the next holder."""
    product = 1.0
    for loop in loops:
        if info.relevance(loop.rank_variable) != IRRELEVANT:
            continue
        if not may_reuse.get((loop.component or "", loop.dimension or ""), True):
            continue
        product *= _unit_factor(loop, loop.padded, unit_level, level)
    return product


def compute_count(path: EinsumPath, *, temporal_only: bool = False) -> float:
    """Number of computes (all loop factors), or per-instance steps (temporal factors only)."""
    return math.prod(loop.factor for loop in path.loops if not (temporal_only and loop.spatial))
