"""Apply the reference data's ``overrides`` ({path, value}) to a loaded spec (test helper)."""

from __future__ import annotations

from typing import Any

import accelforge as af


def _named(items: list[Any], name: str) -> Any:
    return next(item for item in items if item.name == name)


def apply_overrides(spec: af.Spec, overrides: list[dict[str, Any]] | None) -> None:
    """Set each ``path`` (``arch.<Comp>.<field>``, ``...actions.<a>.<field>``, ...) to ``value``."""
    for override in overrides or []:
        parts = override["path"].split(".")
        value = override["value"]
        if isinstance(value, float) and value.is_integer() and not isinstance(value, bool):
            value = int(value)
        if parts[0] == "workload":
            setattr(spec.workload, parts[1], value)
            continue
        node = _named(spec.arch.nodes, parts[1])
        rest = parts[2:]
        if rest[0] in ("actions", "spatial"):
            node = _named(getattr(node, rest[0]), rest[1])
            rest = rest[2:]
        elif rest[0] == "tensors":
            node = node.tensors
            rest = rest[1:]
        setattr(node, rest[0], value)
