"""Pareto pruning against a direct pairwise definition (exact ties keep the lowest index, or
all of them with ``keep_ties``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from accelforge.pareto import pareto_front_2d, pareto_mask, pareto_mask_grouped, pareto_rows


def _pairwise(values: np.ndarray, keep_ties: bool = False) -> np.ndarray:
    keep = np.ones(len(values), dtype=bool)
    for i, row in enumerate(values):
        for j, other in enumerate(values):
            tie_first = j < i and not keep_ties
            if j != i and np.all(other <= row) and (np.any(other < row) or tie_first):
                keep[i] = False
                break
    return keep


@pytest.mark.parametrize("seed", range(6))
def test_pareto_mask_matches_the_definition(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(60):
        n, m = int(rng.integers(1, 400)), int(rng.integers(1, 6))
        values = rng.integers(0, 5, size=(n, m)).astype(float)
        if rng.random() < 0.3:  # a constant column and a repeated column
            values[:, 0] = 7.0
            values[:, -1] = values[:, min(1, m - 1)]
        assert np.array_equal(pareto_mask(values), _pairwise(values))
        assert np.array_equal(pareto_mask(values, keep_ties=True), _pairwise(values, True))


def test_grouped_pruning_compares_only_inside_groups() -> None:
    values = np.array([[1.0, 1.0], [2.0, 2.0], [2.0, 2.0], [0.0, 3.0]])
    groups = np.array([0, 1, 1, 0])
    assert pareto_mask_grouped(values, groups).tolist() == [True, True, False, True]


@pytest.mark.parametrize("seed", range(6))
def test_grouped_pruning_matches_the_definition_per_group(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    for _ in range(40):
        n, m = int(rng.integers(1, 300)), int(rng.integers(1, 5))
        values = rng.integers(0, 4, size=(n, m)).astype(float)
        # from a few large groups (a sweep each) to many small ones (all pairs at once)
        groups = rng.integers(0, int(rng.integers(1, 80)), size=n)
        expected = np.zeros(n, dtype=bool)
        for g in np.unique(groups):
            members = np.flatnonzero(groups == g)
            expected[members] = _pairwise(values[members])
        assert np.array_equal(pareto_mask_grouped(values, groups), expected)


def _front_2d_brute_force(data: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Rows with x and y known that no other such row beats: no worse in both and better in
    one, or equal in both and earlier; sorted by (x, y)."""
    points = data[[x, y]].to_numpy(dtype=float)
    known = [i for i in range(len(points)) if not np.isnan(points[i]).any()]
    keep = [
        i
        for i in known
        if not any(
            j != i and np.all(points[j] <= points[i]) and (np.any(points[j] < points[i]) or j < i)
            for j in known
        )
    ]
    return data.iloc[keep].sort_values([x, y], kind="stable")


@pytest.mark.parametrize("seed", range(4))
def test_pareto_front_2d_matches_the_definition(seed: int) -> None:
    rng = np.random.default_rng(300 + seed)
    for _ in range(50):
        n = int(rng.integers(0, 150))
        data = pd.DataFrame(
            {
                "latency": rng.integers(0, 8, n).astype(float),
                "energy": rng.integers(0, 8, n).astype(float),
                "other": rng.random(n),
            },
            index=rng.permutation(10 * n + 1)[:n],  # index labels are kept, not positions
        )
        if n and rng.random() < 0.5:  # unlimited and missing values
            data.iloc[rng.integers(0, n, 3), 0] = np.inf
            data.iloc[rng.integers(0, n, 2), 1] = np.nan
        front = pareto_front_2d(data, "latency", "energy")
        pd.testing.assert_frame_equal(front, _front_2d_brute_force(data, "latency", "energy"))
        assert front["latency"].is_monotonic_increasing
        assert (np.diff(front["energy"].to_numpy()) < 0).all()


@pytest.mark.parametrize("seed", range(3))
def test_pareto_rows_on_three_columns_matches_the_definition(seed: int) -> None:
    rng = np.random.default_rng(700 + seed)
    columns = ["energy", "latency", "usage"]
    for _ in range(30):
        n = int(rng.integers(0, 80))
        data = pd.DataFrame(
            rng.integers(0, 5, (n, 3)).astype(float),
            columns=columns,
            index=rng.permutation(10 * n + 1)[:n],
        )
        if n:
            data.iloc[int(rng.integers(0, n)), 2] = np.nan  # left out
        values = data.to_numpy()
        expected = []
        for i, row in enumerate(values):
            if np.isnan(row).any():
                continue
            dominated = any(
                np.all(other <= row) and (np.any(other < row) or j < i)
                for j, other in enumerate(values)
                if j != i and not np.isnan(other).any()
            )
            if not dominated:
                expected.append(data.index[i])
        assert pareto_rows(data, columns).index.tolist() == expected
    assert pareto_rows(data, ["energy", "missing"]).empty


def test_pareto_front_2d_edges() -> None:
    data = pd.DataFrame({"latency": [1.0, 2.0], "energy": [np.inf, 5.0]})
    assert pareto_front_2d(data, "latency", "energy").index.tolist() == [0, 1]
    assert pareto_front_2d(data, "latency", "missing").empty
    assert pareto_front_2d(data.iloc[0:0], "latency", "energy").empty
    assert pareto_front_2d(data, "energy", "energy").index.tolist() == [1]
    assert pareto_mask(data.to_numpy()).tolist() == [True, True]  # the two-column sweep
