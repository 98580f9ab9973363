"""The form's state: a two-way binding between form values and the live ``spec.mapper``.

Form to object: :meth:`FormModel.set` assigns to ``spec.mapper.ffm.<field>`` (or
``spec.mapper.metrics``). ``FFM`` validates on assignment, so a bad value raises
:class:`~accelforge.errors.SpecError`; the model keeps that message for the field (the view
shows it beside the control and the explorer disables Run) and the object keeps its last valid
value.

Object to form: pydantic models have no observers, so the binding polls. :meth:`FormModel.sync`
compares the object's current values with the last values it knows and reports the fields that
changed; the explorer calls it from its UI task a few times a second and before every run, and
``FFMForm.refresh()`` calls it on demand. Polling was chosen over wrapping assignments (swapping
``spec.mapper.ffm`` for an observable subclass) because it also sees ``spec.mapper`` or
``spec.mapper.ffm`` being replaced wholesale, and it never changes the user's objects. A poll
reads about twenty attributes, so it costs microseconds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from accelforge.errors import SpecError
from accelforge.frontend.mapper import FFM, Mapper, Metrics
from accelforge.frontend.mapper.fields import FieldMeta

__all__ = ["METRICS", "FormModel"]

METRICS = "metrics"
"""The name under which the form holds ``spec.mapper.metrics``."""

Listener = Callable[[str], None]


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


class FormModel:
    """Values, validation messages and change notifications for an ``FFM`` form.

    Parameters
    ----------
    owner : Spec or Mapper
        The object whose ``mapper`` (for a spec) or itself (for a ``Mapper``) is edited. The
        binding always reads the current ``owner.mapper.ffm``, so replacing it is seen.
    """

    def __init__(self, owner: Any) -> None:
        if not isinstance(owner, Mapper) and not isinstance(getattr(owner, "mapper", None), Mapper):
            raise TypeError(
                f"FormModel needs a Spec or a Mapper. Got {type(owner).__name__} instead."
            )
        self._owner = owner
        self.fields: tuple[FieldMeta, ...] = FFM.field_metadata()
        """The FFM fields shown, in declaration order (from ``FFM.model_fields``)."""
        self._names = {f.name for f in self.fields}
        self._errors: dict[str, str] = {}
        self._listeners: list[Listener] = []
        self._lock = threading.RLock()
        self._known = self.snapshot()

    # --- reading ------------------------------------------------------------------------

    @property
    def mapper(self) -> Mapper:
        """The live ``Mapper`` being edited."""
        return self._owner if isinstance(self._owner, Mapper) else self._owner.mapper

    def field(self, name: str) -> FieldMeta:
        """The field called ``name`` (its core metadata)."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{name!r} is not a field of the form")

    def value(self, name: str) -> Any:
        """The object's current value of ``name`` (``metrics`` or an FFM field)."""
        self._check_name(name)
        if name == METRICS:
            return self.mapper.metrics
        return getattr(self.mapper.ffm, name)

    def snapshot(self) -> dict[str, Any]:
        """Every value the form shows, by name (``metrics`` first)."""
        values: dict[str, Any] = {METRICS: self.mapper.metrics}
        ffm = self.mapper.ffm
        values.update((f.name, getattr(ffm, f.name)) for f in self.fields)
        return values

    def error(self, name: str) -> str | None:
        """The message of the last rejected value of ``name``, or None."""
        return self._errors.get(name)

    @property
    def errors(self) -> dict[str, str]:
        """Messages of the fields whose last entered value was rejected."""
        return dict(self._errors)

    @property
    def valid(self) -> bool:
        """True when no field holds a rejected value (Run may be pressed)."""
        return not self._errors

    # --- writing ------------------------------------------------------------------------

    def set(self, name: str, value: Any) -> str | None:
        """Assign ``value`` to the object; return the error message, or None when accepted."""
        self._check_name(name)
        with self._lock:
            try:
                if name == METRICS:
                    self.mapper.metrics = value
                else:
                    setattr(self.mapper.ffm, name, value)
            except SpecError as err:
                self._errors[name] = str(err)
            else:
                self._errors.pop(name, None)
                self._known[name] = self.value(name)
            message = self._errors.get(name)
        self._notify(name)
        return message

    def reject(self, name: str, message: str) -> None:
        """Record text the form could not read as a value of ``name`` (Run stays disabled)."""
        self._check_name(name)
        with self._lock:
            self._errors[name] = message
        self._notify(name)

    def set_metric(self, member: str, on: bool) -> str | None:
        """Switch one ``Metrics`` member on or off (a toggle button); return why not, or None.

        A refused switch (the last objective turned off) leaves the object's metrics as they
        were and records no error: the toggles show the object again and Run stays possible.
        """
        current = self.value(METRICS)
        flag = Metrics[member]
        message = self.set(METRICS, (current | flag) if on else (current & ~flag))
        if message is not None:
            with self._lock:
                self._errors.pop(METRICS, None)
            self._notify(METRICS)
        return message

    def sync(self) -> list[str]:
        """Pick up changes made to the object directly; return the names that changed.

        A changed field also loses its error: the object's value is valid by construction.
        """
        with self._lock:
            current = self.snapshot()
            changed = [n for n, v in current.items() if not _same(v, self._known.get(n))]
            for name in changed:
                self._known[name] = current[name]
                self._errors.pop(name, None)
        for name in changed:
            self._notify(name)
        return changed

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(name)`` whenever a value or an error of ``name`` changes."""
        self._listeners.append(listener)

    def _notify(self, name: str) -> None:
        for listener in list(self._listeners):
            listener(name)

    def _check_name(self, name: str) -> None:
        if name != METRICS and name not in self._names:
            known = ", ".join([METRICS, *sorted(self._names)])
            raise KeyError(f"{name!r} is not a field of the form. Known: {known}")
