"""Bound-based pruning of partial joins (MAPPER.md §6.4).

A partial join's optimistic completion is its objectives plus, per objective, the sum of the
smallest value each Einsum still to join can add. When a known complete mapping is at least as
good in every objective and better in one, no completion of the row can reach the front, so the
row is dropped. With ENERGY_DELAY_PRODUCT the final objective is energy x latency, which the
optimistic completion bounds from below, so a row is dropped when that product exceeds the best
known one. Ties are never dropped: a row whose completion could equal a known point stays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelforge.mapper.pareto import pareto_mask

__all__ = ["Bound", "weightings"]

MARGIN = 1e-9
"""Relative slack for rounding: a row is dropped only when it is worse by more than this."""


@dataclass
class Bound:
    """Complete mappings found so far, and what the Einsums still to join add at least."""

    known: np.ndarray
    """Objective vectors of known complete mappings (rows x objectives), Pareto-pruned."""
    rest: np.ndarray
    """Per join step k: per objective, the sum over Einsums after k of their minima."""
    product: tuple[int, int] | None = None
    """Columns whose product is the final objective (ENERGY_DELAY_PRODUCT), or None."""

    @classmethod
    def of(
        cls, points: list[np.ndarray], rest: np.ndarray, product: tuple[int, int] | None
    ) -> Bound:
        """A bound from the objective vectors of complete mappings."""
        known = np.concatenate(points)
        return cls(known[pareto_mask(known)], rest, product)

    def hopeful(self, low: np.ndarray, step: int) -> bool:
        """Whether some row no better than ``low`` (per objective, after ``step``) in every
        objective may still reach the final front: if not, no row of a pair whose
        objectives are at least ``low`` can, and the pair need not be built."""
        low = low + self.rest[step]
        if self.product is not None:
            energy, latency = self.product
            return bool(low[energy] * low[latency] <= self.best_product * (1 + MARGIN))
        slack = MARGIN * np.abs(self.known)
        no_worse = np.all(self.known <= low + slack, axis=1)
        return not np.any(no_worse & np.any(self.known < low - slack, axis=1))

    @property
    def best_product(self) -> float:
        """The lowest energy x latency of a known complete mapping (with ``product``)."""
        energy, latency = self.product or (0, 0)
        return float(np.min(self.known[:, energy] * self.known[:, latency]))

    def keep(self, objectives: np.ndarray, step: int) -> np.ndarray:
        """Indices of the rows (objectives so far, after ``step``) that may still reach the
        final front."""
        low = objectives + self.rest[step]
        if self.product is not None:
            energy, latency = self.product
            best = self.best_product
            product = low[:, energy] * low[:, latency]
            return np.flatnonzero(product <= best + MARGIN * abs(best))
        beaten = np.zeros(len(low), dtype=bool)
        slack = MARGIN * np.abs(self.known)
        for point, margin in zip(self.known, slack, strict=True):
            no_worse = np.all(point <= low + margin, axis=1)
            beaten |= no_worse & np.any(point < low - margin, axis=1)
        return np.flatnonzero(~beaten)


def weightings(scale: np.ndarray) -> list[np.ndarray]:
    """Objective weights for the greedy passes that find complete mappings: each objective
    alone, then all of them with equal weight relative to ``scale``."""
    n = len(scale)
    unit = 1 / np.where(scale > 0, scale, 1.0)
    out = [np.eye(n)[i] for i in range(n)]
    if n > 1:
        out.append(unit)
    return out
