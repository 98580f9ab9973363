"""Typed sets used by set expressions: tensor sets and rank-variable sets (docs/SPEC_FORMAT.md §5).

Tensor sets and rank-variable sets are different types; combining one with the other is an
error that says which kind the field expects (AccelForge accepts the mix and fails later).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from accelforge.errors import ExpressionError
from accelforge.frontend._expressions import ExpressionNamespace

__all__ = ["RankVariableSet", "TensorSet", "TypedSet"]


class TypedSet(ExpressionNamespace):
    """A frozen set of names with a universe for complements."""

    kind = "names"

    def __init__(self, names: Iterable[str], universe: Iterable[str]) -> None:
        self._universe = frozenset(universe)
        self._names = frozenset(names)

    def _same_kind(self, other: object, op: str) -> TypedSet:
        if isinstance(other, TypedSet) and other.kind == self.kind:
            return other
        if isinstance(other, TypedSet):
            raise ExpressionError(
                f"cannot combine {self.kind} {self!s} with {other.kind} {other!s} using '{op}'; "
                "tensor sets and rank-variable sets are different types"
            )
        raise ExpressionError(f"cannot combine {self.kind} {self!s} with {other!r} using '{op}'")

    def _new(self, names: Iterable[str]) -> TypedSet:
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._names = frozenset(names)
        return clone

    def __or__(self, other: object) -> TypedSet:
        return self._new(self._names | self._same_kind(other, "|")._names)

    def __and__(self, other: object) -> TypedSet:
        return self._new(self._names & self._same_kind(other, "&")._names)

    def __sub__(self, other: object) -> TypedSet:
        return self._new(self._names - self._same_kind(other, "-")._names)

    def __xor__(self, other: object) -> TypedSet:
        return self._new(self._names ^ self._same_kind(other, "^")._names)

    def __invert__(self) -> TypedSet:
        return self._new(self._universe - self._names)

    def __add__(self, other: object) -> Any:
        raise ExpressionError(f"'+' is not defined for {self.kind}; use '|' for a union")

    __radd__ = __add__

    def __call__(self) -> TypedSet:
        """The set itself: calling a set (``X()``) is the same as naming it (``X``)."""
        return self

    def __len__(self) -> int:
        return len(self._names)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._names))

    def __contains__(self, item: object) -> bool:
        if isinstance(item, TypedSet):
            return item._names <= self._names
        return item in self._names

    def __bool__(self) -> bool:
        return bool(self._names)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TypedSet):
            return self.kind == other.kind and self._names == other._names
        if isinstance(other, (set, frozenset)):
            return self._names == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.kind, self._names))

    def __str__(self) -> str:
        return "{" + ", ".join(sorted(self._names)) + "}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({sorted(self._names)!r})"

    @property
    def names(self) -> frozenset[str]:
        """The members as a frozenset of names."""
        return self._names


class RankVariableSet(TypedSet):
    """A set of rank variables (loop indices) of one Einsum."""

    kind = "rank variables"


class TensorSet(TypedSet):
    """A set of tensors of one Einsum.

    ``rank_variables`` and ``bits_per_value`` read from the Einsum's tensor accesses through
    the two callables given at construction.
    """

    kind = "tensors"

    def __init__(
        self,
        names: Iterable[str],
        universe: Iterable[str],
        rank_variables_of: Callable[[str], Iterable[str]] | None = None,
        bits_per_value_of: Callable[[str], Any] | None = None,
        all_rank_variables: Iterable[str] = (),
    ) -> None:
        super().__init__(names, universe)
        self._rank_variables_of = rank_variables_of
        self._bits_per_value_of = bits_per_value_of
        self._all_rank_variables = frozenset(all_rank_variables)

    @property
    def tensors(self) -> TensorSet:
        """The set itself (``X.tensors`` is accepted for symmetry with memories)."""
        return self

    @property
    def rank_variables(self) -> RankVariableSet:
        """Union of the rank variables that index the tensors of this set."""
        found: set[str] = set()
        if self._rank_variables_of is not None:
            for name in self._names:
                found.update(self._rank_variables_of(name))
        return RankVariableSet(found, self._all_rank_variables)

    @property
    def bits_per_value(self) -> Any:
        """Bits per value of the single tensor in this set (an error for other sizes)."""
        if len(self._names) != 1:
            raise ExpressionError(
                f"bits_per_value needs a set of exactly one tensor; {self!s} has {len(self)}"
            )
        if self._bits_per_value_of is None:
            raise ExpressionError(f"bits per value of {self!s} is not known here")
        return self._bits_per_value_of(next(iter(self._names)))
