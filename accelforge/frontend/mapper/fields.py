"""What each mapper setting is, read in one place from its pydantic field.

:func:`read_fields` describes every public field of a model as a :class:`FieldMeta`: its
kind, bounds, unit, default and description (``FFM.field_metadata()`` for the FFM settings).
``FFM`` validation (and its messages), the Jupyter form (``accelforge.widgets.FFMForm``) and
the docs read these; nothing lists a field by hand. The kind comes from the annotation and
the ``Field(ge=..., lt=...)`` bounds, one small rule per kind:

============  ======================================  ======================================
kind          annotation and bounds                   values
============  ======================================  ======================================
``bool``      ``bool``                                true or false
``int``       ``int``                                 an integer
``limit``     ``int | float`` (an integer or ``inf``)  an integer, or ``inf`` for no limit
``number``    ``float`` without both bounds           a number (``inf``: no limit, if no max)
``fraction``  ``float`` with both bounds              a number in a bounded range
``text``      anything else                           (no FFM field)
============  ======================================  ======================================

Expression strings (any ``str`` subclass in the annotation) do not count. The unit is the
field's ``json_schema_extra={"unit": ...}`` (``"s"``, ``"B"``); the description is its
attribute docstring (``use_attribute_docstrings``), on one line. Fields whose name starts with
``_`` or that are excluded are not listed.
"""

from __future__ import annotations

import functools
import math
import typing
from dataclasses import dataclass
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

__all__ = ["FieldKind", "FieldMeta", "field_meta", "is_unlimited", "read_field", "read_fields"]

FieldKind = Literal["bool", "int", "limit", "number", "fraction", "text"]
"""What values a field takes (see the module docstring)."""


@dataclass(frozen=True)
class FieldMeta:
    """One setting: everything needed to check, document or show it.

    Attributes
    ----------
    name : str
        The pydantic field name (``objective_tolerance``).
    kind : FieldKind
        What values it takes.
    description : str
        The attribute docstring, whitespace collapsed.
    default : Any
        The default value.
    minimum, maximum : float or None
        Bounds from ``Field(ge=, gt=, le=, lt=)``; None when unbounded.
    min_inclusive, max_inclusive : bool
        Whether each bound is allowed itself (``ge``/``le``) or not (``gt``/``lt``).
    unit : str or None
        The unit of the value (``"s"``, ``"B"``); None for counts, switches and ratios.
    """

    name: str
    kind: FieldKind
    description: str
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True
    unit: str | None = None

    @property
    def label(self) -> str:
        """The name in words (``objective tolerance``)."""
        return self.name.replace("_", " ")

    @property
    def allows_unlimited(self) -> bool:
        """Whether the field takes ``inf`` ("no limit")."""
        return self.kind == "limit" or (self.kind == "number" and self.maximum is None)

    def in_bounds(self, value: float) -> bool:
        """Whether ``value`` satisfies the field's bounds."""
        if self.minimum is not None:
            if value < self.minimum or (value == self.minimum and not self.min_inclusive):
                return False
        if self.maximum is not None:
            if value > self.maximum or (value == self.maximum and not self.max_inclusive):
                return False
        return True

    def allowed_text(self) -> str:
        """What the field accepts, in words (``"an integer >= 0, or inf"``)."""
        if self.kind == "bool":
            return "true or false"
        text = "an integer" if self.kind in ("int", "limit") else "a number"
        bounds = []
        if self.minimum is not None:
            bounds.append(f"{'>=' if self.min_inclusive else '>'} {self.minimum:g}")
        if self.maximum is not None:
            bounds.append(f"{'<=' if self.max_inclusive else '<'} {self.maximum:g}")
        if bounds:
            text += " " + " and ".join(bounds)
        if self.allows_unlimited:
            text += ", or inf"
        return text


def _bounds(info: FieldInfo) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in info.metadata:
        if isinstance(item, annotated_types.Ge):
            found.update(minimum=item.ge, min_inclusive=True)
        elif isinstance(item, annotated_types.Gt):
            found.update(minimum=item.gt, min_inclusive=False)
        elif isinstance(item, annotated_types.Le):
            found.update(maximum=item.le, max_inclusive=True)
        elif isinstance(item, annotated_types.Lt):
            found.update(maximum=item.lt, max_inclusive=False)
    return found


def _value_types(annotation: Any) -> set[Any]:
    """The plain value types of an annotation, without expression strings (``str`` subclasses)."""
    types = set(typing.get_args(annotation)) or {annotation}
    return {t for t in types if not (isinstance(t, type) and issubclass(t, str))}


def _kind(info: FieldInfo, bounds: dict[str, Any]) -> FieldKind:
    types = _value_types(info.annotation)
    if types == {bool}:
        return "bool"
    if types == {int}:
        return "int"
    if types == {int, float}:
        return "limit"
    if types == {float}:
        bounded = bounds.get("minimum") is not None and bounds.get("maximum") is not None
        return "fraction" if bounded else "number"
    return "text"


def _unit(info: FieldInfo) -> str | None:
    extra = info.json_schema_extra
    unit = extra.get("unit") if isinstance(extra, dict) else None
    return str(unit) if unit is not None else None


def read_field(name: str, info: FieldInfo) -> FieldMeta:
    """The :class:`FieldMeta` of one pydantic field."""
    bounds = _bounds(info)
    return FieldMeta(
        name=name,
        kind=_kind(info, bounds),
        description=" ".join((info.description or "").split()),
        default=info.get_default(call_default_factory=True),
        unit=_unit(info),
        **bounds,
    )


@functools.cache
def read_fields(model: type[BaseModel]) -> tuple[FieldMeta, ...]:
    """One :class:`FieldMeta` per public field of ``model``, in declaration order."""
    return tuple(
        read_field(name, info)
        for name, info in model.model_fields.items()
        if not name.startswith("_") and not info.exclude
    )


@functools.cache
def field_meta(model: type[BaseModel], name: str) -> FieldMeta:
    """The :class:`FieldMeta` of ``model``'s field ``name`` (private fields included)."""
    return read_field(name, model.model_fields[name])


def is_unlimited(value: Any) -> bool:
    """Whether ``value`` is ``inf`` (an "unlimited" setting)."""
    return isinstance(value, float) and math.isinf(value) and value > 0
