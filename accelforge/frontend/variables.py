"""The top-level ``variables`` section as a standalone object (``af.Variables``)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from accelforge.errors import SpecError
from accelforge.frontend._base import load_section

__all__ = ["Variables"]


class Variables(dict[str, Any]):
    """Spec variables by name: a ``dict`` that also loads from YAML.

    ``af.Spec(arch=..., variables=af.Variables.from_yaml(path, top_key="variables"), ...)``
    builds a spec from the sections of one file, as AccelForge's loaders do.
    """

    @classmethod
    def from_yaml(
        cls,
        *files: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
        top_key: str | None = None,
        jinja_parse_data: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Variables:
        """The mapping under ``top_key`` (or the whole files) as variables."""
        _, data, loc = load_section(files, top_key, jinja_parse_data, **kwargs)
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise SpecError("variables must be a mapping of names to values.", loc=loc, value=data)
        return cls(data)
