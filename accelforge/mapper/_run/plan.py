"""A streaming run's plan: its units of work and what each unit's outcome keeps.

Every Einsum's templates are enumerated in the caller's thread (``make_plan``); twin templates,
whose searches are equal up to names, are grouped into one job so one process searches once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from accelforge.errors import MapspaceTooLargeError
from accelforge.mapper._pmappings.make import (
    EinsumPmappings,
    PmappingContext,
    einsum_templates,
    search_signature,
)
from accelforge.mapper.events import RunWarning, UnitStatus
from accelforge.mapper.executors import Outcome

if TYPE_CHECKING:
    from accelforge.mapper._templates.make import Template
    from accelforge.mapper._tiles.rows import TemplateRows

__all__ = ["Plan", "UnitResult", "make_plan"]


@dataclass
class UnitResult:
    """One template's result, as the run keeps it."""

    status: UnitStatus
    tables: list[TemplateRows] = field(default_factory=list)
    evaluated: int = 0
    valid: int = 0
    complete: bool = True
    message: str | None = None
    seconds: float = 0.0
    too_large: bool = False

    @classmethod
    def of(cls, outcome: Outcome) -> UnitResult:
        tables = outcome.value or []
        evaluated, valid = (tables[0].evaluated, tables[0].valid) if tables else (0, 0)
        status: UnitStatus = outcome.status
        message = outcome.message
        if status == "ok" and not valid:
            status = "no_valid_tile_shapes"
            message = tables[0].empty_because if tables else message
        too_large = outcome.error == MapspaceTooLargeError.__name__
        return cls(
            status, tables, evaluated, valid, outcome.complete, message,
            outcome.seconds, too_large,
        )  # fmt: skip

    @property
    def kept(self) -> int:
        return sum(t.n for t in self.tables)


@dataclass
class Plan:
    """A run's units of work: every Einsum's templates, in order, and how they are submitted."""

    einsums: list[str]
    units: list[Template]
    einsum_of: list[int]
    """Index into ``einsums`` of each unit."""
    ends: list[int]
    """Per Einsum, one past the index of its last unit."""
    compute_units: dict[str, tuple[str, ...]]
    pmappings: dict[str, EinsumPmappings]
    warnings: list[RunWarning]
    jobs: list[list[int]] = field(default_factory=list)
    """Units submitted together: each unit with its later twins (equal search signatures)."""

    def first(self, position: int) -> int:
        """Index of the first unit of the Einsum at ``position``."""
        return self.ends[position - 1] if position else 0


def make_plan(context: PmappingContext, einsums: list[str]) -> Plan:
    """Enumerate every Einsum's templates and group twin templates into jobs."""
    plan = Plan(einsums, [], [], [], {}, {}, [])
    for index, name in enumerate(einsums):
        plan.pmappings[name] = EinsumPmappings(name)
        computes = []
        for compute, templates, stats in einsum_templates(context, name):
            computes.append(compute)
            plan.pmappings[name].stats[compute] = stats
            plan.units.extend(templates)
            plan.einsum_of.extend([index] * len(templates))
            if stats.capped:
                message = f"Einsum {name} on {compute}: the templates were capped"
                plan.warnings.append(RunWarning(message, f"{name}/{compute}", issued=True))
        plan.compute_units[name] = tuple(computes)
        plan.ends.append(len(plan.units))
    by_signature: dict[tuple, list[int]] = {}
    for index, template in enumerate(plan.units):
        job = by_signature.setdefault(search_signature(context, template), [])
        if not job:
            plan.jobs.append(job)
        job.append(index)
    return plan
