"""The units of a spec's results, for labels (docs/SPEC_FORMAT.md, Conventions).

A spec states no units: the model never converts them (docs/MODEL.md §0). The examples follow
one of two conventions, told apart by their numbers: SI (energies of picojoules per action, so
below 1e-6, in J; throughputs of 1e6 actions per second or more, in s) or unitless (energies
of 1 per action, throughputs of a few actions per cycle, so latencies in cycles).
:func:`units_of` reads which from an evaluated architecture; :meth:`Units.of` gives the unit
of any result column.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from accelforge import columns as col

__all__ = ["NO_UNITS", "SI", "UNITLESS", "Units", "units_of"]

_ENERGIES = {col.ENERGY, col.DYNAMIC_ENERGY, col.LEAK_ENERGY}
_ENERGIES |= {col.DYNAMIC_ENERGY_OBJECTIVE, col.LEAK_ENERGY_OBJECTIVE}
_SI_ENERGY_BELOW = 1e-6
"""J per action: a component action of a real arch costs picojoules, never a microjoule."""
_SI_THROUGHPUT_ABOVE = 1e6
"""Actions per second: a real component does at least a million."""


@dataclass(frozen=True)
class Units:
    """The units of energy and time in a spec's results.

    Attributes
    ----------
    energy : str
        ``"J"``, or ``"energy units"`` for a unitless spec.
    time : str
        ``"s"``, or ``"cycles"`` when throughputs are per cycle.
    """

    energy: str
    time: str

    def of(self, column: str, einsums: Collection[str] = ()) -> str | None:
        """The unit of a result column (None for counts and names)."""
        parsed = col.parse_column(column, einsums)
        if parsed.family in ("usage", "detailed_usage"):
            return "fraction of capacity"
        if parsed.family not in ("total", "objective", "einsum"):
            return None
        if parsed.what in _ENERGIES:
            return self.energy
        if parsed.what == col.LATENCY:
            return self.time
        if parsed.what == col.ENERGY_DELAY_PRODUCT:
            return f"{self.energy}\u00b7{self.time}"
        return None

    def label(self, column: str, einsums: Collection[str] = ()) -> str:
        """``column`` with its unit: ``"energy (J)"``; the name alone when it has none."""
        if not (self.energy or self.time):
            return column
        unit = self.of(column, einsums)
        return f"{column} ({unit})" if unit else column


SI = Units("J", "s")
UNITLESS = Units("energy units", "cycles")
NO_UNITS = Units("", "")
"""Labels without units (the spec's units are not known)."""


def units_of(arch: Any) -> Units:
    """The units of an evaluated architecture's results (``spec.evaluate(einsum)``).

    SI energy when every finite action energy is below 1e-6; time in s when some finite
    throughput is 1e6 or more, else in cycles.
    """
    energies, throughputs = [], []
    for component in arch.components.values():
        for action in getattr(component, "actions", {}).values():
            energies.append(_number(getattr(action, "energy", None)))
            throughputs.append(_number(getattr(action, "throughput", None)))
    finite_energies = [abs(e) for e in energies if e is not None and math.isfinite(e) and e]
    finite_throughputs = [t for t in throughputs if t is not None and math.isfinite(t)]
    si_energy = bool(finite_energies) and max(finite_energies) < _SI_ENERGY_BELOW
    si_time = bool(finite_throughputs) and max(finite_throughputs) >= _SI_THROUGHPUT_ABOVE
    return Units(SI.energy if si_energy else UNITLESS.energy, SI.time if si_time else UNITLESS.time)


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
