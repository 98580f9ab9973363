"""The form's view of the settings: the core's field metadata, plus what only a form needs.

Each ``FFM`` field's kind, bounds, unit, default and description come from
``FFM.field_metadata()`` (:mod:`accelforge.frontend.mapper.fields`, the one reader of
``FFM.model_fields``, also used by ``FFM``'s validation). The form picks a control per kind:

============  ================================
kind          control
============  ================================
``bool``      checkbox
``int``       integer box
``limit``     integer box + "unlimited" switch
``number``    number box + "unlimited" switch
``fraction``  slider + number box
``text``      text box
============  ================================

This module adds the slider's range and the ``Metrics`` toggle buttons.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from accelforge.frontend.mapper.fields import FieldMeta

__all__ = [
    "MetricOption",
    "format_number",
    "metric_options",
    "parse_number",
    "plain_text",
    "slider_range",
]

_SLIDER_STEP = 0.01


def slider_range(field: FieldMeta) -> tuple[float, float, float]:
    """``(min, max, step)`` of a field's slider; an excluded bound is moved in by one step."""
    low = 0.0 if field.minimum is None else float(field.minimum)
    high = 1.0 if field.maximum is None else float(field.maximum)
    if not field.min_inclusive:
        low += _SLIDER_STEP
    if not field.max_inclusive:
        high -= _SLIDER_STEP
    return low, high, _SLIDER_STEP


_ROLE = re.compile(r":[a-z:]+:`~?([^`<]*?)\s*(?:<[^>]*>)?`")
"""A Sphinx role: ``:func:`~a.b.c``` or ``:ref:`text <target>```."""


def plain_text(rst: str) -> str:
    """A docstring's reStructuredText as tooltip text: roles, literals and emphasis unmarked."""
    text = _ROLE.sub(
        lambda m: (
            m.group(1).rsplit(".", 1)[-1]
            if "." in m.group(1) and " " not in m.group(1)
            else m.group(1)
        ),
        rst,
    )
    text = re.sub(r"``([^`]*)``", r"\1", text)
    text = re.sub(r"\*\*([^*]+)\*\*|\*([^*]+)\*", lambda m: m.group(1) or m.group(2), text)
    return " ".join(text.split())


_WHOLE = re.compile(r"^[+-]?\d+$")
_UNLIMITED_WORDS = {"inf", "+inf", "infinity", "unlimited"}


def parse_number(text: str, field: FieldMeta) -> tuple[float | int | None, str | None]:
    """``(value, None)`` for text a numeric field accepts; ``(None, message)`` otherwise.

    Whole numbers only for ``int`` and ``limit`` fields ("2.5" is refused, not read as 25);
    ``inf`` only where the field allows no limit; never NaN, never a number too large to
    represent (``1e400``). Bounds are the settings' own check, after this.
    """
    raw = str(text).strip()
    whole = field.kind in ("int", "limit")
    kind = "a whole number" if whole else "a number"
    if raw.lower() in _UNLIMITED_WORDS:
        if field.allows_unlimited:
            return float("inf"), None
        return None, f"{field.name} must be {kind}; it has no 'unlimited'. Got {raw!r}."
    if whole:
        if _WHOLE.match(raw):
            return int(raw), None
        return None, f"{field.name} must be {kind} (like 4). Got {raw!r}."
    try:
        value = float(raw)
    except ValueError:
        return None, f"{field.name} must be {kind} (like 0.05). Got {raw!r}."
    if math.isnan(value) or math.isinf(value):
        return None, f"{field.name} must be {kind} within range. Got {raw!r}."
    return value, None


def format_number(value: float | int) -> str:
    """A value as a numeric box shows it (``0.05``, ``4``, ``inf``)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value)) if not math.isinf(value) else "inf"
    return "inf" if isinstance(value, float) and math.isinf(value) else repr(value)


@dataclass(frozen=True)
class MetricOption:
    """One member of the ``Metrics`` flag, as a toggle button."""

    name: str
    description: str
    objective: bool
    """False for the information-only members (``ACTIONS``, ``DETAILED_MEMORY_USAGE``)."""


def metric_options() -> tuple[MetricOption, ...]:
    """The ``Metrics`` members in value order, with their documentation."""
    from accelforge.frontend.mapper.metrics import Metrics

    return tuple(
        MetricOption(str(m.name), m.description, bool(m.objectives()))
        for m in sorted(Metrics.__members__.values(), key=lambda m: m.value)
    )
