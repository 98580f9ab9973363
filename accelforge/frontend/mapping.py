"""The ``mapping:`` section (docs/SPEC_FORMAT.md §7.1): its root node and the reference checks.

The node classes are defined in :mod:`accelforge.frontend.mapping_nodes` and re-exported here.
:class:`Mapping` draws itself with :mod:`.mapping_render` and writes itself with
:mod:`.mapping_yaml`; both of those import only the node classes, never this module.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from accelforge.errors import SpecError, SpecWarning, did_you_mean
from accelforge.frontend.mapping_nodes import LATER_TAGS as LATER_TAGS
from accelforge.frontend.mapping_nodes import NODE_CLASSES as NODE_CLASSES
from accelforge.frontend.mapping_nodes import (
    Compute,
    MappingNode,
    Nested,
    Node,
    Pipeline,
    Sequential,
    Spatial,
    Split,
    Storage,
    Temporal,
    Toll,
    iter_nodes,
)
from accelforge.frontend.mapping_render import render_html, render_text
from accelforge.frontend.mapping_yaml import mapping_to_yaml

__all__ = [
    "Compute",
    "check_references",
    "iter_nodes",
    "Mapping",
    "MappingNode",
    "Nested",
    "Node",
    "Pipeline",
    "Sequential",
    "Spatial",
    "Split",
    "Storage",
    "Temporal",
    "Toll",
]


class Mapping(Nested):
    """The root of a mapping; behaves like :class:`Nested`."""

    title: str | None = None

    def render(
        self,
        bounds: dict[str, int] | None = None,
        spec: Any = None,
        *,
        with_tile_shape: bool = True,
        with_reservations: bool = True,
    ) -> str:
        """The loop nest as indented text, one node per line (see :mod:`.mapping_render`).

        ``bounds`` (rank variable -> size) or ``spec`` (its workload's bounds) add each
        loop's range and trip count; ``with_tile_shape=False`` leaves the tile sizes out.
        ``with_reservations`` is AccelForge's switch for its reservation nodes, which this
        text never draws (accepted so its calls run unchanged).
        """
        del with_reservations  # nothing to leave out: storage nodes are the reservations
        shown = self if with_tile_shape else _without_tile_shapes(self)
        return render_text(shown, bounds=bounds, spec=spec)

    def _repr_html_(self) -> str:
        """The loop nest as HTML, for Jupyter."""
        return render_html(self)

    def to_yaml(self) -> str:
        """The mapping as a ``mapping:`` YAML section that loads back to an equal mapping."""
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


Mapping.model_rebuild()


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
        if isinstance(node, (Storage, Toll)):
            needed = "Memory" if isinstance(node, Storage) else "Toll"
            if components[node.component] != needed:
                raise SpecError(
                    f"!{type(node).__name__} needs a {needed}; '{node.component}' is a "
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


def _without_tile_shapes(mapping: Mapping) -> Mapping:
    """A copy of ``mapping`` whose loops carry no tile shape (for rendering)."""
    copy = mapping.model_copy(deep=True)

    def clear(nodes: list[Any]) -> None:
        for node in nodes:
            if isinstance(node, Temporal):
                node.tile_shape = None
                node.initial_tile_shape = None
            if isinstance(node, Nested):
                clear(node.nodes)

    clear(copy.nodes)
    return copy
