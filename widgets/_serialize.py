"""Exports as bytes: DataFrames (CSV, Parquet, Excel, JSON) and figures (HTML, PNG).

The table formats are exactly those of :mod:`accelforge.export` (a CSV whose first line is
``# {metadata}``, JSON ``{metadata, rows}`` with ``"inf"`` strings, Parquet with the metadata
in the schema), produced by its own writers inside a temporary folder that is removed at once:
one implementation, and no file is left behind. Excel (when ``openpyxl`` is installed) has a
``data`` sheet with ``inf`` written as the text ``inf`` and a ``metadata`` sheet.
"""

from __future__ import annotations

import importlib.util
import io
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from accelforge import export
from accelforge.errors import MissingExtraError

__all__ = [
    "FIGURE_FORMATS",
    "TABLE_FORMATS",
    "metadata_bytes",
    "figure_bytes",
    "read_table",
    "table_bytes",
    "table_formats",
]

TABLE_FORMATS: dict[str, str] = {
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
"""Table format (the file extension) -> MIME type."""

FIGURE_FORMATS: dict[str, str] = {"html": "text/html", "png": "image/png"}
"""Figure format (the file extension) -> MIME type."""

_PNG_FIX = (
    "PNG export needs kaleido and a Chrome or Chromium it can start: "
    "`pip install kaleido`, then install Chromium (Debian: `apt-get install chromium`) or point "
    "the BROWSER_PATH environment variable at a Chrome binary. Without them, the camera icon "
    "on each plot's toolbar saves a PNG from the browser; HTML export needs neither."
)


def table_formats() -> tuple[str, ...]:
    """The table formats available here (``xlsx`` only when ``openpyxl`` is installed)."""
    has_excel = importlib.util.find_spec("openpyxl") is not None
    return tuple(f for f in TABLE_FORMATS if f != "xlsx" or has_excel)


def _through_file(write: Callable[[Path], None], suffix: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="accelforge-export-") as folder:
        path = Path(folder) / f"export.{suffix}"
        write(path)
        return path.read_bytes()


def table_bytes(data: pd.DataFrame, fmt: str, metadata: dict[str, Any]) -> bytes:
    """``data`` with ``metadata`` in format ``fmt`` (``csv``, ``parquet``, ``xlsx``, ``json``).

    Raises
    ------
    ValueError
        For an unknown format.
    MissingExtraError
        For ``xlsx`` without ``openpyxl``.
    """
    if fmt == "csv":
        return _through_file(lambda p: export.write_csv(data, p, metadata), fmt)
    if fmt == "json":
        return _through_file(lambda p: export.write_json(data, p, metadata), fmt)
    if fmt == "parquet":
        return _through_file(lambda p: export.write_parquet(data, p, metadata), fmt)
    if fmt == "xlsx":
        if "xlsx" not in table_formats():
            raise MissingExtraError("Excel export needs openpyxl: `pip install openpyxl`.")
        buffer = io.BytesIO()
        with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
            data.to_excel(writer, sheet_name="data", index=False, inf_rep="inf")
            meta = pd.DataFrame({"metadata": [json.dumps(metadata, default=str)]})
            meta.to_excel(writer, sheet_name="metadata", index=False)
        return buffer.getvalue()
    raise ValueError(f"Unknown table format {fmt!r}. Allowed: {', '.join(TABLE_FORMATS)}.")


def metadata_bytes(metadata: dict[str, Any]) -> bytes:
    """The metadata sidecar of a CSV export (``front.meta.json``), as :mod:`export` writes it."""
    return json.dumps(metadata, default=str, indent=1).encode()


def read_table(
    content: bytes, fmt: str, sidecar: bytes | None = None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Parse :func:`table_bytes` output back into the DataFrame and the metadata.

    A CSV is plain; its metadata is the ``sidecar`` (:func:`metadata_bytes`), ``{}`` without.
    """
    if fmt == "xlsx":
        sheets = pd.read_excel(io.BytesIO(content), sheet_name=None, engine="openpyxl")
        data = sheets["data"].replace({"inf": float("inf"), "-inf": float("-inf")})
        data = data.apply(_numeric_if_possible)
        return data, json.loads(str(sheets["metadata"]["metadata"].iloc[0]))
    readers = {"csv": export.read_csv, "json": export.read_json, "parquet": export.read_parquet}
    if fmt not in readers:
        raise ValueError(f"Unknown table format {fmt!r}. Allowed: {', '.join(TABLE_FORMATS)}.")
    with tempfile.TemporaryDirectory(prefix="accelforge-import-") as folder:
        path = Path(folder) / f"import.{fmt}"
        path.write_bytes(content)
        if sidecar is not None and fmt == "csv":
            export.meta_path(path).write_bytes(sidecar)
        return readers[fmt](path)


def _numeric_if_possible(column: pd.Series) -> pd.Series:
    try:
        return pd.to_numeric(column)
    except (ValueError, TypeError):
        return column


def figure_bytes(figure: Any, fmt: str) -> bytes:
    """A Plotly figure as a self-contained HTML page or a PNG image.

    Raises
    ------
    MissingExtraError
        For PNG when kaleido or a browser for it is missing; the message says how to fix it.
    """
    if fmt == "html":
        return str(figure.to_html(include_plotlyjs=True, full_html=True)).encode()
    if fmt != "png":
        raise ValueError(f"Unknown figure format {fmt!r}. Allowed: {', '.join(FIGURE_FORMATS)}.")
    if importlib.util.find_spec("kaleido") is None:
        raise MissingExtraError(_PNG_FIX)
    try:
        return bytes(figure.to_image(format="png"))
    except Exception as exc:  # kaleido reports a missing browser in several ways
        raise MissingExtraError(f"{_PNG_FIX} (kaleido said: {exc})") from exc
