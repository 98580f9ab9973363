"""Form fields read from a pydantic model's ``model_fields``: the data behind ``FFMForm``.

No field is listed by hand. Each public field becomes a :class:`FormField` whose ``kind`` says
which control shows it, by a dispatch on the annotation and the ``Field(ge=..., lt=...)``
bounds (the ipywidgets ``interaction.py`` approach, one small rule per kind):

============  ======================================  ================================
kind          annotation and bounds                   control
============  ======================================  ================================
``bool``      ``bool``                                checkbox
``int``       ``int``                                 integer box
``limit``     ``int | float`` (an integer or ``inf``)  integer box + "unlimited" switch
``number``    ``float`` without an upper bound         number box + "unlimited" switch
``fraction``  ``float`` with both bounds               slider + number box
``text``      anything else                            text box
============  ======================================  ================================

The description (the field's attribute docstring, via ``use_attribute_docstrings``) is the
tooltip. Fields whose name starts with ``_`` or that are excluded are hidden.
"""

from __future__ import annotations

import math
import typing
from dataclasses import dataclass
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

__all__ = [
    "FieldKind",
    "FormField",
    "MetricOption",
    "form_fields",
    "is_unlimited",
    "metric_options",
]

FieldKind = Literal["bool", "int", "limit", "number", "fraction", "text"]
"""Which control shows a field (see the module docstring)."""

_SLIDER_STEP = 0.01


@dataclass(frozen=True)
class FormField:
    """One field of the form: everything a view needs to draw and check it.

    Attributes
    ----------
    name : str
        The pydantic field name (``objective_tolerance``).
    kind : FieldKind
        Which control shows it.
    description : str
        The attribute docstring, shown as the tooltip.
    default : Any
        The field's default value.
    minimum, maximum : float or None
        Bounds from ``Field(ge=, gt=, le=, lt=)``; None when unbounded.
    min_inclusive, max_inclusive : bool
        Whether each bound is allowed itself (``ge``/``le``) or not (``gt``/``lt``).
    """

    name: str
    kind: FieldKind
    description: str
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True

    @property
    def label(self) -> str:
        """The name in words (``objective tolerance``)."""
        return self.name.replace("_", " ")

    @property
    def allows_unlimited(self) -> bool:
        """Whether the field takes ``inf`` ("unlimited")."""
        return self.kind in ("limit", "number")

    def slider_range(self) -> tuple[float, float, float]:
        """``(min, max, step)`` for a slider; an excluded bound is moved in by one step."""
        low = 0.0 if self.minimum is None else float(self.minimum)
        high = 1.0 if self.maximum is None else float(self.maximum)
        if not self.min_inclusive:
            low += _SLIDER_STEP
        if not self.max_inclusive:
            high -= _SLIDER_STEP
        return low, high, _SLIDER_STEP


@dataclass(frozen=True)
class MetricOption:
    """One member of the ``Metrics`` flag, as a toggle button."""

    name: str
    description: str
    objective: bool
    """False for the information-only members (``ACTIONS``, ``DETAILED_MEMORY_USAGE``)."""


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


def form_fields(model: type[BaseModel]) -> tuple[FormField, ...]:
    """One :class:`FormField` per public field of ``model``, in declaration order."""
    fields = []
    for name, info in model.model_fields.items():
        if name.startswith("_") or info.exclude:
            continue
        bounds = _bounds(info)
        default = info.get_default(call_default_factory=True)
        fields.append(
            FormField(
                name=name,
                kind=_kind(info, bounds),
                description=" ".join((info.description or "").split()),
                default=default,
                **bounds,
            )
        )
    return tuple(fields)


def metric_options() -> tuple[MetricOption, ...]:
    """The ``Metrics`` members in value order, with their documentation."""
    from accelforge.frontend.mapper.metrics import Metrics

    info_only = Metrics.ACTIONS | Metrics.DETAILED_MEMORY_USAGE
    return tuple(
        MetricOption(str(m.name), m.description, not bool(m & info_only))
        for m in sorted(Metrics.__members__.values(), key=lambda m: m.value)
    )


def is_unlimited(value: Any) -> bool:
    """Whether ``value`` is ``inf`` (an "unlimited" setting)."""
    return isinstance(value, float) and math.isinf(value) and value > 0
