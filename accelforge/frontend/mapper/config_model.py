"""The base of the mapper configuration models (``FFM``, ``Mapper``).

Both are pydantic models that validate on assignment, forbid unknown names and turn every
pydantic ``ValidationError`` into a :class:`~accelforge.errors.SpecError` whose path starts at
the model's place in a spec (``mapper.ffm.objective_tolerance``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import pydantic
from pydantic import ConfigDict, model_validator
from typing_extensions import Self

from accelforge.errors import SpecError, did_you_mean, format_loc

__all__ = ["CONFIG", "ConfigModel"]


def _problem_to_error(problem: Mapping[str, Any], loc: tuple[str, ...]) -> SpecError:
    """One entry of ``ValidationError.errors()`` as a :class:`SpecError` with a full path."""
    where = (*loc, *(str(part) for part in problem.get("loc", ())))
    inner = (problem.get("ctx") or {}).get("error")
    if isinstance(inner, SpecError):
        return inner.with_location(loc_prefix=where)
    return SpecError(f"{problem['msg']}.", loc=where, value=problem.get("input"))


def _to_spec_error(err: pydantic.ValidationError, loc: tuple[str, ...]) -> SpecError:
    """Convert a pydantic ``ValidationError``: the first problem, naming the others' paths."""
    problems = err.errors(include_url=False)
    first = _problem_to_error(problems[0], loc)
    if len(problems) > 1:
        others = [format_loc(_problem_to_error(p, loc).loc) for p in problems[1:]]
        if first.has_value and "Got " not in first.message:
            first.message += f" Got {first.value!r} instead."
        first.message += f" Also invalid: {', '.join(others)}."
        first.args = (str(first),)
    return first


CONFIG = ConfigDict(use_attribute_docstrings=True, validate_assignment=True, extra="forbid")


class ConfigModel(pydantic.BaseModel):
    """Base of :class:`FFM` and ``Mapper``: every error reaches the user as a SpecError."""

    model_config = CONFIG

    _LOC: ClassVar[tuple[str, ...]] = ()
    """The path of this object in a spec (``("mapper", "ffm")``), the prefix of error paths."""

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as err:
            raise _to_spec_error(err, type(self)._LOC) from None

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        """Validate ``obj`` (a mapping); problems raise :class:`SpecError`."""
        try:
            return super().model_validate(obj, **kwargs)
        except pydantic.ValidationError as err:
            raise _to_spec_error(err, cls._LOC) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or name in type(self).model_fields:
            try:
                super().__setattr__(name, value)
            except pydantic.ValidationError as err:
                raise _to_spec_error(err, type(self)._LOC) from None
            return
        raise type(self)._unknown_setting(name)

    @model_validator(mode="before")
    @classmethod
    def _prepare(cls, data: Any) -> Any:
        return cls._prepare_input(data)

    @classmethod
    def _prepare_input(cls, data: Any) -> Any:
        """Check the input before field validation (subclasses extend this)."""
        if not isinstance(data, Mapping):
            raise SpecError(
                f"must be a mapping of {cls.__name__} settings.", loc=cls._LOC, value=data
            )
        for key in data:
            if key not in cls.model_fields:
                raise cls._unknown_setting(key)
        return data

    @classmethod
    def _unknown_setting(cls, name: Any) -> SpecError:
        """The error for a key or attribute that is not a field."""
        known = [field for field in cls.model_fields if not field.startswith("_")]
        return SpecError(
            f"'{name}' is not {cls._setting_noun()}.{did_you_mean(str(name), known)}"
            f"{cls._unknown_hint(str(name))}",
            loc=(*cls._LOC, str(name)),
            allowed=", ".join(sorted(known)),
        )

    @classmethod
    def _setting_noun(cls) -> str:
        return f"a {cls.__name__} setting"

    @classmethod
    def _unknown_hint(cls, name: str) -> str:  # noqa: ARG003 - a hook FFM overrides
        """A hint appended to the unknown-setting error for ``name`` (none by default)."""
        return ""
