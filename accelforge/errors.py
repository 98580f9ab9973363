"""Every exception and warning the library raises.

The tree::

    AccelForgeError                      base of everything raised on purpose
    ├── SpecError (also ValueError)      bad input: names file, line, field path, value, allowed
    │   ├── ExpressionError              an expression could not be evaluated or was refused
    │   └── InvalidMappingError          a user mapping breaks a structural rule (also
    │                                    EvaluationError, AccelForge's name)
    ├── MapspaceTooLargeError            a template has more tile-shape candidates than the limit
    ├── MainGuardError (also RuntimeError)   workers asked for by an unguarded script
    └── MissingExtraError (also ImportError)   an optional extra is not installed

    SpecWarning (UserWarning)            suspicious but loadable input

Inner code raises with a message only; the loader fills in ``file``, ``line`` and ``loc``
through :func:`location_context`, so every message that reaches a user says where.
"""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

__all__ = [
    "AccelForgeError",
    "EvaluationError",
    "ExpressionError",
    "InvalidMappingError",
    "MainGuardError",
    "MapspaceTooLargeError",
    "MissingExtraError",
    "SpecError",
    "SpecWarning",
    "did_you_mean",
    "format_loc",
    "location_context",
]

_UNSET: Any = object()


def format_loc(loc: Sequence[str | int]) -> str:
    """Render a field path as ``arch.nodes[2].size``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest candidate, or an empty string."""
    close = difflib.get_close_matches(str(name), [str(c) for c in candidates], n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""


class AccelForgeError(Exception):
    """Base class of every error the library raises on purpose."""


class SpecError(AccelForgeError, ValueError):
    """Invalid input: a spec file, a field value, an expression or a mapping.

    Attributes
    ----------
    message:
        What is wrong and, where there is one, the next step.
    file, line:
        Where the offending text is (``None`` when unknown, e.g. a spec built in Python).
    loc:
        The dotted field path as a tuple (``("arch", "nodes", 2, "size")``).
    value:
        The offending value, when there is one.
    allowed:
        A short description of what is allowed.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        loc: Sequence[str | int] = (),
        value: Any = _UNSET,
        allowed: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.loc = tuple(loc)
        self.value = value
        self.allowed = allowed
        super().__init__(str(self))

    @property
    def has_value(self) -> bool:
        """Whether the error carries the offending value."""
        return self.value is not _UNSET

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}" if self.line else self.file
        prefix = format_loc(self.loc)
        if where:
            prefix = f"{prefix} ({where})" if prefix else where
        text = self.message
        if self.allowed and "Allowed:" not in text:
            text += f" Allowed: {self.allowed}."
        if self.has_value and "Got " not in text:
            text += f" Got {self.value!r} instead."
        return f"{prefix}: {text}" if prefix else text

    def _render_traceback_(self) -> list[str]:
        """What IPython and Jupyter show: the message alone (it says where), no traceback."""
        return [f"{type(self).__name__}: {self}"]

    def with_location(
        self,
        *,
        file: str | None = None,
        line: int | None = None,
        loc_prefix: Sequence[str | int] = (),
    ) -> SpecError:
        """Fill in location fields that are still unknown; returns ``self``."""
        if loc_prefix and not self.loc[: len(loc_prefix)] == tuple(loc_prefix):
            self.loc = tuple(loc_prefix) + self.loc
        if self.file is None and file is not None:
            self.file = file
        if self.line is None and line is not None:
            self.line = line
        self.args = (str(self),)
        return self


class ExpressionError(SpecError):
    """An expression in a spec could not be evaluated, or was refused as unsafe."""


class EvaluationError(AccelForgeError):
    """A mapping could not be evaluated (AccelForge's name; ``InvalidMappingError`` is one)."""


class InvalidMappingError(SpecError, EvaluationError):
    """A mapping breaks a structural rule (missing loop, fanout or capacity exceeded, ...)."""


class MapspaceTooLargeError(AccelForgeError):
    """A template has more tile-shape candidates than the exhaustive tile search handles."""


class MainGuardError(AccelForgeError, RuntimeError):
    """A script asked for worker processes at its top level without a ``__main__`` guard."""


class MissingExtraError(AccelForgeError, ImportError):
    """An optional extra is needed but not installed; the message names the pip command."""


class SpecWarning(UserWarning):
    """Suspicious input that still loads; ``Spec.from_yaml(..., strict=True)`` makes it an error."""


@contextlib.contextmanager
def location_context(
    *,
    file: str | None = None,
    line: int | None = None,
    loc_prefix: Sequence[str | int] = (),
) -> Iterator[None]:
    """Add location information to any :class:`SpecError` raised inside the block."""
    try:
        yield
    except SpecError as err:
        err.with_location(file=file, line=line, loc_prefix=loc_prefix)
        raise
