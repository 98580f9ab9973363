"""``config.expression_custom_functions``: user helper functions that expressions may call.

Entries are callables (from Python) or paths of Python files. A file runs only when the user
opted in: by listing it from Python (``spec.config.expression_custom_functions.append(path)``)
or with ``Spec.from_yaml(..., allow_custom_functions=True)`` for a YAML ``config`` section.
Every public callable a file defines or imports becomes a function of that name.
"""

from __future__ import annotations

import os
import runpy
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from accelforge.errors import SpecError

__all__ = ["load_custom_functions"]

_CACHE: dict[tuple[str, float], dict[str, Callable[..., Any]]] = {}


def load_custom_functions(entries: Sequence[Any]) -> dict[str, Callable[..., Any]]:
    """Functions by name from ``entries`` (later entries win on a name clash)."""
    functions: dict[str, Callable[..., Any]] = {}
    for i, entry in enumerate(entries):
        loc = ("config", "expression_custom_functions", i)
        if isinstance(entry, (str, os.PathLike)):
            functions.update(_from_file(Path(entry), loc))
        elif callable(entry):
            functions[getattr(entry, "__name__", type(entry).__name__)] = entry
        else:
            raise SpecError(
                "expected a Python file path or a callable.", loc=loc, value=type(entry).__name__
            )
    return functions


def _from_file(path: Path, loc: tuple[str | int, ...]) -> dict[str, Callable[..., Any]]:
    if not path.is_file():
        raise SpecError(f"Python file {str(path)!r} not found.", loc=loc)
    key = (str(path.resolve()), path.stat().st_mtime)
    if key not in _CACHE:
        try:
            namespace = runpy.run_path(str(path))
        except Exception as exc:
            raise SpecError(
                f"running {str(path)!r} failed: {type(exc).__name__}: {exc}", loc=loc
            ) from exc
        _CACHE[key] = {
            name: value
            for name, value in namespace.items()
            if not name.startswith("_")
            and callable(value)
            and not isinstance(value, types.ModuleType)
        }
    return _CACHE[key]
