"""Refuse, at once and by name, worker processes started from an unguarded script.

Worker processes start with ``"spawn"`` (or ``"forkserver"``): each one imports the script
that started it again, as ``__mp_main__``. A script that starts workers at its top level,
outside ``if __name__ == "__main__":``, would start them again in every worker;
multiprocessing then kills the workers with a "bootstrapping phase" error and the run finds
nothing. :func:`check_main_guard` finds that case before any process starts.
"""

from __future__ import annotations

import ast
import functools
import sys
from pathlib import Path
from types import FrameType

from accelforge.errors import MainGuardError

__all__ = ["check_main_guard", "unguarded_call_line", "unguarded_message"]


def check_main_guard(what: str) -> None:
    """Raise :class:`MainGuardError` if a script starts workers at its top level, unguarded.

    ``what`` names the call that starts worker processes. The script is the one being run,
    or its re-import inside a worker. Notebooks, the REPL, ``python -c`` and calls from
    imported modules are not affected.
    """
    problem = unguarded_message(what, sys._getframe(1))
    if problem is not None:
        raise MainGuardError(
            f'{problem} Put the code that starts it under `if __name__ == "__main__":` (the '
            "multiprocessing rule for scripts), or use n_workers=1."
        )


def unguarded_message(what: str, frame: FrameType | None = None) -> str | None:
    """Why ``what`` must not start worker processes from here, or None when it may.

    ``frame`` is where to start looking (default: the caller's).
    """
    found = unguarded_call_line(frame if frame is not None else sys._getframe(1))
    if found is None:
        return None
    path, line = found
    return (
        f"{what} wants worker processes, but it was called at the top level of {path} (line "
        f'{line}) outside `if __name__ == "__main__":`, and each worker would import '
        f"{Path(path).name} again and run it."
    )


def unguarded_call_line(frame: FrameType | None) -> tuple[str, int] | None:
    """``(script, line)`` of a script's module body running outside a ``__main__`` guard.

    The stack is walked outwards from ``frame``; None when no such frame is on it.
    """
    while frame is not None:
        name = frame.f_globals.get("__name__")
        path = frame.f_globals.get("__file__")
        if name in ("__main__", "__mp_main__") and frame.f_code.co_name == "<module>" and path:
            line = frame.f_lineno
            return None if _guarded(str(path), line) else (str(path), line)
        frame = frame.f_back
    return None


def _guarded(path: str, line: int) -> bool:
    """Whether ``line`` of ``path`` lies inside an ``if __name__ == "__main__":`` body.

    An unreadable or unparsable file counts as guarded (nothing is refused on a guess).
    """
    guards = _guard_ranges(path)
    return guards is None or any(start <= line <= end for start, end in guards)


@functools.lru_cache(maxsize=16)
def _guard_ranges(path: str) -> tuple[tuple[int, int], ...] | None:
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"), filename=path)
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None
    ranges = []
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_main_test(node.test) and node.body:
            ranges.append((node.body[0].lineno, node.body[-1].end_lineno or node.lineno))
    return tuple(ranges)


def _is_main_test(test: ast.expr) -> bool:
    """``__name__ == "__main__"`` (either way round)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return False
    if not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    texts = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return len(names) == 1 and len(texts) == 1
