"""``accelforge.plotting.mappings``: AccelForge's breakdown plots, as Plotly figures."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("plotly", reason="the notebook extra is not installed (Plotly)")

import accelforge as af  # noqa: E402
from accelforge.plotting.mappings import (  # noqa: E402
    plot_energy_breakdown,
    plot_memory_usage_breakdown,
)
from tests.mapper.specs import matmul_chain  # noqa: E402


@pytest.fixture(scope="module")
def results() -> tuple[af.mapper.Mappings, af.mapper.Mappings]:
    spec = matmul_chain(2, 32, 4096)
    spec.mapper.metrics = af.Metrics.ENERGY
    best = spec.map_workload_to_arch(print_progress=False)
    unfused = spec.model_copy(deep=True)
    unfused.arch.find("MainMemory").tensors.keep = "All"
    return best, unfused.map_workload_to_arch(print_progress=False)


def _bars(figure, axis: str = "x") -> dict[str, dict[str, float]]:
    """Trace name -> bar label -> height, for the traces on subplot ``axis``."""
    out: dict[str, dict[str, float]] = {}
    for trace in figure.data:
        if trace.xaxis == axis:
            out[trace.name] = dict(zip(trace.x, map(float, trace.y), strict=True))
    return out


def test_energy_per_component_bars_equal_the_results_breakdown(results) -> None:
    best, _ = results
    bars = _bars(plot_energy_breakdown([best], separate_by=["component"]))
    assert list(bars) == ["energy"]
    expected = best.energy(per_component=True)
    assert bars["energy"].keys() == expected.keys()
    for component, energy in expected.items():
        assert math.isclose(bars["energy"][component], energy, rel_tol=1e-12)


def test_stacks_by_einsum_sum_to_each_components_energy(results) -> None:
    best, _ = results
    bars = _bars(plot_energy_breakdown(best, separate_by=["component"], stack_by=["einsum"]))
    assert set(bars) == {"Matmul0", "Matmul1"}
    per_einsum_component = best.energy(per_einsum=True, per_component=True)
    for (einsum, component), energy in per_einsum_component.items():
        assert math.isclose(bars[einsum][component], energy, rel_tol=1e-12, abs_tol=1e-30)


def test_two_results_side_by_side_with_labels_and_hidden_zeros(results) -> None:
    best, unfused = results
    figure = plot_energy_breakdown(
        [best, unfused], separate_by=["component"], stack_by=["tensor"], labels=["A", "B"]
    )
    assert [a.text for a in figure.layout.annotations] == ["A", "B"]
    right = _bars(figure, "x2")
    total = sum(sum(bars.values()) for bars in right.values())
    assert math.isclose(total, unfused.energy(), rel_tol=1e-12)
    hidden = plot_energy_breakdown(best, separate_by=["component", "action"], hide_zeros=True)
    assert all(y != 0 for trace in hidden.data for y in trace.y)  # leak rows are 0 here


def test_memory_usage_bars_are_each_einsums_fraction_per_tensor(results) -> None:
    best, _ = results
    figure = plot_memory_usage_breakdown([best], memory_levels=["GlobalBuffer"])
    usage = best[0].result.memory_usage
    expected = usage[usage["memory"] == "GlobalBuffer"]
    bars = _bars(figure)
    assert set(bars) == set(expected["tensor"])
    for row in expected.itertuples():
        assert math.isclose(bars[row.tensor][row.einsum], row.fraction, rel_tol=1e-12)


def test_bad_keys_labels_and_axes_are_refused(results) -> None:
    best, _ = results
    with pytest.raises(ValueError, match=r"separate_by names \['components'\]; the keys are"):
        plot_energy_breakdown(best, separate_by=["components"])
    with pytest.raises(ValueError, match="2 labels for 1 mappings"):
        plot_energy_breakdown(best, separate_by=["component"], labels=["a", "b"])
    with pytest.raises(TypeError, match="pass no matplotlib 'ax'"):
        plot_energy_breakdown(best, separate_by=["component"], ax=object())
