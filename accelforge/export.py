"""Writing a Pareto front to files: CSV, Parquet, JSON and an HTML scatter plot."""

from __future__ import annotations

import html
import json
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from accelforge import columns as col
from accelforge.errors import MissingExtraError

__all__ = [
    "front_html",
    "meta_path",
    "read_csv",
    "read_excel",
    "read_json",
    "read_parquet",
    "write_csv",
    "write_excel",
    "write_front",
    "write_json",
    "write_parquet",
]


def front_html(
    data: pd.DataFrame, x: str = col.LATENCY, y: str = col.ENERGY, title: str = "Pareto front"
) -> str:
    """A self-contained HTML page plotting ``y`` against ``x`` (Plotly when installed)."""
    try:
        import plotly.graph_objects as go
    except ImportError:
        return _svg_page(data, x, y, title)
    figure = go.Figure(
        go.Scatter(
            x=data[x],
            y=data[y],
            mode="markers+lines",
            text=[f"mapping {i}" for i in range(len(data))],
        )
    )
    figure.update_layout(title=title, xaxis_title=x, yaxis_title=y)
    return figure.to_html(include_plotlyjs=True, full_html=True)


def _svg_page(data: pd.DataFrame, x: str, y: str, title: str) -> str:
    width, height, pad = 640, 420, 60
    xs, ys = data[x].to_numpy(float), data[y].to_numpy(float)

    def scale(values: np.ndarray, size: int, flip: bool) -> np.ndarray:
        low, high = (values.min(), values.max()) if len(values) else (0.0, 1.0)
        span = high - low or 1.0
        pos = (values - low) / span * (size - 2 * pad) + pad
        return size - pos if flip else pos

    px, py = scale(xs, width, False), scale(ys, height, True)
    points = "".join(
        f'<circle cx="{a:.1f}" cy="{b:.1f}" r="4"><title>{html.escape(x)} {vx:.6g}, '
        f"{html.escape(y)} {vy:.6g}</title></circle>"
        for a, b, vx, vy in zip(px, py, xs, ys, strict=True)
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "</head><body><h3>" + html.escape(title) + "</h3>"
        f'<svg width="{width}" height="{height}" style="border:1px solid #ccc">'
        f'<text x="{width / 2}" y="{height - 10}">{html.escape(x)}</text>'
        f'<text x="5" y="20">{html.escape(y)}</text>{points}</svg></body></html>'
    )


def meta_path(path: str | Path) -> Path:
    """The metadata sidecar of a CSV file: ``front.csv`` -> ``front.meta.json``."""
    path = Path(path)
    return path.with_name(path.stem + ".meta.json")


def write_csv(data: pd.DataFrame, path: str | Path, metadata: dict[str, Any]) -> None:
    """A plain CSV (``inf`` written as ``inf``, NaN as empty) and its metadata sidecar.

    ``pd.read_csv(path)`` reads it as it is; the settings go to :func:`meta_path` as JSON.
    """
    Path(path).write_text(data.to_csv(index=False))
    meta_path(path).write_text(json.dumps(metadata, default=str, indent=1))


def read_csv(path: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read :func:`write_csv` output: the data and the sidecar's metadata (``{}`` without one).

    Files of earlier versions, whose first line is ``# {metadata}``, are read too.
    """
    lines = Path(path).read_text().splitlines(keepends=True)
    if lines and lines[0].startswith("# {"):
        return pd.read_csv(StringIO("".join(lines[1:]))), json.loads(lines[0][2:])
    sidecar = meta_path(path)
    metadata = json.loads(sidecar.read_text()) if sidecar.is_file() else {}
    return pd.read_csv(StringIO("".join(lines))), metadata


def write_json(data: pd.DataFrame, path: str | Path, metadata: dict[str, Any]) -> None:
    """JSON ``{metadata, rows}``; infinities as the strings ``"inf"`` / ``"-inf"``."""
    records = data.astype(object).replace([np.inf, -np.inf], ["inf", "-inf"]).to_dict("records")
    content = {"metadata": metadata, "rows": records}
    Path(path).write_text(json.dumps(content, default=str, indent=1))


def read_json(path: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read :func:`write_json` output (``"inf"`` strings become floats again)."""
    content = json.loads(Path(path).read_text())
    data = pd.DataFrame(content["rows"])
    for column in data.columns:
        converted = pd.to_numeric(
            data[column].replace({"inf": np.inf, "-inf": -np.inf}), errors="coerce"
        )
        if converted.notna().sum() == data[column].notna().sum():
            data[column] = converted
    return data, content["metadata"]


def write_parquet(data: pd.DataFrame, path: str | Path, metadata: dict[str, Any]) -> None:
    """Parquet (``inf`` stays a float) with the metadata under the schema key ``accelforge``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(data, preserve_index=False)
    extra = {b"accelforge": json.dumps(metadata, default=str).encode()}
    pq.write_table(table.replace_schema_metadata({**(table.schema.metadata or {}), **extra}), path)


def read_parquet(path: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read :func:`write_parquet` output: the data and the metadata."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    raw = (table.schema.metadata or {}).get(b"accelforge", b"{}")
    return table.to_pandas(), json.loads(raw)


def write_excel(data: pd.DataFrame, path: str | Path, metadata: dict[str, Any]) -> None:
    """An .xlsx workbook: sheet ``front`` (``inf`` as the text ``inf``) and sheet ``metadata``.

    Needs openpyxl; without it the error says how to install it.
    """
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        raise MissingExtraError(
            "Excel export needs openpyxl: pip install openpyxl (CSV, JSON and Parquet need nothing "
            "extra)"
        ) from None
    with pd.ExcelWriter(path) as writer:
        data.astype(object).replace([np.inf, -np.inf], ["inf", "-inf"]).to_excel(
            writer, sheet_name="front", index=False
        )
        pd.DataFrame({"metadata": [json.dumps(metadata, default=str)]}).to_excel(
            writer, sheet_name="metadata", index=False
        )


def read_excel(path: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read :func:`write_excel` output: the data (``inf`` restored) and the metadata."""
    data = pd.read_excel(path, sheet_name="front")
    for column in data.columns:
        converted = pd.to_numeric(
            data[column].replace({"inf": np.inf, "-inf": -np.inf}), errors="coerce"
        )
        if converted.notna().sum() == data[column].notna().sum():
            data[column] = converted
    raw = pd.read_excel(path, sheet_name="metadata")["metadata"][0]
    return data, json.loads(raw)


def write_front(data: pd.DataFrame, folder: str | Path, metadata: dict[str, Any]) -> list[Path]:
    """Write front.csv (with front.meta.json), front.parquet, front.json and pareto.html."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "front.csv", out / "front.parquet", out / "front.json", out / "pareto.html"]
    write_csv(data, written[0], metadata)
    write_parquet(data, written[1], metadata)
    write_json(data, written[2], metadata)
    written[3].write_text(front_html(data))
    return [written[0], meta_path(written[0]), *written[1:]]
