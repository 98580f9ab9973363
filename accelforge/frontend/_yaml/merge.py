"""The YAML merge keys: ``<<`` (standard, shallow) and ``<<<`` (deep).

Both functions return new containers and never modify their inputs, because aliases make
one loaded object appear at several places in a tree.
"""

from __future__ import annotations

from typing import Any

from accelforge.errors import SpecError
from accelforge.frontend._yaml.nodes import YamlList, YamlMap

__all__ = ["apply_merge_key", "merge_maps"]


def apply_merge_key(local: YamlMap, value: Any, *, deep: bool) -> YamlMap:
    """Merge the value of a ``<<`` (``deep=False``) or ``<<<`` (``deep=True``) key into a map.

    Parameters
    ----------
    local:
        The map holding the merge key, built from its other keys.
    value:
        The merge key's value: a map or a list of maps. A list is first combined into one
        map, earlier entries winning.
    deep:
        ``False``: only missing keys are copied. ``True``: nested maps merge recursively and
        lists concatenate (local items first), except where the local value is ``!nomerge``.

    Returns
    -------
    YamlMap
        The merged map; local values always win. A local map without a tag takes the tag of
        the merged-in map. The result does not depend on where the merge key is written.

    Raises
    ------
    SpecError
        If the value is not a map or a list of maps.
    """
    sources = value if isinstance(value, list) else [value]
    if not sources or not all(isinstance(source, YamlMap) for source in sources):
        raise SpecError(
            f"The value of {'<<<' if deep else '<<'} must be a mapping or a list of mappings; "
            f"got {type(value).__name__}."
        )
    combined = YamlMap()
    for source in sources:
        combined = merge_maps(combined, source, deep=deep)
    return merge_maps(local, combined, deep=deep)


def merge_maps(local: YamlMap, source: YamlMap, *, deep: bool) -> YamlMap:
    """Return ``local`` with the entries of ``source`` merged in (see :func:`apply_merge_key`)."""
    out = YamlMap(
        local,
        tag=local.tag or source.tag,
        pos=local.pos or source.pos,
        key_pos=local.key_pos,
        nomerge=local.nomerge,
    )
    for key, theirs in source.items():
        if key not in out:
            out[key] = theirs
            if key in source.key_pos:
                out.key_pos[key] = source.key_pos[key]
        elif deep and not getattr(out[key], "nomerge", False):
            out[key] = _merge_values(out[key], theirs)
    return out


def _merge_values(mine: Any, theirs: Any) -> Any:
    if isinstance(mine, YamlMap) and isinstance(theirs, YamlMap):
        return merge_maps(mine, theirs, deep=True)
    if isinstance(mine, YamlList) and isinstance(theirs, YamlList):
        return YamlList(
            [*mine, *theirs],
            tag=mine.tag,
            pos=mine.pos,
            item_pos=[*mine.item_pos, *theirs.item_pos],
            nomerge=mine.nomerge,
        )
    return mine
