"""Fake mapper runs for the widget tests: event streams with known DataFrames."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from accelforge.mapper.events import (
    EinsumDone,
    JoinStep,
    RunFinished,
    RunStarted,
    RunWarning,
    TemplateDone,
)

EINSUMS = ("Matmul0", "Matmul1")


def chunk(einsum: str, template: int, n: int, seed: int) -> pd.DataFrame:
    """``n`` pmappings of one template: energy falls as latency rises, plus noise."""
    rng = np.random.default_rng(seed)
    latency = rng.uniform(1.0, 100.0, n)
    energy = 1e4 / latency + rng.uniform(0.0, 50.0, n)
    return pd.DataFrame(
        {
            "energy": energy,
            "latency": latency,
            "template": [f"{einsum}/MAC/{template}"] * n,
            "row": np.arange(n),
        }
    )


def front_frame() -> pd.DataFrame:
    """A joined front with per-Einsum figures, usage columns and an infinite value."""
    return pd.DataFrame(
        {
            "energy": [100.0, 200.0, 400.0],
            "latency": [30.0, 20.0, 10.0],
            "energy-delay product": [3000.0, 4000.0, 4000.0],
            "Matmul0 energy": [40.0, 90.0, 150.0],
            "Matmul0 latency": [15.0, 10.0, 5.0],
            "Matmul1 energy": [60.0, 110.0, 250.0],
            "Matmul1 latency": [15.0, 10.0, 5.0],
            "usage MainMemory": [0.0, 0.0, 0.0],
            "usage GlobalBuffer": [0.9, 0.5, 0.1],
            "spare capacity": [math.inf, 1.0, 2.0],
        }
    )


def events(templates: int = 5, rows: int = 20) -> list[Any]:
    """A complete, successful run over two Einsums."""
    total = templates * len(EINSUMS)
    out: list[Any] = [
        RunStarted(
            run_id="fake",
            einsums=EINSUMS,
            compute_units={e: ("MAC",) for e in EINSUMS},
            template_counts={e: templates for e in EINSUMS},
            metrics=("LATENCY", "ENERGY"),
            knobs={},
        )
    ]
    done = 0
    for k, einsum in enumerate(EINSUMS):
        for t in range(templates):
            done += 1
            data = chunk(einsum, t, rows, seed=100 * k + t)
            out.append(
                TemplateDone(
                    einsum=einsum,
                    template=f"{einsum}/MAC/{t}",
                    compute="MAC",
                    status="ok",
                    rows=data,
                    einsum_done=t + 1,
                    einsum_total=templates,
                    done=done,
                    total=total,
                    kept=len(data),
                )
            )
        out.append(EinsumDone(einsum, templates * rows, templates, templates))
    for i, einsum in enumerate(EINSUMS):
        out.append(JoinStep(i, len(EINSUMS), einsum, 1, 1, 10, 5, 0, 0.1 * i))
    out.append(RunWarning("a harmless warning"))
    out.append(RunFinished("OK", front_frame(), {"front_size": 3}))
    return out


class FakeRun:
    """A run handle replaying ``events``; it can pause before event ``pause_at`` until cancelled."""

    def __init__(self, stream: list[Any], pause_at: int | None = None) -> None:
        self.stream = stream
        self.pause_at = pause_at
        self.paused = threading.Event()
        self.cancelled = threading.Event()
        self.cancel_calls = 0

    def events(self) -> Iterator[Any]:
        for i, event in enumerate(self.stream):
            if i == self.pause_at:
                self.paused.set()
                self.cancelled.wait(10)
            if self.cancelled.is_set():
                yield RunFinished("CANCELLED", pd.DataFrame(columns=["energy"]), {})
                return
            yield event

    def cancel(self) -> None:
        self.cancel_calls += 1
        self.cancelled.set()

    def result(self) -> None:
        return None


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now
