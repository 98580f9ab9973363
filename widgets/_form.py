"""``FFMForm``: the mapper settings as widgets, generated from ``FFM.model_fields``.

A thin view over :class:`~accelforge.widgets._form_model.FormModel`: each control's change
calls ``model.set(name, value)``; each model notification redraws that field's row (value, or
the rejected value's message in red beside it). The object-to-form direction is the model's
polling (:meth:`FFMForm.refresh`; with ``watch=True`` the form polls twice a second by itself).
Every row has the CSS class ``af-field-<name>`` so tests and styles can find it.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
from accelforge.widgets._fields import (
    format_number,
    metric_options,
    parse_number,
    plain_text,
    slider_range,
)
from accelforge.widgets._form_model import METRICS, FormModel
from accelforge.widgets._ticker import Ticker

from accelforge.frontend.mapper import Metrics
from accelforge.frontend.mapper.fields import FieldKind, FieldMeta, is_unlimited

__all__ = ["FFMForm"]

_SECTIONS: dict[FieldKind, str] = {
    "fraction": "Tolerances",
    "bool": "Mapspace switches",
    "int": "Mapspace limits",
    "limit": "Mapspace limits",
    "number": "Run limits",
    "text": "Other settings",
}
_LABEL = widgets.Layout(width="24em", min_width="24em")
_NUMERIC: tuple[FieldKind, ...] = ("int", "limit", "number", "fraction")
"""Kinds typed into a text box and read by :func:`parse_number`."""


def _message_html(message: str | None, *, note: bool = False) -> str:
    if not message:
        return ""
    colour = "#555" if note else "#b00020"
    return f'<span style="color:{colour}">{html.escape(message)}</span>'


class _Row:
    """The controls of one field and their wiring to the model."""

    def __init__(self, field: FieldMeta, model: FormModel) -> None:
        self.field, self.model = field, model
        self._quiet = False
        tip = plain_text(field.description)
        label = f"{field.label} ({field.unit})" if field.unit else field.label
        self.label = widgets.HTML(
            f'<span title="{html.escape(tip)}">{html.escape(label)}</span>', layout=_LABEL
        )
        self.message = widgets.HTML("")
        self.message.add_class("af-error")
        self.box: Any = None
        self.slider: widgets.FloatSlider | None = None
        self.unlimited: widgets.Checkbox | None = None
        controls = self._controls(field.kind, tip)
        self.widget = widgets.HBox([self.label, *controls, self.message])
        self.widget.add_class(f"af-field-{field.name}")
        self.show(model.value(field.name))

    def _controls(self, kind: FieldKind, tip: str) -> list[widgets.Widget]:
        narrow = widgets.Layout(width="9em")
        if kind == "bool":
            self.box = widgets.Checkbox(indent=False, tooltip=tip)
        elif kind in _NUMERIC:  # read by parse_number: "2.5" in a whole-number box is refused
            self.box = widgets.Text(tooltip=tip, layout=narrow, continuous_update=False)
        else:
            self.box = widgets.Text(tooltip=tip, layout=narrow)
        if self.field.allows_unlimited:  # the finite value offered when "unlimited" is unticked
            low = self.field.minimum or 0
            self.box.value = format_number(low if self.field.min_inclusive else low + 1)
        self.box.observe(self._box_changed, "value")  # after setting it: no write-back here
        controls: list[widgets.Widget] = [self.box]
        if kind == "fraction":
            low, high, step = slider_range(self.field)
            self.slider = widgets.FloatSlider(
                min=low, max=high, step=step, readout=False, continuous_update=False, tooltip=tip
            )
            self.slider.observe(self._slider_changed, "value")
            controls.insert(0, self.slider)
        if self.field.allows_unlimited:
            self.unlimited = widgets.Checkbox(description="unlimited", indent=False, tooltip=tip)
            self.unlimited.layout.width = "8em"
            self.unlimited.observe(self._unlimited_changed, "value")
            controls.append(self.unlimited)
        return controls

    # --- view -> model ------------------------------------------------------------------

    def _box_changed(self, change: dict[str, Any]) -> None:
        if not self._quiet:
            self._set_from_box(change["new"])

    def _set_from_box(self, value: Any) -> None:
        if self.field.kind not in _NUMERIC:
            self.model.set(self.field.name, value)
            return
        number, error = parse_number(value, self.field)
        if error is not None:
            self.model.reject(self.field.name, error)
        else:
            self.model.set(self.field.name, number)

    def _slider_changed(self, change: dict[str, Any]) -> None:
        if not self._quiet:  # the box is authoritative; it sets the model
            self.box.value = format_number(change["new"])

    def _unlimited_changed(self, change: dict[str, Any]) -> None:
        if self._quiet:
            return
        self.box.disabled = change["new"]
        if change["new"]:
            self.model.set(self.field.name, float("inf"))
        else:
            self._set_from_box(self.box.value)

    # --- model -> view ------------------------------------------------------------------

    def show(self, value: Any) -> None:
        """Display the object's ``value`` (an expression is shown as a note)."""
        self._quiet = True
        try:
            if isinstance(value, str) and self.field.kind != "text":
                self.message.value = _message_html(
                    f"expression {str(value)!r}, evaluated when the mapper runs", note=True
                )
                return
            self.message.value = ""
            if self.unlimited is not None:
                unlimited = is_unlimited(value)
                self.unlimited.value = unlimited
                self.box.disabled = unlimited
                if unlimited:
                    return
            self.box.value = format_number(value) if self.field.kind in _NUMERIC else value
            if self.slider is not None:
                self.slider.value = min(max(float(value), self.slider.min), self.slider.max)
        finally:
            self._quiet = False

    def show_error(self, message: str | None) -> None:
        """Display the rejected value's message beside the controls (None clears it)."""
        self.message.value = _message_html(message)


class FFMForm(widgets.VBox):
    """The ``FFM`` knobs and the ``Metrics`` toggles, two-way bound to ``spec.mapper``.

    Parameters
    ----------
    target : Spec, Mapper or ExplorerController
        What to edit (a controller's form model is shared with its explorer).
    watch : bool
        Poll the object twice a second, so direct edits (``spec.mapper.ffm.x = ...``) show up.
    """

    def __init__(self, target: Any, *, watch: bool = True, **kwargs: Any) -> None:
        form = getattr(target, "form", None)
        self.model: FormModel = form if isinstance(form, FormModel) else FormModel(target)
        self.rows = {f.name: _Row(f, self.model) for f in self.model.fields}
        """The row of each field, by name."""
        self.metric_buttons = {
            option.name: widgets.ToggleButton(
                description=option.name.lower().replace("_", " "),
                tooltip=plain_text(option.description),
                layout=widgets.Layout(width="auto", flex="0 0 auto"),
            )
            for option in metric_options()
        }
        for name, button in self.metric_buttons.items():
            button.observe(lambda change, n=name: self._metric_changed(n, change), "value")
        self.metrics_message = widgets.HTML("")
        self.metrics_message.add_class("af-error")
        self._quiet = False
        self._show_metrics()
        metrics_row = widgets.HBox(
            [widgets.HTML("<b>Objectives</b>", layout=_LABEL), *self.metric_buttons.values()],
            layout=widgets.Layout(flex_flow="row wrap"),
        )
        metrics_row.add_class("af-field-metrics")
        children: list[widgets.Widget] = [metrics_row, self.metrics_message]
        for section in dict.fromkeys(_SECTIONS.values()):
            rows = [r.widget for r in self.rows.values() if _SECTIONS[r.field.kind] == section]
            if rows:
                children += [widgets.HTML(f"<b>{section}</b>"), *rows]
        super().__init__(children, **kwargs)
        self.add_class("af-ffm-form")
        self.model.subscribe(self._model_changed)
        self.ticker = Ticker(self.model.sync, 0.5)
        if watch:
            self.ticker.start()

    @property
    def valid(self) -> bool:
        """True when every field holds an accepted value."""
        return self.model.valid

    def refresh(self) -> list[str]:
        """Pick up direct edits of ``spec.mapper``; return the names that changed."""
        return self.model.sync()

    def close(self) -> None:
        """Stop polling and close the widgets."""
        self.ticker.stop()
        super().close()

    def _metric_changed(self, name: str, change: dict[str, Any]) -> None:
        if not self._quiet:  # a refused switch is undone on the toggles, with the reason
            refused = self.model.set_metric(name, bool(change["new"]))
            self.metrics_message.value = _message_html(refused)

    def _show_metrics(self) -> None:
        current = self.model.value(METRICS)
        self._quiet = True
        try:
            for name, button in self.metric_buttons.items():
                button.value = bool(current & Metrics[name])
        finally:
            self._quiet = False

    def _model_changed(self, name: str) -> None:
        error = self.model.error(name)
        if name == METRICS:
            self.metrics_message.value = _message_html(error)
            if error is None:
                self._show_metrics()
            return
        row = self.rows[name]
        if error is not None:
            row.show_error(error)
        else:
            row.show(self.model.value(name))
