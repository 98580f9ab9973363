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

import re
from dataclasses import dataclass

from accelforge.frontend.mapper.fields import FieldMeta

__all__ = ["MetricOption", "metric_options", "plain_text", "slider_range"]

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
