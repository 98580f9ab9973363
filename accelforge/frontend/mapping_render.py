"""Show a :class:`~accelforge.frontend.mapping.Mapping` as an indented loop nest (text or HTML).

One line per node, children indented below the loop that encloses them::

    [MainMemory] T0, W0, T1
    [GlobalBuffer] T0, W0, T1
    for m, tile 8
      spatial-for m, tile 2 over LocalBuffer.Z
        [LocalBuffer] T0, T1
        compute Matmul0 on MAC

- ``[Component] tensors`` is a ``!Storage`` node (``(persistent)`` when it is);
- ``for v, tile t`` is a ``!Temporal`` loop; with the rank-variable bounds known (``bounds=`` or
  ``spec=``) it reads ``for v in [0, 64) step 8 (8 iterations)``; a loop shared by Einsums
  that name its rank variable differently reads ``for m/p, tile t``;
- ``spatial-for v, tile t over Component.dim`` is a ``!Spatial`` loop (``(4 instances)`` with
  bounds);
- ``compute Einsum on Unit`` is a ``!Compute`` leaf;
- ``sequential`` / ``pipeline`` / ``split`` introduce branches, one ``branch i: Einsums`` each;
  every loop above such a split that is shared by more than one Einsum carries
  ``[fused: E1, E2]``.

A ``!Nested`` that is itself the last node of a chain is shown inline (it adds no scope).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping as AbcMapping
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from accelforge.frontend.mapping_nodes import (
    Compute,
    Nested,
    Pipeline,
    Sequential,
    Spatial,
    Split,
    Storage,
    Temporal,
    Toll,
)

if TYPE_CHECKING:
    from accelforge.frontend.mapping import Mapping

__all__ = ["RenderItem", "mapping_items", "render_html", "render_text"]

_TEXT_INDENT = "  "
_CSS = """
.af-mapping{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
.af-mapping ul{list-style:none;margin:0;padding-left:1.4em;border-left:1px dotted #bbb}
.af-mapping>ul{padding-left:0;border-left:none}
.af-mapping li{margin:1px 0}
.af-mapping .af-node{padding:0 4px;border-radius:3px;white-space:pre}
.af-mapping .af-title{font-weight:bold;margin-bottom:4px}
.af-mapping .af-storage{background:#e3f2fd;color:#0d47a1}
.af-mapping .af-temporal{background:#fff3e0;color:#e65100}
.af-mapping .af-spatial{background:#e8f5e9;color:#1b5e20}
.af-mapping .af-compute{background:#fce4ec;color:#880e4f;font-weight:bold}
.af-mapping .af-split{background:#ede7f6;color:#4527a0;font-style:italic}
.af-mapping .af-branch{color:#4527a0}
.af-mapping .af-fused{outline:2px solid #c62828}
.af-mapping .af-fused-tag{color:#c62828;font-size:11px;margin-left:6px}
.af-mapping .af-note{color:#777;margin-left:6px}
""".strip()


@dataclass
class RenderItem:
    """One shown line: what it is, its text, and the lines nested under it.

    ``kind`` is one of ``title``, ``storage``, ``temporal``, ``spatial``, ``compute``,
    ``split``, ``branch``; ``fused`` lists the Einsums sharing a loop above a split (empty when
    the loop serves one Einsum); ``note`` is the node's free ``text``.
    """

    kind: str
    text: str
    fused: tuple[str, ...] = ()
    note: str | None = None
    children: list[RenderItem] = field(default_factory=list)


def render_text(
    mapping: Mapping,
    bounds: AbcMapping[str, int] | None = None,
    spec: Any = None,
) -> str:
    """The mapping as indented text, one node per line (no trailing newline).

    Parameters
    ----------
    mapping:
        The mapping to show.
    bounds:
        Rank-variable sizes (``{"m": 64}``); loops over these show their range and trip count.
    spec:
        A :class:`~accelforge.frontend.spec.Spec` whose workload gives the bounds (``bounds``
        entries take precedence).
    """
    lines: list[str] = []

    def walk(items: Sequence[RenderItem], depth: int) -> None:
        for item in items:
            line = _TEXT_INDENT * depth + item.text
            if item.fused:
                line += f"  [fused: {', '.join(item.fused)}]"
            if item.note:
                line += f"  # {item.note}"
            lines.append(line)
            walk(item.children, depth + 1)

    walk(mapping_items(mapping, bounds, spec), 0)
    return "\n".join(lines)


def render_html(
    mapping: Mapping,
    bounds: AbcMapping[str, int] | None = None,
    spec: Any = None,
) -> str:
    """The mapping as nested HTML lists with inline CSS, for Jupyter (every name escaped)."""
    items = mapping_items(mapping, bounds, spec)
    parts = [f'<div class="af-mapping"><style>{_CSS}</style>']
    if items and items[0].kind == "title":
        parts.append(f'<div class="af-title">{html.escape(items[0].text)}</div>')
        items = items[1:]
    parts.append(_html_list(items))
    parts.append("</div>")
    return "".join(parts)


def mapping_items(
    mapping: Mapping,
    bounds: AbcMapping[str, int] | None = None,
    spec: Any = None,
) -> list[RenderItem]:
    """The tree of lines :func:`render_text` and :func:`render_html` draw."""
    known = dict(_spec_bounds(spec)) if spec is not None else {}
    known.update(bounds or {})
    items: list[RenderItem] = []
    if mapping.title or mapping.text:
        items.append(RenderItem("title", mapping.title or "mapping", note=mapping.text))
    return items + _chain(mapping.nodes, dict(known))


def _spec_bounds(spec: Any) -> dict[str, int]:
    workload = spec.evaluate_workload()
    out: dict[str, int] = {}
    for facts in workload.einsums.values():
        for name, size in facts.rank_variable_bounds.items():
            out.setdefault(name, size)
    return out


def _chain(nodes: Sequence[Any], outer: dict[str, Any]) -> list[RenderItem]:
    """Lines of a chain; ``outer`` maps each rank variable to its current tile size."""
    items: list[RenderItem] = []
    for i, node in enumerate(nodes):
        if isinstance(node, Sequential):
            items.append(_split(node, outer))
        elif isinstance(node, Nested):
            items += _chain(node.nodes, outer)
        elif isinstance(node, Temporal):
            body = dict(outer)
            text = _loop_text(node, outer, body)
            einsums = _einsums(nodes[i + 1 :])
            item = RenderItem(
                "spatial" if isinstance(node, Spatial) else "temporal",
                text,
                fused=tuple(einsums) if len(einsums) > 1 else (),
                note=node.text,
                children=_chain(nodes[i + 1 :], body),
            )
            items.append(item)
            return items
        elif isinstance(node, Toll):
            text = f"[{node.component}] {', '.join(node.tensors)} (toll)"
            items.append(RenderItem("storage", text, note=node.text))
        elif isinstance(node, Storage):
            text = f"[{node.component}] {', '.join(node.tensors)}"
            if node.persistent:
                text += " (persistent)"
            items.append(RenderItem("storage", text, note=node.text))
        elif isinstance(node, Compute):
            items.append(
                RenderItem("compute", f"compute {node.einsum} on {node.component}", note=node.text)
            )
        else:
            items.append(RenderItem("storage", type(node).__name__))
    return items


def _split(node: Sequential, outer: dict[str, Any]) -> RenderItem:
    if isinstance(node, Pipeline):
        word = "pipeline"
    elif isinstance(node, Split):
        word = "split"
    else:
        word = "sequential"
    count = len(node.nodes)
    item = RenderItem(
        "split", f"{word} ({count} branch{'es' if count != 1 else ''})", note=node.text
    )
    for j, branch in enumerate(node.nodes, start=1):
        einsums = _einsums([branch])
        label = f"branch {j}" + (f": {', '.join(einsums)}" if einsums else "")
        children = branch.nodes if isinstance(branch, Nested) else [branch]
        note = branch.text if isinstance(branch, Nested) else None
        item.children.append(
            RenderItem("branch", label, note=note, children=_chain(children, dict(outer)))
        )
    return item


def _loop_text(node: Temporal, outer: dict[str, Any], body: dict[str, Any]) -> str:
    """The loop's line; records in ``body`` the tile size its children see."""
    names = node.rank_variables
    var = "/".join(names)
    tile = node.tile_shape
    size = next((outer[n] for n in names if n in outer), None)
    int_tile = tile if isinstance(tile, int) and not isinstance(tile, bool) else None
    spatial = isinstance(node, Spatial)
    word = "spatial-for" if spatial else "for"
    if isinstance(size, int) and not isinstance(size, bool):
        text = f"{word} {var} in [0, {size})"
        if tile is not None:
            text += f" step {tile}"
        count = math.ceil(size / int_tile) if int_tile is not None and int_tile > 0 else None
    else:
        text = f"{word} {var}" + (f", tile {tile}" if tile is not None else "")
        count = None
    if isinstance(node, Spatial):
        text += f" over {node.component}.{node.name}"
    if count is not None:
        unit = "instance" if spatial else "iteration"
        text += f" ({count} {unit}{'s' if count != 1 else ''})"
    for name in names:
        if name in outer:  # ranges are shown only below a known bound
            body[name] = int_tile
    return text


def _einsums(nodes: Sequence[Any]) -> list[str]:
    """Einsums of the Compute leaves in ``nodes`` and below, in order, without repeats."""
    out: list[str] = []
    for node in nodes:
        if isinstance(node, Compute):
            if node.einsum not in out:
                out.append(node.einsum)
        elif isinstance(node, Nested):
            out += [e for e in _einsums(node.nodes) if e not in out]
    return out


def _html_list(items: Sequence[RenderItem]) -> str:
    if not items:
        return ""
    parts = ["<ul>"]
    for item in items:
        classes = f"af-node af-{item.kind}" + (" af-fused" if item.fused else "")
        parts.append(f'<li><span class="{classes}">{html.escape(item.text)}</span>')
        if item.fused:
            names = html.escape(", ".join(item.fused))
            parts.append(f'<span class="af-fused-tag">fused: {names}</span>')
        if item.note:
            parts.append(f'<span class="af-note"># {html.escape(item.note)}</span>')
        parts.append(_html_list(item.children))
        parts.append("</li>")
    parts.append("</ul>")
    return "".join(parts)
