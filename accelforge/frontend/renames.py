"""Spec-wide renames (docs/SPEC_FORMAT.md §5.5).

The form is ``renames: {einsums: [{name, tensor_accesses, ...}]}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field

from accelforge.frontend._base import SpecModel
from accelforge.frontend.workload import normalise_renames

__all__ = ["EinsumRenames", "Renames"]


class EinsumRenames(SpecModel):
    """Renames for one Einsum (or for every Einsum when ``name`` is ``default``)."""

    name: str
    tensor_accesses: list[dict[str, Any]] = Field(default_factory=list)
    """Tensor renames ``{name, source, expected_count}`` (dict or list form)."""
    rank_variables: list[dict[str, Any]] = Field(default_factory=list)
    """Rank-variable renames ``{name, source, expected_count}`` (dict or list form)."""

    @classmethod
    def prepare(cls, data: dict[str, Any], loc: Sequence[str | int]) -> dict[str, Any]:
        """Normalise both rename lists."""
        for key in ("tensor_accesses", "rank_variables"):
            data[key] = normalise_renames(data.get(key), (*loc, key))
        return data


class Renames(SpecModel):
    """The top-level ``renames`` section."""

    einsums: list[EinsumRenames] = Field(default_factory=list)

    @classmethod
    def prepare(cls, data: dict[str, Any], loc: Sequence[str | int]) -> dict[str, Any]:
        """Build the entries."""
        data["einsums"] = [
            EinsumRenames.from_data(e, (*loc, "einsums", i))
            for i, e in enumerate(data.get("einsums") or [])
        ]
        return data

    def entry(self, name: str) -> EinsumRenames | None:
        """The entry called ``name`` (``default`` for the catch-all), if any."""
        for entry in self.einsums:
            if entry.name == name:
                return entry
        return None
