"""Entry points of the file-loading stage: files (or text) in, one top-level map out.

Pipeline (docs/SPEC_FORMAT.md §2.1 steps 1-5, 8): expand the file list, render each file on its own
with Jinja2, parse it as YAML, check that its top level is a mapping, and combine the files
into the union of their top-level keys (the first file defining a key wins).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from accelforge.errors import SpecError, SpecWarning
from accelforge.frontend._yaml.jinja_env import ANY_VARIABLE
from accelforge.frontend._yaml.nodes import SourcePos, YamlMap
from accelforge.frontend._yaml.paths import FileArg, expand_files
from accelforge.frontend._yaml.session import LoadSession

__all__ = ["LoadedFiles", "load_yaml_files", "load_yaml_text"]

_EXTENSIONS = (".yaml", ".yml", ".jinja", ".jinja2")


@dataclass
class LoadedFiles:
    """The combined content of several spec files.

    Attributes
    ----------
    data:
        The union of the files' top-level maps; each value keeps its own file positions
        and ``data.key_pos`` says where each top-level key was written.
    files:
        The files loaded, in order, after glob expansion and de-duplication.
    key_files:
        For each top-level key, the file it was taken from.
    """

    data: YamlMap
    files: list[str] = field(default_factory=list)
    key_files: dict[str, str] = field(default_factory=dict)


def load_yaml_files(
    files: FileArg,
    jinja_parse_data: Mapping[str, Any] | None = None,
    *,
    strict: bool = False,
    **kwargs: Any,
) -> LoadedFiles:
    """Load spec files and combine their top-level keys.

    Parameters
    ----------
    files:
        Paths or glob patterns (relative to the working directory), or (nested) lists of
        them. Paths that resolve to the same physical file are loaded once.
    jinja_parse_data:
        Template variables for every file.
    strict:
        Raise a :class:`SpecError` where a :class:`SpecWarning` would be issued.
    **kwargs:
        More template variables; they override ``jinja_parse_data``.

    Returns
    -------
    LoadedFiles
        The combined data, the files loaded and which file each top-level key came from.

    Raises
    ------
    SpecError
        If a pattern matches nothing, a file cannot be rendered or parsed, or a file's top
        level is not a mapping.

    Warns
    -----
    SpecWarning
        For a file extension other than .yaml, .yml, .jinja, .jinja2 (loaded anyway), when
        two files define the same top-level key (the first file's value is kept), and for
        template variables that no file reads (a misspelt name would otherwise be ignored).
    """
    context = {**(jinja_parse_data or {}), **kwargs}
    session = LoadSession()
    loaded = LoadedFiles(data=YamlMap())
    for path in expand_files(files):
        if not path.lower().endswith(_EXTENSIONS):
            expected = ", ".join(_EXTENSIONS)
            _warn(f"{path}: unexpected extension (expected {expected}); loaded anyway.", strict)
        data = _top_level_map(session.load_data(path, context), path)
        loaded.files.append(path)
        for key, value in data.items():
            if key in loaded.key_files:
                _warn(
                    f"Top-level key {key!r} is defined in both {loaded.key_files[key]} and "
                    f"{path}; the first is used and the second ignored.",
                    strict,
                )
                continue
            loaded.data[key] = value
            loaded.data.key_pos[key] = data.key_pos.get(key) or SourcePos(path, 1)
            loaded.key_files[key] = path
    unused = sorted(set(context) - session.referenced)
    if unused and loaded.files and ANY_VARIABLE not in session.referenced:
        used = ", ".join(sorted(session.referenced)) or "none"
        _warn(
            f"Jinja variable(s) {', '.join(unused)} are not used by "
            f"{', '.join(loaded.files)}; the files use: {used}.",
            strict,
        )
    return loaded


def load_yaml_text(
    text: str,
    *,
    name: str = "<string>",
    jinja_parse_data: Mapping[str, Any] | None = None,
) -> YamlMap:
    """Load spec text as if it were a file.

    Parameters
    ----------
    text:
        The spec text (a Jinja2 template).
    name:
        The name used in positions and errors.
    jinja_parse_data:
        Template variables.

    Returns
    -------
    YamlMap
        The top-level map. Relative paths in the text resolve against the working directory.

    Raises
    ------
    SpecError
        If the text cannot be rendered or parsed, or its top level is not a mapping.
    """
    data = LoadSession().load_text(text, name=name, context=dict(jinja_parse_data or {}))
    return _top_level_map(data, name)


def _top_level_map(data: Any, file: str) -> YamlMap:
    if isinstance(data, YamlMap):
        return data
    if data is None:
        found = "an empty document"
    elif isinstance(data, list):
        found = "a list"
    elif isinstance(data, str):
        found = f"the string {str(data)!r}"
    else:
        found = f"a {type(data).__name__} ({data!r})"
    raise SpecError(
        f"The top level of a spec file must be a mapping (key: value lines); found {found}.",
        file=file,
        line=getattr(getattr(data, "pos", None), "line", None),
    )


def _warn(message: str, strict: bool) -> None:
    if strict:
        raise SpecError(message)
    warnings.warn(SpecWarning(message), stacklevel=3)
