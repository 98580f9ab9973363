"""Pareto pruning against a direct pairwise definition (exact ties keep the lowest index, or
all of them with ``keep_ties``)."""

from __future__ import annotations

import numpy as np
import pytest

from accelforge.mapper.pareto import pareto_mask, pareto_mask_grouped


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
