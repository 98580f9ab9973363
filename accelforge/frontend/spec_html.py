"""How ``spec.arch`` and ``spec.workload`` show in Jupyter: the hierarchy and the Einsum graph.

Plain HTML tables (every name escaped), no scripts: they read the same in JupyterLab, in a
saved notebook on GitHub and in nbviewer.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accelforge.frontend.arch import Arch
    from accelforge.frontend.workload import Workload

__all__ = ["arch_html", "workload_html"]

_STYLE = "border-collapse:collapse;font-family:monospace;font-size:12px"
_CELL = "border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top"


def arch_html(arch: Arch) -> str:
    """The nodes top-down, indented under each fanout: kind, size, fanouts, action costs."""
    rows, depth = [], 0
    for node in arch.nodes:
        kind = type(node).__name__
        fanouts = ", ".join(f"{s.name}: {s.fanout}" for s in getattr(node, "spatial", []) or [])
        actions = "; ".join(
            f"{a.name}: {_value(a.energy)}, {_value(a.throughput)}"
            for a in getattr(node, "actions", []) or []
        )
        name = "&nbsp;&nbsp;" * depth + html.escape(str(getattr(node, "name", "")))
        rows.append([name, kind, _value(getattr(node, "size", "")), fanouts, actions])
        if fanouts:
            depth += 1  # everything below a fanout is replicated: indent it
    header = ["node", "kind", "size (bits)", "fanout", "actions: energy, throughput"]
    return _table("Architecture, outermost first", header, rows, escape_first=False)


def workload_html(workload: Workload) -> str:
    """The Einsums in order: what each reads and writes, and which Einsum made each input."""
    made_by: dict[str, str] = {}
    rows = []
    for einsum in workload.einsums:
        reads = []
        for access in einsum.tensor_accesses:
            if access.output:
                continue
            source = made_by.get(access.name)
            reads.append(f"{access.name}{_ranks(access)}" + (f" (from {source})" if source else ""))
        writes = [f"{a.name}{_ranks(a)}" for a in einsum.tensor_accesses if a.output]
        rows.append([einsum.name, ", ".join(reads), ", ".join(writes)])
        for access in einsum.tensor_accesses:
            if access.output:
                made_by[access.name] = einsum.name
    return _table("Workload: Einsums in order", ["Einsum", "reads", "writes"], rows)


def _ranks(access: Any) -> str:
    return "[" + ", ".join(f"{r}: {e}" for r, e in access.projection.items()) + "]"


def _value(value: Any) -> str:
    return "" if value is None or value == "" else str(value)


def _table(title: str, header: list[str], rows: list[list[str]], escape_first: bool = True) -> str:
    def cell(text: str, escape: bool) -> str:
        return f'<td style="{_CELL}">{html.escape(text) if escape else text}</td>'

    head = "".join(f'<th style="{_CELL}">{html.escape(h)}</th>' for h in header)
    body = "".join(
        "<tr>" + "".join(cell(text, escape_first or i > 0) for i, text in enumerate(row)) + "</tr>"
        for row in rows
    )
    return (
        f"<div><b>{html.escape(title)}</b>"
        f'<table style="{_STYLE}"><tr>{head}</tr>{body}</table></div>'
    )
