"""A safe evaluator for the Python-like expressions written in specs (docs/SPEC_FORMAT.md §4, §5.2).

User text is parsed with :func:`ast.parse` and interpreted node by node over a whitelist; it is
never given to ``eval``, ``exec`` or ``compile``. Three rules keep a hostile spec away from the
interpreter: only allow-listed functions, spec objects (:class:`ExpressionNamespace`) and their
methods can be called; attributes can only be read from spec objects; no name or attribute may
start with ``_``. Resource guards (text length, nesting depth, integer size, sequence length, a
step budget and an element budget) turn every attempt to hang or to exhaust memory into an
:class:`~accelforge.errors.ExpressionError`.

This module is the interpreter. The parsing and the whitelist are in :mod:`._expression_syntax`,
the limits and the guarded functions in :mod:`._expression_guards`, and :func:`parse_literal`
in :mod:`._literals`. :data:`DEFAULT_FUNCTIONS`, :func:`referenced_names` and
:func:`parse_literal` are importable from here too.
"""

from __future__ import annotations

import ast
import contextlib
import contextvars
import difflib
import reprlib
from collections.abc import Callable, Iterator, Mapping
from itertools import islice
from typing import Any

from accelforge.errors import AccelForgeError, ExpressionError
from accelforge.frontend._expression_guards import (
    CALL_COST,
    CONTAINER_COST,
    DEFAULT_CALLABLES,
    DEFAULT_FUNCTIONS,
    MAX_ELEMENTS,
    MAX_SEQUENCE,
    MAX_STEPS,
    NESTING,
    SIZED,
    Refusal,
    check_bits,
)
from accelforge.frontend._expression_syntax import (
    BINARY,
    COMPARE,
    UNARY,
    parse_expression,
    referenced_names,
    shorten,
)
from accelforge.frontend._literals import parse_literal

__all__ = [
    "DEFAULT_FUNCTIONS",
    "ExpressionNamespace",
    "evaluate_expression",
    "parse_literal",
    "referenced_names",
    "using_functions",
]


class ExpressionNamespace:
    """Marker base class for spec objects that expressions may look into.

    Expressions may read the public attributes (names not starting with ``_``) of instances of
    subclasses, call instances that are callable, and call their bound methods, so every public
    member of a subclass is reachable from spec text. Attribute access on any other object is
    refused.
    """


def _size(value: Any, limit: int) -> int:
    """Count the elements reachable through builtin containers, stopping above ``limit``."""
    total, stack = 0, [value]
    while stack and total <= limit:
        item = stack.pop()
        kind = type(item)
        if kind not in SIZED:
            continue
        total += CONTAINER_COST + len(item)
        if kind in NESTING:
            for part in (item, item.values()) if kind is dict else (item,):
                if not SIZED.isdisjoint(map(type, part)):
                    stack.extend(x for x in part if type(x) in SIZED)
    return total


class _Evaluator:
    """Interprets one parsed expression, counting steps and elements against the budgets."""

    def __init__(self, scope: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]]):
        self.scope = scope
        self.functions = functions
        self.allowed = {**DEFAULT_CALLABLES, **{id(f): f for f in functions.values()}}
        self.steps = 0
        self.elements = 0
        self.dispatch: dict[type[ast.AST], Callable[[Any, dict[str, Any]], Any]] = {
            ast.Constant: lambda node, _local: node.value,
            ast.Name: self.name,
            ast.Tuple: lambda node, local: tuple(self.items(node.elts, local)),
            ast.List: lambda node, local: self.items(node.elts, local),
            ast.Set: lambda node, local: set(self.items(node.elts, local)),
            ast.Dict: self.dict_display,
            ast.BinOp: self.binop,
            ast.UnaryOp: lambda node, local: UNARY[type(node.op)](self.eval(node.operand, local)),
            ast.BoolOp: self.boolop,
            ast.Compare: self.compare,
            ast.IfExp: lambda node, local: self.eval(
                node.body if self.eval(node.test, local) else node.orelse, local
            ),
            ast.Call: self.call,
            ast.Attribute: self.attribute,
            ast.Subscript: self.subscript,
            ast.Slice: self.slice,
            ast.ListComp: lambda node, local: list(self.generate(node, local)),
            ast.SetComp: lambda node, local: set(self.generate(node, local)),
            ast.GeneratorExp: self.generate,
            ast.DictComp: lambda node, local: dict(self.generate(node, local)),
        }

    def step(self, cost: int = 1) -> None:
        self.steps += cost
        if self.steps > MAX_STEPS:
            raise Refusal(f"expression is too expensive (more than {MAX_STEPS:,} steps)")

    def charge(self, value: Any) -> Any:
        """Check an integer's size, charge big integers and containers; return ``value``."""
        kind = type(value)
        if kind is int:
            bits = value.bit_length()
            check_bits(bits)
            self.steps += bits >> 6  # big-integer arithmetic costs about one step per word
        elif kind in SIZED:
            self.elements += _size(value, MAX_ELEMENTS - self.elements)
            if self.elements > MAX_ELEMENTS:
                raise Refusal(
                    f"expression is too expensive (builds or scans more than "
                    f"{MAX_ELEMENTS:,} elements)"
                )
        return value

    def eval(self, node: ast.AST, local: dict[str, Any]) -> Any:
        self.steps += 1
        if self.steps > MAX_STEPS:
            self.step(0)  # raises the budget error
        return self.dispatch[type(node)](node, local)

    def name(self, node: ast.Name, local: dict[str, Any]) -> Any:
        if node.id in local:
            return local[node.id]
        for source in (self.scope, self.functions, DEFAULT_FUNCTIONS):
            if node.id in source:
                return source[node.id]
        known = [*local, *self.scope, *self.functions, *DEFAULT_FUNCTIONS]
        close = difflib.get_close_matches(node.id, [k for k in known if isinstance(k, str)])
        hint = f" Closest names: {', '.join(map(repr, close))}." if close else ""
        raise Refusal(f"name {node.id!r} is not defined.{hint}")

    def items(self, nodes: list[ast.expr], local: dict[str, Any]) -> list[Any]:
        out: list[Any] = []
        for node in nodes:
            if isinstance(node, ast.Starred):
                out.extend(map(self.charge, self.eval(node.value, local)))
            else:
                out.append(self.charge(self.eval(node, local)))
        return out

    def dict_display(self, node: ast.Dict, local: dict[str, Any]) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:
                out.update(self.charge(self.eval(value, local)))
            else:
                out[self.charge(self.eval(key, local))] = self.charge(self.eval(value, local))
        return out

    def binop(self, node: ast.BinOp, local: dict[str, Any]) -> Any:
        left = self.charge(self.eval(node.left, local))
        right = self.charge(self.eval(node.right, local))
        return self.charge(BINARY[type(node.op)](left, right))

    def boolop(self, node: ast.BoolOp, local: dict[str, Any]) -> Any:
        for value_node in node.values[:-1]:
            value = self.eval(value_node, local)
            if bool(value) is isinstance(node.op, ast.Or):
                return value
        return self.eval(node.values[-1], local)

    def compare(self, node: ast.Compare, local: dict[str, Any]) -> Any:
        left = self.charge(self.eval(node.left, local))
        result: Any = True
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.charge(self.eval(right_node, local))
            result = COMPARE[type(op)](left, right)
            if not result:
                return result
            left = right
        return result

    def call(self, node: ast.Call, local: dict[str, Any]) -> Any:
        func = self.eval(node.func, local)
        args = self.items(node.args, local)
        kwargs: dict[str, Any] = {}
        for keyword in node.keywords:
            value = self.charge(self.eval(keyword.value, local))
            if keyword.arg is None:
                kwargs.update(value)
            else:
                kwargs[keyword.arg] = value
        return self.invoke(func, args, kwargs, node.func)

    def invoke(
        self, func: Callable[..., Any], args: list[Any], kwargs: dict[str, Any], label: Any
    ) -> Any:
        """Call ``func`` if it is an allow-listed function, a spec object or one's method.

        ``label`` names ``func`` in the refusal: its AST node or a string.
        """
        self.step(CALL_COST)
        if not (
            self.allowed.get(id(func)) is func
            or isinstance(func, ExpressionNamespace)
            or isinstance(getattr(func, "__self__", None), ExpressionNamespace)
        ):
            name = ast.unparse(label) if isinstance(label, ast.AST) else label
            raise Refusal(
                f"calling {name!r} is not allowed; only allow-listed functions and spec objects "
                "can be called"
            )
        if any(map(callable, args)):
            args = [self.wrap(arg) for arg in args]
        kwargs = {key: self.wrap(value) for key, value in kwargs.items()}
        return self.charge(func(*args, **kwargs))

    def wrap(self, value: Any) -> Any:
        """Route callbacks (``map(f, ...)``, ``key=f``) through the call policy and budgets."""
        if not callable(value) or isinstance(value, ExpressionNamespace):
            return value
        label = getattr(value, "__name__", type(value).__name__)

        def callback(*args: Any, **kwargs: Any) -> Any:
            return self.invoke(value, [*map(self.charge, args)], kwargs, label)

        return callback

    def attribute(self, node: ast.Attribute, local: dict[str, Any]) -> Any:
        value = self.eval(node.value, local)
        if not isinstance(value, ExpressionNamespace):
            raise Refusal(
                f"attribute access is only allowed on spec objects; {ast.unparse(node)!r} reads "
                f"an attribute of a {type(value).__name__}"
            )
        return getattr(value, node.attr)

    def subscript(self, node: ast.Subscript, local: dict[str, Any]) -> Any:
        value = self.eval(node.value, local)
        index = self.charge(self.eval(node.slice, local))
        result = value[index]
        return self.charge(result) if isinstance(index, slice) else result

    def slice(self, node: ast.Slice, local: dict[str, Any]) -> slice:
        parts = (node.lower, node.upper, node.step)
        return slice(*(None if part is None else self.eval(part, local) for part in parts))

    def bind(self, target: ast.expr, value: Any, local: dict[str, Any]) -> None:
        if isinstance(target, ast.Name):
            local[target.id] = value
        elif isinstance(
            target, (ast.Tuple, ast.List)
        ):  # the only other targets the syntax check allows
            count = len(target.elts)
            values = [*map(self.charge, islice(value, count + 1))]
            if len(values) != count:
                raise Refusal(f"cannot unpack {type(value).__name__} into {count} names")
            for element, item in zip(target.elts, values, strict=True):
                self.bind(element, item, local)

    def scopes(self, generators: list[ast.comprehension], local: dict[str, Any]) -> Iterator[Any]:
        """Yield the comprehension's own scope once per combination that passes the filters."""
        inner = dict(local)

        def loop(index: int, iterable: Any) -> Iterator[dict[str, Any]]:
            clause = generators[index]
            target, name = clause.target, getattr(clause.target, "id", None)
            for item in iterable:
                self.steps += 1  # an iteration costs about one step; checked by the next eval
                if name is None:
                    self.bind(target, item, inner)
                else:
                    inner[name] = item
                if not clause.ifs or all(self.eval(cond, inner) for cond in clause.ifs):
                    if index + 1 == len(generators):
                        yield inner
                    else:
                        yield from loop(index + 1, self.eval(generators[index + 1].iter, inner))

        return loop(0, self.eval(generators[0].iter, local))  # evaluated now, as Python does

    def generate(self, node: Any, local: dict[str, Any]) -> Iterator[Any]:
        """Evaluate a comprehension lazily; a dict comprehension yields (key, value) pairs."""
        scopes = self.scopes(node.generators, local)
        if isinstance(node, ast.DictComp):
            key, value = node.key, node.value
            return (
                (self.charge(self.eval(key, s)), self.charge(self.eval(value, s))) for s in scopes
            )
        return (self.charge(self.eval(node.elt, s)) for s in scopes)


def _describe(exc: Exception) -> str:
    if isinstance(exc, KeyError) and exc.args:
        return f"key {reprlib.repr(exc.args[0])} not found"
    if isinstance(exc, OverflowError):
        return f"numeric overflow ({exc})"
    return str(exc) or type(exc).__name__


_ACTIVE_FUNCTIONS: contextvars.ContextVar[Mapping[str, Callable[..., Any]] | None] = (
    contextvars.ContextVar("custom_functions", default=None)
)


@contextlib.contextmanager
def using_functions(functions: Mapping[str, Callable[..., Any]]) -> Iterator[None]:
    """Make ``functions`` callable from every expression evaluated inside the ``with`` block."""
    token = _ACTIVE_FUNCTIONS.set({**(_ACTIVE_FUNCTIONS.get() or {}), **functions})
    try:
        yield
    finally:
        _ACTIVE_FUNCTIONS.reset(token)


def evaluate_expression(
    text: str,
    scope: Mapping[str, Any],
    *,
    functions: Mapping[str, Callable[..., Any]] | None = None,
) -> Any:
    """Evaluate one spec expression safely.

    Parameters
    ----------
    text:
        The expression, e.g. ``"ceil(log2(size)) * 8"``.
    scope:
        Names the expression can read; looked up before ``functions`` and
        :data:`DEFAULT_FUNCTIONS`.
    functions:
        Extra callables, looked up after ``scope``; default: those of :func:`using_functions`
        (``config.expression_custom_functions`` while a spec evaluates).

    Returns
    -------
    Any
        The value; a lazy iterator (a generator expression, ``map(...)``) becomes a list.

    Raises
    ------
    ExpressionError
        The text does not parse, is refused, hits a resource guard or fails; the message names
        the expression and the cause.
    TypeError
        ``text`` is not a string.
    """
    if not isinstance(text, str):
        raise TypeError(f"expression text must be a str, not {type(text).__name__}")
    tree = parse_expression(text)
    if functions is None:
        functions = _ACTIVE_FUNCTIONS.get() or {}
    evaluator = _Evaluator(scope, functions)
    try:
        result = evaluator.eval(tree.body, {})
        if isinstance(result, Iterator):
            result = [*map(evaluator.charge, islice(result, MAX_SEQUENCE + 1))]
            if len(result) > MAX_SEQUENCE:
                raise Refusal(f"the result has more than {MAX_SEQUENCE:,} elements")
        return result
    except Refusal as exc:
        raise ExpressionError(f"evaluating {shorten(text)}: {exc.message}") from None
    except AccelForgeError:
        raise
    except Exception as exc:  # also MemoryError and RecursionError
        raise ExpressionError(f"evaluating {shorten(text)}: {_describe(exc)}") from exc
