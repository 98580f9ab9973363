"""The syntax spec expressions may use: parsing, the node whitelist and the operator tables.

User text is parsed with :func:`ast.parse` and checked node by node before anything runs: only
the allowed node kinds, no name or attribute starting with ``_``, no oversized integer literal,
no deeper nesting than :data:`~._expression_guards.MAX_DEPTH`. The operator tables map each
allowed operator node to the (guarded) function that computes it.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

from accelforge.errors import ExpressionError
from accelforge.frontend._expression_guards import (
    MAX_DEPTH,
    MAX_INT_BITS,
    MAX_TEXT,
    lshift,
    modulo,
    multiply,
    power,
)

__all__ = [
    "BINARY",
    "COMPARE",
    "UNARY",
    "parse_expression",
    "referenced_names",
    "shorten",
]


def _table(spec: str, **guards: Callable[..., Any]) -> dict[type[ast.AST], Callable[..., Any]]:
    pairs = (item.split(":") for item in spec.split())
    table = {getattr(ast, node): getattr(operator, function) for node, function in pairs}
    return table | {getattr(ast, node): function for node, function in guards.items()}


BINARY = _table(
    "Add:add Sub:sub Div:truediv FloorDiv:floordiv RShift:rshift BitOr:or_ BitAnd:and_ BitXor:xor",
    Mult=multiply,
    Mod=modulo,
    Pow=power,
    LShift=lshift,
)
UNARY = _table("USub:neg UAdd:pos Invert:invert Not:not_")
COMPARE = _table(
    "Eq:eq NotEq:ne Lt:lt LtE:le Gt:gt GtE:ge Is:is_ IsNot:is_not",
    In=lambda item, container: item in container,
    NotIn=lambda item, container: item not in container,
)
_ALLOWED_NODES = frozenset(
    {*BINARY, *UNARY, *COMPARE}
    | {
        getattr(ast, name)
        for name in "Expression Constant Name Load Store Tuple List Set Dict BinOp UnaryOp BoolOp"
        " And Or Compare IfExp Call keyword Attribute Subscript Slice Starred ListComp SetComp"
        " DictComp GeneratorExp comprehension".split()
    }
)
_REFUSED = {
    ast.Lambda: "lambda expressions",
    ast.NamedExpr: "assignment expressions (:=)",
    ast.JoinedStr: "f-strings",
    ast.FormattedValue: "f-strings",
    ast.Await: "await expressions",
    ast.Yield: "yield expressions",
    ast.YieldFrom: "yield expressions",
    ast.MatMult: "the '@' operator",
}


def shorten(text: str) -> str:
    """The expression text as quoted in messages (at most 80 characters)."""
    return repr(text if len(text) <= 80 else text[:77] + "...")


def parse_expression(text: str) -> ast.Expression:
    """Parse one expression and refuse, before running anything, what the evaluator forbids."""
    if len(text) > MAX_TEXT:
        raise ExpressionError(
            f"expression is too long ({len(text):,} characters; limit {MAX_TEXT:,})"
        )
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, RecursionError, MemoryError, ValueError) as exc:  # parser depth limits
        reason = getattr(exc, "msg", None) or str(exc) or "it is nested too deeply"
        raise ExpressionError(f"could not parse {shorten(text)}: {reason}") from None
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(
                f"could not parse {shorten(text)}: nested more than {MAX_DEPTH} levels deep"
            )
        if reason := _refusal(node):
            raise ExpressionError(f"evaluating {shorten(text)}: {reason}")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return tree


def _refusal(node: ast.AST) -> str | None:
    """Say why ``node`` is outside the whitelist, or return ``None``."""
    kind = type(node)
    name = getattr(node, "id", None) or getattr(node, "attr", None) or getattr(node, "arg", "")
    if kind in _REFUSED:
        return f"{_REFUSED[kind]} are not allowed"
    if kind not in _ALLOWED_NODES:
        return f"{kind.__name__} syntax is not allowed"
    if name and name.startswith("_"):
        return f"names starting with '_' are not allowed: {name!r}"
    targets = (ast.Attribute, ast.Subscript, ast.Starred)
    if isinstance(node, targets) and isinstance(node.ctx, ast.Store):
        return "comprehension targets must be names or tuples of names"
    if isinstance(node, ast.comprehension) and node.is_async:
        return "async comprehensions are not allowed"
    if isinstance(node, ast.Constant) and type(node.value) is int:
        if node.value.bit_length() > MAX_INT_BITS:
            return f"integer literal exceeds {MAX_INT_BITS} bits"
    return None


def referenced_names(text: str) -> set[str]:
    """Return the free names an expression reads, for ordering fields by dependency.

    Names bound by a comprehension's ``for`` clauses are not free inside it. Text that does not
    parse, or that the evaluator would refuse, yields an empty set.
    """
    try:
        tree = parse_expression(text)
    except ExpressionError:
        return set()
    names: set[str] = set()

    def visit(node: ast.AST, bound: frozenset[str]) -> None:
        if isinstance(node, ast.Name):
            if node.id not in bound:
                names.add(node.id)
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            inner = bound
            for index, clause in enumerate(node.generators):
                visit(clause.iter, bound if index == 0 else inner)
                inner |= {n.id for n in ast.walk(clause.target) if isinstance(n, ast.Name)}
                for condition in clause.ifs:
                    visit(condition, inner)
            parts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            for part in parts:
                visit(part, inner)
        else:
            for child in ast.iter_child_nodes(node):
                visit(child, bound)

    visit(tree, frozenset())
    return names
