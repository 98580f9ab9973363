"""The model's result: totals, per-Einsum figures and tidy breakdowns.

The rules are docs/MODEL.md §8.5, §9, §10.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from accelforge import columns as col
from accelforge.frontend.evaluate_arch import EvaluatedArch, EvaluatedComponent
from accelforge.frontend.mapper.metrics import Metrics

if TYPE_CHECKING:
    from accelforge.frontend.evaluate_workload import EvaluatedWorkload
    from accelforge.frontend.spec import Spec
    from accelforge.model.einsum_eval import EinsumResult

__all__ = ["ModelResult", "leak_energy"]

BREAKDOWN_COLUMNS = ["einsum", "component", "tensor", "action", "count", "energy"]


@dataclass
class ModelResult:
    """What ``evaluate_mapping`` returns.

    ``breakdown`` is the tidy long table (one row per Einsum, component, tensor, action; leak
    rows have action ``leak`` and no tensor); the other tables are small and documented on
    their attributes. Every count and energy already includes ``n_instances``.
    """

    metrics: Metrics
    einsums: list[str]
    breakdown: pd.DataFrame
    """Columns einsum, component, tensor, action, count, energy (actions and leak)."""
    component_latency: pd.DataFrame
    """Columns einsum, component, latency (components the Einsum uses)."""
    einsum_latency: dict[str, float]
    memory_usage: pd.DataFrame
    """Columns einsum, memory, tensor, fraction (reservation bits / size; 0 for ``inf``)."""
    spatial_usage: pd.DataFrame
    """Columns einsum, component, dimension, fraction."""
    peak_usage: dict[str, float]
    """Peak fraction of each memory's size across the fused Einsums."""
    extras: dict[str, Any] = field(default_factory=dict)
    n_computes: dict[str, float] = field(default_factory=dict)
    """Compute operations of each Einsum (with ``n_instances``): :meth:`per_compute` divides."""

    @classmethod
    def build(
        cls,
        spec: Spec,
        workload: EvaluatedWorkload,
        order: list[str],
        results: dict[str, EinsumResult],
        archs: dict[str, EvaluatedArch],
        peaks: dict[str, float],
    ) -> ModelResult:
        """Assemble the tables from per-Einsum results (applies ``n_instances`` and leak)."""
        rows: list[dict[str, Any]] = []
        lat_rows: list[dict[str, Any]] = []
        mem_rows: list[dict[str, Any]] = []
        spatial_rows: list[dict[str, Any]] = []
        einsum_latency: dict[str, float] = {}
        n_computes: dict[str, float] = {}
        for einsum in order:
            result = results[einsum]
            repeat = workload.einsums[einsum].einsum.n_instances * spec.workload.n_instances
            for r in result.actions:
                rows.append(
                    {
                        "einsum": einsum,
                        "component": r.component,
                        "tensor": r.tensor,
                        "action": r.action,
                        "count": r.count * repeat,
                        "energy": r.energy * repeat,
                    }
                )
            for component, latency in result.component_latency.items():
                lat_rows.append(
                    {"einsum": einsum, "component": component, "latency": latency * repeat}
                )
            einsum_latency[einsum] = result.latency * repeat
            n_computes[einsum] = workload.einsums[einsum].n_computes * spec.workload.n_instances
            arch = archs[einsum]
            for evaluated in arch.components.values():
                rows.append(
                    {
                        "einsum": einsum,
                        "component": evaluated.name,
                        "tensor": None,
                        "action": "leak",
                        "count": 0.0,
                        "energy": leak_energy(evaluated, arch, result) * repeat,
                    }
                )
            for memory, tensor, bits in _usage_by_tensor(result):
                size = arch.components[memory].size
                mem_rows.append(
                    {
                        "einsum": einsum,
                        "memory": memory,
                        "tensor": tensor,
                        "fraction": _fraction(bits, size),
                    }
                )
            for (component, dim), usage in result.spatial_usage.items():
                spatial_rows.append(
                    {"einsum": einsum, "component": component, "dimension": dim, "fraction": usage}
                )
        return cls(
            metrics=spec.model.metrics,
            einsums=list(order),
            breakdown=pd.DataFrame(rows, columns=BREAKDOWN_COLUMNS),
            component_latency=pd.DataFrame(lat_rows, columns=["einsum", "component", "latency"]),
            einsum_latency=einsum_latency,
            memory_usage=pd.DataFrame(mem_rows, columns=["einsum", "memory", "tensor", "fraction"]),
            spatial_usage=pd.DataFrame(
                spatial_rows, columns=["einsum", "component", "dimension", "fraction"]
            ),
            n_computes=n_computes,
            peak_usage={
                **{
                    c.name: 0.0
                    for a in archs.values()
                    for c in a.components.values()
                    if c.kind == "Memory"
                },
                **peaks,
            },
        )

    def energy(
        self,
        *,
        per_einsum: bool = False,
        per_component: bool = False,
        per_tensor: bool = False,
        per_action: bool = False,
    ) -> float | pd.Series:
        """Total energy (dynamic + leak), or a Series over the chosen breakdown keys."""
        return self._sum("energy", per_einsum, per_component, per_tensor, per_action)

    def dynamic_energy(self, **switches: bool) -> float | pd.Series:
        """Energy of actions only (no leak); same switches as :meth:`energy`."""
        return self._sum("energy", *self._switches(switches), where=self._dynamic)

    def leak_energy(self, **switches: bool) -> float | pd.Series:
        """Leak energy only; same switches as :meth:`energy` (leak rows have no tensor)."""
        return self._sum("energy", *self._switches(switches), where=~self._dynamic)

    def actions(
        self,
        *,
        per_einsum: bool = False,
        per_component: bool = False,
        per_tensor: bool = False,
        per_action: bool = False,
    ) -> float | pd.Series:
        """Action counts (leak rows excluded), total or per the chosen keys."""
        return self._sum(
            "count", per_einsum, per_component, per_tensor, per_action, where=self._dynamic
        )

    def latency(
        self, *, per_einsum: bool = False, per_component: bool = False
    ) -> float | pd.Series:
        """Total latency (sum over Einsums of the max over components), or a breakdown.

        ``per_component`` alone sums each component's latency across Einsums.
        """
        if per_component:
            keys = ["einsum", "component"] if per_einsum else ["component"]
            return self.component_latency.groupby(keys, sort=False)["latency"].sum()
        if per_einsum:
            return pd.Series(self.einsum_latency, name="latency").rename_axis("einsum")
        return math.fsum(self.einsum_latency.values())

    def per_compute(self, per_einsum: bool = False) -> ModelResult:
        """The same result with energies, action counts and latencies per compute operation.

        Everything is divided by the workload's compute operations, or, with ``per_einsum``,
        each Einsum's figures by that Einsum's (then the totals are not per-compute sums).
        Usage fractions are unchanged.
        """
        total = math.fsum(self.n_computes.values())
        scale = {e: 1.0 / (self.n_computes[e] if per_einsum else total) for e in self.einsums}
        breakdown = self.breakdown.copy()
        factor = breakdown["einsum"].map(scale)
        breakdown["energy"] = breakdown["energy"] * factor
        breakdown["count"] = breakdown["count"] * factor
        latency = self.component_latency.copy()
        latency["latency"] = latency["latency"] * latency["einsum"].map(scale)
        return dataclasses.replace(
            self,
            breakdown=breakdown,
            component_latency=latency,
            einsum_latency={e: v * scale[e] for e, v in self.einsum_latency.items()},
        )

    def energy_delay_product(self) -> float:
        """Total energy × total latency."""
        return self.energy() * self.latency()

    def resource_usage(self, *, per_einsum: bool = False) -> dict[str, float] | pd.DataFrame:
        """Peak fraction of each memory and usage of each fanout dimension.

        Keys are memory names and ``component.dimension`` for fanouts (the max over Einsums).
        With ``per_einsum`` the memory usage table per Einsum and tensor is returned.
        """
        if per_einsum:
            return self.memory_usage
        out = dict(self.peak_usage)
        for (component, dim), group in self.spatial_usage.groupby(
            ["component", "dimension"], sort=False
        ):
            out[col.fanout_name(component, dim)] = float(group["fraction"].max())
        return out

    @property
    def data(self) -> pd.DataFrame:
        """One row of numeric columns: totals, per-Einsum figures and usage.

        When the metrics ask for them, actions and detailed memory usage are added.
        """
        row: dict[str, float] = {
            col.ENERGY: self.energy(),
            col.DYNAMIC_ENERGY: self.dynamic_energy(),
            col.LEAK_ENERGY: self.leak_energy(),
            col.LATENCY: self.latency(),
            col.ENERGY_DELAY_PRODUCT: self.energy_delay_product(),
        }
        energy = self._grouped("energy", ["einsum"])
        for einsum in self.einsums:
            row[col.einsum_column(einsum, col.ENERGY)] = float(energy.get(einsum, 0.0))
            row[col.einsum_column(einsum, col.LATENCY)] = self.einsum_latency[einsum]
        for name, value in self.resource_usage().items():
            row[col.usage_column(name)] = value
        if Metrics.ACTIONS in self.metrics:
            for r in self.breakdown[self._dynamic].itertuples():
                tensor = r.tensor if isinstance(r.tensor, str) else None
                row[col.actions_column(r.einsum, r.component, tensor, r.action)] = r.count
        if Metrics.DETAILED_MEMORY_USAGE in self.metrics:
            for r in self.memory_usage.itertuples():
                row[col.detailed_usage_column(r.einsum, r.memory, r.tensor)] = r.fraction
        return pd.DataFrame([row])

    @property
    def _dynamic(self) -> pd.Series:
        return self.breakdown["action"] != "leak"

    @staticmethod
    def _switches(switches: dict[str, bool]) -> tuple[bool, bool, bool, bool]:
        allowed = ("per_einsum", "per_component", "per_tensor", "per_action")
        unknown = set(switches) - set(allowed)
        if unknown:
            raise TypeError(f"unknown switch(es) {sorted(unknown)}; use {', '.join(allowed)}")
        return tuple(bool(switches.get(k, False)) for k in allowed)  # type: ignore[return-value]

    def _sum(
        self,
        column: str,
        per_einsum: bool,
        per_component: bool,
        per_tensor: bool,
        per_action: bool,
        where: pd.Series | None = None,
    ) -> float | pd.Series:
        keys = [
            k
            for k, on in zip(
                ("einsum", "component", "tensor", "action"),
                (per_einsum, per_component, per_tensor, per_action),
                strict=True,
            )
            if on
        ]
        if not keys:
            return math.fsum(self._rows(where)[column])
        return self._grouped(column, keys, where)

    def _rows(self, where: pd.Series | None) -> pd.DataFrame:
        return self.breakdown if where is None else self.breakdown[where]

    def _grouped(self, column: str, keys: list[str], where: pd.Series | None = None) -> pd.Series:
        """``column`` summed per ``keys`` over the breakdown rows ``where`` selects."""
        return self._rows(where).groupby(keys, sort=False, dropna=False)[column].sum()


def _fraction(bits: float, size: float | None) -> float:
    if size is None or math.isinf(size):
        return 0.0
    return bits / size if size else (0.0 if bits == 0 else math.inf)


def _usage_by_tensor(result: EinsumResult) -> Sequence[tuple[str, str, float]]:
    totals: dict[tuple[str, str], float] = {}
    for r in result.reservations:
        totals[(r.memory, r.tensor)] = totals.get((r.memory, r.tensor), 0.0) + r.bits
    return [(memory, tensor, bits) for (memory, tensor), bits in totals.items()]


def leak_energy(component: EvaluatedComponent, arch: EvaluatedArch, result: EinsumResult) -> Any:
    """Leak of one component during one Einsum (docs/MODEL.md §10.2, §10.3; floats or arrays)."""
    return component.total_leak_power * result.latency * _gate(component, arch, result)


def _gate(component: EvaluatedComponent, arch: EvaluatedArch, result: EinsumResult) -> Any:
    """Power-gating factor: Π over gateable dimensions at or above the component (§10.3)."""
    factor: Any = 1.0
    for node in arch.nodes:
        for dim in node.spatial:
            if dim.power_gateable:
                used = result.spatial_used.get((node.name, dim.name), 1.0)
                factor = factor * np.minimum(1.0, used * dim.usage_scale / dim.fanout)
        if node is component:
            break
    return factor
