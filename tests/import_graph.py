"""The tree's import graph, read with ``ast``: for the no-circle test."""

from __future__ import annotations

import ast
from pathlib import Path


def module_name(root: Path, path: Path) -> str:
    """Dotted module name of ``path`` (``widgets/`` installs as ``accelforge.widgets``)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[0] == "widgets":
        parts = ["accelforge", "widgets", *parts[1:]]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(tree: ast.AST, here: str, is_package: bool, modules: set[str]) -> set[str]:
    """Modules ``tree`` imports at module or function level (``if TYPE_CHECKING:`` aside)."""
    found: set[str] = set()
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.split(".") if is_package else here.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in modules else base)
        stack.extend(ast.iter_child_nodes(node))
    return {m for m in found if m in modules}


def import_graph(root: Path, folders: tuple[str, ...] = ("accelforge", "widgets")) -> dict:
    """``{module: set of project modules it imports}`` for every ``.py`` under ``folders``."""
    paths = [p for folder in folders for p in sorted((root / folder).rglob("*.py"))]
    names = {p: module_name(root, p) for p in paths}
    modules = set(names.values())
    return {
        names[p]: _imported(ast.parse(p.read_text()), names[p], p.name == "__init__.py", modules)
        - {names[p]}
        for p in paths
    }


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)
