"""The vectorised path equals the scalar path on random tile shapes of real mapping templates."""

from __future__ import annotations

import math
import warnings
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from accelforge.errors import InvalidMappingError, SpecWarning
from accelforge.model import evaluate_mapping
from accelforge.model.batch import evaluate_batch, loop_nodes
from tests.model.test_oracle import CASES, load_case

TEMPLATES = [c for c in CASES if c and c["expect"] == "ok"]


def _seed(case_id: str) -> int:
    """The case's RNG seed: the same in every process (``hash()`` of a str is salted)."""
    return zlib.crc32(case_id.encode())


SEEDED = [pytest.param(c, _seed(c["id"]), id=f"{c['id']}-seed{_seed(c['id'])}") for c in TEMPLATES]


def _random_tiles(spec: Any, mapping: Any, rng: np.random.Generator, n: int) -> np.ndarray:
    bounds: dict[str, int] = {}
    for facts in spec.evaluate_workload().einsums.values():
        bounds.update(facts.rank_variable_bounds)
    loops = loop_nodes(mapping)
    tiles = np.ones((len(loops), n))
    for k, loop in enumerate(loops):
        bound = bounds[loop.rank_variable]
        if int(loop.tile_shape) == 1 and rng.random() < 0.7:
            continue
        divisors = [d for d in range(1, bound + 1) if bound % d == 0]
        tiles[k] = rng.choice(divisors + [rng.integers(1, bound + 1)], size=n)
    return tiles


@pytest.mark.parametrize(("case", "seed"), SEEDED)
def test_batch_equals_scalar(case: dict[str, Any], seed: int, tmp_path: Path) -> None:
    """The id names the seed; ``_random_tiles(..., np.random.default_rng(seed), 12)`` replays."""
    spec = load_case(case, tmp_path)
    rng = np.random.default_rng(seed)
    n = 12
    tiles = _random_tiles(spec, spec.mapping, rng, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpecWarning)
        batch = evaluate_batch(spec, spec.mapping, tiles)
        checked = 0
        for j in range(n):
            mapping = spec.mapping.model_copy(deep=True)
            where = f"seed {seed}, sample {j}, tiles {tiles[:, j]}"
            for loop, tile in zip(loop_nodes(mapping), tiles[:, j], strict=True):
                loop.tile_shape = int(tile)
            try:
                scalar = evaluate_mapping(spec, mapping)
            except InvalidMappingError:
                assert not batch.valid[j], where
                continue
            assert batch.valid[j], where
            checked += 1
            assert math.isclose(batch.energy[j], scalar.energy(), rel_tol=1e-12), where
            assert math.isclose(batch.latency[j], scalar.latency(), rel_tol=1e-12), where
            for einsum, value in scalar.energy(per_einsum=True).items():
                assert math.isclose(batch.einsum_energy[einsum][j], value, rel_tol=1e-12), where
            for row in scalar.breakdown[scalar.breakdown.action != "leak"].itertuples():
                tensor = row.tensor if isinstance(row.tensor, str) else None
                key = (row.einsum, row.component, tensor, row.action)
                count = batch.actions[key][j]
                assert math.isclose(count, row.count, rel_tol=1e-12, abs_tol=1e-9), (key, where)
            for memory, fraction in scalar.peak_usage.items():
                size = spec.evaluate(scalar.einsums[0]).components[memory].size
                if math.isfinite(size):
                    assert math.isclose(
                        batch.peak_bits[memory][j] / size, fraction, rel_tol=1e-12, abs_tol=1e-15
                    ), (memory, where)
    assert checked + int((~batch.valid).sum()) == n, f"seed {seed}"
    assert batch.valid.sum() == checked, f"seed {seed}"


def test_batch_rejects_wrong_tile_array_shape(tmp_path: Path) -> None:
    spec = load_case(TEMPLATES[0], tmp_path)
    with pytest.raises(ValueError, match="tiles must have shape"):
        evaluate_batch(spec, spec.mapping, np.ones((1, 3)))
