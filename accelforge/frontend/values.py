"""Evaluating spec values: numbers, booleans, set expressions, keyed maps, dependency order.

These helpers sit between the raw spec objects and :mod:`accelforge.frontend._expressions`;
they add the field path to every error (docs/SPEC_FORMAT.md §4.6) and enforce the result type.
A :class:`Where` carries both the readable path used in messages
(``arch.nodes.MAC.actions.compute.energy``) and the index path used to find the YAML line
(``("arch", "nodes", 2, "actions", 0, "energy")``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from accelforge.errors import ExpressionError, SpecError
from accelforge.frontend._expressions import evaluate_expression, parse_literal, referenced_names
from accelforge.frontend._yaml import QuotedStr
from accelforge.frontend.sets import RankVariableSet, TensorSet, TypedSet

__all__ = [
    "DEFERRED_SET_NAMES",
    "Where",
    "evaluate_in_order",
    "evaluate_keyed_map",
    "evaluate_number",
    "evaluate_raw",
    "evaluate_set",
]

DEFERRED_SET_NAMES = ("Above",)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Where:
    """A field's readable path (for messages), its index path (for lines) and a context note."""

    text: str
    loc: tuple[str | int, ...] = ()
    note: str = ""

    def child(self, label: str | int, loc_part: str | int | None = None) -> Where:
        """The path one level down; ``loc_part`` defaults to ``label``."""
        part = label if loc_part is None else loc_part
        return Where(f"{self.text}.{label}", (*self.loc, part), self.note)

    def __str__(self) -> str:
        return f"{self.text} ({self.note})" if self.note else self.text

    def error(self, message: str, cls: type[SpecError] = SpecError) -> SpecError:
        """An error at this field."""
        return cls(message, loc=self.loc)


def evaluate_raw(
    raw: Any, scope: Mapping[str, Any], where: Where, *, free_form: bool = False
) -> Any:
    """Evaluate one value: literals pass through, strings are literals or expressions.

    In free-form maps a quoted YAML string stays a literal string (docs/SPEC_FORMAT.md §4.4).
    """
    if isinstance(raw, str):
        if free_form and isinstance(raw, QuotedStr):
            return str(raw)
        ok, value = parse_literal(raw)
        if ok:
            return value
        if raw in scope and not isinstance(scope[raw], (TensorSet, RankVariableSet)):
            return scope[raw]
        return _evaluate(raw, scope, where, free_form=free_form)
    if isinstance(raw, Mapping):
        return {
            k: evaluate_raw(v, scope, where.child(k), free_form=free_form) for k, v in raw.items()
        }
    if isinstance(raw, list):
        return [
            evaluate_raw(v, scope, where.child(i), free_form=free_form) for i, v in enumerate(raw)
        ]
    return raw


def _evaluate(
    text: str, scope: Mapping[str, Any], where: Where, *, free_form: bool = False, hint: str = ""
) -> Any:
    """Evaluate an expression, adding the field path (and a quoting hint) to any error."""
    try:
        return evaluate_expression(text, scope)
    except ExpressionError as err:
        message = err.message.rstrip(".")
        if "is not defined" in message:
            message = message.replace(" is not defined", f" is not defined in {where}", 1)
            if free_form:
                hint += " If you meant a literal string, quote it."
        else:
            message += f" (in {where})"
        raise where.error(f"{message}.{hint}", ExpressionError) from None


def evaluate_number(
    raw: Any,
    scope: Mapping[str, Any],
    where: Where,
    *,
    integer: bool = False,
    boolean: bool = False,
) -> Any:
    """Evaluate ``raw`` and check it is a number (or an int, or a bool)."""
    value = evaluate_raw(raw, scope, where)
    if boolean:
        if isinstance(value, (TensorSet, RankVariableSet, bool, int, float)):
            return bool(value)
        raise where.error(
            f"{where} evaluated to {value!r} ({type(value).__name__}); expected a bool."
        )
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise where.error(
            f"{where} evaluated to {value!r} ({type(value).__name__}); expected int or float."
        )
    if integer and not (isinstance(value, int) or (math.isfinite(value) and value.is_integer())):
        raise where.error(f"{where} must be an integer; got {value!r}.")
    return int(value) if integer else value


def evaluate_set(
    raw: str | None,
    scope: Mapping[str, Any],
    where: Where,
    *,
    kind: type[TypedSet] | tuple[type[TypedSet], ...] = TensorSet,
    default: Any = None,
    deferred_names: Iterable[str] = (),
    defer_above: bool = True,
) -> Any:
    """Evaluate a set expression; returns the set, or the text itself when it must wait.

    Expressions naming a memory or ``Above`` are resolved at mapping time (docs/SPEC_FORMAT.md
    §5.4), so they are kept as strings here; with ``defer_above=False`` the scope's ``Above``
    is used.
    """
    if raw is None:
        return default
    text = str(raw)
    waits = set(deferred_names) | (set(DEFERRED_SET_NAMES) if defer_above else set())
    if referenced_names(text) & waits:
        return text
    if text in scope:
        value = scope[text]
    else:
        symbols = sorted(k for k, v in scope.items() if isinstance(v, (TensorSet, RankVariableSet)))
        memories = (
            f"; memories: {', '.join(sorted(waits - set(DEFERRED_SET_NAMES)))}"
            if (waits - set(DEFERRED_SET_NAMES))
            else ""
        )
        value = _evaluate(
            text,
            scope,
            where,
            hint=f" Available sets, tensors, renames and rank variables: "
            f"{', '.join(symbols)}{memories}.",
        )
    if isinstance(value, kind):
        return value
    expected = kind.kind if isinstance(kind, type) else "tensors or rank variables"
    if isinstance(value, (TensorSet, RankVariableSet)):
        culprit = next(iter(value), text)
        raise where.error(
            f"{where}: '{culprit}' is a set of {value.kind} ({text!r}); this field expects "
            f"{expected}."
        )
    if isinstance(value, (int, float)) and not isinstance(value, bool) and "+" in text:
        expected += " (use '|' for a union, not '+')"
    raise where.error(f"{where}: {text!r} evaluated to {value!r}; expected a set of {expected}.")


def evaluate_keyed_map(
    raw: Mapping[str, Any],
    scope: Mapping[str, Any],
    universe: TensorSet,
    where: Where,
    evaluate_value: Callable[[Any, Mapping[str, Any], Where], Any],
) -> dict[str, Any]:
    """Evaluate a map keyed by tensor set expressions into ``{tensor: value}`` (§5.3)."""
    out: dict[str, Any] = {}
    owners: dict[str, str] = {}
    other_key = None
    for key, value in raw.items():
        if str(key) == "Other":
            other_key = (key, value)
            continue
        members = evaluate_set(str(key), scope, where.child(key))
        if isinstance(members, str):
            raise where.child(key).error(f"{where}: key {key!r} cannot refer to memories.")
        _claim(members.names, str(key), owners, where)
        out.update(dict.fromkeys(members.names, evaluate_value(value, scope, where.child(key))))
    if other_key is not None:
        rest = set(universe.names) - set(owners)
        evaluated = evaluate_value(other_key[1], scope, where.child("Other"))
        out.update(dict.fromkeys(rest, evaluated))
    return dict(sorted(out.items()))


def _claim(names: Iterable[str], key: str, owners: dict[str, str], where: Where) -> None:
    overlap = sorted(n for n in names if n in owners)
    if overlap:
        raise where.error(
            f"{where}: keys '{owners[overlap[0]]}' and '{key}' overlap on "
            "{" + ", ".join(overlap) + "}; keys must be disjoint."
        )
    for name in names:
        owners[name] = key


def evaluate_in_order(
    raw: Mapping[str, Any],
    scope: dict[str, Any],
    where: Where,
    evaluate_one: Callable[[str, Any, Mapping[str, Any]], Any],
) -> dict[str, Any]:
    """Evaluate sibling fields in dependency order; each result joins ``scope`` by name.

    A field depends on a sibling whose name appears as a whole word in its text; ties are
    broken alphabetically. A cycle is an error naming it (``a → b → a``).
    """
    deps = {
        name: (
            {w for w in _WORD.findall(value) if w in raw and w != name}
            if isinstance(value, str)
            else set()
        )
        for name, value in raw.items()
    }
    done: dict[str, Any] = {}
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = trail[trail.index(name) :] + [name]
            raise where.child(name).error(
                f"circular dependency between fields of {where}: " + " → ".join(cycle) + "."
            )
        state[name] = 1
        for dep in sorted(deps[name]):
            visit(dep, [*trail, name])
        done[name] = evaluate_one(name, raw[name], scope)
        scope[name] = done[name]
        state[name] = 2

    for name in sorted(raw):
        visit(name, [])
    return {name: done[name] for name in raw}
