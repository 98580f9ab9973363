"""``Explorer``: the live mapper UI, a thin view over :class:`ExplorerController`.

Layout, top to bottom: the mapper settings (``FFMForm``), Run / Stop with a progress bar and a
status line, the per-Einsum pmapping clouds, the joined front with its axis selectors, the
inspector of the clicked point, and the export buttons. One :class:`Ticker` (the UI task, four
times a second on the kernel's loop) polls the form's object, takes the controller's throttled
:class:`Update` and redraws each figure in one batch. Widgets carry ``af-*`` CSS classes for
tests and styling.
"""

from __future__ import annotations

import functools
import html
import weakref
from typing import Any

import ipywidgets as widgets
from accelforge.widgets._controller import ExplorerController
from accelforge.widgets._download import DownloadButton
from accelforge.widgets._form import FFMForm
from accelforge.widgets._inspector import Inspector
from accelforge.widgets._plots import CloudsView, Front3DView, FrontView
from accelforge.widgets._serialize import FIGURE_FORMATS, TABLE_FORMATS, table_formats
from accelforge.widgets._slots import close_tree
from accelforge.widgets._ticker import Ticker
from accelforge.widgets._types import Starter

from accelforge import columns as col
from accelforge.errors import SpecError

__all__ = ["Explorer"]

_NO_COLOUR = "(none)"


def _classed(widget: Any, name: str) -> Any:
    widget.add_class(name)
    return widget


_BAR_STYLES = {
    "OK": "success",
    "CANCELLED": "warning",
    "TIME_LIMIT": "warning",
    "MEMORY_LIMIT": "warning",
    "PARTIAL": "warning",
    "NO_MAPPING": "danger",
    "WORKER_FAILED": "danger",
    "ERROR": "danger",
}
"""Progress-bar style by run status (``info`` while running)."""
_STATUS_COLOURS = {
    "CANCELLED": "#b26a00",
    "TIME_LIMIT": "#b26a00",
    "MEMORY_LIMIT": "#b26a00",
    "PARTIAL": "#b26a00",
    "NO_MAPPING": "#b00020",
    "WORKER_FAILED": "#b00020",
    "ERROR": "#b00020",
}
"""Status text colour by run status (amber: stopped early, red: failed)."""


_LIVE: dict[str, weakref.ref[Explorer]] = {}
"""The explorer shown by each notebook cell (or by the kernel, outside a cell)."""


def _cell_key() -> str:
    """The notebook cell being executed (JupyterLab sends its id), else ``"kernel"``."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
        header = shell.get_parent() if shell is not None and hasattr(shell, "get_parent") else {}
    except Exception:  # noqa: BLE001 - no kernel, or an old one: one explorer per process
        header = {}
    cell = (header or {}).get("metadata", {}).get("cellId")
    return f"cell:{cell}" if cell else "kernel"


def _why_no_run(controller: ExplorerController) -> str:
    """The reason shown beside a disabled Run button (empty when Run may be pressed)."""
    if controller.running:
        return "<small>a run is going: Stop it to start another</small>"
    errors = controller.form.errors
    if not errors:
        return ""
    name, message = next(iter(errors.items()))
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    text = html.escape(f"fix {name} to run{more}: {message}")
    return f'<small style="color:#b00020">{text}</small>'


class Explorer(widgets.VBox):
    """Map ``spec`` live: edit the knobs, Run, watch the fronts, click a point, export.

    Parameters
    ----------
    spec : Spec
        The spec to map; the form edits ``spec.mapper`` in place.
    n_workers : int, optional
        Worker processes of the default run (1: in this process). Default: one per CPU.
    starter : callable, optional
        ``starter(spec) -> run handle`` instead of :func:`accelforge.mapper.start`.
    interval : float
        Seconds between ticks of the UI task (redraws are at most ``1 / interval`` a second).
    """

    def __init__(
        self,
        spec: Any,
        *,
        n_workers: int | None = None,
        starter: Starter | None = None,
        interval: float = 0.25,
        **kwargs: Any,
    ) -> None:
        self.controller = ExplorerController(
            spec, starter=starter, n_workers=n_workers, redraws_per_second=1.0 / interval
        )
        """All state and logic; the widgets below only show it."""
        c = self.controller
        self.form = FFMForm(c, watch=False)
        self.run_button = _classed(widgets.Button(description="Run", icon="play"), "af-run")
        self.run_button.button_style = "primary"
        self.stop_button = _classed(widgets.Button(description="Stop", icon="stop"), "af-stop")
        self.progress_bar = _classed(widgets.FloatProgress(min=0, max=100), "af-progress")
        self.status = _classed(widgets.HTML(), "af-status")
        self.run_reason = _classed(widgets.HTML(), "af-run-reason")
        """Why Run is disabled (empty when it is not)."""
        self.clouds = CloudsView()
        self.clouds.container.add_class("af-clouds")
        self.front = FrontView(self.inspect)
        self.axis_x = widgets.Dropdown(description="x axis", options=[col.LATENCY])
        self.axis_y = widgets.Dropdown(description="y axis", options=[col.ENERGY])
        self.axis_colour = widgets.Dropdown(description="colour", options=[_NO_COLOUR])
        self.axis_z = widgets.Dropdown(description="3-D: z axis", options=[_NO_COLOUR])
        """A third column shows the front in 3-D as well (a resource run's view)."""
        self.front3d = Front3DView(self.inspect)
        self.front3d_box = _classed(widgets.Box(), "af-front3d")
        """Holds the 3-D figure while a z axis is chosen (empty otherwise)."""
        for dropdown in (self.axis_x, self.axis_y, self.axis_colour, self.axis_z):
            dropdown.observe(self._axes_changed, "value")
        self.inspector = Inspector()
        self.downloads = self._download_buttons()
        self.redraws = 0
        """Ticks that redrew something (bounded by time, not by the number of events)."""
        self._quiet = False
        self.run_button.on_click(lambda _: self.run())
        self.stop_button.on_click(lambda _: self.stop())
        c.form.subscribe(lambda _name: self._sync_buttons())
        front_box = widgets.VBox(
            [
                widgets.HBox([self.axis_x, self.axis_y, self.axis_colour, self.axis_z]),
                self.front.slot.box,
                self.front3d_box,
            ]
        )
        super().__init__(
            [
                widgets.HTML("<h3>Mapper settings</h3>"),
                self.form,
                widgets.HBox(
                    [self.run_button, self.stop_button, self.progress_bar, self.run_reason]
                ),
                self.status,
                self.clouds.container,
                _classed(front_box, "af-front"),
                self.inspector,
                widgets.HTML("<b>Export</b>"),
                _classed(
                    widgets.HBox(
                        list(self.downloads.values()),
                        layout=widgets.Layout(flex_flow="row wrap"),
                    ),
                    "af-exports",
                ),
            ],
            **kwargs,
        )
        self.add_class("af-explorer")
        self.ticker = Ticker(self.tick, interval)
        self._closed = False
        self._key = _cell_key()
        previous = _LIVE.get(self._key)
        if previous is not None and previous() is not None:
            previous().close()  # re-executing a cell: its old explorer stops, run included
        _LIVE[self._key] = weakref.ref(self)
        self.tick(force=True)
        self.ticker.start()

    # --- actions -------------------------------------------------------------------------

    def run(self, *, wait: bool = False, timeout: float | None = None) -> None:
        """Start a run (as the Run button does); with ``wait``, block and draw the result."""
        try:
            self.controller.run()
            self.inspector.mark_stale()
        except (RuntimeError, SpecError) as err:
            self._show_status(str(err), error=True)
            return
        finally:
            self._sync_buttons()
        if wait:
            self.wait(timeout)

    def stop(self) -> None:
        """Stop the run (as the Stop button does); what was found is kept."""
        self.controller.cancel()
        self._sync_buttons()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run's events are consumed, then draw everything; False on timeout."""
        done = self.controller.wait(timeout)
        self.tick(force=True)
        return done

    def inspect(self, index: int) -> None:
        """Show front point ``index`` in the inspector (as a click on it does); highlight it."""
        try:
            self.inspector.show(self.controller.select(index), self.controller.units)
        except IndexError as err:
            self.inspector.show_error(str(err))
            return
        self.front.highlight(index)

    def snapshot(self, which: str = "front") -> Any:
        """A static copy of the ``front`` (or ``clouds``) figure, as it is drawn now.

        Displayed in a notebook it is an ordinary Plotly figure: saved notebooks keep it (with
        a PNG when kaleido is there, see notebooks/build.py), so GitHub and nbviewer show it.
        """
        return self.controller.figure(which)

    def close(self) -> None:
        """Stop the UI task, cancel a run still going, and close the widgets (idempotent).

        Displaying a new explorer from the same notebook cell (or, outside a cell, anywhere in
        the kernel) closes the previous one this way.
        """
        if getattr(self, "_closed", True):
            return
        self._closed = True
        self.ticker.stop()
        if self.controller.running:
            self.controller.cancel()
        if _LIVE.get(self._key) is not None and _LIVE[self._key]() is self:
            del _LIVE[self._key]
        for slot in (self.clouds.slot, self.front.slot, self.front3d.slot, self.inspector.slot):
            slot.close()  # figures leave the kernel's widget state (and page reloads)
        close_tree(self)
        super().close()

    # --- the UI task ------------------------------------------------------------------

    def tick(self, *, force: bool = False) -> None:
        """One round of the UI task: poll the form's object, redraw what changed.

        While a run goes on, the progress bar and status (elapsed time, ETA) advance on every
        tick, also between events.
        """
        self.form.refresh()
        update = self.controller.take_update(force=force)
        self._sync_buttons()
        if update is None:
            if self.controller.running:
                run = self.controller.current
                self._show_progress(self.controller.progress, run.label if run else "")
            return
        self.redraws += 1
        self._show_progress(update.progress, update.label)
        self.clouds.apply(update)
        if update.front is not None:
            self._update_axis_options()
        self.front.apply(update)
        self.front3d.apply(update)

    def _show_progress(self, progress: Any, label: str) -> None:
        """The progress bar and the status line for ``progress`` of run ``label``."""
        status = progress.status
        self.progress_bar.value = progress.percent
        self.progress_bar.bar_style = _BAR_STYLES.get(status, "info")
        text = progress.text()
        self._show_status(
            f"{label} \u00b7 {text}" if label else text,
            message=progress.message,
            colour=_STATUS_COLOURS.get(status),
        )

    def _sync_buttons(self) -> None:
        c = self.controller
        self.run_button.disabled = not c.can_run
        self.stop_button.disabled = not c.running
        for button in self.downloads.values():
            button.disabled = c.running
        self.run_reason.value = _why_no_run(c)

    def _show_status(
        self,
        text: str,
        *,
        message: str | None = None,
        error: bool = False,
        colour: str | None = None,
    ) -> None:
        colour = "#b00020" if error else colour or "inherit"
        extra = f"<br><small>{html.escape(message)}</small>" if message else ""
        self.status.value = f'<span style="color:{colour}">{html.escape(text)}</span>{extra}'

    def _update_axis_options(self) -> None:
        options = self.controller.axis_options()
        x, y, colour = self.controller.axes
        run = self.controller.current
        einsums = run.einsums if run is not None else ()
        self._quiet = True
        try:
            self.axis_x.options, self.axis_x.value = options, x if x in options else options[0]
            self.axis_y.options, self.axis_y.value = options, y if y in options else options[-1]
            colours = [_NO_COLOUR, *[o for o in options if col.is_total_usage(o, einsums)]]
            self.axis_colour.options = colours
            self.axis_colour.value = colour if colour in colours else _NO_COLOUR
            self.axis_z.options = [_NO_COLOUR, *options]
            z = self.controller.z
            self.axis_z.value = z if z in options else _NO_COLOUR
        finally:
            self._quiet = False

    def _axes_changed(self, _change: Any) -> None:
        if self._quiet:
            return
        colour = self.axis_colour.value
        self.controller.set_axes(
            self.axis_x.value, self.axis_y.value, None if colour == _NO_COLOUR else colour
        )
        z = None if self.axis_z.value == _NO_COLOUR else self.axis_z.value
        self.controller.set_z(z)
        self.front3d_box.children = (self.front3d.slot.box,) if z is not None else ()

    def _download_buttons(self) -> dict[str, DownloadButton]:
        c = self.controller
        buttons: dict[str, DownloadButton] = {}
        for fmt in table_formats():
            for what, producer in (("front", c.export_front), ("pmappings", c.export_pmappings)):
                buttons[f"{what}-{fmt}"] = DownloadButton(
                    f"{what} {fmt.upper()}",
                    f"{what}.{fmt}",
                    TABLE_FORMATS[fmt],
                    functools.partial(producer, fmt),
                )
        for fmt, mime in FIGURE_FORMATS.items():
            buttons[f"figure-{fmt}"] = DownloadButton(
                f"figure {fmt.upper()}",
                f"front.{fmt}",
                mime,
                functools.partial(c.export_figure, fmt),
            )
        buttons["metadata-json"] = DownloadButton(
            "settings JSON (CSV sidecar)", "front.meta.json", "application/json", c.export_metadata
        )
        buttons["mapping-yaml"] = DownloadButton(
            "selected mapping YAML", "mapping.yaml", "application/x-yaml", c.selected_yaml
        )
        for key, button in buttons.items():
            button.add_class(f"af-download-{key}")
        return buttons
