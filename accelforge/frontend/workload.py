"""Workload spec objects: Einsum cascade, tensor accesses, projections (docs/SPEC_FORMAT.md §6)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pydantic import Field, field_validator

from accelforge.errors import SpecError, SpecWarning
from accelforge.frontend._base import Expr, SpecModel
from accelforge.frontend.spec_html import workload_html

__all__ = ["Einsum", "TensorAccess", "Workload", "parse_einsum_string"]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TENSOR_REF = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\[([^\]]*)\]")


def _check_rank_name(name: str, loc: Sequence[str | int], what: str) -> None:
    if not _IDENT.match(name) or not name[0].isupper():
        raise SpecError(
            f"rank names start with an uppercase letter; '{name}' in {what} looks like a rank "
            "variable (rank variables are lowercase, ranks uppercase: M indexed by m).",
            loc=loc,
            value=name,
        )


def _check_rank_variable(name: str, loc: Sequence[str | int], what: str) -> None:
    if not _IDENT.match(name) or not name[0].islower():
        raise SpecError(
            f"rank variables start with a lowercase letter; got '{name}' in {what}. "
            "For a rank indexed by an expression use a dict projection such as {M: p + r}.",
            loc=loc,
            value=name,
        )


class TensorAccess(SpecModel):
    """One tensor read or written by an Einsum."""

    name: str
    """Tensor name, global across the workload."""
    projection: dict[str, str] = Field(default_factory=dict)
    """Rank -> affine expression in rank variables (a list ``[m, k]`` means ``{M: m, K: k}``)."""
    output: bool = False
    """True makes this Einsum the tensor's producer."""
    persistent: bool = False
    """The tensor stays in its backing storage for the whole workload."""
    bits_per_value: Expr | None = None
    """Bits per value (default: from ``workload.bits_per_value``)."""
    backing_storage_size_scale: float = 1.0
    """Accepted for compatibility; it has no effect."""

    @classmethod
    def prepare(cls, data: dict[str, Any], loc: Sequence[str | int]) -> dict[str, Any]:
        """Turn list projections into dicts and check rank / rank-variable spelling."""
        projection = data.get("projection", {})
        where = f"the projection of tensor '{data.get('name')}'"
        if isinstance(projection, (list, tuple)):
            as_dict: dict[str, str] = {}
            for i, var in enumerate(projection):
                _check_rank_variable(str(var), (*loc, "projection", i), where)
                as_dict[str(var).upper()] = str(var)
            projection = as_dict
        elif isinstance(projection, Mapping):
            projection = {str(k): str(v) for k, v in projection.items()}
            for rank in projection:
                _check_rank_name(rank, (*loc, "projection", rank), where)
        data["projection"] = projection
        if "backing_storage_size_scale" in data:
            warnings.warn(
                SpecWarning(
                    f"backing_storage_size_scale on tensor '{data.get('name')}' has no effect "
                    "(it is unused, as in AccelForge)."
                ),
                stacklevel=2,
            )
        return data

    @property
    def ranks(self) -> tuple[str, ...]:
        """Rank names in projection order."""
        return tuple(self.projection)

    @property
    def rank_variables(self) -> set[str]:
        """Rank variables used by the projection expressions."""
        out: set[str] = set()
        for expr in self.projection.values():
            out.update(v for v in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expr) if v[0].islower())
        return out

    @property
    def directly_indexing(self) -> dict[str, str]:
        """Rank -> rank variable for ranks indexed by a lone rank variable."""
        return {r: e.strip() for r, e in self.projection.items() if _IDENT.match(e.strip())}


def parse_einsum_string(text: str, loc: Sequence[str | int] = ()) -> dict[str, Any]:
    """Parse ``"Z[m, n] = A[m, k] * B[k, n]"`` into Einsum fields (name = output tensor)."""
    compact = text.strip()
    n_eq = compact.count("=") - sum(compact.count(op) for op in ("==", "<=", ">=", "!="))
    if n_eq != 1:
        raise SpecError(
            f"an Einsum string needs exactly one '='; found {n_eq} in {text!r}.", loc=loc
        )
    lhs, rhs = compact.split("=", 1)
    outputs = _TENSOR_REF.findall(lhs)
    if len(outputs) != 1:
        raise SpecError(
            f"the left side of an Einsum string must be one tensor like Z[m, n]; got {lhs!r}.",
            loc=loc,
        )
    accesses: list[dict[str, Any]] = []
    seen: set[str] = set()
    for name, body in _TENSOR_REF.findall(rhs):
        if name in seen:
            continue
        seen.add(name)
        accesses.append({"name": name, "projection": _string_projection(body, text, loc)})
    if not accesses and not rhs.strip():
        raise SpecError(f"the Einsum string {text!r} has no inputs.", loc=loc)
    out_name, out_body = outputs[0]
    accesses.append(
        {"name": out_name, "projection": _string_projection(out_body, text, loc), "output": True}
    )
    return {"name": out_name, "tensor_accesses": accesses}


def _string_projection(body: str, text: str, loc: Sequence[str | int]) -> dict[str, str]:
    projection: dict[str, str] = {}
    for entry in (e.strip() for e in body.split(",")):
        if not entry:
            continue
        if ":" in entry:
            rank, expr = (p.strip() for p in entry.split(":", 1))
            _check_rank_name(rank, loc, f"Einsum string {text!r}")
            projection[rank] = expr
        else:
            _check_rank_variable(entry, loc, f"Einsum string {text!r}")
            projection[entry.upper()] = entry
    return projection


class Einsum(SpecModel):
    """One Einsum: a named computation reading input tensors and writing one output."""

    name: str
    tensor_accesses: list[TensorAccess]
    iteration_space_shape: list[str] = Field(default_factory=list)
    """ISL constraints such as ``0 <= r < 3``."""
    rank_sizes: dict[str, Expr] = Field(default_factory=dict)
    """Rank -> size; overrides the workload's value for that rank."""
    is_copy_operation: bool = False
    """Data is placed, not computed; exactly one input."""
    renames: list[dict[str, Any]] = Field(default_factory=list)
    """Per-Einsum renames (dict or list form), normalised to ``{name, source, expected_count}``."""
    n_instances: int = 1

    extra_input_keys: ClassVar[frozenset[str]] = frozenset({"einsum"})

    @classmethod
    def prepare(cls, data: dict[str, Any], loc: Sequence[str | int]) -> dict[str, Any]:
        """Expand concise strings, normalise renames and check the access list."""
        if "einsum" in data:
            parsed = parse_einsum_string(str(data.pop("einsum")), (*loc, "einsum"))
            extra_accesses = {a["name"]: a for a in data.pop("tensor_accesses", []) or []}
            for access in parsed["tensor_accesses"]:
                extra = extra_accesses.pop(access["name"], None)
                if extra is None:
                    continue
                for key, value in extra.items():
                    if key in access and key != "name" and access[key] != value:
                        raise SpecError(
                            f"tensor_accesses may not reset '{key}' of tensor "
                            f"'{access['name']}', which the Einsum string sets.",
                            loc=(*loc, "tensor_accesses"),
                        )
                    access[key] = value
            if extra_accesses:
                raise SpecError(
                    f"tensor_accesses names tensors {sorted(extra_accesses)} that are not in "
                    "the Einsum string; add them to the string.",
                    loc=(*loc, "tensor_accesses"),
                )
            data.setdefault("name", parsed["name"])
            data["tensor_accesses"] = parsed["tensor_accesses"]
        shape = data.get("iteration_space_shape")
        if isinstance(shape, str):
            raise SpecError(
                "an Einsum's iteration_space_shape is a list of constraints; "
                f"use a list: [{shape!r}].",
                loc=(*loc, "iteration_space_shape"),
            )
        data["tensor_accesses"] = [
            TensorAccess.from_data(a, (*loc, "tensor_accesses", i))
            for i, a in enumerate(data.get("tensor_accesses") or [])
        ]
        data["renames"] = normalise_renames(data.get("renames"), (*loc, "renames"))
        for rank in data.get("rank_sizes") or {}:
            _check_rank_name(str(rank), (*loc, "rank_sizes", rank), "rank_sizes")
        return data

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value == "Total":
            raise ValueError("'Total' is a reserved name and cannot name an Einsum")
        return value

    @property
    def tensor_names(self) -> list[str]:
        """Tensor names in access order."""
        return [a.name for a in self.tensor_accesses]

    @property
    def inputs(self) -> list[TensorAccess]:
        """Accesses with ``output: false``."""
        return [a for a in self.tensor_accesses if not a.output]

    @property
    def outputs(self) -> list[TensorAccess]:
        """Accesses with ``output: true``."""
        return [a for a in self.tensor_accesses if a.output]

    @property
    def rank_variables(self) -> set[str]:
        """Every rank variable used by the accesses and the iteration-space constraints."""
        out: set[str] = set()
        for access in self.tensor_accesses:
            out |= access.rank_variables
        return out

    def access(self, tensor: str) -> TensorAccess:
        """The access to ``tensor``."""
        for access in self.tensor_accesses:
            if access.name == tensor:
                return access
        raise SpecError(
            f"Einsum '{self.name}' does not access tensor '{tensor}'.",
            allowed=", ".join(self.tensor_names),
        )


def normalise_renames(value: Any, loc: Sequence[str | int]) -> list[dict[str, Any]]:
    """Turn the dict form ``{new: source}`` or the list form into ``[{name, source, ...}]``."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [
            {"name": str(k), "source": str(v), "expected_count": None} for k, v in value.items()
        ]
    if isinstance(value, (list, tuple)):
        out = []
        for i, entry in enumerate(value):
            if not isinstance(entry, Mapping):
                raise SpecError("a rename entry must be a mapping.", loc=(*loc, i), value=entry)
            entry = dict(entry)
            if set(entry) - {"name", "source", "expected_count"}:
                if len(entry) == 1:
                    ((k, v),) = entry.items()
                    entry = {"name": k, "source": v}
                else:
                    bad = sorted(set(entry) - {"name", "source", "expected_count"})
                    raise SpecError(
                        f"field(s) {bad} are not allowed on a rename.",
                        loc=(*loc, i),
                        allowed="name, source, expected_count",
                    )
            if "name" not in entry or "source" not in entry:
                raise SpecError("a rename needs 'name' and 'source'.", loc=(*loc, i))
            out.append(
                {
                    "name": str(entry["name"]),
                    "source": str(entry["source"]),
                    "expected_count": entry.get("expected_count"),
                }
            )
        return out
    raise SpecError("renames must be a mapping or a list.", loc=loc, value=value)


def _flatten(items: Any) -> list[Any]:
    out: list[Any] = []
    for item in items or []:
        if isinstance(item, (list, tuple)):
            out.extend(_flatten(item))
        else:
            out.append(item)
    return out


class Workload(SpecModel):
    """The Einsum cascade, in topological order."""

    einsums: list[Einsum] = Field(default_factory=list)
    rank_sizes: dict[str, Expr] = Field(default_factory=dict)
    """Rank -> size; adds ``0 <= projection < size`` to every access of a tensor with that rank."""
    iteration_space_shape: dict[str, str] = Field(default_factory=dict)
    """Rank variable -> ISL constraint, added to every Einsum that uses the variable."""
    bits_per_value: dict[str, Expr] = Field(default_factory=dict)
    """Tensor set expression -> bits per value (disjoint keys; ``Other`` allowed)."""
    persistent_tensors: str | None = None
    """Set expression marking matching accesses persistent."""
    n_instances: int = 1

    @classmethod
    def prepare(cls, data: dict[str, Any], loc: Sequence[str | int]) -> dict[str, Any]:
        """Flatten nested Einsum lists, expand strings, check names and graph order."""
        einsums: list[Einsum] = []
        for i, item in enumerate(_flatten(data.get("einsums"))):
            item_loc = (*loc, "einsums", i)
            raw = {"einsum": item} if isinstance(item, str) else item
            einsums.append(Einsum.from_data(raw, item_loc))
        seen: dict[str, int] = {}
        for i, einsum in enumerate(einsums):
            if einsum.name in seen:
                raise SpecError(
                    f"duplicate Einsum name '{einsum.name}' (Einsums {seen[einsum.name]} and {i}); "
                    "Einsum names must be unique.",
                    loc=(*loc, "einsums", i, "name"),
                )
            seen[einsum.name] = i
        data["einsums"] = einsums
        for rank in data.get("rank_sizes") or {}:
            _check_rank_name(str(rank), (*loc, "rank_sizes", rank), "workload.rank_sizes")
        return data

    def _repr_html_(self) -> str:
        """The Einsums and the tensors between them, for Jupyter."""
        return workload_html(self)

    @property
    def einsum_names(self) -> list[str]:
        """Einsum names in workload order."""
        return [e.name for e in self.einsums]

    def einsum(self, name: str) -> Einsum:
        """The Einsum called ``name``."""
        for einsum in self.einsums:
            if einsum.name == name:
                return einsum
        raise SpecError(f"no Einsum named '{name}'.", allowed=", ".join(self.einsum_names))
