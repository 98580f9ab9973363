"""A template's pmapping rows: tile shapes with their objectives and reservations.

:class:`TemplateRows` is the table the tile search fills and every later stage reads;
:func:`split_trivial_fused_loops` splits one by which fused loops are trivial (§4.6).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from accelforge.mapper._templates.make import Template
from accelforge.model.paths import Loop

__all__ = ["ReservationColumn", "TemplateRows", "split_trivial_fused_loops"]


@dataclass
class ReservationColumn:
    """One reservation of the template: where it sits and its bits for every row."""

    memory: str
    tensor: str
    depth: int
    backing: bool
    bits: np.ndarray


@dataclass
class TemplateRows:
    """Surviving rows of one template."""

    template: Template
    tiles: np.ndarray
    """Loops x rows: the tile shape of every loop of the template."""
    energy: np.ndarray
    latency: np.ndarray
    dynamic_energy: np.ndarray
    leak_energy: np.ndarray
    reservations: list[ReservationColumn]
    fused_loops: int
    """Loops above the deepest backing of a fusable tensor (the shared prefix)."""
    spatial_usage: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    evaluated: int = 0
    valid: int = 0
    empty_because: str | None = None
    """Why no tile shape was valid (set by the search when ``valid`` is 0)."""

    @property
    def n(self) -> int:
        """Number of rows."""
        return self.tiles.shape[1]

    def renamed(self, template: Template, tensors: Mapping[str, str]) -> TemplateRows:
        """The same rows for ``template``, an identical template of a twin Einsum.

        The twin's tensors are named by ``tensors`` (this table's name -> the twin's).
        """
        return dataclasses.replace(
            self,
            template=template,
            reservations=[
                dataclasses.replace(r, tensor=tensors[r.tensor]) for r in self.reservations
            ],
        )

    @classmethod
    def concat(cls, parts: list[TemplateRows]) -> TemplateRows:
        """The rows of ``parts`` (same template and columns) one after another."""
        first = parts[0]
        return TemplateRows(
            template=first.template,
            tiles=np.concatenate([p.tiles for p in parts], axis=1),
            energy=np.concatenate([p.energy for p in parts]),
            latency=np.concatenate([p.latency for p in parts]),
            dynamic_energy=np.concatenate([p.dynamic_energy for p in parts]),
            leak_energy=np.concatenate([p.leak_energy for p in parts]),
            reservations=[
                ReservationColumn(
                    r.memory,
                    r.tensor,
                    r.depth,
                    r.backing,
                    np.concatenate([p.reservations[i].bits for p in parts]),
                )
                for i, r in enumerate(first.reservations)
            ],
            fused_loops=first.fused_loops,
            spatial_usage={
                k: np.concatenate([p.spatial_usage[k] for p in parts]) for k in first.spatial_usage
            },
            evaluated=sum(p.evaluated for p in parts),
            valid=sum(p.valid for p in parts),
        )

    def take(self, mask: np.ndarray) -> TemplateRows:
        """The rows selected by ``mask``."""
        return TemplateRows(
            template=self.template,
            tiles=self.tiles[:, mask],
            energy=self.energy[mask],
            latency=self.latency[mask],
            dynamic_energy=self.dynamic_energy[mask],
            leak_energy=self.leak_energy[mask],
            reservations=[
                ReservationColumn(r.memory, r.tensor, r.depth, r.backing, r.bits[mask])
                for r in self.reservations
            ],
            fused_loops=self.fused_loops,
            spatial_usage={k: v[mask] for k, v in self.spatial_usage.items()},
            evaluated=self.evaluated,
            valid=self.valid,
        )


def split_trivial_fused_loops(rows: TemplateRows, bounds: Mapping[str, int]) -> list[TemplateRows]:
    """Split rows by which fused loops are trivial (factor 1), dropping those loops (§4.6).

    A fused loop whose tile equals its enclosing tile does not exist; without this split two
    Einsums whose templates differ only in trivial fused loops could never share a tensor.
    """
    fused = rows.fused_loops
    if fused == 0 or rows.n == 0:
        return [rows]
    loops = rows.template.path.loops
    outer = np.empty((fused, rows.n))
    last: dict[str, np.ndarray] = {}
    for index, loop in enumerate(loops[:fused]):
        outer[index] = last.get(
            loop.rank_variable, np.full(rows.n, float(bounds[loop.rank_variable]))
        )
        last[loop.rank_variable] = rows.tiles[index]
    trivial = rows.tiles[:fused] == outer
    patterns, inverse = np.unique(trivial.T, axis=0, return_inverse=True)
    out = []
    for pattern_index, pattern in enumerate(patterns):
        part = rows.take(inverse.reshape(-1) == pattern_index)
        removed = [i for i in range(fused) if pattern[i]]
        if not removed:
            out.append(part)
            continue
        out.append(_without_loops(part, removed))
    return out


def _without_loops(rows: TemplateRows, removed: list[int]) -> TemplateRows:
    template = rows.template
    path = copy.deepcopy(template.path)
    doomed = {id(path.loops[i]) for i in removed}
    path.nodes = [n for n in path.nodes if id(n) not in doomed]
    path.chain = [(i, isinstance(n, Loop)) for i, n in enumerate(path.nodes)]
    keep = [i for i in range(rows.tiles.shape[0]) if i not in removed]
    return TemplateRows(
        template=Template(template.einsum, template.compute, template.ordinal, path),
        tiles=rows.tiles[keep],
        energy=rows.energy,
        latency=rows.latency,
        dynamic_energy=rows.dynamic_energy,
        leak_energy=rows.leak_energy,
        reservations=[
            ReservationColumn(
                r.memory, r.tensor, r.depth - sum(i < r.depth for i in removed), r.backing, r.bits
            )
            for r in rows.reservations
        ],
        fused_loops=rows.fused_loops - len(removed),
        spatial_usage=rows.spatial_usage,
        evaluated=rows.evaluated,
        valid=rows.valid,
    )
