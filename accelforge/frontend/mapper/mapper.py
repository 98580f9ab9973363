"""The ``mapper`` section of a spec: :class:`Mapper` (``spec.mapper``).

It holds the objectives (``metrics``), the reported metrics (``info_metrics``) and the knobs
of the Fast and Fusiest mapper (``ffm``, an :class:`~accelforge.frontend.mapper.ffm.FFM`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import Field, field_validator

from accelforge.errors import SpecError, did_you_mean, format_loc, location_context
from accelforge.frontend._literals import parse_literal
from accelforge.frontend.mapper.config_model import CONFIG, ConfigModel
from accelforge.frontend.mapper.ffm import FFM, Expression
from accelforge.frontend.mapper.metrics import Metrics, MetricsField

__all__ = ["Mapper"]

_METRIC_KEYS = ("metrics", "info_metrics")


def _comparable(value: Any) -> Any:
    """The value used to decide whether two spellings of one setting agree."""
    if isinstance(value, str) and not isinstance(value, Expression):
        is_literal, literal = parse_literal(value)
        return literal if is_literal else value.strip()
    if isinstance(value, Expression):
        return str(value).strip()
    return value


class Mapper(ConfigModel):
    """Settings of the mapper (the ``mapper:`` section of a spec, ``spec.mapper``).

    Three YAML layouts load into the same object (see :meth:`from_section`)::

        mapper: {metrics: ..., ffm: {objective_tolerance: 0.05}}   # this project
        mapper: {ffm: {metrics: ..., objective_tolerance: 0.05}}   # AccelForge 1.0.467
        mapper: {metrics: ..., objective_tolerance: 0.05}          # later AccelForge

    Python code sets ``spec.mapper.metrics`` and ``spec.mapper.ffm.<knob>``, or the knob
    directly (``spec.mapper.<knob>``, as in AccelForge, where this section is the FFM
    configuration): both names reach the same value.
    """

    model_config = CONFIG
    _LOC: ClassVar[tuple[str, ...]] = ("mapper",)

    metrics: MetricsField = Metrics.ENERGY
    """The objectives the mapper optimises: it returns the mappings that are Pareto-optimal
    over these metrics. Combine members with ``|`` (``Metrics.ENERGY | Metrics.LATENCY``); in
    YAML give a name, ``ENERGY | LATENCY``, a list of names or an integer. At least one member
    must be an optimisation objective (``ACTIONS`` and ``DETAILED_MEMORY_USAGE`` are
    information only)."""

    info_metrics: MetricsField = Metrics.all_metrics()
    """The metrics reported in the detailed evaluation of the final mappings (the columns of
    the result). No effect on the search. Default: every metric."""

    ffm: FFM = Field(default_factory=FFM)
    """The knobs of the Fast and Fusiest mapper: mapspace limits, run limits and
    tolerances."""

    def __getattr__(self, name: str) -> Any:
        """``spec.mapper.<knob>`` reads ``spec.mapper.ffm.<knob>``."""
        if name in FFM.model_fields:
            return getattr(self.ffm, name)
        return super().__getattr__(name)  # type: ignore[misc]

    def __setattr__(self, name: str, value: Any) -> None:
        """``spec.mapper.<knob> = v`` sets ``spec.mapper.ffm.<knob>`` (validated there)."""
        if name in FFM.model_fields and name not in type(self).model_fields:
            setattr(self.ffm, name, value)
            return
        super().__setattr__(name, value)

    @field_validator("metrics", mode="after")
    @classmethod
    def _needs_an_objective(cls, value: Metrics) -> Metrics:
        if not value.objectives():
            raise SpecError(
                "must include at least one optimisation metric (LATENCY, ENERGY, "
                "DYNAMIC_ENERGY, LEAK_ENERGY, RESOURCE_USAGE or ENERGY_DELAY_PRODUCT); "
                "ACTIONS and DETAILED_MEMORY_USAGE are not optimisation metrics.",
                value=" | ".join(value.names()) or "no metric",
            )
        return value

    @classmethod
    def from_section(cls, data: Mapping[str, Any] | None) -> Mapper:
        """Build a :class:`Mapper` from a spec's ``mapper:`` section, in any of its layouts.

        1. ``{metrics: ..., info_metrics: ..., ffm: {<knob>: ...}}``;
        2. ``{ffm: {metrics: ..., info_metrics: ..., <knob>: ...}}`` (AccelForge 1.0.467);
        3. ``{metrics: ..., <knob>: ...}`` (knobs directly under ``mapper``).

        Layouts may be mixed. ``None`` (an empty section) gives the defaults.

        Raises
        ------
        SpecError
            For an unknown key (with the closest valid name), a bad value, or a setting given
            twice with different values (naming both).
        """
        return cls.model_validate(data)

    def to_section(self) -> dict[str, Any]:
        """The configuration as plain YAML-able data, in layout 1 (every knob, inf as inf)."""
        ffm: dict[str, Any] = {}
        for name in FFM.model_fields:
            value = getattr(self.ffm, name)
            ffm[name] = str(value) if isinstance(value, Expression) else value
        return {
            "metrics": self.metrics.names(),
            "info_metrics": self.info_metrics.names(),
            "ffm": ffm,
        }

    @classmethod
    def _prepare_input(cls, data: Any) -> Any:
        """Merge the three layouts into ``{metrics, info_metrics, ffm}``."""
        if data is None:
            return {}
        if not isinstance(data, Mapping):
            raise SpecError(
                "must be a mapping of mapper settings (metrics, info_metrics, ffm).",
                loc=cls._LOC,
                value=data,
            )
        settings: dict[str, tuple[Any, tuple[str, ...]]] = {}
        for key, value in data.items():
            if key != "ffm":
                cls._add_setting(settings, key, value, (*cls._LOC, str(key)))
        raw_ffm = data.get("ffm")
        instance = raw_ffm if isinstance(raw_ffm, FFM) else None
        items: Mapping[Any, Any]
        if instance is not None:
            items = {name: getattr(instance, name) for name in instance.model_fields_set}
        elif raw_ffm is None:
            items = {}
        elif isinstance(raw_ffm, Mapping):
            items = raw_ffm
        else:
            raise SpecError(
                "must be a mapping of FFM settings.", loc=(*cls._LOC, "ffm"), value=raw_ffm
            )
        for key, value in items.items():
            cls._add_setting(settings, key, value, (*cls._LOC, "ffm", str(key)))

        result: dict[str, Any] = {key: settings[key][0] for key in _METRIC_KEYS if key in settings}
        knobs = {key: value for key, (value, _) in settings.items() if key in FFM.model_fields}
        given_outside = [key for key in knobs if settings[key][1][: len(FFM._LOC)] != FFM._LOC]
        if instance is not None and not given_outside:
            result["ffm"] = instance
        elif knobs or "ffm" in data:
            result["ffm"] = cls._build_ffm(knobs, settings)
        return result

    @classmethod
    def _add_setting(
        cls,
        settings: dict[str, tuple[Any, tuple[str, ...]]],
        key: Any,
        value: Any,
        loc: tuple[str, ...],
    ) -> None:
        inside_ffm = loc[: len(FFM._LOC)] == FFM._LOC
        if key not in _METRIC_KEYS and key not in FFM.model_fields:
            candidates = [*_METRIC_KEYS, *FFM.model_fields]
            if not inside_ffm:
                candidates.append("ffm")
            where = "an FFM setting" if inside_ffm else "a mapper setting"
            raise SpecError(
                f"'{key}' is not {where}.{did_you_mean(str(key), candidates)}",
                loc=loc,
                allowed=", ".join(sorted(candidates)),
            )
        if key in _METRIC_KEYS:
            with location_context(loc_prefix=loc):
                value = Metrics.parse(value)
        if key in settings:
            first, first_loc = settings[key]
            if _comparable(first) != _comparable(value):
                raise SpecError(
                    f"'{key}' is given twice with different values: {_shown(first)} at "
                    f"{format_loc(first_loc)} and {_shown(value)} at {format_loc(loc)}. "
                    "Give it once.",
                    loc=loc,
                )
            return
        settings[key] = (value, loc)

    @classmethod
    def _build_ffm(
        cls, knobs: dict[str, Any], settings: dict[str, tuple[Any, tuple[str, ...]]]
    ) -> FFM:
        try:
            return FFM(**knobs)
        except SpecError as err:
            # A knob given directly under `mapper:` is reported at the path where it was written.
            prefix = FFM._LOC
            if len(err.loc) > len(prefix) and err.loc[: len(prefix)] == prefix:
                name = err.loc[len(prefix)]
                if name in settings:
                    err.loc = (*settings[str(name)][1], *err.loc[len(prefix) + 1 :])
                    err.args = (str(err),)
            raise

    @classmethod
    def _unknown_setting(cls, name: Any) -> SpecError:
        candidates = [*cls.model_fields, *FFM.model_fields]
        if name in FFM.model_fields:
            return SpecError(
                f"'{name}' is an FFM setting, not a mapper setting: set mapper.ffm.{name}.",
                loc=(*cls._LOC, str(name)),
            )
        return SpecError(
            f"'{name}' is not a mapper setting.{did_you_mean(str(name), candidates)}",
            loc=(*cls._LOC, str(name)),
            allowed=", ".join(sorted(candidates)),
        )


def _shown(value: Any) -> str:
    if isinstance(value, Metrics):
        return " | ".join(value.names()) or "no metric"
    if isinstance(value, Expression):
        return repr(str(value))
    return repr(value)
