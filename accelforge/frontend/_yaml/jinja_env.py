"""Render one spec file as a sandboxed Jinja2 template (docs/SPEC_FORMAT.md §2.2).

The environment is a :class:`~jinja2.sandbox.SandboxedEnvironment` with
:class:`~jinja2.StrictUndefined`, ``keep_trailing_newline=True``, the ``{% assert %}`` tag,
and the loader's global functions, bound to the file being rendered. Every Jinja failure
becomes a :class:`SpecError` naming the file and the template line.

``include(path, key="")`` loads the other file through the whole pipeline and returns a
placeholder ``!include_loaded <id>[.key]``. Written unquoted into the YAML text, possibly with
more ``.key.path`` appended, it is replaced by the YAML stage with the included data.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, Protocol

from jinja2 import FileSystemLoader, StrictUndefined, meta, nodes, pass_context
from jinja2.exceptions import (
    SecurityError,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    UndefinedError,
)
from jinja2.ext import Extension
from jinja2.parser import Parser
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from accelforge.errors import SpecError
from accelforge.frontend._yaml.lines import LineMarkExtension, LineMarks
from accelforge.frontend._yaml.paths import find_matches, find_one

__all__ = ["AssertExtension", "RenderHost", "render_template"]

_UNDEFINED_NAME = re.compile(r"^'([^']+)' is undefined$")


class RenderHost(Protocol):
    """The loader state the template functions work through."""

    marks: LineMarks
    """Markers tying rendered lines to source lines."""
    variables: dict[str, str]
    """Values set with ``setenv``; visible to every file rendered later."""
    referenced: set[str]
    """Template variables any file rendered so far reads (a default counts as a read)."""

    def load_data(self, path: str, context: dict[str, Any], search_dirs: list[str]) -> Any:
        """Render and parse another file; return its data."""
        ...

    def render_text(self, path: str, context: dict[str, Any], search_dirs: list[str]) -> str:
        """Render another file; return its text (with line markers)."""
        ...

    def register(self, data: list[Any], *, many: bool) -> str:
        """Store included data; return its ``!include_loaded <id>`` placeholder."""
        ...


class AssertExtension(Extension):
    """The ``{% assert condition, "message" %}`` tag: a :class:`SpecError` when false."""

    tags = {"assert"}

    def parse(self, parser: Parser) -> nodes.Node:
        """Parse ``assert condition[, message]``."""
        lineno = next(parser.stream).lineno
        condition = parser.parse_expression()
        message = parser.parse_expression() if parser.stream.skip_if("comma") else nodes.Const(None)
        args = [condition, message, nodes.Const(parser.filename), nodes.Const(lineno)]
        return nodes.Output([self.call_method("check", args, lineno=lineno)], lineno=lineno)

    def check(self, condition: Any, message: Any, file: str | None, line: int) -> str:
        """Raise when ``condition`` is false; render as nothing otherwise."""
        if not condition:
            text = f"Assertion failed: {message}" if message else "Assertion failed."
            raise SpecError(text, file=file, line=line)
        return ""


ANY_VARIABLE = "\0any"
"""Stands in :attr:`RenderHost.referenced` for a template that includes a file named at
render time: which variables it reads cannot be known."""


def variables_read(env: SandboxedEnvironment, source: str, seen: set[str]) -> set[str]:
    """Template variables ``source`` reads, with those of the templates it includes or imports.

    A template named only at render time adds :data:`ANY_VARIABLE`.
    """
    tree = env.parse(source)
    names = set(meta.find_undeclared_variables(tree))
    for name in meta.find_referenced_templates(tree):
        if name is None:
            names.add(ANY_VARIABLE)
        elif name not in seen and env.loader is not None:
            seen.add(name)
            try:
                text = env.loader.get_source(env, name)[0]
            except TemplateNotFound:
                continue  # rendering reports it
            names |= variables_read(env, text, seen)
    return names


def render_template(
    source: str,
    *,
    file: str,
    base_dir: str,
    context: Mapping[str, Any],
    host: RenderHost,
    search_dirs: list[str],
) -> str:
    """Render the text of one file.

    Parameters
    ----------
    source:
        The template text.
    file:
        The file's path as given (named in errors and positions).
    base_dir:
        The directory relative paths resolve against first (``""``: the working directory).
    context:
        The template variables; ``setenv`` values are layered on top.
    host:
        Loads included files and keeps shared state.
    search_dirs:
        Directories for relative lookups after the file's own directory; ``add_to_path``
        appends to this list.

    Returns
    -------
    str
        The rendered text, still containing :class:`LineMarks` markers.

    Raises
    ------
    SpecError
        On any template error, with the file and the template line.
    """
    loader = FileSystemLoader([base_dir or os.curdir, *search_dirs])
    env = SandboxedEnvironment(
        loader=loader,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        extensions=[AssertExtension, LineMarkExtension],
    )
    env.line_marks = host.marks  # type: ignore[attr-defined]
    functions = _TemplateFunctions(env, loader, host, base_dir, search_dirs)
    env.globals.update(functions.as_globals())
    try:
        code = env.compile(source, name=os.path.basename(file), filename=file)
        host.referenced |= variables_read(env, source, set())
        template = env.template_class.from_code(env, code, env.make_globals(None))
        return template.render({**context, **host.variables})
    except SpecError as err:
        err.with_location(**_template_position(err, file))
        raise
    except Exception as err:  # anything a template can raise, e.g. ZeroDivisionError
        raise _as_spec_error(err, file, loader) from err


class _TemplateFunctions:
    """The global functions of one file's template, bound to its directory."""

    def __init__(
        self,
        env: SandboxedEnvironment,
        loader: FileSystemLoader,
        host: RenderHost,
        base_dir: str,
        search_dirs: list[str],
    ) -> None:
        self._env = env
        self._loader = loader
        self._host = host
        self._base_dir = base_dir
        self._search_dirs = search_dirs

    def as_globals(self) -> dict[str, Any]:
        return {
            "include": self.include,
            "include_all": self.include_all,
            "include_text": self.include_text,
            "add_to_path": self.add_to_path,
            "find_path": self.find_path,
            "find_paths": self.find_paths,
            "path_exists": self.path_exists,
            "cwd": self.cwd,
            "setenv": self.setenv,
        }

    def _matches(self, pattern: str, *, files_only: bool = True) -> list[str]:
        return find_matches(
            pattern, base_dir=self._base_dir, search_dirs=self._search_dirs, files_only=files_only
        )

    def _child_context(
        self, ctx: Context, inherit: bool, extra: Mapping[str, Any]
    ) -> dict[str, Any]:
        missing = object()
        child = {}
        if inherit:
            child = {
                name: value
                for name, value in ctx.get_all().items()
                if self._env.globals.get(name, missing) is not value
            }
        child.update(extra)
        return child

    @staticmethod
    def _with_key(token: str, key: str) -> str:
        key = str(key).strip(".")
        return f"{token}.{key}" if key else token

    @pass_context
    def include(
        self, ctx: Context, path: str, key: str = "", inherit_parse_data: bool = True, **kwargs: Any
    ) -> str:
        """Load one file; return a placeholder for its data (indexed by ``key``)."""
        target = find_one(path, base_dir=self._base_dir, search_dirs=self._search_dirs)
        context = self._child_context(ctx, inherit_parse_data, kwargs)
        data = self._host.load_data(target, context, list(self._search_dirs))
        return self._with_key(self._host.register([data], many=False), key)

    @pass_context
    def include_all(
        self,
        ctx: Context,
        pattern: str,
        key: str = "",
        inherit_parse_data: bool = True,
        **kwargs: Any,
    ) -> str:
        """Load every matching file; return a placeholder for the list of their data."""
        context = self._child_context(ctx, inherit_parse_data, kwargs)
        data = [
            self._host.load_data(target, context, list(self._search_dirs))
            for target in self._matches(pattern)
        ]
        return self._with_key(self._host.register(data, many=True), key)

    @pass_context
    def include_text(
        self, ctx: Context, path: str, inherit_parse_data: bool = True, **kwargs: Any
    ) -> str:
        """Return the rendered text of every matching file, joined by newlines."""
        context = self._child_context(ctx, inherit_parse_data, kwargs)
        return "\n".join(
            self._host.render_text(target, context, list(self._search_dirs))
            for target in self._matches(path)
        )

    def add_to_path(self, path: str) -> str:
        """Register matching directories for later relative lookups; render as nothing."""
        found = [p for p in self._matches(path, files_only=False) if os.path.isdir(p)]
        if not found:
            raise SpecError(f"add_to_path({path!r}): no such directory.")
        for directory in found:
            if directory not in self._search_dirs:
                self._search_dirs.append(directory)
                self._loader.searchpath.append(directory)
        return ""

    def find_path(self, path: str) -> str:
        """Return the absolute path of the first match."""
        return os.path.abspath(self._matches(path, files_only=False)[0])

    def find_paths(self, path: str) -> list[str]:
        """Return the absolute paths of all matches."""
        return [os.path.abspath(p) for p in self._matches(path, files_only=False)]

    def path_exists(self, path: str) -> bool:
        """Return whether anything matches."""
        try:
            self._matches(path, files_only=False)
        except SpecError:
            return False
        return True

    def cwd(self) -> str:
        """Return the absolute directory of the file being rendered."""
        return os.path.abspath(self._base_dir or os.curdir)

    def setenv(self, key: str, value: Any) -> str:
        """Set a variable for files rendered later (never the process environment)."""
        self._host.variables[str(key)] = str(value)
        return ""


def _template_position(err: BaseException, file: str) -> dict[str, Any]:
    """The innermost template frame of a traceback, as ``file``/``line`` keywords."""
    found: dict[str, Any] = {"file": file}
    tb = err.__traceback__
    while tb is not None:
        if "__jinja_exception__" in tb.tb_frame.f_globals:
            found = {"file": tb.tb_frame.f_code.co_filename, "line": tb.tb_lineno}
        tb = tb.tb_next
    return found


def _as_spec_error(err: Exception, file: str, loader: FileSystemLoader) -> SpecError:
    if isinstance(err, TemplateSyntaxError):
        return SpecError(
            f"Jinja syntax error: {err.message}", file=err.filename or file, line=err.lineno
        )
    where = _template_position(err, file)
    if isinstance(err, UndefinedError):
        match = _UNDEFINED_NAME.match(err.message or "")
        if match:
            name = match.group(1)
            message = (
                f"Jinja variable {name!r} is undefined. Pass it in jinja_parse_data, or give "
                f"a default in the file: {{% set {name} = {name} | default(...) %}}."
            )
        else:
            message = f"Jinja error: {err.message}"
    elif isinstance(err, SecurityError):
        message = f"The template sandbox refused an unsafe operation: {err.message}"
    elif isinstance(err, TemplateNotFound):
        searched = ", ".join(os.path.abspath(p) for p in loader.searchpath)
        message = f"Jinja template {err.name!r} not found (searched in {searched})."
    elif isinstance(err, TemplateError):
        message = f"Jinja error: {err.message}"
    elif isinstance(err, RecursionError):
        message = "Template recursion too deep; does a template include itself?"
    else:
        message = f"Error while rendering the template: {type(err).__name__}: {err}"
    return SpecError(message, **where)
