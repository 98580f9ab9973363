"""Bound-based pruning of partial joins (docs/MAPPER.md §6.4) and the greedy passes behind it."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import accelforge as af
from accelforge.mapper import map_workload_to_arch
from accelforge.mapper._join.bounds import Bound, rest_points
from tests.mapper.test_knobs import constrained


def _sums(per_einsum: list[np.ndarray]) -> np.ndarray:
    """Every sum of one row per array (brute force)."""
    if not per_einsum:
        return np.zeros((1, 2))
    return np.array([np.sum(rows, axis=0) for rows in itertools.product(*per_einsum)])


@pytest.mark.parametrize("size", [1, 3, 16])
def test_rest_points_lie_below_every_completion(size: int) -> None:
    # Whatever pmappings the remaining Einsums choose, their objectives add at least as much
    # as one rest point in every objective; more points bound more tightly.
    rng = np.random.default_rng(7)
    per_einsum = [rng.uniform(1, 10, size=(12, 2)) for _ in range(4)]
    rest = rest_points(per_einsum, size)
    assert len(rest) == 4 and np.array_equal(rest[3], np.zeros((1, 2)))
    for k in range(4):
        assert 1 <= len(rest[k]) <= max(size, 1)
        sums = _sums(per_einsum[k + 1 :])
        below = np.all(rest[k][None, :, :] <= sums[:, None, :] + 1e-12, axis=2).any(axis=1)
        assert below.all()
    ideal = sum(v.min(axis=0) for v in per_einsum[1:])
    assert np.allclose(rest_points(per_einsum, 1)[0], ideal)
    if size > 1:  # some rest point is above the ideal point: tighter than the per-objective minima
        assert np.any(np.all(rest[0] >= ideal, axis=1) & np.any(rest[0] > ideal + 1e-9, axis=1))


def test_energy_delay_bound_uses_every_rest_point() -> None:
    # Known best product 1 x 1 = 1. Two rows at (0.5, 0.5) so far; what is left adds (0, 2) or
    # (2, 0): every completion of the first row has product >= 1.25 > 1, though the ideal point
    # (0, 0) alone would keep it. The second row, at (0.1, 0.1), may still reach 0.21.
    bound = Bound(np.array([[1.0, 1.0]]), [np.array([[0.0, 2.0], [2.0, 0.0]])], (0, 1))
    assert list(bound.keep(np.array([[0.5, 0.5], [0.1, 0.1]]), 0)) == [1]
    assert bound.hopeful(np.array([0.1, 0.1]), 0)
    assert not bound.hopeful(np.array([0.5, 0.5]), 0)


def test_dominance_bound_keeps_ties_and_drops_only_dominated_completions() -> None:
    bound = Bound(np.array([[2.0, 2.0]]), [np.array([[1.0, 0.0], [0.0, 1.0]])])
    rows = np.array([[1.0, 1.0], [1.0, 2.0], [3.0, 3.0], [0.5, 5.0]])
    # (1, 1) + (1, 0) = (2, 1) is not dominated; (1, 2) + either point ties or loses in one
    # objective against (2, 2): (2, 2) ties, kept; (3, 3) is dominated whatever comes next;
    # (0.5, 5) + (0, 1) = (0.5, 6): better energy, kept.
    assert list(bound.keep(rows, 0)) == [0, 1, 3]


def test_greedy_pass_stops_early_with_the_same_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    # The greedy pass joins pairs in order of their lowest value and stops once its beam is
    # settled: the bound (hence the answer) is the one a pass over every pair finds, with
    # fewer pairs joined.
    from accelforge.mapper._join import join as join_module

    calls = {"pairs": 0}
    join_pair = join_module.join_pair

    def counting(*args: object) -> object:
        calls["pairs"] += 1
        return join_pair(*args)

    monkeypatch.setattr(join_module, "join_pair", counting)
    monkeypatch.setattr(join_module, "BEAM", 4)
    bounds = []
    known = join_module._bound

    def recorded(*args: object) -> object:
        calls["pairs"] = 0
        result = known(*args)
        bounds.append((result.known.copy(), calls["pairs"]))
        return result

    monkeypatch.setattr(join_module, "_bound", recorded)
    answers = []
    for refresh in (join_module.BEAM_REFRESH, 10**9):
        monkeypatch.setattr(join_module, "BEAM_REFRESH", refresh)
        spec = constrained(4)
        spec.mapper.metrics = af.Metrics.ENERGY
        answers.append([m.to_yaml() for m in map_workload_to_arch(spec)])
    (early, early_pairs), (full, full_pairs) = bounds
    assert np.array_equal(early, full)
    assert early_pairs < full_pairs
    assert answers[0] == answers[1]
