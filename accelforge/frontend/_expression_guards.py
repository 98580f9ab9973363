"""What a spec expression may compute: the resource limits and the guarded functions.

The limits bound everything an expression can make the interpreter do (text length, nesting
depth, integer size, sequence length, a step budget and an element budget). The operators and
functions that could exceed them (``*``, ``**``, ``<<``, ``range``, ``factorial``, ...) are
wrapped here so that they refuse, with :class:`Refusal`, before doing the work.
:data:`DEFAULT_FUNCTIONS` is the table of names every expression can use.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from accelforge.errors import ExpressionError

__all__ = [
    "CALL_COST",
    "CONTAINER_COST",
    "DEFAULT_CALLABLES",
    "DEFAULT_FUNCTIONS",
    "MAX_DEPTH",
    "MAX_ELEMENTS",
    "MAX_INT_BITS",
    "MAX_SEQUENCE",
    "MAX_STEPS",
    "MAX_TEXT",
    "NESTING",
    "Refusal",
    "SIZED",
    "check_bits",
    "lshift",
    "modulo",
    "multiply",
    "power",
]

MAX_TEXT = 10_000  # characters of expression text
MAX_DEPTH = 100  # AST nesting levels
MAX_INT_BITS = 4096  # size of any integer an expression computes
MAX_SEQUENCE = 1_000_000  # elements of one range() or sequence repetition
MAX_STEPS = 1_000_000  # nodes evaluated per evaluation (calls and big integers count more)
MAX_ELEMENTS = 5_000_000  # container elements built or scanned per evaluation
CALL_COST = 5  # steps per call: a call costs about five node evaluations
CONTAINER_COST = 8  # elements per container visited: walking one costs about eight elements
SIZED = frozenset({str, bytes, list, tuple, set, frozenset, dict, range})
NESTING = frozenset({list, tuple, set, frozenset, dict})


class Refusal(ExpressionError):
    """Raised by the evaluator and its guards; re-raised naming the expression."""


def check_bits(bits: float) -> None:
    """Refuse an integer result of more than :data:`MAX_INT_BITS` bits."""
    if bits > MAX_INT_BITS:
        raise Refusal(f"integer result would exceed {MAX_INT_BITS} bits")


def power(base: Any, exponent: Any) -> Any:
    """``base ** exponent``, refused when the integer result would be too big."""
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        check_bits(exponent * math.log2(abs(base)))
    return base**exponent


def multiply(left: Any, right: Any) -> Any:
    """``left * right``, refused for too big integers or sequence repetitions."""
    if isinstance(left, int) and isinstance(right, int):
        check_bits(left.bit_length() + right.bit_length())
    for sequence, count in ((left, right), (right, left)):
        if isinstance(sequence, (str, bytes, list, tuple)) and isinstance(count, int):
            if len(sequence) * count > MAX_SEQUENCE:
                raise Refusal(
                    f"sequence repetition would produce {len(sequence) * count:,} elements "
                    f"(limit {MAX_SEQUENCE:,})"
                )
    return left * right


def lshift(left: Any, right: Any) -> Any:
    """``left << right``, refused when the integer result would be too big."""
    if isinstance(left, int) and isinstance(right, int) and left and right > 0:
        check_bits(left.bit_length() + right)
    return left << right


def modulo(left: Any, right: Any) -> Any:
    """``left % right``; string formatting with ``%`` is refused."""
    if isinstance(left, (str, bytes)):
        raise Refusal("string formatting with '%' is not allowed")
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
        check_bits(min(k * math.log2(max(n, 2)), exact))


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
        result = multiply(result, item)
        if type(result) is int:
            check_bits(result.bit_length())
    return result


def _sum(iterable: Iterable[Any], /, start: Any = 0) -> Any:
    if isinstance(start, (str, bytes, list, tuple)):
        raise Refusal("sum() cannot join sequences; use a comprehension")
    return sum(iterable, start)


def _range(*args: Any) -> range:
    result = range(*args)
    try:
        length = len(result)
    except OverflowError:
        length = MAX_SEQUENCE + 1
    if length > MAX_SEQUENCE:
        raise Refusal(f"range() of more than {MAX_SEQUENCE:,} elements is not allowed")
    return result


def _round(number: Any, ndigits: Any = None) -> Any:
    if isinstance(ndigits, int) and abs(ndigits) > MAX_INT_BITS:
        raise Refusal(f"round() digits must be within ±{MAX_INT_BITS}")
    return round(number, ndigits)


def _str(*args: Any) -> str:
    if args and type(args[0]) in NESTING:  # rendering cost grows with every nested number
        raise Refusal(f"str() of a {type(args[0]).__name__} is not allowed")
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
"""Functions and constants every expression can use (docs/SPEC_FORMAT.md §4.2).

``pow`` is :func:`math.pow`. Guarded: ``range`` (at most 1,000,000 elements), ``factorial``,
``comb``, ``perm`` and ``prod`` (integer results of at most 4096 bits), ``sum`` (no sequence
``start``), ``round`` (``ndigits`` within ±4096) and ``str`` (not of a list, tuple, set or dict).
"""

DEFAULT_CALLABLES = {id(f): f for f in DEFAULT_FUNCTIONS.values() if callable(f)}
"""The callables of :data:`DEFAULT_FUNCTIONS` by ``id``: the functions an expression may call."""
