r"""Write a :class:`~accelforge.frontend.mapping.Mapping` back out as a ``mapping:`` YAML section.

The output uses the node tags of docs/SPEC_FORMAT.md §7.1 (``!Storage``, ``!Temporal``,
``!Spatial``, ``!Compute``, ``!Nested``, ``!Sequential``, ``!Pipeline``, ``!Split``) and only the
fields whose value differs from the field's default, in the order the reference mappings use. Leaf
nodes are written in flow style (``- !Storage {tensors: [A, B], component: MainMemory}``), branch
nodes in block style with a ``nodes:`` list.

Scalars are written so that loading the text gives the same values back: ints stay ints, floats
keep a decimal point, and a string is quoted whenever it would otherwise read as another type
(``"8"``, ``"true"``) or contains YAML syntax (``"M // 4"``). Because spec files are rendered
with Jinja2 before parsing, a ``{`` inside a quoted string is written as the escape ``\x7b`` so
that no ``{{``, ``{%`` or ``{#`` reaches the template engine.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping as AbcMapping
from typing import TYPE_CHECKING, Any

from pydantic_core import PydanticUndefined

from accelforge.frontend._base import SpecModel
from accelforge.frontend.mapping_nodes import NODE_CLASSES, Nested

if TYPE_CHECKING:
    from accelforge.frontend.mapping import Mapping

__all__ = ["format_scalar", "mapping_to_yaml", "node_fields"]

_INDENT = "  "
_FIELD_ORDER = (
    "title",
    "einsum",
    "tensors",
    "rank_variable",
    "tile_shape",
    "initial_tile_shape",
    "name",
    "component",
    "persistent",
    "binding",
    "text",
)
_TAGS = {cls: tag for tag, cls in NODE_CLASSES.items()}
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_RESERVED = frozenset(
    # YAML 1.1 and 1.2 booleans and nulls: plain, they would not read back as strings.
    ("y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf")
)


def mapping_to_yaml(mapping: Mapping) -> str:
    """Return ``mapping`` as the text of a spec file holding only a ``mapping:`` section.

    Parameters
    ----------
    mapping:
        The root of the mapping.

    Returns
    -------
    str
        YAML text with top-level key ``mapping`` (ending in a newline).
    """
    lines = ["mapping:"]
    lines += _branch_body(mapping, 1)
    return "\n".join(lines) + "\n"


def node_fields(node: SpecModel) -> dict[str, Any]:
    """The fields of ``node`` worth writing: required ones and those not at their default.

    ``nodes`` (the children of a branch) is left out; the order is the reference files' order
    (e.g. ``rank_variable, tile_shape, name, component`` for a ``!Spatial``).
    """
    fields = type(node).model_fields
    out: dict[str, Any] = {}
    names = [n for n in _FIELD_ORDER if n in fields]
    names += [n for n in fields if n not in names]
    for name in names:
        if name == "nodes":
            continue
        value = getattr(node, name)
        info = fields[name]
        if not info.is_required():
            default = info.get_default(call_default_factory=True)
            if default is not PydanticUndefined and _same(value, default):
                continue
        out[name] = value
    return out


def format_scalar(value: Any) -> str:
    """One value in YAML flow syntax that reads back as the same value (lists/dicts nest)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return _format_float(value)
    if isinstance(value, str):
        return _format_str(value)
    if isinstance(value, SpecModel):
        return _flow_map(node_fields(value))
    if isinstance(value, AbcMapping):
        return _flow_map(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return "[" + ", ".join(format_scalar(v) for v in items) + "]"
    return _format_str(str(value))


def _same(value: Any, default: Any) -> bool:
    # ``1 == True`` and ``0 == False`` in Python: a type change is not "the default".
    return type(value) is type(default) and value == default


def _branch_body(node: Nested, depth: int) -> list[str]:
    """The ``key: value`` lines and the ``nodes:`` list of a branch node, at ``depth``."""
    pad = _INDENT * depth
    lines = [f"{pad}{key}: {format_scalar(value)}" for key, value in node_fields(node).items()]
    if not node.nodes:
        lines.append(f"{pad}nodes: []")
        return lines
    lines.append(f"{pad}nodes:")
    for child in node.nodes:
        lines += _node_lines(child, depth)
    return lines


def _node_lines(node: SpecModel, depth: int) -> list[str]:
    """One list entry ``- !Tag ...``; its ``-`` sits at ``depth`` (the parent key's indent)."""
    pad = _INDENT * depth
    tag = _tag(node)
    if isinstance(node, Nested):
        return [f"{pad}- !{tag}", *_branch_body(node, depth + 1)]
    return [f"{pad}- !{tag} {_flow_map(node_fields(node))}"]


def _tag(node: SpecModel) -> str:
    tag = _TAGS.get(type(node))
    if tag is None:
        for cls in type(node).__mro__:
            if cls in _TAGS:
                return _TAGS[cls]
        raise TypeError(f"{type(node).__name__} is not a mapping node class.")
    return tag


def _flow_map(data: AbcMapping[Any, Any]) -> str:
    body = ", ".join(f"{_format_str(str(k))}: {format_scalar(v)}" for k, v in data.items())
    return "{" + body + "}"


def _format_float(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    mantissa, e, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"  # ``1e+20`` is a string under YAML 1.1; ``1.0e+20`` is a float in both.
    return mantissa + e + exponent


def _format_str(value: str) -> str:
    if _PLAIN.fullmatch(value) and value.lower() not in _RESERVED:
        return value
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "{":
            out.append("\\x7b")  # keeps Jinja2 delimiters out of the text
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif code < 0x20 or 0x7F <= code <= 0x9F:
            out.append(f"\\x{code:02x}")
        elif ch in "\u2028\u2029\ufeff" or 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)
