"""Mapping (LoopTree) node classes of the ``mapping:`` section (SPEC_FORMAT §7.1)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping as AbcMapping
from collections.abc import Sequence
from typing import Any

from pydantic import Field, field_validator

from accelforge.errors import SpecError, SpecWarning, did_you_mean
from accelforge.frontend._base import Expr, SpecModel, dispatch_tagged

__all__ = [
    "Compute",
    "check_references",
    "iter_nodes",
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
    """A loop over one rank variable; ``tile_shape`` is the tile each iteration gets.

    A loop shared by Einsums that name its rank variable differently gives it per Einsum:
    ``{K: m, QK: p}`` when ``QK`` reads ``K[b, M: p, h, e]``, the tensor ``K`` writes with
    ``m`` (MAPPER.md §5).
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

    def render(self, bounds: dict[str, int] | None = None, spec: Any = None) -> str:
        """The loop nest as indented text, one node per line (see :mod:`.mapping_render`).

        ``bounds`` (rank variable -> size) or ``spec`` (its workload's bounds) add each
        loop's range and trip count.
        """
        from accelforge.frontend.mapping_render import render_text

        return render_text(self, bounds=bounds, spec=spec)

    def _repr_html_(self) -> str:
        """The loop nest as HTML, for Jupyter."""
        from accelforge.frontend.mapping_render import render_html

        return render_html(self)

    def to_yaml(self) -> str:
        """This mapping as a ``mapping:`` YAML section that loads back to an equal mapping."""
        from accelforge.frontend.mapping_yaml import mapping_to_yaml

        return mapping_to_yaml(self)

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


def iter_nodes(node: Nested) -> list[tuple[tuple[str | int, ...], _Node]]:
    """Every node below ``node`` with its index path (``("nodes", 2, "nodes", 0)``)."""
    out: list[tuple[tuple[str | int, ...], _Node]] = []
    for i, child in enumerate(node.nodes):
        out.append((("nodes", i), child))
        if isinstance(child, Nested):
            out += [(("nodes", i, *loc), sub) for loc, sub in iter_nodes(child)]
    return out


def check_references(
    mapping: Mapping,
    components: dict[str, str],
    einsums: dict[str, set[str]],
    tensors: set[str],
) -> None:
    """Check that every name a mapping uses exists in the spec.

    ``components`` maps component names to their kind (``Memory``, ``Compute``, ...),
    ``einsums`` maps Einsum names to their rank variables.
    """
    rank_variables = set().union(*einsums.values()) if einsums else set()
    for loc, node in iter_nodes(mapping):
        where = ("mapping", *loc)
        component = getattr(node, "component", None)
        if component is not None and component not in components:
            raise SpecError(
                f"the mapping names component '{component}', which is not in the architecture."
                f"{did_you_mean(component, components)}",
                loc=(*where, "component"),
                allowed=", ".join(components),
            )
        if isinstance(node, Storage):
            if components[node.component] != "Memory":
                raise SpecError(
                    f"!Storage needs a Memory; '{node.component}' is a "
                    f"{components[node.component]}.",
                    loc=(*where, "component"),
                )
            unknown = [t for t in node.tensors if t not in tensors]
            if unknown:
                raise SpecError(
                    f"the mapping stores unknown tensor(s) {unknown}.",
                    loc=(*where, "tensors"),
                    allowed=", ".join(sorted(tensors)),
                )
        if isinstance(node, Compute):
            if node.einsum not in einsums:
                raise SpecError(
                    f"the mapping names Einsum '{node.einsum}', which is not in the workload."
                    f"{did_you_mean(node.einsum, einsums)}",
                    loc=(*where, "einsum"),
                    allowed=", ".join(einsums),
                )
            if components[node.component] != "Compute":
                raise SpecError(
                    f"!Compute needs a Compute unit; '{node.component}' is a "
                    f"{components[node.component]}.",
                    loc=(*where, "component"),
                )
        if isinstance(node, Temporal):
            _check_loop(node, einsums, rank_variables, (*where, "rank_variable"))


def _check_loop(
    node: Temporal,
    einsums: dict[str, set[str]],
    rank_variables: set[str],
    loc: tuple[str | int, ...],
) -> None:
    """The loop's rank variable exists (given per Einsum: each is one of that Einsum's)."""
    if isinstance(node.rank_variable, str):
        if node.rank_variable not in rank_variables:
            raise SpecError(
                f"the mapping loops over '{node.rank_variable}', which is no rank variable of "
                f"the workload.{did_you_mean(node.rank_variable, rank_variables)}",
                loc=loc,
                allowed=", ".join(sorted(rank_variables)),
            )
        return
    for einsum, name in node.rank_variable.items():
        if einsum not in einsums:
            raise SpecError(
                f"the loop gives a rank variable for '{einsum}', which is no Einsum of the "
                f"workload.{did_you_mean(einsum, einsums)}",
                loc=(*loc, einsum),
                allowed=", ".join(einsums),
            )
        if name not in einsums[einsum]:
            raise SpecError(
                f"the loop gives '{name}' for Einsum '{einsum}', which has no such rank variable.",
                loc=(*loc, einsum),
                allowed=", ".join(sorted(einsums[einsum])),
            )
