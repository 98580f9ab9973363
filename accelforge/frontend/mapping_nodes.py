"""Mapping (LoopTree) node classes of the ``mapping:`` section (docs/SPEC_FORMAT.md §7.1).

The root :class:`~accelforge.frontend.mapping.Mapping` and the reference checks live in
:mod:`accelforge.frontend.mapping`, which re-exports every name here. The renderer and the YAML
writer import these classes from here, so this module imports neither.
"""

from __future__ import annotations

from collections.abc import Mapping as AbcMapping
from collections.abc import Sequence
from typing import Any

from pydantic import Field, field_validator

from accelforge.errors import SpecError
from accelforge.frontend._base import Expr, SpecModel, dispatch_tagged

__all__ = [
    "Compute",
    "LATER_TAGS",
    "MappingNode",
    "NODE_CLASSES",
    "Nested",
    "Node",
    "Pipeline",
    "Sequential",
    "Spatial",
    "Split",
    "Storage",
    "Temporal",
    "Toll",
    "iter_nodes",
]


class Node(SpecModel):
    """Base class of every mapping node.

    :data:`MappingNode` is the union of the concrete node classes a ``nodes:`` list holds.
    """

    text: str | None = None
    """Free text shown when rendering; no effect on evaluation."""


class Storage(Node):
    """The listed tensors' tiles live in ``component`` for the subtree below."""

    tensors: list[str]
    component: str
    persistent: bool = False
    binding: Any = None
    """Accepted (list or per-Einsum dict form) and ignored; re-inferred by the model."""

    @field_validator("tensors", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class Toll(Node):
    """A Toll the listed tensors pass through (accepted for AccelForge mappings).

    The model charges every Toll from the architecture (docs/MODEL.md §15), so this node only
    documents where the traffic crosses it; it is checked, never needed.
    """

    tensors: list[str]
    component: str

    @field_validator("tensors", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class Temporal(Node):
    """A loop over one rank variable; ``tile_shape`` is the tile each iteration gets.

    A loop shared by Einsums that name its rank variable differently gives it per Einsum:
    ``{K: m, QK: p}`` when ``QK`` reads ``K[b, M: p, h, e]``, the tensor ``K`` writes with
    ``m`` (docs/MAPPER.md §5).
    """

    rank_variable: str | dict[str, str]
    tile_shape: Expr | None = None
    initial_tile_shape: Expr | None = None

    @field_validator("rank_variable", mode="before")
    @classmethod
    def _one_variable(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple, set)):
            raise ValueError(
                "one rank variable per loop; write one loop per rank variable (a loop shared "
                "by Einsums that name it differently maps each Einsum to its rank variable)"
            )
        if isinstance(value, AbcMapping) and not value:
            raise ValueError("a loop needs a rank variable")
        return value

    @property
    def rank_variables(self) -> tuple[str, ...]:
        """The rank variables the loop names, without repeats (one unless given per Einsum)."""
        if isinstance(self.rank_variable, str):
            return (self.rank_variable,)
        return tuple(dict.fromkeys(self.rank_variable.values()))

    def rank_variable_of(self, einsum: str) -> str | None:
        """The rank variable Einsum ``einsum`` iterates over; None if the loop names none."""
        if isinstance(self.rank_variable, str):
            return self.rank_variable
        return self.rank_variable.get(einsum)


class Spatial(Temporal):
    """A loop spread over the instances of fanout dimension ``name`` of ``component``."""

    name: str
    component: str


class Compute(Node):
    """Leaf: Einsum ``einsum`` runs on compute unit ``component``."""

    einsum: str
    component: str


class Nested(Node):
    """A chain of nodes; only the last child may have children."""

    nodes: list[MappingNode] = Field(default_factory=list)

    @classmethod
    def prepare(cls, data: dict[str, Any], loc: Sequence[str | int]) -> dict[str, Any]:
        """Build the tagged children."""
        data["nodes"] = [
            dispatch_tagged(
                item, NODE_CLASSES, where="mapping nodes", loc=(*loc, "nodes", i), later=LATER_TAGS
            )
            for i, item in enumerate(data.get("nodes") or [])
        ]
        for i, node in enumerate(data["nodes"][:-1]):
            if isinstance(node, (Nested, Sequential)):
                raise SpecError(
                    "only the last node of a chain may have children; move this branch to "
                    "the end or wrap the following nodes in it.",
                    loc=(*loc, "nodes", i),
                )
        return data


class Sequential(Nested):
    """Branches (each a ``!Nested``) that run one after another; loops above are fused."""

    @classmethod
    def prepare(cls, data: dict[str, Any], loc: Sequence[str | int]) -> dict[str, Any]:
        """Every branch must be a ``!Nested``."""
        for i, item in enumerate(data.get("nodes") or []):
            tag = getattr(item, "tag", None) or (item.get("type") if hasattr(item, "get") else None)
            if tag == "Compute" or isinstance(item, Compute):
                raise SpecError(
                    "a branch of a split is a bare !Compute; wrap it in !Nested.",
                    loc=(*loc, "nodes", i),
                )
        data["nodes"] = [
            dispatch_tagged(
                item, NODE_CLASSES, where="mapping nodes", loc=(*loc, "nodes", i), later=LATER_TAGS
            )
            for i, item in enumerate(data.get("nodes") or [])
        ]
        return data


class Pipeline(Sequential):
    """Evaluated exactly like :class:`Sequential` (no overlap is modelled)."""


class Split(Sequential):
    """Alias of :class:`Sequential`."""


MappingNode = Storage | Toll | Temporal | Spatial | Compute | Nested | Sequential | Pipeline | Split
NODE_CLASSES: dict[str, type[SpecModel]] = {
    "Storage": Storage,
    "Toll": Toll,
    "Temporal": Temporal,
    "Spatial": Spatial,
    "Compute": Compute,
    "Nested": Nested,
    "Sequential": Sequential,
    "Pipeline": Pipeline,
    "Split": Split,
}
LATER_TAGS = ("Reservation", "TextBox")
Nested.model_rebuild()
Sequential.model_rebuild()
Pipeline.model_rebuild()
Split.model_rebuild()


def iter_nodes(node: Nested) -> list[tuple[tuple[str | int, ...], Node]]:
    """Every node below ``node`` with its index path (``("nodes", 2, "nodes", 0)``)."""
    out: list[tuple[tuple[str | int, ...], Node]] = []
    for i, child in enumerate(node.nodes):
        out.append((("nodes", i), child))
        if isinstance(child, Nested):
            out += [(("nodes", i, *loc), sub) for loc, sub in iter_nodes(child)]
    return out
