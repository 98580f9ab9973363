"""One run of the loader: render and parse files, resolve includes, guard against cycles.

A :class:`LoadSession` lives for one call of the loader. It owns the state that crosses file
boundaries: the data behind ``include()`` placeholders, the files being loaded (to detect
include cycles), the ``setenv`` values and the line-marker registry.
"""

from __future__ import annotations

import contextlib
import glob
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from accelforge.errors import SpecError
from accelforge.frontend._yaml.jinja_env import render_template
from accelforge.frontend._yaml.lines import LineMarks
from accelforge.frontend._yaml.nodes import SourcePos, YamlList
from accelforge.frontend._yaml.parse import parse_yaml
from accelforge.frontend._yaml.paths import find_matches, find_one

__all__ = ["LoadSession"]

_PLACEHOLDER_TAG = "!include_loaded"


class LoadSession:
    """Shared state of one loader call; implements the template and YAML-tag hooks."""

    def __init__(self) -> None:
        self.marks = LineMarks()
        self.variables: dict[str, str] = {}
        self.referenced: set[str] = set()
        self._included: list[tuple[list[Any], bool]] = []
        self._active: list[tuple[str, str]] = []

    def load_data(
        self, path: str, context: Mapping[str, Any], search_dirs: Sequence[str] = ()
    ) -> Any:
        """Render, parse and resolve one file.

        Parameters
        ----------
        path:
            The file, named as given in positions and errors.
        context:
            Template variables.
        search_dirs:
            Directories searched after the file's own directory.

        Returns
        -------
        Any
            The file's data (``None`` when the document is empty).
        """
        with self._entering(path):
            dirs = list(search_dirs)
            base_dir = os.path.dirname(path)
            marked = render_template(
                _read(path),
                file=path,
                base_dir=base_dir,
                context=context,
                host=self,
                search_dirs=dirs,
            )
            return self._parse(marked, path, base_dir, context, dirs)

    def load_text(self, text: str, *, name: str, context: Mapping[str, Any]) -> Any:
        """Like :meth:`load_data` for text; relative paths resolve against the working directory."""
        dirs: list[str] = []
        marked = render_template(
            text, file=name, base_dir="", context=context, host=self, search_dirs=dirs
        )
        return self._parse(marked, name, "", context, dirs)

    def render_text(self, path: str, context: Mapping[str, Any], search_dirs: list[str]) -> str:
        """Render one file and return its text, line markers included (for ``include_text``)."""
        with self._entering(path):
            return render_template(
                _read(path),
                file=path,
                base_dir=os.path.dirname(path),
                context=context,
                host=self,
                search_dirs=list(search_dirs),
            )

    def register(self, data: list[Any], *, many: bool) -> str:
        """Keep included data; return the placeholder that stands for it in YAML text."""
        self._included.append((data, many))
        return f"{_PLACEHOLDER_TAG} {len(self._included) - 1}"

    def resolve(self, ref: str) -> Any:
        """Return the data a placeholder reference ``<id>[.key.path]`` stands for."""
        head, *rest = ref.strip().split(".")
        keys = [key for key in rest if key]
        if not head.isdigit() or int(head) >= len(self._included):
            raise SpecError(
                f"Unknown include() placeholder '{_PLACEHOLDER_TAG} {ref}'; placeholders are "
                "produced by include() and only valid in the load that produced them."
            )
        data, many = self._included[int(head)]
        if not many:
            return _walk(data[0], keys)
        found = [_walk(item, keys) for item in data]
        return YamlList(found, item_pos=[getattr(item, "pos", None) for item in found])

    def _parse(
        self,
        marked: str,
        file: str,
        base_dir: str,
        context: Mapping[str, Any],
        search_dirs: list[str],
    ) -> Any:
        text, lines = self.marks.strip(marked, file=file)
        tags = _FileTags(self, base_dir, context, search_dirs)
        return parse_yaml(text, file=file, lines=lines, tags=tags)

    @contextlib.contextmanager
    def _entering(self, path: str) -> Iterator[None]:
        real = os.path.realpath(path)
        if any(real == active for active, _ in self._active):
            chain = [name for _, name in self._active] + [path]
            raise SpecError(f"Include cycle: {' -> '.join(chain)}.", file=path)
        self._active.append((real, path))
        try:
            yield
        finally:
            self._active.pop()


class _FileTags:
    """Resolves ``!include``, ``!includedir`` and ``!include_loaded`` for one file."""

    def __init__(
        self,
        session: LoadSession,
        base_dir: str,
        context: Mapping[str, Any],
        search_dirs: list[str],
    ) -> None:
        self._session = session
        self._base_dir = base_dir
        self._context = context
        self._search_dirs = search_dirs

    def include(self, path: str) -> Any:
        target = find_one(path, base_dir=self._base_dir, search_dirs=self._search_dirs)
        return self._session.load_data(target, self._context, self._search_dirs)

    def include_dir(self, path: str) -> YamlList:
        found = find_matches(path, base_dir=self._base_dir, search_dirs=self._search_dirs)
        directories = [p for p in found if os.path.isdir(p)]
        if not directories:
            raise SpecError(f"!includedir {path!r}: not a directory.")
        names = sorted(glob.glob("*.yaml", root_dir=directories[0]))
        files = [os.path.join(directories[0], name) for name in names]
        files = [file for file in files if os.path.isfile(file)]
        items = [self._session.load_data(file, self._context, self._search_dirs) for file in files]
        positions = [
            getattr(item, "pos", None) or SourcePos(file, 1)
            for item, file in zip(items, files, strict=True)
        ]
        return YamlList(items, item_pos=positions)

    def include_loaded(self, ref: str) -> Any:
        return self._session.resolve(ref)


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as err:
        raise SpecError(f"Cannot read {path}: {err}", file=path) from err


def _walk(data: Any, keys: list[str]) -> Any:
    """Index included data along a dotted key path (list items by integer index)."""
    node = data
    for depth, key in enumerate(keys):
        if isinstance(node, dict) and key in node:
            node = node[key]
            continue
        if (
            isinstance(node, list)
            and key.lstrip("-").isdigit()
            and -len(node) <= int(key) < len(node)
        ):
            node = node[int(key)]
            continue
        where = ".".join(keys[:depth]) or "the top level"
        source = getattr(getattr(data, "pos", None), "file", "the included file")
        if isinstance(node, dict):
            available = ", ".join(repr(k) for k in node) or "none"
            raise SpecError(
                f"Key {key!r} not found at {where} of {source}. Available keys: {available}."
            )
        raise SpecError(
            f"Cannot look up {key!r} at {where} of {source}: it is a {type(node).__name__}."
        )
    return node
