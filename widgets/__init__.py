"""The Jupyter layer, installed as ``accelforge.widgets`` (extra ``notebook``).

- :class:`Explorer`: the live mapper UI (form, Run / Stop, progress, fronts, inspector, exports).
- :class:`FFMForm`: the ``FFM`` knobs and ``Metrics`` as widgets, two-way bound to ``spec.mapper``.
- :class:`ExplorerController`: the explorer's state and logic without widgets (scripts, tests).
- :class:`DownloadButton`: a button that downloads bytes made on demand, leaving no file behind.

The core library never imports this package, and importing it is light: each name is imported
on first use (a module-level ``__getattr__``). The views need ipywidgets, anywidget and plotly;
without them, using a view raises an ``ImportError`` naming
``pip install "accelforge-explorer[notebook]"``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from accelforge.errors import MissingExtraError

if TYPE_CHECKING:
    from accelforge.widgets._controller import ExplorerController
    from accelforge.widgets._download import DownloadButton
    from accelforge.widgets._explorer import Explorer
    from accelforge.widgets._form import FFMForm
    from accelforge.widgets._selection import Selection
    from accelforge.widgets._sweep_view import SweepView
    from accelforge.widgets._types import Update

__all__ = [
    "DownloadButton",
    "Explorer",
    "ExplorerController",
    "FFMForm",
    "Selection",
    "SweepView",
    "Update",
]

_INSTALL = 'pip install "accelforge-explorer[notebook]"'

_WHERE: dict[str, tuple[str, bool]] = {
    "DownloadButton": ("accelforge.widgets._download", True),
    "Explorer": ("accelforge.widgets._explorer", True),
    "ExplorerController": ("accelforge.widgets._controller", False),
    "FFMForm": ("accelforge.widgets._form", True),
    "Selection": ("accelforge.widgets._selection", False),
    "SweepView": ("accelforge.widgets._sweep_view", True),
    "Update": ("accelforge.widgets._types", False),
}
"""Public name -> (module, whether it needs the ``notebook`` extra)."""

_EXTRA_MODULES = ("ipywidgets", "anywidget", "plotly")


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'accelforge.widgets' has no attribute {name!r}")
    module, needs_extra = _WHERE[name]
    try:
        value = getattr(importlib.import_module(module), name)
    except ImportError as exc:
        missing = getattr(exc, "name", None) or ""
        if needs_extra and missing.split(".")[0] in _EXTRA_MODULES:
            raise MissingExtraError(
                f"accelforge.widgets.{name} needs the notebook extra ({missing} is not "
                f"installed): {_INSTALL}"
            ) from exc
        raise
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
