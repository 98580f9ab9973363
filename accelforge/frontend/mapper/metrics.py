"""The objectives the mapper optimises and the metrics it reports: the :class:`Metrics` flag.

Members combine with ``|``; the mapper returns the Pareto set over the chosen objectives::

    spec.mapper.metrics = Metrics.ENERGY | Metrics.LATENCY

In YAML (and anywhere :func:`Metrics.parse` is used) a value may be a member, an integer (any
combination of the bits below), a name (``ENERGY``, case-insensitive), a ``|``-joined string
(``ENERGY | LATENCY``) or a list of names and integers.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

from accelforge.errors import SpecError, did_you_mean

__all__ = ["Metrics", "MetricsField"]


class Metrics(enum.Flag):
    """Objectives of the mapper (``mapper.metrics``) and columns it reports (``info_metrics``).

    A flag enum: combine members with ``|``. :meth:`parse` turns every accepted spelling (an
    integer, a name, ``"ENERGY | LATENCY"``, a list) into a member.
    """

    LATENCY = 1
    ENERGY = 2
    DYNAMIC_ENERGY = 4
    LEAK_ENERGY = 8
    RESOURCE_USAGE = 16
    ACTIONS = 32
    DETAILED_MEMORY_USAGE = 64
    ENERGY_DELAY_PRODUCT = 128

    @classmethod
    def all_metrics(cls) -> Metrics:
        """Every member combined (the default of ``info_metrics``)."""
        result = cls(0)
        for member in _members():
            result |= member
        return result

    def names(self) -> list[str]:
        """Names of the members in this value, in value order (``["LATENCY", "ENERGY"]``)."""
        return [member.name for member in _members() if member & self and member.name]

    def objectives(self) -> Metrics:
        """The members of this value that the mapper can optimise.

        ``ACTIONS`` and ``DETAILED_MEMORY_USAGE`` are information only and are left out.
        """
        return self & ~(Metrics.ACTIONS | Metrics.DETAILED_MEMORY_USAGE)

    @property
    def description(self) -> str:
        """The documentation of this member (for a combination: of each member, joined)."""
        return " ".join(_DESCRIPTIONS[name] for name in self.names())

    @classmethod
    def parse(cls, value: Any) -> Metrics:
        """Turn any accepted spelling into a :class:`Metrics` value.

        Accepted: a :class:`Metrics`; an integer made of the valid bits (``3`` is
        ``LATENCY | ENERGY``); a member name, case-insensitive, optionally prefixed with
        ``Metrics.``; a ``|``-joined string of names or integers (``"ENERGY | LATENCY"``); a
        list, tuple or set of any of these. An empty list is the empty flag ``Metrics(0)``.

        Raises
        ------
        SpecError
            For an unknown name (the message suggests the closest valid name and lists them
            all), an integer with bits outside the valid ones, or a value of another type.
        """
        if isinstance(value, Metrics):
            return value
        if isinstance(value, bool):
            raise SpecError(
                "must be a Metrics name, a '|'-joined string of names, an integer or a list.",
                value=value,
                allowed=_ALLOWED,
            )
        if isinstance(value, int):
            return _from_int(value)
        if isinstance(value, str):
            return _from_text(value)
        if isinstance(value, (list, tuple, set, frozenset)):
            result = cls(0)
            for item in value:
                if isinstance(item, (list, tuple, set, frozenset)):
                    raise SpecError(
                        "a list of metrics must hold names or integers, not nested lists.",
                        value=value,
                    )
                result |= cls.parse(item)
            return result
        raise SpecError(
            "must be a Metrics name, a '|'-joined string of names, an integer or a list.",
            value=value,
            allowed=_ALLOWED,
        )


def _members() -> Iterable[Metrics]:
    """The canonical members in value order (same on Python 3.10 to 3.13)."""
    return sorted(Metrics.__members__.values(), key=lambda member: member.value)


_DESCRIPTIONS: dict[str, str] = {
    "LATENCY": "Latency: minimise the time taken to run the whole workload.",
    "ENERGY": "Energy: minimise the total energy of the workload (dynamic plus leakage).",
    "DYNAMIC_ENERGY": "Dynamic energy: minimise the energy spent by component actions.",
    "LEAK_ENERGY": "Leak energy: minimise the leakage energy (leak power times latency).",
    "RESOURCE_USAGE": (
        "Resource usage: minimise the on-chip resources used. Multivariate: one objective "
        "per memory (peak occupancy) and per fanout dimension (instances used)."
    ),
    "ACTIONS": (
        "Actions: report the action counts of every component. Information only, not an "
        "optimisation objective."
    ),
    "DETAILED_MEMORY_USAGE": (
        "Detailed memory usage: report the occupancy of every memory per Einsum and tensor. "
        "Information only, not an optimisation objective."
    ),
    "ENERGY_DELAY_PRODUCT": (
        "Energy-delay product: minimise total energy times total latency. Energy and latency "
        "are kept as objectives through the join; at the end EDP is computed and minimised."
    ),
}

for _member in _members():
    # Enum members have no attribute docstrings at run time; attach the documentation so
    # help(), IDEs and the widgets' tooltips show it.
    _member.__doc__ = _DESCRIPTIONS[str(_member.name)]
del _member

_VALID_BITS = Metrics.all_metrics().value
_NAMES = [str(member.name) for member in _members()]
_ALLOWED = (
    f"one or more of {', '.join(_NAMES)} (joined with '|' or as a list), or an integer "
    f"combination of their values (0 to {_VALID_BITS})"
)


def _from_int(value: int) -> Metrics:
    if value < 0 or value & ~_VALID_BITS:
        raise SpecError(
            f"is not a valid Metrics integer: it must combine the bits of "
            f"{', '.join(f'{m.name}={m.value}' for m in _members())}.",
            value=value,
            allowed=f"an integer from 0 to {_VALID_BITS}",
        )
    return Metrics(value)


def _from_text(text: str) -> Metrics:
    parts = [part.strip() for part in text.split("|")]
    if not any(parts) or not all(parts):
        raise SpecError(
            "is not a Metrics value: expected names joined with '|'.",
            value=text,
            allowed=_ALLOWED,
        )
    result = Metrics(0)
    for part in parts:
        name = part[len("Metrics.") :] if part.startswith("Metrics.") else part
        if name.isdigit():
            result |= _from_int(int(name))
            continue
        member = Metrics.__members__.get(name.upper())
        if member is None:
            raise SpecError(
                f"'{part}' is not a Metrics name.{did_you_mean(name.upper(), _NAMES)}",
                value=text,
                allowed=", ".join(_NAMES),
            )
        result |= member
    return result


def _validate(value: Any) -> Metrics:
    return Metrics.parse(value)


def _serialize(value: Metrics) -> list[str]:
    return value.names()


MetricsField = Annotated[
    Metrics,
    PlainValidator(_validate),
    PlainSerializer(_serialize, return_type=list[str]),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0, "maximum": _VALID_BITS},
                {"type": "string"},
                {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
            ],
            "description": f"Metrics: {_ALLOWED}.",
        }
    ),
]
"""A pydantic field type for :class:`Metrics`.

Accepts every form :meth:`Metrics.parse` accepts and serialises to the list of member names
(``["LATENCY", "ENERGY"]``), which YAML and JSON can hold and ``parse`` reads back.
"""
