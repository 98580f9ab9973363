"""Bound-based pruning of partial joins (docs/MAPPER.md §6.4).

A partial join's optimistic completions are its objectives plus what the Einsums still to join
can add at least. That is a small set of points per join step: every choice of one pmapping
per remaining Einsum adds, in every objective, at least as much as one of them (with one
objective, the sum of the Einsums' minima; with several, the ideal points of a few clusters of
the Pareto front of those sums, which is far tighter than the sum of per-objective minima).
When a known complete mapping is at least as good as every optimistic completion of a row in
every objective and better in one, no completion of the row can reach the front, so the row
is dropped. With ENERGY_DELAY_PRODUCT the final objective is energy x latency, which the
optimistic completions bound from below, so a row is dropped when their lowest product exceeds
the best known one. Ties are never dropped: a row whose completion could equal a known point
stays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelforge.pareto import pareto_mask

__all__ = ["REST_POINTS", "Bound", "rest_points", "weightings"]

MARGIN = 1e-9
"""Relative slack for rounding: a row is dropped only when it is worse by more than this."""

REST_POINTS = 16
"""Points per join step bounding what the remaining Einsums add (clusters of their front)."""


@dataclass
class Bound:
    """Complete mappings found so far, and what the Einsums still to join add at least."""

    known: np.ndarray
    """Objective vectors of known complete mappings (rows x objectives), Pareto-pruned."""
    rest: list[np.ndarray]
    """Per join step k: points (points x objectives) such that any choice of one pmapping per
    Einsum after k adds at least as much as one of them in every objective."""
    product: tuple[int, int] | None = None
    """Columns whose product is the final objective (ENERGY_DELAY_PRODUCT), or None."""

    def __post_init__(self) -> None:
        self._slack = MARGIN * np.abs(self.known)
        energy, latency = self.product or (0, 0)
        self._best = float(np.min(self.known[:, energy] * self.known[:, latency]))

    @classmethod
    def of(
        cls, points: list[np.ndarray], rest: list[np.ndarray], product: tuple[int, int] | None
    ) -> Bound:
        """A bound from the objective vectors of complete mappings."""
        known = np.concatenate(points)
        return cls(known[pareto_mask(known)], rest, product)

    def hopeful(self, low: np.ndarray, step: int) -> bool:
        """Whether a row no better than ``low`` may still reach the final front.

        ``low`` is per objective, after ``step``, and bounds the row in every objective. If
        not, no row of a pair whose objectives are at least ``low`` can, and the pair need
        not be built.
        """
        return len(self.keep(low[None, :], step)) > 0

    def keep(self, objectives: np.ndarray, step: int) -> np.ndarray:
        """Indices of the rows that may still reach the final front.

        ``objectives`` are the rows' objectives so far, after ``step``.
        """
        rest = self.rest[step]
        if self.product is not None:
            energy, latency = self.product
            best = self._best
            low = (objectives[:, energy, None] + rest[None, :, energy]) * (
                objectives[:, latency, None] + rest[None, :, latency]
            )
            return np.flatnonzero(low.min(axis=1) <= best + MARGIN * abs(best))
        beaten = np.ones(len(objectives), dtype=bool)
        for point in rest:
            rows = np.flatnonzero(beaten)
            low = objectives[rows] + point
            beaten_here = np.zeros(len(rows), dtype=bool)
            for known, margin in zip(self.known, self._slack, strict=True):
                no_worse = np.all(known <= low + margin, axis=1)
                beaten_here |= no_worse & np.any(known < low - margin, axis=1)
            beaten[rows] = beaten_here
        return np.flatnonzero(~beaten)


def rest_points(per_einsum: list[np.ndarray], size: int = REST_POINTS) -> list[np.ndarray]:
    """Per join step k, at most ``size`` points below every sum of the later Einsums' rows.

    The sums take one row of each of ``per_einsum[k + 1:]`` (rows x objectives each). The
    points are Pareto fronts of partial sums, built from the last Einsum backwards, each cut
    into clusters replaced by their ideal point.
    """
    n = per_einsum[0].shape[1] if per_einsum else 0
    out: list[np.ndarray] = [np.zeros((1, n))] * len(per_einsum)
    total = np.zeros((1, n))
    for k in range(len(per_einsum) - 1, -1, -1):
        out[k] = total
        values = per_einsum[k] if len(per_einsum[k]) else np.zeros((1, n))
        mine = _ideal_clusters(values[pareto_mask(values)], size)
        sums = (total[:, None, :] + mine[None, :, :]).reshape(-1, n)
        total = _ideal_clusters(sums[pareto_mask(sums)], size)
    return out


def _ideal_clusters(points: np.ndarray, size: int) -> np.ndarray:
    """``points`` cut (in lexicographic order) into at most ``size`` runs of ideal points.

    Each run is replaced by its ideal point (the per-objective minimum): below every point of
    the run.
    """
    if len(points) <= size:
        return points
    ordered = points[np.lexsort(points.T[::-1])]
    return np.array([run.min(axis=0) for run in np.array_split(ordered, size)])


def weightings(scale: np.ndarray) -> list[np.ndarray]:
    """Objective weights for the greedy passes that find complete mappings.

    Each objective alone, then all of them with equal weight relative to ``scale``.
    """
    n = len(scale)
    unit = 1 / np.where(scale > 0, scale, 1.0)
    out = [np.eye(n)[i] for i in range(n)]
    if n > 1:
        out.append(unit)
    return out
