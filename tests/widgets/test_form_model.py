"""The form model: fields generated from FFM.model_fields, and the two-way binding."""

from __future__ import annotations

import math

import pytest
from accelforge.widgets._fields import metric_options, slider_range
from accelforge.widgets._form_model import METRICS, FormModel

import accelforge as af

FIELDS = af.FFM.field_metadata()

# An invalid value per kind of field (every FFM field has a kind with one).
INVALID = {"bool": 3, "int": -5, "limit": -1, "number": -1.0, "fraction": 1.5}


def test_every_public_field_is_in_the_form_in_order() -> None:
    public = [n for n in af.FFM.model_fields if not n.startswith("_")]
    assert [f.name for f in FIELDS] == public


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f.name)
def test_each_field_has_a_control_a_tooltip_and_an_error_naming_it(field, spec) -> None:
    assert field.kind != "text", "every FFM field maps to a dedicated control"
    assert len(field.description) > 20
    model = FormModel(spec)
    before = model.value(field.name)
    message = model.set(field.name, INVALID[field.kind])
    assert message is not None and f"mapper.ffm.{field.name}" in message
    assert model.error(field.name) == message and not model.valid
    assert model.value(field.name) == before  # the object keeps its last valid value


def test_kinds_follow_annotations_and_bounds() -> None:
    kinds = {f.name: f.kind for f in FIELDS}
    assert kinds["objective_tolerance"] == "fraction"
    assert kinds["resource_usage_tolerance"] == "fraction"
    assert kinds["explore_loop_orders"] == "bool"
    assert kinds["max_fused_loops"] == "limit"
    assert kinds["time_limit"] == "number"
    assert kinds["tiling_coarseness"] == "int"
    tolerance = next(f for f in FIELDS if f.name == "objective_tolerance")
    low, high, step = slider_range(tolerance)
    assert (low, step) == (0.0, 0.01) and high == pytest.approx(0.99)


def test_metric_options_are_every_member_with_documentation() -> None:
    options = metric_options()
    assert [o.name for o in options] == [m.name for m in af.Metrics]
    assert all(o.description for o in options)
    assert [o.name for o in options if not o.objective] == ["ACTIONS", "DETAILED_MEMORY_USAGE"]


def test_form_to_object(spec) -> None:
    model = FormModel(spec)
    seen: list[str] = []
    model.subscribe(seen.append)
    assert model.set("objective_tolerance", 0.05) is None
    assert spec.mapper.ffm.objective_tolerance == 0.05
    assert model.set("max_fused_loops", math.inf) is None
    assert model.set("max_fused_loops", 2) is None and spec.mapper.ffm.max_fused_loops == 2
    assert model.set("explore_loop_orders", False) is None
    assert spec.mapper.ffm.explore_loop_orders is False
    assert seen == [
        "objective_tolerance",
        "max_fused_loops",
        "max_fused_loops",
        "explore_loop_orders",
    ]
    assert model.sync() == []  # the form's own edits are not reported back as changes


def test_object_to_form_by_polling(spec) -> None:
    model = FormModel(spec)
    seen: list[str] = []
    model.subscribe(seen.append)
    spec.mapper.ffm.objective_tolerance = 0.1
    spec.mapper.ffm.max_loops = 7
    assert set(model.sync()) == {"max_loops", "objective_tolerance"}
    assert set(seen) == {"max_loops", "objective_tolerance"}
    assert model.value("objective_tolerance") == 0.1
    assert model.sync() == []


def test_replacing_the_whole_ffm_or_mapper_is_seen(spec) -> None:
    model = FormModel(spec)
    spec.mapper.ffm = af.FFM(tiling_coarseness=4)
    assert model.sync() == ["tiling_coarseness"]
    spec.mapper = af.Mapper(metrics=af.Metrics.LATENCY)
    assert set(model.sync()) == {METRICS, "tiling_coarseness"}
    assert model.value("tiling_coarseness") == 1


def test_a_direct_valid_edit_clears_the_fields_error(spec) -> None:
    model = FormModel(spec)
    assert model.set("objective_tolerance", 2.0) is not None
    assert not model.valid
    spec.mapper.ffm.objective_tolerance = 0.3
    assert model.sync() == ["objective_tolerance"]
    assert model.valid


def test_fixing_the_value_clears_the_error(spec) -> None:
    model = FormModel(spec)
    model.set("tiling_coarseness", 0)
    assert "tiling_coarseness" in model.errors
    assert model.set("tiling_coarseness", 2) is None
    assert model.valid and spec.mapper.ffm.tiling_coarseness == 2


def test_metrics_toggles(spec) -> None:
    model = FormModel(spec)
    assert model.set_metric("RESOURCE_USAGE", True) is None
    assert spec.mapper.metrics == af.Metrics.ENERGY | af.Metrics.LATENCY | af.Metrics.RESOURCE_USAGE
    model.set_metric("ENERGY", False)
    model.set_metric("LATENCY", False)
    message = model.set_metric("RESOURCE_USAGE", False)
    assert message is not None and "at least one optimisation metric" in message
    # refused: the object keeps its last objective and nothing blocks Run
    assert spec.mapper.metrics == af.Metrics.RESOURCE_USAGE and model.valid


def test_a_mapper_can_be_edited_directly() -> None:
    mapper = af.Mapper()
    model = FormModel(mapper)
    model.set("max_loops", 3)
    assert mapper.ffm.max_loops == 3


def test_unknown_names_and_owners_are_refused(spec) -> None:
    with pytest.raises(KeyError, match="objective_tolerance"):
        FormModel(spec).set("objective_tolerence", 0.1)
    with pytest.raises(TypeError, match="Spec or a Mapper"):
        FormModel(object())
