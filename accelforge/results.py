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

    def render(self, **options: Any) -> str:
        """The loop nest as indented text (``Mapping.render``'s options)."""
        return self.mapping.render(**options)

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

    def energy(
        self,
        per_einsum: bool = False,
        per_component: bool = False,
        per_tensor: bool = False,
        per_action: bool = False,
        list_if_one_mapping: bool = False,
    ) -> Any:
        """Energy: a float for one mapping, else a list with one value per mapping.

        With ``per_*`` switches, a dict from key (a name, or a tuple of names in the order
        Einsum, component, tensor, action) to the value, or to a list of values.
        ``list_if_one_mapping`` gives lists for one mapping too.
        """
        switches = {
            "per_einsum": per_einsum,
            "per_component": per_component,
            "per_tensor": per_tensor,
            "per_action": per_action,
        }
        return self._gathered([i.result.energy(**switches) for i in self], list_if_one_mapping)

    def latency(
        self,
        per_einsum: bool = False,
        per_component: bool = False,
        list_if_one_mapping: bool = False,
    ) -> Any:
        """Latency, as :meth:`energy` (``per_component`` alone sums over Einsums)."""
        values = [
            i.result.latency(per_einsum=per_einsum, per_component=per_component) for i in self
        ]
        return self._gathered(values, list_if_one_mapping)

    def actions(self, list_if_one_mapping: bool = False, **switches: bool) -> Any:
        """Action counts, as :meth:`energy` (the model's ``per_*`` switches)."""
        return self._gathered([i.result.actions(**switches) for i in self], list_if_one_mapping)

    def resource_usage(self, list_if_one_mapping: bool = False) -> dict[str, Any]:
        """Fraction of each memory (and fanout) used: a value, or a list, per name."""
        values = [pd.Series(i.result.resource_usage(), dtype=float) for i in self]
        return self._gathered(values, list_if_one_mapping)

    def per_compute(self, per_einsum: bool = False) -> Mappings:
        """The same mappings with every figure per compute operation (``ModelResult``'s)."""
        items = [MappedResult(i.mapping, i.result.per_compute(per_einsum)) for i in self]
        return Mappings(self._spec, items, self.objectives, self.join_steps)

    @property
    def columns(self) -> list[str]:
        """The columns of :attr:`data`."""
        return [str(c) for c in self.data.columns]

    def to_dict(self, list_if_one_mapping: bool = False) -> dict[str, Any]:
        """:attr:`data` by column: a value for one mapping, else a list of values."""
        data = self.data
        if len(self) == 1 and not list_if_one_mapping:
            return {str(c): data[c].iloc[0] for c in data.columns}
        return {str(c): data[c].tolist() for c in data.columns}

    def render(self, index: int | None = None, **options: Any) -> str:
        """The loop nest of mapping ``index`` as text (needed when there are several)."""
        if index is None:
            if len(self) != 1:
                raise ValueError(
                    f"render() shows one mapping and there are {len(self)}: pass index=i or "
                    f"call mappings[i].render(), for 0 <= i < {len(self)}."
                )
            index = 0
        return self[index].render(**options)

    def _repr_html_(self) -> str:
        if len(self) == 1:
            return self[0]._repr_html_()
        return str(self.data.head(20).to_html(max_cols=12))

    def _gathered(self, values: list[Any], list_if_one_mapping: bool) -> Any:
        """One mapping's value, or one list per key (per mapping, in order)."""
        if len(values) == 1 and not list_if_one_mapping:
            one = values[0]
            return _plain(one.to_dict()) if isinstance(one, pd.Series) else float(one)
        if values and isinstance(values[0], pd.Series):
            keys = list(dict.fromkeys(k for v in values for k in v.index))
            return {k: [float(v.get(k, 0.0)) for v in values] for k in keys}
        return [float(v) for v in values]

    def metadata(self) -> dict[str, Any]:
        """The run's settings, stored with every export."""
        return {"mapper": self._spec.mapper.to_section(), "objectives": self.objectives}

    def to_csv(self, path: str | Path) -> None:
        """Write :attr:`data` as plain CSV, the run's settings in a ``.meta.json`` beside it."""
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


def _plain(values: dict[Any, Any]) -> dict[Any, float]:
    """A breakdown as a dict of floats (numpy scalars made Python floats)."""
    return {key: float(value) for key, value in values.items()}
