"""Containers for loaded YAML data that remember tags and source positions.

The loader turns every YAML mapping into a :class:`YamlMap` and every sequence into a
:class:`YamlList`. Both behave exactly like ``dict`` and ``list`` (equality ignores the
extra attributes) and additionally carry the node's class tag, its source position and the
positions of its keys or items, so later stages can report ``file:line`` for any field path
with :func:`position_of`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "QuotedStr",
    "SourcePos",
    "TaggedScalar",
    "YamlList",
    "YamlMap",
    "position_of",
]


@dataclass(frozen=True)
class SourcePos:
    """A position in a source file.

    Attributes
    ----------
    file:
        The file path as it was given to the loader (``"<string>"`` for text).
    line:
        The 1-based line number.
    """

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class YamlMap(dict[str, Any]):
    """A YAML mapping: a ``dict`` with its tag and source positions.

    Parameters
    ----------
    data:
        Initial items.
    tag:
        The class tag without the ``!`` (``"Memory"`` for ``!Memory``), or ``None``.
    pos:
        Where the mapping starts.
    key_pos:
        Where each key is written.
    nomerge:
        ``True`` when the mapping was tagged ``!nomerge`` (``<<<`` leaves it alone).
    """

    def __init__(
        self,
        data: Mapping[str, Any] | Iterable[tuple[str, Any]] = (),
        *,
        tag: str | None = None,
        pos: SourcePos | None = None,
        key_pos: dict[str, SourcePos] | None = None,
        nomerge: bool = False,
    ) -> None:
        super().__init__(data)
        self.tag = tag
        self.pos = pos
        self.key_pos: dict[str, SourcePos] = dict(key_pos or {})
        self.nomerge = nomerge

    def __repr__(self) -> str:
        body = dict.__repr__(self)
        return f"!{self.tag} {body}" if self.tag else body


class YamlList(list[Any]):
    """A YAML sequence: a ``list`` with its tag and source positions.

    Parameters
    ----------
    items:
        Initial items.
    tag:
        The class tag without the ``!``, or ``None``.
    pos:
        Where the sequence starts.
    item_pos:
        Where each item is written (``None`` when unknown); same length as the list.
    nomerge:
        ``True`` when the sequence was tagged ``!nomerge`` (``<<<`` does not extend it).
    """

    def __init__(
        self,
        items: Iterable[Any] = (),
        *,
        tag: str | None = None,
        pos: SourcePos | None = None,
        item_pos: Sequence[SourcePos | None] | None = None,
        nomerge: bool = False,
    ) -> None:
        super().__init__(items)
        self.tag = tag
        self.pos = pos
        self.item_pos: list[SourcePos | None] = (
            list(item_pos) if item_pos is not None else [None] * len(self)
        )
        self.nomerge = nomerge

    def __repr__(self) -> str:
        body = list.__repr__(self)
        return f"!{self.tag} {body}" if self.tag else body


class QuotedStr(str):
    """A scalar that was quoted in YAML (``'x'`` or ``"x"``); it stays a literal string."""

    __slots__ = ()


class TaggedScalar(str):
    """A scalar carrying a tag the loader does not resolve (``!Foo text``).

    Parameters
    ----------
    value:
        The scalar text.
    tag:
        The tag without the ``!``.
    """

    tag: str

    def __new__(cls, value: str, tag: str) -> TaggedScalar:
        self = super().__new__(cls, value)
        self.tag = tag
        return self

    def __getnewargs__(self) -> tuple[str, str]:  # type: ignore[override]
        return (str(self), self.tag)

    def __repr__(self) -> str:
        return f"!{self.tag} {str.__repr__(self)}"


def position_of(root: Any, loc: Sequence[str | int]) -> SourcePos | None:
    """Return the most precise known source position of a field path.

    Parameters
    ----------
    root:
        A loaded tree (usually a :class:`YamlMap`).
    loc:
        The field path, e.g. ``("arch", "nodes", 1, "size")``.

    Returns
    -------
    SourcePos or None
        The line of the last key or list item on the path that exists in the tree; where a
        step has no recorded position, the nearest ancestor's. ``None`` when nothing is known.
    """
    best = getattr(root, "pos", None)
    node = root
    for part in loc:
        if isinstance(node, YamlMap) and isinstance(part, str) and part in node:
            here = node.key_pos.get(part)
            node = node[part]
        elif (
            isinstance(node, YamlList) and isinstance(part, int) and -len(node) <= part < len(node)
        ):
            known = -len(node.item_pos) <= part < len(node.item_pos)
            here = node.item_pos[part] if known else None
            node = node[part]
        else:
            break
        best = here or getattr(node, "pos", None) or best
    return best
