"""What the command-line commands share: example names or paths, and ``KEY=VALUE`` values."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from accelforge import examples

__all__ = ["parse_params", "parse_value", "resolve"]


def resolve(name: str, folder: examples.ExampleFolder) -> Path:
    """A path as given, or the example of that name (``af.examples``)."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml", ".jinja", ".jinja2") or path.exists():
        return path
    return getattr(folder, name)


def parse_value(text: str) -> Any:
    """``text`` as an int, else a float, else the text."""
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def parse_params(items: Sequence[str]) -> dict[str, Any]:
    """``KEY=VALUE`` items (``-p``) as a dict of parsed values."""
    params: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"accelforge: -p expects KEY=VALUE, got {item!r}")
        params[key.strip()] = parse_value(value.strip())
    return params
