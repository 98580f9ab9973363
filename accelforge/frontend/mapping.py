"""Mapping (LoopTree) node classes of the ``mapping:`` section (SPEC_FORMAT §7.1)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from pydantic import Field, field_validator

from accelforge.errors import SpecError, SpecWarning
from accelforge.frontend._base import Expr, SpecModel, dispatch_tagged

__all__ = [
    "Compute",
    "Mapping",
    "MappingNode",
    "Nested",
    "Pipeline",
    "Sequential",
    "Spatial",
    "Split",
    "Storage",
    "Temporal",
]


class _Node(SpecModel):
    text: str | None = None
    """Free text shown when rendering; no effect on evaluation."""


class Storage(_Node):
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


class Temporal(_Node):
    """A loop over one rank variable; ``tile_shape`` is the tile each iteration gets."""

    rank_variable: str
    tile_shape: Expr | None = None
    initial_tile_shape: Expr | None = None

    @field_validator("rank_variable", mode="before")
    @classmethod
    def _one_variable(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple, set)):
            raise ValueError("one rank variable per loop; write one loop per rank variable")
        return value


class Spatial(Temporal):
    """A loop spread over the instances of fanout dimension ``name`` of ``component``."""

    name: str
    component: str


class Compute(_Node):
    """Leaf: Einsum ``einsum`` runs on compute unit ``component``."""

    einsum: str
    component: str


class Nested(_Node):
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


class Mapping(Nested):
    """The root of a mapping; behaves like :class:`Nested`."""

    title: str | None = None

    @classmethod
    def prepare(cls, data: dict[str, Any], loc: Sequence[str | int]) -> dict[str, Any]:
        """Drop user ``!Reservation`` nodes with a warning, then build the chain."""
        kept = []
        for item in data.get("nodes") or []:
            if getattr(item, "tag", None) == "Reservation":
                warnings.warn(
                    SpecWarning(
                        "!Reservation nodes are written by the model; the "
                        "ones in the mapping are discarded."
                    ),
                    stacklevel=2,
                )
                continue
            kept.append(item)
        data["nodes"] = kept
        return super().prepare(data, loc)


MappingNode = Storage | Temporal | Spatial | Compute | Nested | Sequential | Pipeline | Split
NODE_CLASSES: dict[str, type[SpecModel]] = {
    "Storage": Storage,
    "Temporal": Temporal,
    "Spatial": Spatial,
    "Compute": Compute,
    "Nested": Nested,
    "Sequential": Sequential,
    "Pipeline": Pipeline,
    "Split": Split,
}
LATER_TAGS = ("Toll", "Reservation", "TextBox")
Nested.model_rebuild()
Sequential.model_rebuild()
Pipeline.model_rebuild()
Split.model_rebuild()
Mapping.model_rebuild()
