"""Per-Einsum paths through a mapping tree (docs/MODEL.md §1) and their loop factors (§2, §7).

A path is the list of nodes from the root to one Einsum's Compute, normalised: tensors the
Einsum does not access are removed from storage nodes, and multi-tensor storage nodes are split
into one :class:`Hold` per tensor in listed order.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from accelforge.errors import InvalidMappingError, SpecWarning
from accelforge.frontend import mapping as m

__all__ = [
    "Compute",
    "EinsumPath",
    "Hold",
    "Loop",
    "assign_factors",
    "einsum_paths",
    "shared_loop_count",
]


@dataclass(eq=False)
class Hold:
    """Tensor ``tensor`` stored in ``component`` (one tensor of a storage node)."""

    tensor: str
    component: str
    persistent: bool
    node_id: int
    """Identity of the mapping node it came from (shared nodes appear on several paths)."""


@dataclass(eq=False)
class Loop:
    """A temporal or spatial loop with its factors.

    ``factor`` is the exact trip count (outer tile / own tile); ``padded`` is the count of
    iterations actually run (the ceiling, for an imperfect outermost loop, §7).
    """

    rank_variable: str
    tile: Any
    """Tile shape: a float, or an array of candidate tile shapes (vectorised evaluation)."""
    spatial: bool = False
    component: str | None = None
    dimension: str | None = None
    node_id: int = 0
    factor: Any = 1.0
    padded: Any = 1.0


@dataclass
class Compute:
    """The Compute leaf of a path."""

    einsum: str
    component: str


@dataclass
class EinsumPath:
    """One Einsum's root-to-Compute path."""

    einsum: str
    nodes: list[Hold | Loop | Compute] = field(default_factory=list)
    chain: list[tuple[int, bool]] = field(default_factory=list)
    """Identity of every mapping node on the path and whether it is a loop."""

    @property
    def compute(self) -> Compute:
        """The Compute leaf."""
        leaf = self.nodes[-1]
        if not isinstance(leaf, Compute):
            raise InvalidMappingError(f"the path of Einsum {self.einsum} does not end in !Compute.")
        return leaf

    @property
    def loops(self) -> list[Loop]:
        """Loops top-down."""
        return [n for n in self.nodes if isinstance(n, Loop)]

    def holders(self, tensor: str) -> list[Hold]:
        """Storage of ``tensor`` top-down; the first is the backing holder."""
        return [n for n in self.nodes if isinstance(n, Hold) and n.tensor == tensor]


def _walk(node: m.Nested, prefix: list, out: list[tuple[str, list]]) -> None:
    chain = list(prefix)
    for child in node.nodes:
        if isinstance(child, m.Sequential):
            for branch in child.nodes:
                if not isinstance(branch, m.Nested) or isinstance(branch, m.Sequential):
                    raise InvalidMappingError(
                        "each branch of a !Sequential must be a !Nested; wrap it in !Nested."
                    )
                _walk(branch, chain, out)
            return
        if isinstance(child, m.Nested):
            _walk(child, chain, out)
            return
        chain.append(child)
        if isinstance(child, m.Compute):
            out.append((child.einsum, chain))
            return
    raise InvalidMappingError(
        "a path of the mapping does not end in a !Compute: "
        + " -> ".join(type(n).__name__ for n in chain)
    )


def einsum_paths(
    mapping: m.Mapping,
    accessed: dict[str, list[str]],
    bounds: dict[str, dict[str, int]],
    tile_values: dict[int, float],
    simple_variables: set[str],
) -> dict[str, EinsumPath]:
    """Normalised paths by Einsum, with loop factors filled in.

    ``accessed`` lists each Einsum's tensors, ``bounds`` its rank-variable bounds,
    ``tile_values`` the evaluated tile shape of each loop node (by ``id``), and
    ``simple_variables`` the rank variables that never appear in a compound index (only their
    outermost loop may be imperfect).
    """
    raw: list[tuple[str, list]] = []
    _walk(mapping, [], raw)
    paths: dict[str, EinsumPath] = {}
    for einsum, chain in raw:
        if einsum in paths:
            raise InvalidMappingError(f"Einsum {einsum} appears twice in the mapping.")
        if einsum not in accessed:
            raise InvalidMappingError(
                f"the mapping computes Einsum '{einsum}', which is not in the workload.",
                allowed=", ".join(accessed),
            )
        path = EinsumPath(einsum, chain=[(id(n), isinstance(n, m.Temporal)) for n in chain])
        for node in chain:
            if isinstance(node, m.Storage):
                path.nodes += [
                    Hold(t, node.component, node.persistent, id(node))
                    for t in node.tensors
                    if t in accessed[einsum]
                ]
            elif isinstance(node, m.Temporal):
                path.nodes.append(
                    Loop(
                        _own_variable(node, bounds[einsum], einsum),
                        tile_values[id(node)],
                        spatial=isinstance(node, m.Spatial),
                        component=getattr(node, "component", None),
                        dimension=getattr(node, "name", None),
                        node_id=id(node),
                    )
                )
            elif isinstance(node, m.Compute):
                path.nodes.append(Compute(node.einsum, node.component))
            # a !Toll node documents traffic only: Tolls are charged from the arch (§12)
        _set_factors(path, bounds[einsum], simple_variables)
        paths[einsum] = path
    return paths


def _own_variable(node: m.Temporal, bounds: Mapping[str, int], einsum: str) -> str:
    """The rank variable Einsum ``einsum`` iterates over at ``node``."""
    variable = node.rank_variable_of(einsum)
    if variable is None:
        raise InvalidMappingError(
            f"the loop over {node.rank_variable} gives no rank variable for Einsum {einsum}.",
            allowed=", ".join(sorted(bounds)),
        )
    return variable


def assign_factors(path: EinsumPath, bounds: Mapping[str, int], simple: set[str]) -> Any:
    """Set ``factor`` and ``padded`` on every loop; tiles may be floats or numpy arrays.

    Returns the validity (a bool, or a boolean array): every tile is between 1 and its
    enclosing tile, and every rank variable with bound > 1 ends with a tile of 1.
    """
    shape: dict[str, Any] = {v: float(b) for v, b in bounds.items()}
    seen: set[str] = set()
    valid: Any = True
    for loop in path.loops:
        var = loop.rank_variable
        outer = shape[var]
        valid = valid & (loop.tile >= 1) & (loop.tile <= outer)
        loop.factor = outer / loop.tile
        first_simple = var not in seen and var in simple
        loop.padded = _ceil(loop.factor) if first_simple else loop.factor
        seen.add(var)
        shape[var] = loop.tile
    for var, bound in bounds.items():
        if bound > 1:
            valid = valid & (shape[var] == 1)
    return valid


def _ceil(value: Any) -> Any:
    return np.ceil(value) if isinstance(value, np.ndarray) else float(math.ceil(value))


def _set_factors(path: EinsumPath, bounds: dict[str, int], simple: set[str]) -> None:
    """Scalar tiles: assign factors, then explain any invalid loop and warn on fractions."""
    for loop in path.loops:
        if loop.rank_variable not in bounds:
            raise InvalidMappingError(
                f"the mapping loops over '{loop.rank_variable}', which is not a rank variable "
                f"of Einsum {path.einsum}.",
                allowed=", ".join(sorted(bounds)),
            )
    valid = assign_factors(path, bounds, simple)
    outer: dict[str, float] = {v: float(b) for v, b in bounds.items()}
    seen: set[str] = set()
    for loop in path.loops:
        var = loop.rank_variable
        if loop.tile < 1 or loop.tile > outer[var]:
            raise InvalidMappingError(
                f"loop over {var} in Einsum {path.einsum} has tile shape {loop.tile:g}; it must "
                f"be between 1 and the enclosing tile {outer[var]:g}."
            )
        if not float(loop.factor).is_integer() and not (var not in seen and var in simple):
            warnings.warn(
                SpecWarning(
                    f"loop over {var} (tile {loop.tile:g}) does not divide the enclosing "
                    f"tile {outer[var]:g} in Einsum {path.einsum}; the fractional factor "
                    f"{loop.factor:.6g} is used."
                ),
                stacklevel=3,
            )
        seen.add(var)
        outer[var] = loop.tile
    if not valid:
        missing = sorted(v for v, b in bounds.items() if b > 1 and outer[v] != 1)
        raise InvalidMappingError(
            f"Missing loop with tile shape 1 for rank variables {{{', '.join(missing)}}} in "
            f"Einsum {path.einsum}."
        )


def shared_loop_count(first: EinsumPath, second: EinsumPath) -> int:
    """Number of loops in the common prefix of two paths (the fused loops)."""
    count = 0
    for (a, is_loop), (b, _) in zip(first.chain, second.chain, strict=False):
        if a != b:
            break
        count += is_loop
    return count
