"""The optional hwcomponents cost-model adapter (docs/SPEC_FORMAT.md §3.6 and Appendix A).

The first tests run everywhere: they block or fake the ``hwcomponents`` import so that they do
not depend on what is installed. The Appendix A comparison runs only where hwcomponents and its
model packages import (Python >= 3.12 with the ``hwcomponents`` extra).
"""

from __future__ import annotations

import math
import sys
import types
from typing import Any

import pytest

from accelforge.errors import AccelForgeError, MissingExtraError, SpecError
from accelforge.frontend import _hwcomponents as hwc
from accelforge.frontend._hwcomponents import ComponentCosts, estimate_costs
from accelforge.hwcomponents_build import BuildError

INSTALL = 'pip install "accelforge-explorer[hwcomponents]"'


@pytest.fixture(autouse=True)
def _empty_cache(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    hwc._CACHE.clear()
    monkeypatch.setattr(hwc, "_BINARIES", {})
    if "real_hwc" not in request.fixturenames:
        # Fakes need no CACTI or NeuroSim binary: skip the once-per-process check and build.
        monkeypatch.setattr(hwc, "ensure_binaries", lambda: {})
    yield
    hwc._CACHE.clear()


@pytest.fixture
def no_hwcomponents(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import hwcomponents`` fail, whatever is installed."""
    monkeypatch.setitem(sys.modules, "hwcomponents", None)


def _glb_call() -> ComponentCosts:
    return estimate_costs(
        "GlobalBuffer",
        "SmartBufferSRAM",
        {"size": 524288.0, "tech_node": 16e-9, "n_parallel_instances": 1, "n_banks": 2},
        ["read", "write"],
        {"read": {"bits_per_action": 1}, "write": {"bits_per_action": 1}},
    )


# --------------------------------------------------------------------------------------------
# Without the library


def test_available_is_false_when_import_fails(no_hwcomponents: None) -> None:
    assert hwc.hwcomponents_available() is False


def test_missing_library_error_names_component_class_and_both_ways_out(
    no_hwcomponents: None,
) -> None:
    with pytest.raises(MissingExtraError) as info:
        _glb_call()
    err = info.value
    assert isinstance(err, ImportError)
    assert isinstance(err, AccelForgeError)
    msg = str(err)
    assert "'GlobalBuffer'" in msg
    assert "'SmartBufferSRAM'" in msg
    assert INSTALL in msg
    assert "Python >= 3.12" in msg
    for field in ("'area'", "'leak_power'", "'energy'", "'throughput'"):
        assert field in msg
    assert "explicitly" in msg


def test_missing_library_error_when_availability_check_says_no(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hwc, "hwcomponents_available", lambda: False)
    with pytest.raises(MissingExtraError, match="component_class 'IntMAC'") as info:
        estimate_costs("MAC", "IntMAC", {"tech_node": 16e-9}, ["compute"], {})
    assert "'MAC'" in str(info.value)
    assert INSTALL in str(info.value)


@pytest.mark.skipif(hwc.hwcomponents_available(), reason="hwcomponents is installed here")
def test_missing_library_on_this_interpreter() -> None:
    with pytest.raises(MissingExtraError, match=r"accelforge-explorer\[hwcomponents\]"):
        _glb_call()


def test_old_hwcomponents_without_action_cost_counts_as_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "hwcomponents", types.ModuleType("hwcomponents"))
    assert hwc.hwcomponents_available() is False


# --------------------------------------------------------------------------------------------
# Calling convention, against a fake hwcomponents


class _Cost:
    def __init__(self, energy: Any, throughput: Any) -> None:
        self.energy = energy
        self.throughput = throughput


class _FakeModel:
    area = 2.0
    leak_power = 3.0

    def __init__(self, calls: list[tuple[str, dict[str, Any]]]) -> None:
        self.calls = calls

    def try_call_arbitrary_action(self, action_name: str, **kwargs: Any) -> _Cost:
        self.calls.append((action_name, kwargs))
        bits = kwargs.get("bits_per_action", 8)
        return _Cost(energy=1e-12 * bits, throughput=1e9 / bits)


@pytest.fixture
def fake_hwc(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Install a stand-in ``hwcomponents`` module that records how it is called."""
    record: dict[str, Any] = {"get_model": [], "actions": []}
    mod = types.ModuleType("hwcomponents")

    def get_model(cls: str, attrs: dict[str, Any], required_actions=(), models=None):
        record["get_model"].append((cls, dict(attrs), list(required_actions)))
        return _FakeModel(record["actions"])

    mod.get_model = get_model  # type: ignore[attr-defined]
    mod.get_models = lambda: []  # type: ignore[attr-defined]
    mod.ActionCost = _Cost  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "hwcomponents", mod)
    return record


def test_attributes_are_passed_through_and_merged_per_action(fake_hwc: dict[str, Any]) -> None:
    costs = estimate_costs(
        "Buf",
        "SRAMish",
        {
            "size": 1024.0,
            "tech_node": 16e-9,
            "n_parallel_instances": 4,
            "bits_per_action": None,
            "n_banks": 2.0,
        },
        ["read", "write"],
        {"read": {"bits_per_action": 16.0}, "write": {"bits_per_action": 4, "extra": "x"}},
    )
    assert hwc.hwcomponents_available() is True
    [(cls, attrs, required)] = fake_hwc["get_model"]
    assert cls == "SRAMish"
    assert required == ["read", "write"]
    # None is left out (model defaults apply); integral floats become ints.
    assert attrs == {"size": 1024, "tech_node": 16e-9, "n_parallel_instances": 4, "n_banks": 2}
    assert isinstance(attrs["size"], int)
    read, write = fake_hwc["actions"]
    assert read == ("read", {**attrs, "bits_per_action": 16})
    assert write == ("write", {**attrs, "bits_per_action": 4, "extra": "x"})
    # Unscaled per-instance values: n_parallel_instances is the caller's to apply.
    assert costs == ComponentCosts(
        area=2.0,
        leak_power=3.0,
        energy={"read": 16e-12, "write": 4e-12},
        throughput={"read": 1e9 / 16, "write": 1e9 / 4},
    )


def test_action_without_attributes_gets_component_attributes(fake_hwc: dict[str, Any]) -> None:
    estimate_costs("MAC", "IntMAC", {"tech_node": 65e-9, "adder_width": 16}, ["compute"], {})
    assert fake_hwc["actions"] == [("compute", {"tech_node": 65e-9, "adder_width": 16})]


def test_identical_calls_are_cached_and_results_are_copies(fake_hwc: dict[str, Any]) -> None:
    first = estimate_costs("A", "IntMAC", {"tech_node": 65e-9}, ["compute"], {})
    first.energy["compute"] = -1.0
    second = estimate_costs("B", "IntMAC", {"tech_node": 65e-9}, ["compute"], {})
    assert len(fake_hwc["get_model"]) == 1
    assert second.energy == {"compute": 8e-12}


def test_unhashable_attributes_are_not_cached(fake_hwc: dict[str, Any]) -> None:
    attrs = {"tech_node": 65e-9, "bits_per_value": {"output": 24}}
    estimate_costs("A", "IntMAC", attrs, ["compute"], {})
    estimate_costs("A", "IntMAC", attrs, ["compute"], {})
    assert len(fake_hwc["get_model"]) == 2


def test_library_failure_becomes_spec_error_with_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hwc, "hwcomponents_available", lambda: True)

    def boom(*_: Any) -> ComponentCosts:
        raise RuntimeError("CACTI exploded\nTraceback ...\nValueError: width must be > 0")

    monkeypatch.setattr(hwc, "_call_hwcomponents", boom)
    with pytest.raises(SpecError) as info:
        _glb_call()
    msg = str(info.value)
    assert "'GlobalBuffer'" in msg
    assert "'SmartBufferSRAM'" in msg
    assert "RuntimeError: CACTI exploded" in msg
    assert "ValueError: width must be > 0" in msg
    assert isinstance(info.value.__cause__, RuntimeError)


@pytest.mark.parametrize("bad", [None, "fast", math.nan])
def test_non_numeric_model_output_is_an_error_not_zero(
    monkeypatch: pytest.MonkeyPatch, fake_hwc: dict[str, Any], bad: Any
) -> None:
    monkeypatch.setattr(_FakeModel, "leak_power", bad)
    with pytest.raises(SpecError, match="leak_power"):
        estimate_costs("MAC", "IntMAC", {"tech_node": 65e-9}, ["compute"], {})


def test_cacti_failure_message_gives_the_rebuild_recipe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hwc, "hwcomponents_available", lambda: True)

    def cacti_fails(*_: Any) -> ComponentCosts:
        raise RuntimeError(
            "Can not find an model model for smartbuffersram(size=1024)\n"
            "| Exception: CACTI failed with exit code 1. Please check /nonexistent/x.log for "
            "CACTI output. Run command: cd /site/hwcomponents_cacti/cacti ; ./cacti -infile y"
        )

    monkeypatch.setattr(hwc, "_call_hwcomponents", cacti_fails)
    with pytest.raises(SpecError) as info:
        _glb_call()
    msg = str(info.value)
    assert "CACTI failed with exit code 1" in msg
    assert "glibc 2.38" in msg
    assert "CACTI binary in /site/hwcomponents_cacti/cacti does not run" in msg
    assert "accelforge hwcomponents build --force CACTI" in msg


def test_binaries_that_cannot_be_built_are_a_spec_error_once(
    monkeypatch: pytest.MonkeyPatch, fake_hwc: dict[str, Any]
) -> None:
    calls: list[int] = []

    def no_compiler() -> dict[str, Any]:
        calls.append(1)
        raise BuildError("CACTI cannot run here; g++ is not installed (apt-get install g++ make)")

    monkeypatch.setattr(hwc, "ensure_binaries", no_compiler)
    for name in ("GlobalBuffer", "GlobalBuffer", "Other"):
        with pytest.raises(SpecError) as info:
            estimate_costs(name, "SmartBufferSRAM", {"size": 1024.0}, ["read"], {})
        msg = str(info.value)
        assert f"'{name}'" in msg and "'SmartBufferSRAM'" in msg
        assert "apt-get install g++ make" in msg
    assert calls == [1]  # checked once per process, not per component
    assert fake_hwc["get_model"] == []


def test_binaries_are_checked_before_the_first_model_call(
    monkeypatch: pytest.MonkeyPatch, fake_hwc: dict[str, Any]
) -> None:
    order: list[str] = []
    monkeypatch.setattr(hwc, "ensure_binaries", lambda: order.append("ensure") or {})
    estimate_costs("MAC", "IntMAC", {"tech_node": 65e-9}, ["compute"], {})
    estimate_costs("MAC2", "IntMAC", {"tech_node": 45e-9}, ["compute"], {})
    assert order == ["ensure"]
    assert len(fake_hwc["get_model"]) == 2


# --------------------------------------------------------------------------------------------
# The real library: Appendix A of docs/SPEC_FORMAT.md


@pytest.fixture
def real_hwc() -> None:
    reason = "needs hwcomponents with its model packages (Python >= 3.12, the hwcomponents extra)"
    pytest.importorskip("hwcomponents", reason=reason)
    pytest.importorskip("hwcomponents_library", reason=reason)


def _mem(size: float, tech: float, bits: float = 1, **extra: Any) -> dict[str, Any]:
    return {
        "attributes": {"size": float(size), "tech_node": tech, "n_parallel_instances": 1, **extra},
        "actions": ["read", "write"],
        "action_attributes": {
            "read": {"bits_per_action": bits},
            "write": {"bits_per_action": bits},
        },
    }


def _mac(tech: float) -> dict[str, Any]:
    attrs = {"tech_node": tech, "multiplier_width": 8, "adder_width": 16, "n_parallel_instances": 1}
    return {"attributes": attrs, "actions": ["compute"], "action_attributes": {}}


INF = float("inf")
# (arch, component, class, call, energy per action, throughput, area, leak)
APPENDIX_A = [
    ("simba", "MainMemory", "LPDDR4", _mem(INF, 16e-9), (8e-12, 8e-12), 3.3554432e9, 0, 0),
    (
        "simba",
        "GlobalBuffer",
        "SmartBufferSRAM",
        _mem(524288, 16e-9, n_banks=2, n_rw_ports=2),
        (8.294876e-14, 9.034393e-14),
        1.8125e12,
        2.39512e-7,
        9.50866e-6,
    ),
    (
        "simba",
        "InputBuffer",
        "SmartBufferSRAM",
        _mem(65536, 16e-9),
        (9.645592e-15, 2.068842e-14),
        6.4e11,
        5.39121e-9,
        1.20695e-6,
    ),
    (
        "simba",
        "WeightBuffer",
        "SmartBufferSRAM",
        _mem(262144, 16e-9, n_banks=8),
        (6.681972e-14, 6.873086e-14),
        1.28e12,
        1.070343e-7,
        1.261151e-5,
    ),
    (
        "simba",
        "AccumulationBuffer",
        "SmartBufferSRAM",
        _mem(24576, 16e-9),
        (7.074774e-15, 1.382700e-14),
        3.925e11,
        2.20031e-9,
        6.03478e-7,
    ),
    ("simba", "MAC", "IntMAC", _mac(16e-9), (1.792441e-13,), 2.5e9, 1.47160e-10, 1.23823e-6),
    ("eyeriss", "MainMemory", "LPDDR4", _mem(INF, 65e-9), (8e-12, 8e-12), 3.3554432e9, 0, 0),
    (
        "eyeriss",
        "GlobalBuffer",
        "SmartBufferSRAM",
        _mem(1024 * 1024, 65e-9, bits=64, n_banks=32),
        (9.056430e-11, 9.122347e-11),
        9.846154e9,
        6.85745e-6,
        2.55080e-4,
    ),
    (
        "eyeriss",
        "InputScratchpad",
        "SmartBufferSRAM",
        _mem(12 * 16, 65e-9),
        (2.273389e-14, 3.155480e-14),
        9.846154e9,
        3.87366e-10,
        4.38158e-7,
    ),
    (
        "eyeriss",
        "WeightScratchpad",
        "SmartBufferSRAM",
        _mem(192 * 16, 65e-9),
        (4.015297e-14, 6.235570e-14),
        3.446154e10,
        3.53439e-9,
        7.66368e-7,
    ),
    (
        "eyeriss",
        "OutputScratchpad",
        "SmartBufferSRAM",
        _mem(16 * 16, 65e-9),
        (2.624740e-14, 3.728731e-14),
        9.846154e9,
        4.56134e-10,
        4.41439e-7,
    ),
    ("eyeriss", "MAC", "IntMAC", _mac(65e-9), (1.281380e-12,), 6.153846e8, 1.17480e-9, 8.85187e-6),
]


@pytest.mark.parametrize(
    "arch, name, cls, call, energy, throughput, area, leak",
    APPENDIX_A,
    ids=[f"{row[0]}-{row[1]}" for row in APPENDIX_A],
)
def test_appendix_a_reference_costs(
    real_hwc: None,
    arch: str,
    name: str,
    cls: str,
    call: dict[str, Any],
    energy: tuple[float, ...],
    throughput: float,
    area: float,
    leak: float,
) -> None:
    costs = estimate_costs(
        name, cls, call["attributes"], call["actions"], call["action_attributes"]
    )
    assert list(costs.energy) == call["actions"]
    for action, expected in zip(call["actions"], energy, strict=True):
        assert costs.energy[action] == pytest.approx(expected, rel=1e-5)
        assert costs.throughput[action] == pytest.approx(throughput, rel=1e-5)
    assert costs.area == pytest.approx(area, rel=1e-5, abs=1e-30)
    assert costs.leak_power == pytest.approx(leak, rel=1e-5, abs=1e-30)


def test_real_unknown_class_is_a_spec_error_with_suggestion(real_hwc: None) -> None:
    with pytest.raises(SpecError) as info:
        estimate_costs("GB", "SmartBuferSRAM", {"size": 1024.0, "tech_node": 16e-9}, ["read"], {})
    msg = str(info.value)
    assert "'GB'" in msg and "'SmartBuferSRAM'" in msg
    assert "not supported by any models" in msg
    assert "Did you mean 'smartbuffersram'?" in msg


def test_real_sram_of_infinite_size_is_a_spec_error(real_hwc: None) -> None:
    with pytest.raises(SpecError, match="'Big'.*'SmartBufferSRAM'.*infinity"):
        estimate_costs(
            "Big", "SmartBufferSRAM", {"size": INF, "tech_node": 16e-9}, ["read", "write"], {}
        )
