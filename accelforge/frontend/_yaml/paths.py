"""Path lookup for the loader: the top-level file list and paths named inside spec files."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Sequence
from typing import TypeAlias

from accelforge.errors import SpecError

__all__ = ["FileArg", "expand_files", "find_matches", "find_one"]

FileArg: TypeAlias = "str | os.PathLike[str] | Sequence[FileArg]"
"""A path, a glob pattern, or a (nested) list of them."""


def _flatten(files: FileArg) -> Iterable[str]:
    if isinstance(files, (str, os.PathLike)):
        yield os.fspath(files)
        return
    for item in files:
        yield from _flatten(item)


def _unique(paths: Iterable[str]) -> list[str]:
    """Drop paths that resolve to a physical file seen before, keeping the first name."""
    seen: set[str] = set()
    out = []
    for path in paths:
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            out.append(path)
    return out


def expand_files(files: FileArg) -> list[str]:
    """Glob-expand the top-level file arguments, relative to the working directory.

    Parameters
    ----------
    files:
        Paths or glob patterns, possibly in (nested) lists.

    Returns
    -------
    list of str
        Matching files in argument order (each pattern's matches sorted); a physical file
        reached twice is listed once.

    Raises
    ------
    SpecError
        If a pattern matches no file; the message names the pattern and the directory searched.
    """
    found: list[str] = []
    for pattern in _flatten(files):
        matches = (
            sorted(glob.glob(pattern, recursive=True)) if glob.has_magic(pattern) else [pattern]
        )
        matches = [m for m in matches if os.path.isfile(m)]
        if not matches:
            where = os.path.abspath(os.path.dirname(pattern) or os.curdir)
            raise SpecError(f"No file matches {pattern!r} (searched in {where}).")
        found.extend(matches)
    return _unique(found)


def find_matches(
    pattern: str,
    *,
    base_dir: str,
    search_dirs: Sequence[str] = (),
    files_only: bool = False,
) -> list[str]:
    """Resolve a path or glob pattern named inside a spec file.

    Parameters
    ----------
    pattern:
        An absolute path, or a path relative to ``base_dir`` and then to each of
        ``search_dirs``; glob patterns (including ``**``) are allowed.
    base_dir:
        The directory of the file being loaded.
    search_dirs:
        Directories registered with ``add_to_path``, searched in order after ``base_dir``.
    files_only:
        Ignore matching directories.

    Returns
    -------
    list of str
        The sorted matches in the first directory where the pattern matches anything.

    Raises
    ------
    SpecError
        If nothing matches; the message lists the directories searched.
    """
    pattern = os.fspath(pattern)
    dirs = [""] if os.path.isabs(pattern) else [base_dir or os.curdir, *search_dirs]
    for directory in dirs:
        hits = glob.glob(pattern, root_dir=directory or None, recursive=True)
        paths = [os.path.normpath(os.path.join(directory, hit)) for hit in sorted(hits)]
        if files_only:
            paths = [p for p in paths if os.path.isfile(p)]
        if paths:
            return _unique(paths)
    searched = ", ".join(os.path.abspath(d) for d in dirs if d) or "the absolute path"
    raise SpecError(
        f"No {'file' if files_only else 'path'} matches {pattern!r} (searched in {searched})."
    )


def find_one(pattern: str, *, base_dir: str, search_dirs: Sequence[str] = ()) -> str:
    """Resolve a pattern that must name exactly one file (see :func:`find_matches`).

    Raises
    ------
    SpecError
        If the pattern matches no file or more than one.
    """
    paths = find_matches(pattern, base_dir=base_dir, search_dirs=search_dirs, files_only=True)
    if len(paths) > 1:
        listed = ", ".join(paths)
        raise SpecError(
            f"{pattern!r} matches {len(paths)} files ({listed}); exactly one is needed. "
            "Use include_all() to load several files."
        )
    return paths[0]
