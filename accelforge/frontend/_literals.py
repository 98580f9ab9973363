"""Strings that spell a boolean or a number, converted without evaluating.

The literal forms are docs/SPEC_FORMAT.md §4.3.
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["parse_literal"]

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")
_SPECIAL = {"true": True, "false": False, "inf": math.inf, "+inf": math.inf, "-inf": -math.inf}
_SPECIAL |= dict.fromkeys(("nan", "+nan", "-nan"), math.nan)


def parse_literal(text: str) -> tuple[bool, Any]:
    """Convert a string that spells a boolean or a number (docs/SPEC_FORMAT.md §4.3).

    Never evaluates anything.

    Returns
    -------
    tuple[bool, Any]
        ``(True, value)``: ``"true"``/``"false"`` (any case) give a bool, integral numbers
        (``"2"``, ``"2.0"``, ``"1e3"``) an int, other numbers a float, ``"inf"``/``"-inf"``/
        ``"nan"`` :data:`math.inf`/``-math.inf``/:data:`math.nan`. ``(False, None)`` otherwise.
    """
    if not isinstance(text, str):
        return False, None
    stripped = text.strip()
    key = stripped.lower()
    if key in _SPECIAL:
        return True, _SPECIAL[key]
    if not _NUMBER.fullmatch(stripped):
        return False, None
    try:
        value = int(stripped) if _INTEGER.fullmatch(stripped) else float(stripped)
    except ValueError:  # more digits than int() converts
        return False, None
    return True, int(value) if isinstance(value, float) and value.is_integer() else value
