"""The explorer in real use, in JupyterLab and headless Chromium (Playwright).

On a 6-matmul spec with 2 workers: the joined front shows points while the run is still going,
Stop keeps them, the page main thread never blocks 1 s or more during the run, the axes carry
units; after saving and reloading the page the explorer comes back and a new run draws a
front; re-executing the cell leaves one explorer and at most one run going. Skipped, saying
why, where Chromium, Playwright or JupyterLab is missing (as ``test_browser.py``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.widgets.test_browser import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, lab  # noqa: F401

NOTEBOOK = "live.ipynb"
SETUP = """import accelforge as af
from accelforge.widgets import Explorer

data = {"N_EINSUMS": 6, "M": 64, "KN": 64, "GLB_SIZE": 65536, "DRAM_ENERGY": 10,
        "GLB_THROUGHPUT": 1}
spec = af.Spec.from_yaml(af.examples.arches.simple, af.examples.workloads.matmuls,
                         jinja_parse_data=data)
spec.mapper.metrics = af.Metrics.ENERGY | af.Metrics.LATENCY"""
SHOW = "explorer = Explorer(spec, n_workers=2)\nexplorer"
COUNT = """import threading
from accelforge.widgets._explorer import _LIVE
events = [t for t in threading.enumerate() if t.name == "accelforge-explorer-events"]
print("explorers", len([r for r in _LIVE.values() if r() is not None]),
      "runs", sum(t.is_alive() for t in events))"""
LONG_TASKS = """
window.__afLong = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) window.__afLong.push(entry.duration);
}).observe({type: "longtask", buffered: true});
"""


def _notebook() -> str:
    cells = [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": source}
        for source in (SETUP, SHOW, COUNT)
    ]  # fmt: skip
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return json.dumps(
        {"cells": cells, "metadata": {"kernelspec": kernel}, "nbformat": 4, "nbformat_minor": 5}
    )


def test_live_front_stop_reload_and_rerun(lab: tuple[str, str, Path], tmp_path: Path) -> None:  # noqa: F811
    from playwright.sync_api import sync_playwright

    url, token, root = lab
    (root / NOTEBOOK).write_text(_notebook())
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        page.set_default_timeout(TIMEOUT_MS)
        page.add_init_script(LONG_TASKS)
        try:
            _drive(page, f"{url}/lab/tree/{NOTEBOOK}?token={token}")
        finally:
            page.screenshot(path=str(tmp_path / "live.png"))
            print(f"screenshot: {tmp_path / 'live.png'}")  # noqa: T201 (the artifact's path)
            browser.close()


def _points(page) -> int:
    """Points drawn on the joined front's current-run trace."""
    trace = page.locator(".af-front .scatterlayer .trace").last
    return trace.locator("path.point").count()


def _run_all(page) -> None:
    page.locator("#jp-MainMenu").get_by_text("Run", exact=True).click()
    page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click()


def _drive(page, address: str) -> None:
    page.goto(address)
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
    page.wait_for_function("() => document.body.innerText.includes('Idle')")
    _run_all(page)
    page.get_by_text(re.compile(r"explorers 1 runs 0")).wait_for()
    status = page.locator(".af-status")

    # Run: the joined front shows points while the status still says RUNNING.
    page.evaluate("() => { window.__afLong = []; }")
    page.locator("button.af-run").click()
    page.wait_for_function(
        """() => {
            const status = document.querySelector('.af-status')?.innerText || '';
            const traces = document.querySelectorAll('.af-front .scatterlayer .trace');
            const last = traces[traces.length - 1];
            const drawn = last && last.querySelectorAll('path.point').length > 0;
            return status.includes('RUNNING') && drawn;
        }"""
    )
    title = page.locator(".af-front .gtitle").text_content() or ""
    assert "partial" in title, title
    assert "latency (cycles)" in (page.locator(".af-front .xtitle").text_content() or "")
    assert "energy (energy units)" in (page.locator(".af-front .ytitle").text_content() or "")

    # Stop: the run ends CANCELLED and the front drawn stays.
    page.locator("button.af-stop").click()
    status.get_by_text(re.compile(r"CANCELLED.*front [1-9]\d* points")).wait_for()
    assert _points(page) >= 1
    longest = page.evaluate("() => Math.max(0, ...window.__afLong)")
    assert longest < 1000, f"the page's main thread blocked {longest:.0f} ms during the run"

    # Save, reload: the explorer comes back, and Run draws a front again.
    page.keyboard.press("Control+s")
    page.wait_for_function("() => !document.querySelector('.jp-mod-dirty')")
    page.reload()
    page.wait_for_selector("button.af-run")
    page.wait_for_function("() => document.body.innerText.includes('Idle')")
    page.locator("button.af-run").click()
    page.wait_for_function(
        """() => {
            const traces = document.querySelectorAll('.af-front .scatterlayer .trace');
            const last = traces[traces.length - 1];
            return last && last.querySelectorAll('path.point').length > 0;
        }"""
    )
    page.locator("button.af-stop").click()
    status.get_by_text(re.compile(r"run 2 .*CANCELLED")).wait_for()

    # Re-execute the explorer cell, then count: one explorer, no run left going.
    page.locator(".jp-Cell").nth(1).click()
    page.keyboard.press("Shift+Enter")
    page.get_by_text(re.compile(r"explorers \d+ runs \d+")).wait_for()
    page.locator(".jp-Cell").nth(2).click()
    page.keyboard.press("Shift+Enter")
    page.get_by_text("explorers 1 runs 0").wait_for()
    assert page.locator("button.af-run").count() == 1
