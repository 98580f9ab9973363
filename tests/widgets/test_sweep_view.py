"""``SweepView``: a sweep drawn live, one line per series."""

from __future__ import annotations

import pytest

pytest.importorskip("ipywidgets", reason="the notebook extra is not installed")
pytest.importorskip("plotly", reason="the notebook extra is not installed")
pytest.importorskip("anywidget", reason="the notebook extra is not installed")

import pandas as pd  # noqa: E402
from accelforge.widgets import SweepView  # noqa: E402
from accelforge.widgets._serialize import read_table  # noqa: E402

import accelforge as af  # noqa: E402
from tests.mapper.specs import matmul_chain  # noqa: E402


def test_the_view_draws_each_series_lowest_energy_by_size_and_exports_the_table() -> None:
    spec = matmul_chain(2, 32, 65536)
    spec.mapper.metrics = af.Metrics.ENERGY
    grid = {
        "arch.GlobalBuffer.size": [2048, 8192, 65536],
        "arch.MainMemory.tensors.keep": ["All", "~Intermediates"],
    }
    run = af.sweep(spec, grid, n_workers=1)
    view = SweepView(run, x="arch.GlobalBuffer.size", series="arch.MainMemory.tensors.keep")
    try:
        table = run.result(timeout=120)
        view.tick()
        lines = {trace.name: (list(trace.x), list(trace.y)) for trace in view.slot.figure.data}
        assert set(lines) == {"All", "~Intermediates"}
        for name, (sizes, energies) in lines.items():
            rows = table[table["arch.MainMemory.tensors.keep"] == name]
            assert sizes == [2048, 8192, 65536]
            assert energies == rows.groupby("arch.GlobalBuffer.size")["energy"].min().tolist()
        unfused, fused = lines["All"][1], lines["~Intermediates"][1]
        assert all(f <= u for f, u in zip(fused, unfused, strict=True))  # fusion never costs
        assert "sweep done: 6 of 6 points" in view.status.value
        assert not view.ticker.active  # drawn and done: no more polling
        data, _ = read_table(view.download.producer(), "csv")
        assert data["message"].isna().all()  # no message: an empty CSV cell
        ours, theirs = data.drop(columns="message"), table.drop(columns="message")
        pd.testing.assert_frame_equal(ours, theirs, check_dtype=False)
    finally:
        view.close()
