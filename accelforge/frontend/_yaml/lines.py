"""Map rendered template lines back to the source lines they came from.

While a template is compiled, :class:`LineMarkExtension` appends an invisible marker
(``NUL id:line NUL``) before every newline of the template's literal text. Rendering carries
the markers into the output, including text pasted by ``include_text`` and Jinja's own
``{% include %}``. :meth:`LineMarks.strip` removes them and returns, for every rendered
line, the file and line whose newline ends it. A rendered line ended by a newline that came
from an expression value (``{{ multi_line }}``) takes the position of the next marked line,
i.e. the line of the expression; lines after the last marker continue its numbering.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from jinja2 import Environment
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream

from accelforge.frontend._yaml.nodes import SourcePos

__all__ = ["LineMarkExtension", "LineMarks"]

_MARK = re.compile("\x00(\\d+):(\\d+)\x00")


class LineMarks:
    """A registry of source files and the markers that point into them."""

    def __init__(self) -> None:
        self._files: list[str] = []
        self._ids: dict[str, int] = {}

    def mark(self, file: str, line: int) -> str:
        """Return the marker for ``line`` (1-based) of ``file``."""
        if file not in self._ids:
            self._ids[file] = len(self._files)
            self._files.append(file)
        return f"\x00{self._ids[file]}:{line}\x00"

    def strip(self, text: str, *, file: str) -> tuple[str, list[SourcePos]]:
        r"""Remove the markers from rendered text.

        Parameters
        ----------
        text:
            Rendered text containing markers.
        file:
            The file to name for lines no marker accounts for.

        Returns
        -------
        tuple of (str, list of SourcePos)
            The clean text and the source position of each of its lines
            (``text.split("\n")`` order).
        """
        clean: list[str] = []
        found: list[SourcePos | None] = []
        for raw in text.split("\n"):
            marks = _MARK.findall(raw)
            clean.append(_MARK.sub("", raw) if marks else raw)
            found.append(
                SourcePos(self._files[int(marks[-1][0])], int(marks[-1][1])) if marks else None
            )
        following: SourcePos | None = None
        backward: list[SourcePos | None] = []
        for pos in reversed(found):
            following = pos or following
            backward.append(following)
        backward.reverse()
        positions: list[SourcePos] = []
        last: tuple[int, SourcePos] | None = None
        for index, pos in enumerate(backward):
            if pos is None:  # after the last marker, or no marker at all
                pos = SourcePos(file, index + 1)
                if last is not None:
                    pos = SourcePos(last[1].file, last[1].line + index - last[0])
            elif found[index] is not None:
                last = (index, pos)
            positions.append(pos)
        return "\n".join(clean), positions


class LineMarkExtension(Extension):
    """Jinja extension that inserts :class:`LineMarks` markers into literal template text.

    Markers are registered in ``environment.line_marks``: a fresh :class:`LineMarks` unless
    the caller replaces it with a shared one.
    Whitespace control (``{%-``, ``-%}``) is applied by the lexer before this filter runs,
    so the markers never change what is rendered apart from the markers themselves.
    """

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.environment.extend(line_marks=LineMarks())

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        """Append a marker before each newline of every ``data`` token."""
        marks: LineMarks = self.environment.line_marks  # type: ignore[attr-defined]
        file = stream.filename or stream.name or "<template>"
        for token in stream:
            if token.type != "data" or "\n" not in token.value:
                yield token
                continue
            pieces = token.value.split("\n")
            marked = [
                f"{piece}{marks.mark(file, token.lineno + offset)}\n"
                for offset, piece in enumerate(pieces[:-1])
            ]
            yield Token(token.lineno, "data", "".join(marked) + pieces[-1])
