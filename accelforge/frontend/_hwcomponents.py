"""Adapter to the optional ``hwcomponents`` cost models (docs/SPEC_FORMAT.md §3.6, step 3).

``hwcomponents`` (the Accelergy project's component models, with ``hwcomponents-library`` and
``hwcomponents-cacti`` for SRAM-like classes) needs Python >= 3.12, so it is imported lazily,
inside functions only. Everything here returns the model's **unscaled, per-instance** costs:
``area_scale``, ``energy_scale``, ``throughput_scale``, ``n_parallel_instances`` and the other
scales of §3.3 are applied once by the caller.

Calling convention (the one that reproduces Appendix A):

* the model is chosen by ``hwcomponents.get_model(component_class, attributes,
  required_actions=action_names)``; ``attributes`` are the component's evaluated fields with the
  extra-attribute maps merged in (``size`` in bits, ``tech_node`` in metres, ``n_banks``, ...).
  A model takes the keys its constructor names and ignores the rest;
* each action is costed with ``model.try_call_arbitrary_action(action_name, **attrs)`` where
  ``attrs`` is the component attributes overlaid with that action's attributes. For memories the
  action's ``bits_per_action`` (default 1, §3.3) scales energy by ``bits_per_action / width`` and
  throughput by its reciprocal, where ``width`` is the model's nominal port width;
* area and leak power are the chosen model's ``area`` and ``leak_power``.

Before the first cost-model call of a process, ``ensure_binaries`` of
``accelforge/hwcomponents_build.py`` makes sure that the CACTI and NeuroSim binaries of the
installed model packages run (the prebuilt ones need glibc 2.38): when they do not, it builds
them once from the packages' bundled sources, saying so in one line; a missing compiler is an
error that says what to install.
"""

from __future__ import annotations

import difflib
import math
import re
import sys
import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from accelforge.errors import MissingExtraError, SpecError
from accelforge.hwcomponents_build import BuildError, ensure_binaries

__all__ = ["ComponentCosts", "estimate_costs", "hwcomponents_available"]

_INSTALL_HINT = 'pip install "accelforge-explorer[hwcomponents]"'
_MAX_CAUSE_CHARS = 1500


@dataclass(frozen=True)
class ComponentCosts:
    """Per-instance costs of one component as the cost model gives them, before any scale.

    ``energy`` is in J per action and ``throughput`` in actions per second, both keyed by action
    name; ``area`` is in m² and ``leak_power`` in W.
    """

    area: float
    leak_power: float
    energy: dict[str, float]
    throughput: dict[str, float]


def hwcomponents_available() -> bool:
    """Whether a usable ``hwcomponents`` (one with ``get_model`` and ``ActionCost``) imports."""
    try:
        import hwcomponents
    except Exception:  # ImportError, or a broken install failing at import time
        return False
    return hasattr(hwcomponents, "get_model") and hasattr(hwcomponents, "ActionCost")


def estimate_costs(
    component_name: str,
    component_class: str,
    attributes: Mapping[str, Any],
    action_names: Sequence[str],
    action_attributes: Mapping[str, Mapping[str, Any]],
) -> ComponentCosts:
    """Ask ``hwcomponents`` for a component's area, leak power and per-action energy/throughput.

    ``attributes`` are the component's evaluated fields, extra attributes merged in (``size`` in
    bits, may be ``inf``; ``tech_node``; ``n_parallel_instances``; ``bits_per_action`` if set).
    ``action_attributes[name]`` holds one action's fields (e.g. its resolved ``bits_per_action``
    and its ``extra_attributes_for_component_model``); a missing entry means none. ``None`` values
    are left out so that model defaults apply.

    Raises :class:`~accelforge.errors.MissingExtraError` when ``hwcomponents`` is not installed,
    and :class:`~accelforge.errors.SpecError` naming the component, the class and the cause when
    the model cannot be found or fails. Never returns made-up values.
    """
    if not hwcomponents_available():
        raise MissingExtraError(_missing_message(component_name, component_class))

    comp_attrs = _clean(attributes)
    per_action = {name: _clean(action_attributes.get(name, {})) for name in action_names}
    key = _cache_key(component_class, comp_attrs, per_action)
    if key is not None and key in _CACHE:
        return _from_cached(_CACHE[key])

    _prepare_binaries(component_name, component_class)
    try:
        costs = _call_hwcomponents(component_class, comp_attrs, per_action)
    except Exception as err:  # any failure inside the library is the user's to see
        raise SpecError(_failure_message(component_name, component_class, err)) from err

    if key is not None:
        _CACHE[key] = _to_cached(costs)
    return costs


# --------------------------------------------------------------------------------------------
# internals


_Cached = tuple[float, float, tuple[tuple[str, float], ...], tuple[tuple[str, float], ...]]
_CACHE: dict[Hashable, _Cached] = {}
# The once-per-process binary check: no "outcome" yet, then "" (ready) or the error message.
_BINARIES: dict[str, str] = {}


def _prepare_binaries(component_name: str, component_class: str) -> None:
    """Make the model packages' binaries runnable, once per process (building them if needed).

    A failure is remembered and raised again for later components without another attempt.
    """
    if "outcome" not in _BINARIES:
        try:
            ensure_binaries()
            _BINARIES["outcome"] = ""
        except BuildError as err:
            _BINARIES["outcome"] = str(err)
    if _BINARIES["outcome"]:
        raise SpecError(
            f"Component '{component_name}' (component_class '{component_class}'): the "
            f"hwcomponents cost models cannot be used: {_BINARIES['outcome']}"
        )


def _call_hwcomponents(
    component_class: str,
    comp_attrs: dict[str, Any],
    per_action: dict[str, dict[str, Any]],
) -> ComponentCosts:
    """Run the model; every error propagates to :func:`estimate_costs`."""
    import hwcomponents

    energy: dict[str, float] = {}
    throughput: dict[str, float] = {}
    with warnings.catch_warnings():
        # hwcomponents 1.0.114 calls the deprecated Logger.warn; that is not the user's concern.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="hwcomponents")
        model = hwcomponents.get_model(
            component_class,
            dict(comp_attrs),
            required_actions=list(per_action),
            models=_installed_models(),
        )
        for name, attrs in per_action.items():
            cost = model.try_call_arbitrary_action(action_name=name, **{**comp_attrs, **attrs})
            energy[name] = _as_number(cost.energy, f"energy of action '{name}'")
            throughput[name] = _as_number(cost.throughput, f"throughput of action '{name}'")
    return ComponentCosts(
        area=_as_number(model.area, "area"),
        leak_power=_as_number(model.leak_power, "leak_power"),
        energy=energy,
        throughput=throughput,
    )


def _installed_models() -> list[Any] | None:
    """``hwcomponents.get_models()``, or ``None`` (let ``get_model`` find them) if it fails.

    hwcomponents 1.0.114 caches the installed models on first use in the form the first caller
    asked for; ``get_models()`` breaks once ``get_model(models=None)`` has filled that cache with
    wrappers. Asking ``get_models()`` first, as AccelForge does, keeps both working.
    """
    import hwcomponents

    try:
        return list(hwcomponents.get_models())
    except AttributeError:
        return None


def _as_number(value: Any, what: str) -> float:
    """Return ``value`` as a float, or raise if the model gave something else (or NaN)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"the model returned {value!r} as the {what}") from None
    if math.isnan(value):
        raise ValueError(f"the model returned NaN as the {what}")
    return float(value)


def _clean(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Drop ``None`` values and turn integral finite floats into ints (``524288.0`` → 524288)."""
    out: dict[str, Any] = {}
    for k, v in attrs.items():
        if v is None:
            continue
        if isinstance(v, float) and math.isfinite(v) and v.is_integer():
            v = int(v)
        out[str(k)] = v
    return out


def _cache_key(
    component_class: str, comp_attrs: dict[str, Any], per_action: dict[str, dict[str, Any]]
) -> Hashable | None:
    """A hashable key for identical calls, or ``None`` when an attribute is unhashable."""
    key = (
        component_class,
        tuple(sorted(comp_attrs.items())),
        tuple((n, tuple(sorted(a.items()))) for n, a in per_action.items()),
    )
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _to_cached(costs: ComponentCosts) -> _Cached:
    return (
        costs.area,
        costs.leak_power,
        tuple(costs.energy.items()),
        tuple(costs.throughput.items()),
    )


def _from_cached(cached: _Cached) -> ComponentCosts:
    area, leak, energy, throughput = cached
    return ComponentCosts(area, leak, dict(energy), dict(throughput))


def _missing_message(component_name: str, component_class: str) -> str:
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    return (
        f"Component '{component_name}' (component_class '{component_class}') has costs that "
        f"are not set explicitly (area, leak_power, or an action's energy or throughput), so "
        f"they must come from the 'hwcomponents' cost models, which are not installed (this is "
        f"Python {py}). Either "
        f"install them with: {_INSTALL_HINT} (needs Python >= 3.12), or set 'area', "
        f"'leak_power' and each action's 'energy' and 'throughput' explicitly "
        f"(or use component_class: Dummy for a free component)."
    )


def _failure_message(component_name: str, component_class: str, err: BaseException) -> str:
    cause = _summarize_cause(err)
    text = (
        f"Component '{component_name}' (component_class '{component_class}'): the hwcomponents "
        f"cost model failed: {cause}"
    )
    if "is not supported by any models" in str(err):
        text += _suggest_class(component_class, str(err))
    missing = getattr(err, "name", None) or ""
    if "No models found" in str(err) or missing.startswith("hwcomponents"):
        text += (
            " The component models are separate packages: pip install hwcomponents-library "
            "hwcomponents-adc hwcomponents-cacti hwcomponents-neurosim."
        )
    if "CACTI failed" in str(err):
        where = re.search(r"Run command: cd (\S+) ;", str(err))
        folder = where.group(1) if where else "the hwcomponents_cacti/cacti folder"
        text += (
            f". If the CACTI binary in {folder} does not run on this system (the one shipped "
            "with hwcomponents-cacti is linked against glibc 2.38), rebuild it from the sources "
            "the package bundles: accelforge hwcomponents build --force CACTI"
        )
    return text


def _summarize_cause(err: BaseException) -> str:
    """The informative part of a library error: type, first line, and any CACTI diagnosis."""
    text = str(err).strip() or type(err).__name__
    lines = [ln.strip(" \t|") for ln in text.splitlines() if ln.strip(" \t|.")]
    # hwcomponents wraps model failures as "Can not find an ... model" plus logs and
    # tracebacks; the lines naming the real exception are the useful ones.
    picked = [lines[0]] if lines else [text]
    for ln in lines[1:]:
        if re.match(r"^[A-Za-z_.]*(Error|Exception)\b: ", ln) and ln not in picked:
            picked.append(ln)
        elif "did not estimate" not in ln and ln.startswith(("Component ", "Argument ")):
            picked.append(ln)
    # An unknown class comes with the full list of supported names; it is too long to repeat.
    picked = [re.sub(r"\s*(Supported components:|Run command:).*", "", ln) for ln in picked]
    cause = f"{type(err).__name__}: " + " | ".join(picked)
    log = _cacti_log_excerpt(text)
    if log:
        cause += f" | CACTI said: {log}"
    if len(cause) > _MAX_CAUSE_CHARS:
        cause = cause[: _MAX_CAUSE_CHARS - 3] + "..."
    return cause


def _cacti_log_excerpt(text: str) -> str:
    """First lines of the CACTI log a 'CACTI failed' message points to, if it can be read."""
    match = re.search(r"Please check (\S+) for CACTI output", text)
    if not match:
        return ""
    try:
        with open(match.group(1), encoding="utf-8", errors="replace") as f:
            head = [ln.strip() for ln in f.readlines()[:3] if ln.strip()]
    except OSError:
        return ""
    return " / ".join(head)[:400]


def _suggest_class(component_class: str, message: str) -> str:
    """``" Did you mean 'x'?"`` from the class list hwcomponents put in ``message``."""
    listed = re.search(r"Supported components:\s*([^\n]*)", message)
    names = [n.strip() for n in listed.group(1).split(",")] if listed else []
    close = difflib.get_close_matches(component_class.lower(), names, n=1, cutoff=0.6)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return hint + " Run 'hwc --list' to see every installed class."
