"""A safe evaluator for the Python-like expressions written in specs (SPEC_FORMAT §4, §5.2).

User text is parsed with :func:`ast.parse` and interpreted node by node over a whitelist; it is
never given to ``eval``, ``exec`` or ``compile``. Three rules keep a hostile spec away from the
interpreter: only allow-listed functions, spec objects (:class:`ExpressionNamespace`) and their
methods can be called; attributes can only be read from spec objects; no name or attribute may
start with ``_``. Resource guards (text length, nesting depth, integer size, sequence length, a
step budget and an element budget) turn every attempt to hang or to exhaust memory into an
:class:`~accelforge.errors.ExpressionError`.
"""

from __future__ import annotations

import ast
import difflib
import math
import operator
import os
import re
import reprlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import islice
from types import MappingProxyType
from typing import Any

from accelforge.errors import AccelForgeError, ExpressionError

__all__ = [
    "DEFAULT_FUNCTIONS",
    "ExpressionNamespace",
    "evaluate_expression",
    "parse_literal",
    "referenced_names",
]

_MAX_TEXT = 10_000  # characters of expression text
_MAX_DEPTH = 100  # AST nesting levels
_MAX_INT_BITS = 4096  # size of any integer an expression computes
_MAX_SEQUENCE = 1_000_000  # elements of one range() or sequence repetition
_MAX_STEPS = 1_000_000  # nodes evaluated per evaluation (calls and big integers count more)
_MAX_ELEMENTS = 5_000_000  # container elements built or scanned per evaluation
_CALL_COST = 5  # steps per call: a call costs about five node evaluations
_CONTAINER_COST = 8  # elements per container visited: walking one costs about eight elements
_SIZED = frozenset({str, bytes, list, tuple, set, frozenset, dict, range})
_NESTING = frozenset({list, tuple, set, frozenset, dict})


class ExpressionNamespace:
    """Marker base class for spec objects that expressions may look into.

    Expressions may read the public attributes (names not starting with ``_``) of instances of
    subclasses, call instances that are callable, and call their bound methods, so every public
    member of a subclass is reachable from spec text. Attribute access on any other object is
    refused.
    """


class _Refusal(ExpressionError):
    """Raised by the evaluator and its guards; re-raised naming the expression."""


def _check_bits(bits: float) -> None:
    if bits > _MAX_INT_BITS:
        raise _Refusal(f"integer result would exceed {_MAX_INT_BITS} bits")


def _power(base: Any, exponent: Any) -> Any:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        _check_bits(exponent * math.log2(abs(base)))
    return base**exponent


def _multiply(left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, int):
        _check_bits(left.bit_length() + right.bit_length())
    for sequence, count in ((left, right), (right, left)):
        if isinstance(sequence, (str, bytes, list, tuple)) and isinstance(count, int):
            if len(sequence) * count > _MAX_SEQUENCE:
                raise _Refusal(
                    f"sequence repetition would produce {len(sequence) * count:,} elements "
                    f"(limit {_MAX_SEQUENCE:,})"
                )
    return left * right


def _lshift(left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, int) and left and right > 0:
        _check_bits(left.bit_length() + right)
    return left << right


def _modulo(left: Any, right: Any) -> Any:
    if isinstance(left, (str, bytes)):
        raise _Refusal("string formatting with '%' is not allowed")
    return left % right


def _check_count(n: Any, k: Any, divide_by_k_factorial: bool) -> None:
    """Refuse ``perm(n, k)`` or ``comb(n, k)`` (``factorial(n)`` is ``perm(n, n)``) if too big."""
    if isinstance(n, int) and isinstance(k, int) and 0 <= k <= n:
        k = min(k, n - k) if divide_by_k_factorial else k
        try:  # log2 of n! / (n - k)! [/ k!]: the exact size, the product bound is safer for small k
            lf = [math.lgamma(m + 1) / math.log(2) for m in (n, n - k, k)]
            exact = lf[0] - lf[1] - (lf[2] if divide_by_k_factorial else 0)
        except OverflowError:
            exact = math.inf
        _check_bits(min(k * math.log2(max(n, 2)), exact))


def _factorial(n: Any) -> int:
    _check_count(n, n, divide_by_k_factorial=False)
    return math.factorial(n)


def _comb(n: Any, k: Any) -> int:
    _check_count(n, k, divide_by_k_factorial=True)
    return math.comb(n, k)


def _perm(n: Any, k: Any = None) -> int:
    _check_count(n, n if k is None else k, divide_by_k_factorial=False)
    return math.perm(n, k)


def _prod(iterable: Iterable[Any], /, *, start: Any = 1) -> Any:
    result = start
    for item in iterable:
        result = _multiply(result, item)
        if type(result) is int:
            _check_bits(result.bit_length())
    return result


def _sum(iterable: Iterable[Any], /, start: Any = 0) -> Any:
    if isinstance(start, (str, bytes, list, tuple)):
        raise _Refusal("sum() cannot join sequences; use a comprehension")
    return sum(iterable, start)


def _range(*args: Any) -> range:
    result = range(*args)
    try:
        length = len(result)
    except OverflowError:
        length = _MAX_SEQUENCE + 1
    if length > _MAX_SEQUENCE:
        raise _Refusal(f"range() of more than {_MAX_SEQUENCE:,} elements is not allowed")
    return result


def _round(number: Any, ndigits: Any = None) -> Any:
    if isinstance(ndigits, int) and abs(ndigits) > _MAX_INT_BITS:
        raise _Refusal(f"round() digits must be within ±{_MAX_INT_BITS}")
    return round(number, ndigits)


def _str(*args: Any) -> str:
    if args and type(args[0]) in _NESTING:  # rendering cost grows with every nested number
        raise _Refusal(f"str() of a {type(args[0]).__name__} is not allowed")
    return str(*args)


_MATH_NAMES = (
    "ceil floor log log2 log10 sqrt exp pow fsum gcd isqrt trunc fmod remainder modf frexp ldexp "
    "copysign fabs isclose isfinite isinf isnan hypot dist degrees radians erf erfc gamma lgamma "
    "sin cos tan asin acos atan atan2 sinh cosh tanh asinh acosh atanh"
).split()

DEFAULT_FUNCTIONS: Mapping[str, Any] = MappingProxyType(
    {
        **{name: getattr(math, name) for name in _MATH_NAMES},
        **{"prod": _prod, "comb": _comb, "perm": _perm, "factorial": _factorial},
        **{"pi": math.pi, "e": math.e, "tau": math.tau, "inf": math.inf, "nan": math.nan},
        **{"abs": abs, "round": _round, "sum": _sum, "range": _range, "len": len, "min": min},
        **{"max": max, "float": float, "int": int, "str": _str, "bool": bool, "list": list},
        **{"tuple": tuple, "enumerate": enumerate, "map": map, "getcwd": os.getcwd},
    }
)
"""Functions and constants every expression can use (SPEC_FORMAT §4.2).

``pow`` is :func:`math.pow`. Guarded: ``range`` (at most 1,000,000 elements), ``factorial``,
``comb``, ``perm`` and ``prod`` (integer results of at most 4096 bits), ``sum`` (no sequence
``start``), ``round`` (``ndigits`` within ±4096) and ``str`` (not of a list, tuple, set or dict).
"""

_DEFAULT_CALLABLES = {id(f): f for f in DEFAULT_FUNCTIONS.values() if callable(f)}


def _table(spec: str, **guards: Callable[..., Any]) -> dict[type[ast.AST], Callable[..., Any]]:
    pairs = (item.split(":") for item in spec.split())
    table = {getattr(ast, node): getattr(operator, function) for node, function in pairs}
    return table | {getattr(ast, node): function for node, function in guards.items()}


_BINARY = _table(
    "Add:add Sub:sub Div:truediv FloorDiv:floordiv RShift:rshift BitOr:or_ BitAnd:and_ BitXor:xor",
    Mult=_multiply,
    Mod=_modulo,
    Pow=_power,
    LShift=_lshift,
)
_UNARY = _table("USub:neg UAdd:pos Invert:invert Not:not_")
_COMPARE = _table(
    "Eq:eq NotEq:ne Lt:lt LtE:le Gt:gt GtE:ge Is:is_ IsNot:is_not",
    In=lambda item, container: item in container,
    NotIn=lambda item, container: item not in container,
)
_ALLOWED_NODES = frozenset(
    {*_BINARY, *_UNARY, *_COMPARE}
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


def _shorten(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _parse(text: str) -> ast.Expression:
    """Parse one expression and refuse, before running anything, what the evaluator forbids."""
    if len(text) > _MAX_TEXT:
        raise ExpressionError(
            f"expression is too long ({len(text):,} characters; limit {_MAX_TEXT:,})"
        )
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, RecursionError, MemoryError, ValueError) as exc:  # parser depth limits
        reason = getattr(exc, "msg", None) or str(exc) or "it is nested too deeply"
        raise ExpressionError(f"could not parse {_shorten(text)}: {reason}") from None
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > _MAX_DEPTH:
            raise ExpressionError(
                f"could not parse {_shorten(text)}: nested more than {_MAX_DEPTH} levels deep"
            )
        if reason := _refusal(node):
            raise ExpressionError(f"evaluating {_shorten(text)}: {reason}")
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
        if node.value.bit_length() > _MAX_INT_BITS:
            return f"integer literal exceeds {_MAX_INT_BITS} bits"
    return None


def _size(value: Any, limit: int) -> int:
    """Count the elements reachable through builtin containers, stopping above ``limit``."""
    total, stack = 0, [value]
    while stack and total <= limit:
        item = stack.pop()
        kind = type(item)
        if kind not in _SIZED:
            continue
        total += _CONTAINER_COST + len(item)
        if kind in _NESTING:
            for part in (item, item.values()) if kind is dict else (item,):
                if not _SIZED.isdisjoint(map(type, part)):
                    stack.extend(x for x in part if type(x) in _SIZED)
    return total


class _Evaluator:
    """Interprets one parsed expression, counting steps and elements against the budgets."""

    def __init__(self, scope: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]]):
        self.scope = scope
        self.functions = functions
        self.allowed = {**_DEFAULT_CALLABLES, **{id(f): f for f in functions.values()}}
        self.steps = 0
        self.elements = 0
        self.dispatch: dict[type[ast.AST], Callable[[Any, dict[str, Any]], Any]] = {
            ast.Constant: lambda node, local: node.value,
            ast.Name: self.name,
            ast.Tuple: lambda node, local: tuple(self.items(node.elts, local)),
            ast.List: lambda node, local: self.items(node.elts, local),
            ast.Set: lambda node, local: set(self.items(node.elts, local)),
            ast.Dict: self.dict_display,
            ast.BinOp: self.binop,
            ast.UnaryOp: lambda node, local: _UNARY[type(node.op)](self.eval(node.operand, local)),
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
        if self.steps > _MAX_STEPS:
            raise _Refusal(f"expression is too expensive (more than {_MAX_STEPS:,} steps)")

    def charge(self, value: Any) -> Any:
        """Check an integer's size, charge big integers and containers; return ``value``."""
        kind = type(value)
        if kind is int:
            bits = value.bit_length()
            _check_bits(bits)
            self.steps += bits >> 6  # big-integer arithmetic costs about one step per word
        elif kind in _SIZED:
            self.elements += _size(value, _MAX_ELEMENTS - self.elements)
            if self.elements > _MAX_ELEMENTS:
                raise _Refusal(
                    f"expression is too expensive (builds or scans more than "
                    f"{_MAX_ELEMENTS:,} elements)"
                )
        return value

    def eval(self, node: ast.AST, local: dict[str, Any]) -> Any:
        self.steps += 1
        if self.steps > _MAX_STEPS:
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
        raise _Refusal(f"name {node.id!r} is not defined.{hint}")

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
        return self.charge(_BINARY[type(node.op)](left, right))

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
            result = _COMPARE[type(op)](left, right)
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
        self.step(_CALL_COST)
        if not (
            self.allowed.get(id(func)) is func
            or isinstance(func, ExpressionNamespace)
            or isinstance(getattr(func, "__self__", None), ExpressionNamespace)
        ):
            name = ast.unparse(label) if isinstance(label, ast.AST) else label
            raise _Refusal(
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
            raise _Refusal(
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
        elif isinstance(target, (ast.Tuple, ast.List)):  # the only other targets _refusal allows
            count = len(target.elts)
            values = [*map(self.charge, islice(value, count + 1))]
            if len(values) != count:
                raise _Refusal(f"cannot unpack {type(value).__name__} into {count} names")
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
        Extra callables (``config.expression_custom_functions``), looked up after ``scope``.

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
    tree = _parse(text)
    evaluator = _Evaluator(scope, functions or {})
    try:
        result = evaluator.eval(tree.body, {})
        if isinstance(result, Iterator):
            result = [*map(evaluator.charge, islice(result, _MAX_SEQUENCE + 1))]
            if len(result) > _MAX_SEQUENCE:
                raise _Refusal(f"the result has more than {_MAX_SEQUENCE:,} elements")
        return result
    except _Refusal as exc:
        raise ExpressionError(f"evaluating {_shorten(text)}: {exc.message}") from None
    except AccelForgeError:
        raise
    except Exception as exc:  # also MemoryError and RecursionError
        raise ExpressionError(f"evaluating {_shorten(text)}: {_describe(exc)}") from exc


def referenced_names(text: str) -> set[str]:
    """Return the free names an expression reads, for ordering fields by dependency.

    Names bound by a comprehension's ``for`` clauses are not free inside it. Text that does not
    parse, or that the evaluator would refuse, yields an empty set.
    """
    try:
        tree = _parse(text)
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


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")
_SPECIAL = {"true": True, "false": False, "inf": math.inf, "+inf": math.inf, "-inf": -math.inf}
_SPECIAL |= dict.fromkeys(("nan", "+nan", "-nan"), math.nan)


def parse_literal(text: str) -> tuple[bool, Any]:
    """Convert a string that spells a boolean or a number (SPEC_FORMAT §4.3); never evaluates.

    Returns
    -------
    tuple[bool, Any]
        ``(True, value)``: ``"true"``/``"false"`` (any case) give a bool, integral numbers
        (``"2"``, ``"2.0"``, ``"1e3"``) an int, other numbers a float, ``"inf"``/``"-inf"``/
        ``"nan"`` :data:`math.inf`/``-math.inf``/:data:`math.nan`. ``(False, None)`` otherwise.
    """
    if not isinstance(text, str):
        return False, None
    stripped = text.strip()
    key = stripped.lower()
    if key in _SPECIAL:
        return True, _SPECIAL[key]
    if not _NUMBER.fullmatch(stripped):
        return False, None
    try:
        value = int(stripped) if _INTEGER.fullmatch(stripped) else float(stripped)
    except ValueError:  # more digits than int() converts
        return False, None
    return True, int(value) if isinstance(value, float) and value.is_integer() else value
