"""Shared plumbing for spec objects: the pydantic base class, error conversion, tag dispatch."""

from __future__ import annotations

import contextvars
import os
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, TypeVar, cast

import pydantic
from pydantic import ConfigDict

from accelforge.errors import SpecError, did_you_mean
from accelforge.frontend._yaml import LoadedFiles, load_yaml_files, position_of

__all__ = [
    "Expr",
    "SpecModel",
    "dispatch_tagged",
    "load_section",
    "locate_error",
    "validation_to_spec_error",
]

Expr = bool | int | float | str
"""A value that may be a literal or an expression string (docs/SPEC_FORMAT.md §4)."""

_M = TypeVar("_M", bound="SpecModel")
_LOC: contextvars.ContextVar[tuple[str | int, ...]] = contextvars.ContextVar("loc", default=())
"""Field path of the object being validated, so errors raised while preparing it say where."""


def _allowed_fields(model: type[pydantic.BaseModel]) -> list[str]:
    return sorted(name for name in model.model_fields if not name.startswith("_"))


def validation_to_spec_error(
    err: pydantic.ValidationError,
    model: type[pydantic.BaseModel],
    loc: Sequence[str | int],
) -> SpecError:
    """Turn a pydantic ``ValidationError`` into a :class:`SpecError` (first problem first)."""
    problems = err.errors()
    first = problems[0]
    original = first.get("ctx", {}).get("error")
    if isinstance(original, SpecError):
        return original
    field_loc = tuple(first["loc"])
    kind = first["type"]
    owner = model.__name__
    bad = field_loc[-1] if field_loc else ""
    if kind == "extra_forbidden":
        allowed = _allowed_fields(model) if len(field_loc) == 1 else []
        message = f"field '{bad}' is not allowed on {owner}."
        if allowed:
            message += did_you_mean(str(bad), allowed)
            message += f" Allowed fields: {', '.join(allowed)}."
        return SpecError(message, loc=(*loc, *field_loc))
    if kind == "missing":
        return SpecError(f"field '{bad}' is required on {owner}.", loc=(*loc, *field_loc))
    message = f"{first['msg']}."
    if len(problems) > 1:
        message += f" ({len(problems) - 1} more problem(s) in this {owner})"
    return SpecError(message, loc=(*loc, *field_loc), value=first.get("input"))


class SpecModel(pydantic.BaseModel):
    """Base of every spec object: unknown fields are refused, assignments are validated."""

    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, use_attribute_docstrings=True
    )

    def __setattr__(self, name: str, value: Any) -> None:
        try:
            super().__setattr__(name, value)
        except pydantic.ValidationError as err:
            raise validation_to_spec_error(err, type(self), ()) from None

    @pydantic.model_validator(mode="before")
    @classmethod
    def _prepare_input(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and not isinstance(data, pydantic.BaseModel):
            loc = _LOC.get()
            cls._refuse_unknown(data, loc)
            return cls.prepare(dict(data), loc)
        return data

    @classmethod
    def from_data(cls: type[_M], data: Any, loc: Sequence[str | int] = ()) -> _M:
        """Validate ``data`` (a mapping) into this class; errors carry the field path."""
        if isinstance(data, cls):
            return data
        if not isinstance(data, Mapping):
            raise SpecError(
                f"expected a mapping describing a {cls.__name__}.",
                loc=loc,
                value=data,
            )
        token = _LOC.set(tuple(loc))
        try:
            return cls.model_validate(dict(data))
        except pydantic.ValidationError as err:
            raise validation_to_spec_error(err, cls, loc) from None
        finally:
            _LOC.reset(token)

    @classmethod
    def from_yaml(
        cls: type[_M],
        *files: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
        top_key: str | None = None,
        jinja_parse_data: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> _M:
        """Load this section from YAML files (``top_key``: the subtree under that key).

        ``af.Arch.from_yaml("isaac.yaml", top_key="arch")`` reads one section of a whole
        spec file, as AccelForge does; errors name the file and line.
        """
        loaded, data, loc = load_section(files, top_key, jinja_parse_data, **kwargs)
        try:
            return cls.from_data(data, loc)
        except SpecError as err:
            locate_error(err, loaded.data, loaded.key_files)
            raise

    @classmethod
    def prepare(cls, data: dict[str, Any], loc: Sequence[str | int]) -> dict[str, Any]:  # noqa: ARG003 - the hook's signature
        """Hook for subclasses: convert nested raw data before validation."""
        return data

    extra_input_keys: ClassVar[frozenset[str]] = frozenset()
    """Keys :meth:`prepare` consumes that are not fields (e.g. an Einsum's ``einsum`` string)."""

    @classmethod
    def _refuse_unknown(cls, data: Mapping[str, Any], loc: Sequence[str | int]) -> None:
        allowed = _allowed_fields(cls)
        for key in data:
            if key not in cls.model_fields and key not in cls.extra_input_keys:
                raise SpecError(
                    f"field '{key}' is not allowed on {cls.__name__}."
                    f"{did_you_mean(str(key), allowed)} Allowed fields: {', '.join(allowed)}.",
                    loc=(*loc, key),
                )


def dispatch_tagged(
    item: Any,
    classes: Mapping[str, type[_M]],
    *,
    where: str,
    loc: Sequence[str | int],
    later: Sequence[str] = (),
) -> _M:
    """Build the class named by the YAML tag (or a ``type:`` key) of a polymorphic list entry."""
    if isinstance(item, SpecModel):
        if type(item).__name__ in classes:
            return cast(_M, item)  # its class is one of ``classes`` (matched by name)
        raise SpecError(
            f"{type(item).__name__} is not allowed in {where}.",
            loc=loc,
            allowed=", ".join(sorted(classes)),
        )
    if not isinstance(item, Mapping):
        raise SpecError(f"entries of {where} must be tagged mappings.", loc=loc, value=item)
    tag = getattr(item, "tag", None)
    data = dict(item)
    type_key = data.pop("type", None)
    if tag and type_key and tag != type_key:
        raise SpecError(
            f"the tag !{tag} and 'type: {type_key}' disagree; give one of them.", loc=loc
        )
    name = tag or type_key
    allowed_tags = ", ".join(f"!{n}" for n in sorted(classes))
    if name is None:
        shown = {k: data[k] for k in list(data)[:3]}
        raise SpecError(
            f"this entry of {where} has no class tag: {shown}. Add one such as "
            f"!{next(iter(classes))} (or a 'type: {next(iter(classes))}' key).",
            loc=loc,
            allowed=allowed_tags,
        )
    if name in later:
        raise SpecError(f"!{name} is not supported yet in {where} (planned).", loc=loc)
    if name not in classes:
        hint = ""
        lowered = {n.lower(): n for n in classes}
        if name.lower() in lowered:
            hint = f" Tags are case-sensitive: did you mean !{lowered[name.lower()]}?"
        raise SpecError(
            f"tag !{name} is not allowed in {where}.{hint}", loc=loc, allowed=allowed_tags
        )
    return classes[name].from_data(data, loc)


def locate_error(err: SpecError, data: Any, key_files: Mapping[str, str]) -> None:
    """Fill ``err``'s file and line from the loaded tree's positions."""
    if err.line is not None:
        return
    pos = position_of(data, err.loc) if err.loc else None
    if pos is not None:
        err.with_location(file=pos.file, line=pos.line)
    elif err.loc and str(err.loc[0]) in key_files:
        err.with_location(file=key_files[str(err.loc[0])])


def load_section(
    files: Sequence[str | os.PathLike[str] | Sequence[str | os.PathLike[str]]],
    top_key: str | None,
    jinja_parse_data: Mapping[str, Any] | None,
    **kwargs: Any,
) -> tuple[LoadedFiles, Any, tuple[str | int, ...]]:
    """Load YAML files; return them, the data under ``top_key`` (or all of it) and its path."""
    loaded = load_yaml_files(list(files), jinja_parse_data, **kwargs)
    if top_key is None:
        return loaded, loaded.data, ()
    if top_key not in loaded.data:
        raise SpecError(
            f"top_key '{top_key}' is not a top-level key of {', '.join(loaded.files)}."
            f"{did_you_mean(top_key, [str(k) for k in loaded.data])}",
            allowed=", ".join(str(k) for k in loaded.data),
        )
    return loaded, loaded.data[top_key], (top_key,)
