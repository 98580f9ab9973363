"""Loading spec files: Jinja2 rendering, YAML parsing with tags and source positions.

The public entry points are :func:`load_yaml_files` and :func:`load_yaml_text`; the loaded
data is made of :class:`YamlMap`, :class:`YamlList` and scalars, and :func:`position_of`
finds the source line of any field path in it.
"""

from accelforge.frontend._yaml.load import LoadedFiles, load_yaml_files, load_yaml_text
from accelforge.frontend._yaml.nodes import (
    QuotedStr,
    SourcePos,
    TaggedScalar,
    YamlList,
    YamlMap,
    position_of,
)

__all__ = [
    "LoadedFiles",
    "QuotedStr",
    "SourcePos",
    "TaggedScalar",
    "YamlList",
    "YamlMap",
    "load_yaml_files",
    "load_yaml_text",
    "position_of",
]
