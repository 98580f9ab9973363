"""Export bytes: the same formats as ``accelforge.export``, figures as HTML and PNG."""

from __future__ import annotations

import importlib.util
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from accelforge.widgets import _serialize
from accelforge.widgets._serialize import (
    figure_bytes,
    metadata_bytes,
    read_table,
    table_bytes,
    table_formats,
)

from accelforge import export
from accelforge.errors import MissingExtraError
from tests.widgets.fakes import front_frame

META = {"mapper": {"ffm": {"time_limit": math.inf}}, "run": "run 1"}


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_bytes_equal_the_files_of_accelforge_export(fmt, tmp_path: Path) -> None:
    path = tmp_path / f"front.{fmt}"
    getattr(export, f"write_{fmt}")(front_frame(), path, META)
    assert table_bytes(front_frame(), fmt, META) == path.read_bytes()


@pytest.mark.parametrize("fmt", table_formats())
def test_round_trip_keeps_inf_and_metadata(fmt) -> None:
    sidecar = metadata_bytes(META) if fmt == "csv" else None
    data, metadata = read_table(table_bytes(front_frame(), fmt, META), fmt, sidecar)
    pd.testing.assert_frame_equal(data, front_frame(), check_dtype=False)
    assert math.isinf(data["spare capacity"].iloc[0])
    assert metadata["run"] == "run 1"


def test_csv_export_is_plain_and_its_settings_go_to_a_sidecar(tmp_path: Path) -> None:
    content = table_bytes(front_frame(), "csv", META)
    (tmp_path / "front.csv").write_bytes(content)
    plain = pd.read_csv(tmp_path / "front.csv")  # any CSV reader, no options
    pd.testing.assert_frame_equal(plain, front_frame(), check_dtype=False)
    assert math.isinf(plain["spare capacity"].iloc[0])
    export.write_csv(front_frame(), tmp_path / "written.csv", META)
    assert (tmp_path / "written.meta.json").read_bytes() == metadata_bytes(META)
    data, metadata = export.read_csv(tmp_path / "written.csv")
    assert math.isinf(metadata["mapper"]["ffm"]["time_limit"]) and metadata["run"] == "run 1"
    pd.testing.assert_frame_equal(data, front_frame(), check_dtype=False)
    legacy = tmp_path / "legacy.csv"  # files of earlier versions: a first "# {...}" line
    legacy.write_text('# {"run": "old"}\n' + front_frame().to_csv(index=False))
    assert export.read_csv(legacy)[1] == {"run": "old"}


def test_excel_needs_openpyxl(monkeypatch) -> None:
    monkeypatch.setattr(_serialize, "table_formats", lambda: ("csv", "parquet", "json"))
    with pytest.raises(MissingExtraError, match="pip install openpyxl"):
        table_bytes(front_frame(), "xlsx", META)


def test_unknown_formats_are_refused() -> None:
    with pytest.raises(ValueError, match="Allowed: csv, parquet, xlsx, json"):
        table_bytes(front_frame(), "xml", META)
    with pytest.raises(ValueError, match="Allowed: csv"):
        read_table(b"", "xml")
    with pytest.raises(ValueError, match="Allowed: html, png"):
        figure_bytes(object(), "svg")


def _figure():
    go = pytest.importorskip("plotly.graph_objects", reason="plotly is not installed")
    return go.Figure(go.Scatter(x=[1, 2, 3], y=[3, 1, 2]))


def test_html_export_is_a_self_contained_page() -> None:
    page = figure_bytes(_figure(), "html").decode()
    assert page.lstrip().lower().startswith("<!doctype html>") and "Plotly.newPlot" in page
    assert "cdn.plot.ly" not in page[:2000] and len(page) > 1_000_000  # plotly.js is inlined


def test_png_without_kaleido_names_the_fix(monkeypatch) -> None:
    figure = _figure()
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "kaleido" else real(name, *a)
    )
    with pytest.raises(MissingExtraError, match="pip install kaleido.*apt-get install chromium"):
        figure_bytes(figure, "png")
    with pytest.raises(MissingExtraError, match="camera icon on each plot's toolbar"):
        figure_bytes(figure, "png")


def test_png_when_kaleido_cannot_start_a_browser_names_the_fix(monkeypatch) -> None:
    pytest.importorskip("kaleido", reason="kaleido is not installed")
    figure = _figure()

    def no_browser(**_kwargs):
        raise RuntimeError("Could not find a Chrome executable")

    monkeypatch.setattr(figure, "to_image", no_browser)
    with pytest.raises(MissingExtraError, match="BROWSER_PATH.*Could not find a Chrome"):
        figure_bytes(figure, "png")


def test_png_with_kaleido_and_the_system_chromium() -> None:
    pytest.importorskip("kaleido", reason="kaleido is not installed (PNG export is optional)")
    if shutil.which("chromium") is None:
        pytest.skip("no Chromium on PATH for kaleido (apt-get install chromium)")
    png = figure_bytes(_figure(), "png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
