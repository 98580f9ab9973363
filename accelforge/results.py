"""``Mappings``: the Pareto-optimal mappings a mapper run returns, as DataFrames and objects."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from accelforge import columns as col
from accelforge import export
from accelforge.pareto import pareto_rows

if TYPE_CHECKING:
    from accelforge.frontend.mapping import Mapping
    from accelforge.frontend.spec import Spec
    from accelforge.model.result import ModelResult

__all__ = ["MappedResult", "Mappings"]


@dataclass
class MappedResult:
    """One Pareto-optimal mapping and its full model result."""

    mapping: Mapping
    result: ModelResult

    def render(self) -> str:
        """The loop nest as indented text."""
        return self.mapping.render()

    def to_yaml(self) -> str:
        """A ``mapping:`` section that ``evaluate_mapping`` (and AccelForge) accepts."""
        return self.mapping.to_yaml()

    def _repr_html_(self) -> str:
        return self.mapping._repr_html_()


class Mappings:
    """The Pareto front: one row per mapping in :attr:`data`, objects by index."""

    def __init__(
        self,
        spec: Spec,
        items: list[MappedResult],
        objectives: list[str],
        steps: list[Any],
    ) -> None:
        self._spec = spec
        self._items = items
        self.objectives = objectives
        self.join_steps = steps

    def __len__(self) -> int:
        return len(self._items)

    @property
    def spec(self) -> Spec:
        """The spec the mappings were found for."""
        return self._spec

    def pareto(self, columns: Sequence[str] | None = None) -> Mappings:
        """The mappings not dominated in ``columns`` (all minimised; default: the objectives).

        Exact ties keep the first; rows with NaN in ``columns`` are left out. Any columns of
        :attr:`data` may be chosen, e.g. energy and one memory's usage for a 2-D resource view
        (:func:`accelforge.pareto.pareto_rows` decides, as in the explorer's views).
        """
        columns = list(self.objectives if columns is None else columns)
        data = self.data
        missing = [c for c in columns if c not in data.columns]
        if missing:
            raise KeyError(f"no column(s) {missing}; the columns are {list(data.columns)}")
        if not len(self._items) or not columns:
            return self
        kept = [self._items[i] for i in sorted(pareto_rows(data, columns).index)]
        return Mappings(self._spec, kept, self.objectives, self.join_steps)

    def merged(self, other: Mappings) -> Mappings:
        """The non-dominated mappings of both (on ``other``'s objectives); ours win exact ties."""
        both = Mappings(other.spec, [*self._items, *other], other.objectives, other.join_steps)
        return both.pareto()

    def __getitem__(self, index: int) -> MappedResult:
        return self._items[index]

    def __iter__(self) -> Iterator[MappedResult]:
        return iter(self._items)

    @property
    def data(self) -> pd.DataFrame:
        """One row per mapping: totals, energy-delay product, usage, per-Einsum figures."""
        rows = [item.result.data.iloc[0] for item in self._items]
        if not rows:
            return pd.DataFrame(columns=[col.ENERGY, col.LATENCY])
        return pd.DataFrame(rows).reset_index(drop=True)

    def energy(self, **switches: bool) -> list[Any]:
        """Each mapping's energy (``per_einsum`` / ``per_component`` / ... as the model)."""
        return [item.result.energy(**switches) for item in self._items]

    def latency(self, **switches: bool) -> list[Any]:
        """Each mapping's latency, with the model's switches."""
        return [item.result.latency(**switches) for item in self._items]

    def actions(self, **switches: bool) -> list[Any]:
        """Each mapping's action counts, with the model's switches."""
        return [item.result.actions(**switches) for item in self._items]

    def metadata(self) -> dict[str, Any]:
        """The run's settings, stored with every export."""
        return {"mapper": self._spec.mapper.to_section(), "objectives": self.objectives}

    def to_csv(self, path: str | Path) -> None:
        """Write :attr:`data` as CSV with the run's settings on a first ``#`` line."""
        export.write_csv(self.data, path, self.metadata())

    def to_json(self, path: str | Path) -> None:
        """Write :attr:`data` and the run's settings as JSON (``inf`` as ``"inf"``)."""
        export.write_json(self.data, path, self.metadata())

    def to_excel(self, path: str | Path) -> None:
        """Write :attr:`data` and the run's settings as an .xlsx workbook (needs openpyxl)."""
        export.write_excel(self.data, path, self.metadata())

    def to_parquet(self, path: str | Path) -> None:
        """Write :attr:`data` as Parquet with the run's settings in the schema metadata."""
        export.write_parquet(self.data, path, self.metadata())
