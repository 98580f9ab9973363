"""End to end in a real browser: JupyterLab, driven through Playwright in headless Chromium.

It starts JupyterLab on 127.0.0.1 with a temporary root holding ``02_explorer.ipynb``, opens
it in Debian's Chromium (never a downloaded browser), runs every cell, drags the
``objective_tolerance`` slider, presses Run, waits for the new front, clicks a point, checks
the inspector, downloads the front as CSV and parses it. A screenshot is saved in the test's
temporary folder (its path is printed). Skipped, saying why, when Chromium, Playwright or
JupyterLab is missing.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--enable-unsafe-swiftshader",  # WebGL (the 3-D view, Scattergl clouds) without a GPU
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "02_explorer.ipynb"
TIMEOUT_MS = 180_000


def _require_tools() -> None:
    if not CHROMIUM.exists():
        pytest.skip(
            f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium; "
            ".ci/run installs it)"
        )
    for module in ("playwright", "jupyterlab", "ipywidgets", "anywidget", "plotly"):
        pytest.importorskip(module, reason=f"{module} is not installed (pip install {module})")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """A JupyterLab server on 127.0.0.1 serving a copy of the explorer notebook."""
    _require_tools()
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    port, token = _free_port(), secrets.token_hex(16)
    config = tmp_path / "config"
    config.mkdir()
    settings = {  # no network: no update check, no news feed, no extension manager queries
        "LabApp": {
            "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
            "news_url": None,
            "extension_manager": "readonly",
            "workspaces_dir": str(tmp_path / "workspaces"),
        }
    }
    (config / "jupyter_server_config.json").write_text(json.dumps(settings))
    notification = tmp_path / "settings" / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "IPYTHONDIR": str(tmp_path / "ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
    }
    log = (tmp_path / "jupyterlab.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--allow-root",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=root,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not start:\n" + _tail(tmp_path / "jupyterlab.log"))
                time.sleep(0.5)
        yield url, token, root
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _front_points(status: str) -> int:
    match = re.search(r"front (\d+) points", status)
    return int(match.group(1)) if match else 0


def test_explorer_in_jupyterlab(lab: tuple[str, str, Path], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    url, token, _root = lab
    screenshot = tmp_path / "explorer.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1500, "height": 1100}, accept_downloads=True)
        page.set_default_timeout(TIMEOUT_MS)
        try:
            _drive(page, f"{url}/lab/tree/{NOTEBOOK.name}?token={token}", tmp_path)
        finally:
            page.screenshot(path=str(screenshot))
            print(f"screenshot: {screenshot}")  # noqa: T201 (the artifact's path, for the log)
            browser.close()
    assert screenshot.stat().st_size > 10_000


def _drive(page, address: str, shots: Path) -> None:
    page.goto(address)
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
    page.wait_for_function("() => document.body.innerText.includes('Idle')")  # the kernel started
    page.locator("#jp-MainMenu").get_by_text("Run", exact=True).click()
    page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click()

    # Every cell ran: the last one prints the front size; the explorer shows run 2's front.
    page.get_by_text(re.compile(r"\d+ front points; \d+ pmappings kept")).wait_for()
    status = page.locator(".af-status")
    status.get_by_text(re.compile(r"run 2.*front \d+ points")).wait_for()

    # Drag the objective_tolerance slider to the right; the number box follows.
    row = page.locator(".af-field-objective_tolerance")
    box = row.locator("input[type=text]")
    before = float(box.input_value())
    row.scroll_into_view_if_needed()
    handle = row.locator(".noUi-handle").first
    where = handle.bounding_box()
    assert where is not None
    x, y = where["x"] + where["width"] / 2, where["y"] + where["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 40, y, steps=8)
    page.mouse.up()
    page.wait_for_function(
        "([sel, old]) => parseFloat(document.querySelector(sel).value) > old",
        arg=[".af-field-objective_tolerance input[type=text]", before],
    )
    moved = float(box.input_value())
    page.screenshot(path=str(shots / "explorer-form.png"))

    # Run again and wait for run 3's front.
    run = page.locator("button.af-run")
    run.scroll_into_view_if_needed()
    assert run.is_enabled()
    run.click()
    status.get_by_text(re.compile(r"run 3.*front [1-9]\d* points")).wait_for()
    points = _front_points(status.inner_text())
    assert points >= 1
    page.locator(".af-clouds").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "explorer-clouds.png"))

    # Click the first point of the latest front; the inspector shows its mapping.
    front = page.locator(".af-front")
    front.scroll_into_view_if_needed()
    point = front.locator(".scatterlayer .trace").last.locator("path.point").first
    point.wait_for()
    box_point = point.bounding_box()
    assert box_point is not None
    page.mouse.move(
        box_point["x"] + box_point["width"] / 2, box_point["y"] + box_point["height"] / 2
    )
    page.mouse.click(
        box_point["x"] + box_point["width"] / 2, box_point["y"] + box_point["height"] / 2
    )
    inspector = page.locator(".af-inspector")
    page.screenshot(path=str(shots / "explorer-front.png"))
    inspector.get_by_text(re.compile(r"Inspecting mapping \d+")).wait_for()
    assert "Loop nest" in inspector.locator(".af-loop-nest").inner_text()
    assert "compute Matmul0" in inspector.inner_text()

    # Export the front as CSV: the download parses to the front on screen.
    button = page.locator(".af-download-front-csv button")
    button.scroll_into_view_if_needed()
    with page.expect_download() as download_info:
        button.click()
    download = download_info.value
    assert download.suggested_filename == "front.csv"
    data = pd.read_csv(download.path())  # a plain CSV: any reader opens it
    assert len(data) == points and {"energy", "latency"} <= set(data.columns)
    # ... and its settings come as the sidecar front.meta.json.
    button = page.locator(".af-download-metadata-json button")
    button.scroll_into_view_if_needed()
    with page.expect_download() as download_info:
        button.click()
    assert download_info.value.suggested_filename == "front.meta.json"
    metadata = json.loads(Path(download_info.value.path()).read_text())
    assert metadata["mapper"]["ffm"]["objective_tolerance"] == pytest.approx(moved, abs=1e-9)
    inspector.scroll_into_view_if_needed()
