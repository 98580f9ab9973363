"""Pmapping exports: every kept pmapping with its usage per memory and its loop nest."""

from __future__ import annotations

import re

import numpy as np

from accelforge import columns as col
from accelforge.mapper import TemplateDone, start
from accelforge.mapper._run.pmapping_details import all_pmapping_details
from tests.mapper.specs import matmul_chain


def test_details_list_every_streamed_pmapping_with_usage_and_loop_nest() -> None:
    spec = matmul_chain(2, 32, 4096)
    run = start(spec, n_workers=1)
    streamed = {}
    for event in run.events():
        if isinstance(event, TemplateDone) and event.rows is not None:
            streamed[event.template] = event.rows
    run.result(timeout=120)
    details = all_pmapping_details(run.pmappings)
    assert len(details) == sum(len(rows) for rows in streamed.values()) > 0
    assert list(details.columns[:3]) == [col.EINSUM, col.TEMPLATE, col.ROW]
    # the same rows as the events, energy for energy
    for template, rows in streamed.items():
        mine = details[details[col.TEMPLATE] == template]
        np.testing.assert_array_equal(mine[col.ENERGY].to_numpy(), rows[col.ENERGY].to_numpy())
    capacity = run.pmappings.context.capacities["GlobalBuffer"]
    for name, einsum in run.pmappings.einsums.items():
        table = einsum.data()
        reserved = table.filter(like="reservation GlobalBuffer").sum(axis=1).to_numpy()
        usage = details.loc[details[col.EINSUM] == name, "usage GlobalBuffer"].to_numpy()
        np.testing.assert_allclose(usage, reserved / capacity)
        assert ((usage >= 0) & (usage <= 1)).all()
        # each loop nest names the Einsum's compute and shows the row's temporal tiles in order
        nests = details.loc[details[col.EINSUM] == name, col.LOOP_NEST].tolist()
        parsed = [col.parse_column(c, ()) for c in table.columns]
        tiles = sorted((c.index, c.name) for c in parsed if c.family == "tile")
        for nest, (_, row) in zip(nests, table.iterrows(), strict=True):
            assert f"compute {name} on MAC" in nest
            shown = [int(t) for t in re.findall(r"tile (\d+)", nest)]
            assert shown == [int(row[c]) for _, c in tiles if not np.isnan(row[c])]
