"""``spec.calculate_component_costs()`` with hwcomponents costs: eyeriss and simba."""

from __future__ import annotations

import pytest

from tests.component_costs_check import check_against_reference
from tests.hwcomponents.test_reference_optima import hwc_models  # noqa: F401 - the fixture


@pytest.mark.parametrize("arch", ["eyeriss", "simba"])
def test_hwcomponents_costs_equal_the_references(arch: str, hwc_models: None) -> None:  # noqa: F811
    check_against_reference(arch)
