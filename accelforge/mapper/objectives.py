"""What a mapper run optimises, resolved once from the metrics and the FFM settings.

Every stage reads the same :class:`Objectives` (carried by the pmapping context): the additive
objective columns the tile search and the join sum, whether the final front is over the
energy-delay product, whether resource usage is an objective, and the tolerances with which
Pareto pruning compares rows (docs/MAPPER.md §7, §8).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from accelforge import columns as col
from accelforge.frontend.mapper.metrics import Metrics
from accelforge.pareto import tolerant_view

if TYPE_CHECKING:
    from accelforge.mapper._tiles.rows import TemplateRows

__all__ = ["Objectives"]


_ADDITIVE = (
    (col.ENERGY, Metrics.ENERGY | Metrics.ENERGY_DELAY_PRODUCT),
    (col.DYNAMIC_ENERGY_OBJECTIVE, Metrics.DYNAMIC_ENERGY),
    (col.LEAK_ENERGY_OBJECTIVE, Metrics.LEAK_ENERGY),
    (col.LATENCY, Metrics.LATENCY | Metrics.ENERGY_DELAY_PRODUCT),
)
"""Each additive objective column and the metrics that ask for it, in column order."""


@dataclass(frozen=True)
class Objectives:
    """The objectives of one run and how pruning compares them.

    Attributes
    ----------
    metrics : Metrics
        The metrics they were resolved from.
    names : tuple of str
        Additive objective columns summed through the join (``energy``, ``dynamic_energy``,
        ``leak_energy``, ``latency``; §4.5, §7). The energy-delay product keeps ``energy``
        and ``latency`` and multiplies them on the final front.
    energy_delay_product : bool
        The final front is over energy × latency.
    resource_usage : bool
        Fanout usage and tracked memories' reservations are objectives too (§7).
    objective_tolerance : float
        ``ffm.objective_tolerance``: the factor of optimal a kept row may be off (§8).
    resource_tolerance : float
        ``ffm.resource_usage_tolerance``, or 0 when resource usage is an objective.
    n_einsums : int
        Einsums of the workload: the number of pruning stages the tolerance is spread over.
    """

    metrics: Metrics
    names: tuple[str, ...]
    energy_delay_product: bool
    resource_usage: bool
    objective_tolerance: float = 0.0
    resource_tolerance: float = 0.0
    n_einsums: int = 1

    @classmethod
    def resolve(
        cls,
        metrics: Metrics,
        objective_tolerance: float = 0.0,
        resource_usage_tolerance: float = 0.0,
        n_einsums: int = 1,
    ) -> Objectives:
        """Decode ``metrics`` and the tolerances.

        Raises
        ------
        ValueError
            When ``metrics`` has no optimisation metric (only ``ACTIONS`` or
            ``DETAILED_MEMORY_USAGE``, which are information only).
        """
        names = tuple(name for name, wanted in _ADDITIVE if metrics & wanted)
        resource_usage = Metrics.RESOURCE_USAGE in metrics
        if not names and not resource_usage:
            raise ValueError(
                f"{metrics} has no optimisation metric; ACTIONS and DETAILED_MEMORY_USAGE are "
                "information only"
            )
        return cls(
            metrics=metrics,
            names=names,
            energy_delay_product=Metrics.ENERGY_DELAY_PRODUCT in metrics,
            resource_usage=resource_usage,
            objective_tolerance=float(objective_tolerance),
            resource_tolerance=0.0 if resource_usage else float(resource_usage_tolerance),
            n_einsums=n_einsums,
        )

    @property
    def single(self) -> bool:
        """Whether the final front is over one value (one objective, or energy x latency)."""
        return self.energy_delay_product or (len(self.names) == 1 and not self.resource_usage)

    @property
    def bound_pruning(self) -> bool:
        """Whether the join may drop partial joins by bounds on the objectives.

        Not with resource usage as an objective: usage does not add up across Einsums. Not
        with an objective tolerance either: tolerant pruning may drop the partial joins of
        the greedy mappings the bound comes from, and the bound would then drop the
        near-equal ones that stood in for them, losing front points by more than the
        tolerance (docs/MAPPER.md §8).
        """
        return not self.resource_usage and self.objective_tolerance == 0

    def comparison_columns(self, table: TemplateRows) -> list[np.ndarray]:
        """A pmapping table's objective columns (§7).

        The additive objectives, then, with resource usage as an objective, the usage of each
        fanout dimension, sorted by name.
        """
        columns = [getattr(table, name) for name in self.names]
        if self.resource_usage:
            columns += [table.spatial_usage[k] for k in sorted(table.spatial_usage)]
        return columns

    def prune_view(
        self, values: np.ndarray, n_objectives: int, capacities: np.ndarray | None = None
    ) -> np.ndarray:
        """The columns Pareto pruning compares, rounded by the tolerances (§8).

        The first ``n_objectives`` columns are objectives; the rest are reservation bits of
        memories of the given ``capacities``. Spreads the objective tolerance over the
        ``n_einsums + 2`` pruning stages of a run.
        """
        return tolerant_view(
            values,
            n_objectives,
            self.objective_tolerance,
            self.resource_tolerance,
            capacities,
            self.n_einsums + 2,
            self.n_einsums,
        )
