"""``spec.to_yaml()``: a spec written back out as one YAML file that loads to the same spec.

Every section is written with the fields that differ from their defaults: ``arch`` with its
nodes' tags (``!Memory``, ``!Compute``, ...), ``workload``, ``renames``, ``variables``,
``config``, ``mapper`` (:meth:`Mapper.to_section`), ``model`` and ``mapping``
(:func:`~accelforge.frontend.mapping_yaml.mapping_to_yaml`). Values are written as the spec
holds them (expressions stay expressions; Jinja was rendered at load), with the scalar rules
of :mod:`~accelforge.frontend.mapping_yaml`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from accelforge.frontend._base import SpecModel
from accelforge.frontend.arch import NODE_CLASSES
from accelforge.frontend.mapping_yaml import format_scalar, mapping_to_yaml, node_fields

if TYPE_CHECKING:
    from accelforge.frontend.spec import Spec

__all__ = ["spec_to_yaml"]

_ARCH_TAGS = {cls: tag for tag, cls in NODE_CLASSES.items()}


def spec_to_yaml(spec: Spec) -> str:
    """The text of one spec file holding every section of ``spec`` (ends in a newline)."""
    lines = ["arch:", "  nodes:"]
    for node in spec.arch.nodes:
        lines.append(f"  - !{_ARCH_TAGS[type(node)]} {format_scalar(node)}")
    lines += _fields(spec.arch, indent=1, skip={"nodes"})
    lines += _section("workload", spec.workload)
    for name in ("renames", "variables", "config", "model"):
        lines += _section(name, getattr(spec, name))
    lines += ["mapper:", *_mapping_lines(spec.mapper.to_section(), 1)]
    text = "\n".join(lines) + "\n"
    if spec.mapping is not None:
        text += mapping_to_yaml(spec.mapping)
    return text


def _section(name: str, value: Any) -> list[str]:
    """``name:`` and its non-default fields (nothing when every field is at its default)."""
    if isinstance(value, SpecModel):
        body = _fields(value, indent=1)
        return [f"{name}:", *body] if body else []
    if value:
        return [f"{name}: {format_scalar(value)}"]
    return []


def _fields(model: SpecModel, indent: int, skip: set[str] | None = None) -> list[str]:
    pad = "  " * indent
    return [
        f"{pad}{key}: {format_scalar(value)}"
        for key, value in node_fields(model).items()
        if key not in (skip or set())
    ]


def _mapping_lines(values: dict[str, Any], indent: int) -> list[str]:
    pad = "  " * indent
    return [f"{pad}{key}: {format_scalar(value)}" for key, value in values.items()]
