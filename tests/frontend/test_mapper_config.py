"""The documented mapper configuration: Metrics, FFM and Mapper (docs/MAPPER.md §9)."""

from __future__ import annotations

import importlib
import io
import math
import re
from typing import Any

import numpy as np
import pydantic
import pytest
from ruamel.yaml import YAML

from accelforge.errors import ExpressionError, SpecError
from accelforge.frontend.mapper import FFM, Mapper, Metrics
from accelforge.frontend.mapper.ffm import Expression
from accelforge.frontend.mapper.metrics import MetricsField

INF = float("inf")

# ----------------------------------------------------------------------------------------------
# Metrics

METRICS_TABLE = [
    ("LATENCY", 1),
    ("ENERGY", 2),
    ("DYNAMIC_ENERGY", 4),
    ("LEAK_ENERGY", 8),
    ("RESOURCE_USAGE", 16),
    ("ACTIONS", 32),
    ("DETAILED_MEMORY_USAGE", 64),
    ("ENERGY_DELAY_PRODUCT", 128),
]


def test_metrics_members_are_exactly_the_documented_ones():
    assert [(m.name, m.value) for m in Metrics.__members__.values()] == METRICS_TABLE


@pytest.mark.parametrize(("name", "value"), METRICS_TABLE)
def test_metrics_member_value_and_docstring(name: str, value: int):
    member = Metrics[name]
    assert member.value == value
    assert Metrics(value) is member
    assert member.names() == [name]
    assert member.__doc__ and member.__doc__ == member.description
    assert len(member.__doc__) > 20


def test_metrics_combine_with_or():
    both = Metrics.ENERGY | Metrics.LATENCY
    assert both.value == 3
    assert both == Metrics(3)
    assert Metrics.LATENCY in both and Metrics.ENERGY in both
    assert Metrics.ACTIONS not in both
    assert both.names() == ["LATENCY", "ENERGY"]  # value order, whatever the order given
    assert (Metrics.ENERGY_DELAY_PRODUCT | Metrics.LATENCY).names() == [
        "LATENCY",
        "ENERGY_DELAY_PRODUCT",
    ]
    assert Metrics.all_metrics().value == 255
    assert Metrics.all_metrics().names() == [name for name, _ in METRICS_TABLE]
    assert Metrics(0).names() == []


def test_metrics_objectives_leave_out_information_only_members():
    value = Metrics.ENERGY | Metrics.ACTIONS | Metrics.DETAILED_MEMORY_USAGE
    assert value.objectives() == Metrics.ENERGY
    assert not (Metrics.ACTIONS | Metrics.DETAILED_MEMORY_USAGE).objectives()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (Metrics.ENERGY, Metrics.ENERGY),
        (2, Metrics.ENERGY),
        (3, Metrics.ENERGY | Metrics.LATENCY),
        (255, Metrics.all_metrics()),
        (0, Metrics(0)),
        ("ENERGY", Metrics.ENERGY),
        ("energy", Metrics.ENERGY),
        ("Energy_Delay_Product", Metrics.ENERGY_DELAY_PRODUCT),
        ("Metrics.LATENCY", Metrics.LATENCY),
        ("ENERGY | LATENCY", Metrics.ENERGY | Metrics.LATENCY),
        ("ENERGY|LATENCY|RESOURCE_USAGE", Metrics(19)),
        ("1 | ENERGY", Metrics(3)),
        ("16", Metrics.RESOURCE_USAGE),
        (["ENERGY", "LATENCY"], Metrics(3)),
        (("latency", 2), Metrics(3)),
        ([Metrics.ACTIONS, "ENERGY | LATENCY"], Metrics(35)),
        ([], Metrics(0)),
    ],
)
def test_metrics_parse_forms(given: Any, expected: Metrics):
    assert Metrics.parse(given) == expected


def test_metrics_parse_unknown_name_suggests_and_lists_valid_names():
    with pytest.raises(
        SpecError, match=r"'ENERGI' is not a Metrics name\. Did you mean 'ENERGY'\?"
    ) as info:
        Metrics.parse("ENERGI | LATENCY")
    text = str(info.value)
    for name, _ in METRICS_TABLE:
        assert name in text
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "bad", [256, -1, 1 << 12, True, 1.5, None, "", "ENERGY |", " | ", [["ENERGY"]], {"a": 1}]
)
def test_metrics_parse_rejects(bad: Any):
    with pytest.raises(SpecError):
        Metrics.parse(bad)


def test_metrics_parse_bad_int_names_the_range():
    with pytest.raises(SpecError, match=r"from 0 to 255.*Got 256 instead"):
        Metrics.parse(256)


class _WithMetrics(pydantic.BaseModel):
    value: MetricsField = Metrics.ENERGY


def test_metrics_field_accepts_every_form_and_serialises_to_names():
    assert _WithMetrics(value="energy | latency").value == Metrics(3)
    assert _WithMetrics(value=[1, "ENERGY"]).value == Metrics(3)
    assert _WithMetrics(value=16).value == Metrics.RESOURCE_USAGE
    model = _WithMetrics(value=Metrics.ENERGY | Metrics.LATENCY)
    assert model.model_dump() == {"value": ["LATENCY", "ENERGY"]}
    assert model.model_dump_json() == '{"value":["LATENCY","ENERGY"]}'
    assert _WithMetrics.model_validate_json(model.model_dump_json()) == model
    with pytest.raises(pydantic.ValidationError, match="Did you mean 'LATENCY'"):
        _WithMetrics(value="LATENCI")
    assert "anyOf" in _WithMetrics.model_json_schema()["properties"]["value"]


# ----------------------------------------------------------------------------------------------
# FFM: the table of every documented field. Adding a field without adding it here fails.

E = Expression
FFM_TABLE: list[tuple[str, Any, Any, dict[str, float]]] = [
    ("force_memory_hierarchy_order", True, bool | E, {}),
    ("out_of_order_hierarchy_explore_removing_spatials_for_more_temporals", False, bool | E, {}),
    ("max_fused_loops_per_rank_variable", 1, int | E, {"ge": 0}),
    ("max_fused_loops", INF, int | float | E, {"ge": 0}),
    ("max_loops_minus_ranks", INF, int | float | E, {"ge": 0}),
    ("max_loops", INF, int | float | E, {"ge": 0}),
    ("max_pmapping_templates_per_einsum", INF, int | float | E, {"ge": 1}),
    ("memory_limit_per_process", INF, float | E, {"gt": 0}),
    ("memory_limit", INF, float | E, {"gt": 0}),
    ("time_limit", INF, float | E, {"gt": 0}),
    ("time_limit_per_pmapping_template", INF, float | E, {"gt": 0}),
    ("objective_tolerance", 0.0, float | E, {"ge": 0, "lt": 1}),
    ("resource_usage_tolerance", 0.0, float | E, {"ge": 0, "lt": 1}),
    ("prioritize_reuse_of_unfused_tensors", False, bool | E, {}),
    ("explore_loop_orders", True, bool | E, {}),
    ("explore_imperfect_temporal_loops", False, bool | E, {}),
    ("explore_imperfect_spatial_loops", False, bool | E, {}),
    ("tiling_coarseness", 1, int | E, {"ge": 1}),
]
FFM_NAMES = [row[0] for row in FFM_TABLE]


def _bounds(name: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for item in FFM.model_fields[name].metadata:
        for attr in ("ge", "gt", "le", "lt"):
            if hasattr(item, attr):
                found[attr] = getattr(item, attr)
    return found


def test_ffm_fields_are_exactly_the_table():
    assert list(FFM.model_fields) == FFM_NAMES
    assert not FFM.__private_attributes__


@pytest.mark.parametrize(("name", "default", "annotation", "bounds"), FFM_TABLE)
def test_ffm_field_default_annotation_bounds_and_doc(
    name: str, default: Any, annotation: Any, bounds: dict[str, float]
):
    info = FFM.model_fields[name]
    assert info.annotation == annotation
    assert info.default == default and type(info.default) is type(default)
    assert _bounds(name) == bounds
    assert info.description and len(info.description) > 40, name
    value = getattr(FFM(), name)
    assert value == default and type(value) is type(default)


def test_ffm_config():
    assert issubclass(FFM, pydantic.BaseModel)
    for model in (FFM, Mapper):
        assert model.model_config["use_attribute_docstrings"] is True
        assert model.model_config["validate_assignment"] is True
        assert model.model_config["extra"] == "forbid"


def test_prioritize_reuse_docstring_says_it_prunes_and_can_lose_the_optimum():
    text = FFM.model_fields["prioritize_reuse_of_unfused_tensors"].description or ""
    assert "prunes" in text and "lose the optimal" in text


def _invalid_value(name: str) -> Any:
    """A value that the field's type or bounds refuse."""
    annotation = FFM.model_fields[name].annotation
    return 2 if annotation == bool | E else -1.5


@pytest.mark.parametrize("name", FFM_NAMES)
def test_every_field_names_itself_in_errors_and_accepts_an_expression(name: str):
    bad = _invalid_value(name)
    with pytest.raises(SpecError, match=rf"^mapper\.ffm\.{name}: must be .* Got {bad!r} instead"):
        FFM(**{name: bad})
    ffm = FFM()
    with pytest.raises(SpecError, match=rf"^mapper\.ffm\.{name}: must be "):
        setattr(ffm, name, bad)
    assert getattr(ffm, name) == dict((r[0], r[1]) for r in FFM_TABLE)[name]
    setattr(ffm, name, "SOME_VARIABLE")
    assert getattr(ffm, name) == Expression("SOME_VARIABLE")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"objective_tolerance": -0.1},
            r"objective_tolerance: must be a number >= 0 and < 1\. Got -0\.1",
        ),
        (
            {"objective_tolerance": 1},
            r"objective_tolerance: must be a number >= 0 and < 1\. Got 1 ",
        ),
        ({"resource_usage_tolerance": -1e-9}, r"resource_usage_tolerance: must be a number >= 0"),
        ({"resource_usage_tolerance": 1.0}, r"resource_usage_tolerance: must be .* < 1"),
        ({"max_fused_loops_per_rank_variable": 1.5}, r"must be an integer >= 0\. Got 1\.5"),
        ({"max_fused_loops_per_rank_variable": INF}, r"must be an integer >= 0\. Got inf"),
        ({"max_fused_loops_per_rank_variable": True}, r"must be an integer >= 0\. Got True"),
        ({"max_fused_loops_per_rank_variable": -1}, r"must be an integer >= 0\. Got -1"),
        ({"max_fused_loops": 1.5}, r"max_fused_loops: must be an integer >= 0, or inf\. Got 1\.5"),
        ({"max_loops_minus_ranks": -1}, r"max_loops_minus_ranks: must be an integer >= 0, or inf"),
        ({"max_loops": -INF}, r"max_loops: must be an integer >= 0, or inf\. Got -inf"),
        ({"max_pmapping_templates_per_einsum": 0}, r"must be an integer >= 1, or inf\. Got 0"),
        ({"tiling_coarseness": 0}, r"tiling_coarseness: must be an integer >= 1\. Got 0"),
        ({"tiling_coarseness": False}, r"tiling_coarseness: must be an integer >= 1\. Got False"),
        ({"time_limit": 0}, r"time_limit: must be a number > 0, or inf\. Got 0"),
        ({"memory_limit": -5}, r"memory_limit: must be a number > 0, or inf"),
        ({"memory_limit_per_process": True}, r"memory_limit_per_process: must be a number > 0"),
        ({"time_limit_per_pmapping_template": None}, r"must be a number > 0, or inf\. Got None"),
        ({"objective_tolerance": float("nan")}, r"nan is not allowed"),
        ({"objective_tolerance": "nan"}, r"nan is not allowed"),
        ({"explore_loop_orders": 1}, r"explore_loop_orders: must be true or false\. Got 1"),
        ({"explore_loop_orders": None}, r"must be true or false\. Got None"),
        ({"max_loops": ""}, r"max_loops: must be .* not an empty string"),
        ({"max_loops": [1]}, r"max_loops: must be an integer"),
    ],
)
def test_ffm_range_and_type_errors(settings: dict[str, Any], message: str):
    with pytest.raises(SpecError, match=message) as info:
        FFM(**settings)
    name = next(iter(settings))
    assert info.value.loc == ("mapper", "ffm", name)
    assert info.value.has_value
    assert isinstance(info.value, ValueError)


def test_ffm_several_errors_name_every_field():
    with pytest.raises(SpecError, match=r"Also invalid: mapper\.ffm\.tiling_coarseness") as info:
        FFM(max_fused_loops=1.5, tiling_coarseness=0)
    assert str(info.value).startswith("mapper.ffm.max_fused_loops: must be")
    assert "Got 1.5 instead" in str(info.value)


@pytest.mark.parametrize(
    ("name", "given", "expected"),
    [
        ("max_fused_loops", "inf", INF),
        ("max_fused_loops", "1", 1),
        ("max_fused_loops", 2.0, 2),
        ("max_fused_loops", np.int64(3), 3),
        ("max_pmapping_templates_per_einsum", 5, 5),
        ("max_fused_loops_per_rank_variable", 2.0, 2),
        ("max_fused_loops_per_rank_variable", 0, 0),
        ("tiling_coarseness", "4", 4),
        ("objective_tolerance", "1e-2", 0.01),
        ("objective_tolerance", 0, 0.0),
        ("objective_tolerance", np.float64(0.05), 0.05),
        ("memory_limit", 50_000_000, 5e7),
        ("time_limit", "inf", INF),
        ("explore_loop_orders", False, False),
        ("explore_loop_orders", np.bool_(False), False),
    ],
)
def test_ffm_value_conversions(name: str, given: Any, expected: Any):
    value = getattr(FFM(**{name: given}), name)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize("literal", ["true", "false", "True"])
def test_ffm_bool_literal_strings(literal: str):
    assert FFM(explore_loop_orders=literal).explore_loop_orders is (literal.lower() == "true")


def test_ffm_unknown_field_in_construction():
    with pytest.raises(
        SpecError,
        match=r"'objective_tolerence' is not an FFM setting\. Did you mean 'objective_tolerance'\?",
    ) as info:
        FFM(objective_tolerence=0.1)
    assert isinstance(info.value, ValueError)
    assert info.value.loc == ("mapper", "ffm", "objective_tolerence")
    assert "max_loops_minus_ranks" in str(info.value)  # the allowed names are listed
    with pytest.raises(SpecError, match="Did you mean 'objective_tolerance'"):
        FFM.model_validate({"objective_tolerence": 0.1})


def test_ffm_unknown_field_in_assignment():
    ffm = FFM()
    with pytest.raises(
        SpecError,
        match=r"'objective_tolerence' is not an FFM setting\. Did you mean 'objective_tolerance'\?",
    ):
        ffm.objective_tolerence = 0.1  # type: ignore[attr-defined]
    assert not hasattr(ffm, "objective_tolerence")


def test_ffm_metrics_and_private_knobs_have_hints():
    with pytest.raises(
        SpecError, match=r"'metrics' is a Mapper setting: set it as mapper\.metrics"
    ):
        FFM(metrics="ENERGY")
    with pytest.raises(SpecError, match="Private AccelForge settings are not supported"):
        FFM(_can_lower_outermost_memory=True)


def test_ffm_validate_assignment():
    ffm = FFM()
    ffm.objective_tolerance = 0.05
    assert ffm.objective_tolerance == 0.05
    ffm.max_fused_loops = "2"
    assert ffm.max_fused_loops == 2
    with pytest.raises(SpecError, match=r"objective_tolerance: must be a number >= 0 and < 1"):
        ffm.objective_tolerance = -1
    assert ffm.objective_tolerance == 0.05  # unchanged after a refused assignment
    with pytest.raises(SpecError):
        ffm.tiling_coarseness = 0
    assert ffm.tiling_coarseness == 1


def test_ffm_expressions_are_kept():
    ffm = FFM(max_fused_loops="N_FUSED - 1", objective_tolerance="TOL", explore_loop_orders="ORD")
    assert isinstance(ffm.max_fused_loops, Expression)
    assert ffm.max_fused_loops == "N_FUSED - 1"
    assert repr(ffm.max_fused_loops) == "Expression('N_FUSED - 1')"
    assert ffm.expressions() == {
        "max_fused_loops": "N_FUSED - 1",
        "objective_tolerance": "TOL",
        "explore_loop_orders": "ORD",
    }
    assert FFM().expressions() == {}
    assert ffm.model_dump()["max_fused_loops"] == "N_FUSED - 1"
    assert type(ffm.model_dump()["max_fused_loops"]) is str
    assert FFM.model_validate(ffm.model_dump()) == ffm


def _expressions_module() -> Any:
    try:
        return importlib.import_module("accelforge.frontend._expressions")
    except ImportError:
        pytest.skip("accelforge.frontend._expressions is not available yet")


def test_ffm_evaluate_with_scope():
    _expressions_module()
    ffm = FFM(max_fused_loops="N_FUSED - 1", objective_tolerance="TOL * 2", tiling_coarseness=2)
    done = ffm.evaluate({"N_FUSED": 3, "TOL": 0.025})
    assert done.max_fused_loops == 2 and type(done.max_fused_loops) is int
    assert done.objective_tolerance == pytest.approx(0.05)
    assert done.tiling_coarseness == 2
    assert done.expressions() == {}
    assert isinstance(ffm.max_fused_loops, Expression)  # the original is unchanged
    assert FFM(time_limit=3).evaluate({}) == FFM(time_limit=3)


def test_ffm_evaluate_errors_name_the_field():
    _expressions_module()
    ffm = FFM(objective_tolerance="TOL * 2")
    with pytest.raises(
        SpecError, match=r"^mapper\.ffm\.objective_tolerance: must be a number >= 0"
    ):
        ffm.evaluate({"TOL": 0.6})
    with pytest.raises(ExpressionError) as info:
        ffm.evaluate({})  # TOL is not defined
    assert info.value.loc[:3] == ("mapper", "ffm", "objective_tolerance")
    assert str(info.value).startswith("mapper.ffm.objective_tolerance")
    with pytest.raises(SpecError, match=r"^mapper\.ffm\.max_fused_loops: must be an integer"):
        FFM(max_fused_loops="N / 2").evaluate({"N": 3})


# ----------------------------------------------------------------------------------------------
# Mapper


def test_mapper_defaults():
    mapper = Mapper()
    assert mapper.metrics == Metrics.ENERGY
    assert mapper.info_metrics == Metrics.all_metrics()
    assert mapper.ffm == FFM()
    assert Mapper.from_section(None) == mapper
    assert Mapper.from_section({}) == mapper
    assert list(Mapper.model_fields) == ["metrics", "info_metrics", "ffm"]
    for info in Mapper.model_fields.values():
        assert info.description


KNOBS = {"objective_tolerance": 0.05, "max_fused_loops": 1, "time_limit": "inf"}


def test_mapper_three_layouts_load_equal():
    ours = Mapper.from_section(
        {"metrics": "ENERGY | LATENCY", "info_metrics": ["ENERGY"], "ffm": dict(KNOBS)}
    )
    accelforge_1_0 = Mapper.from_section({"ffm": {"metrics": 3, "info_metrics": "ENERGY", **KNOBS}})
    later = Mapper.from_section({"metrics": ["latency", "energy"], "info_metrics": 2, **KNOBS})
    assert ours == accelforge_1_0 == later
    assert ours.metrics == Metrics.ENERGY | Metrics.LATENCY
    assert ours.info_metrics == Metrics.ENERGY
    assert ours.ffm.objective_tolerance == 0.05
    assert ours.ffm.max_fused_loops == 1
    assert ours.ffm.time_limit == INF
    mixed = Mapper.from_section(
        {
            "metrics": 3,
            "max_fused_loops": 1,
            "time_limit": INF,
            "ffm": {"info_metrics": 2, "objective_tolerance": 0.05},
        }
    )
    assert mixed == ours


def test_mapper_loads_an_accelforge_1_0_467_dump():
    # The `mapper` settings recorded with every AccelForge 1.0.467 oracle case.
    section = {
        "metrics": ["ENERGY"],
        "ffm": {
            "metrics": ["ENERGY"],
            "info_metrics": [name for name, _ in METRICS_TABLE],
            "force_memory_hierarchy_order": True,
            "out_of_order_hierarchy_explore_removing_spatials_for_more_temporals": False,
            "max_fused_loops_per_rank_variable": 1.0,
            "tiling_coarseness": 1.0,
            "max_fused_loops": "inf",
            "max_loops": "inf",
            "max_loops_minus_ranks": "inf",
            "explore_loop_orders": True,
            "memory_limit": "inf",
            "memory_limit_per_process": "inf",
            "time_limit": "inf",
            "time_limit_per_pmapping_template": "inf",
            "max_pmapping_templates_per_einsum": "inf",
            "explore_imperfect_spatial_loops": False,
            "explore_imperfect_temporal_loops": False,
            "prioritize_reuse_of_unfused_tensors": False,
            "objective_tolerance": 0.0,
            "resource_usage_tolerance": 0.0,
        },
    }
    assert set(section["ffm"]) == {*FFM_NAMES, "metrics", "info_metrics"}
    assert Mapper.from_section(section) == Mapper()


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            {"metrics": "ENERGY", "ffm": {"metrics": "LATENCY"}},
            r"'metrics' is given twice with different values: ENERGY at mapper\.metrics and "
            r"LATENCY at mapper\.ffm\.metrics",
        ),
        (
            {"info_metrics": 1, "ffm": {"info_metrics": 3}},
            r"'info_metrics' is given twice with different values: LATENCY at "
            r"mapper\.info_metrics and LATENCY \| ENERGY at mapper\.ffm\.info_metrics",
        ),
        (
            {"max_fused_loops": 1, "ffm": {"max_fused_loops": 2}},
            r"'max_fused_loops' is given twice with different values: 1 at "
            r"mapper\.max_fused_loops and 2 at mapper\.ffm\.max_fused_loops",
        ),
        (
            {"objective_tolerance": "TOL", "ffm": {"objective_tolerance": 0.1}},
            r"'objective_tolerance' is given twice with different values: 'TOL' at",
        ),
    ],
)
def test_mapper_conflicting_duplicates(section: dict[str, Any], message: str):
    with pytest.raises(SpecError, match=message):
        Mapper.from_section(section)


def test_mapper_equal_duplicates_are_fine():
    mapper = Mapper.from_section(
        {
            "metrics": "ENERGY",
            "max_fused_loops": "inf",
            "tiling_coarseness": 2,
            "ffm": {"metrics": 2, "max_fused_loops": INF, "tiling_coarseness": 2.0},
        }
    )
    assert mapper.metrics == Metrics.ENERGY
    assert mapper.ffm.tiling_coarseness == 2


@pytest.mark.parametrize(
    ("section", "message", "loc"),
    [
        (
            {"max_fused_loop": 1},
            r"'max_fused_loop' is not a mapper setting\. Did you mean 'max_fused_loops'\?",
            ("mapper", "max_fused_loop"),
        ),
        ({"fmm": {}}, r"'fmm' is not a mapper setting\. Did you mean 'ffm'\?", ("mapper", "fmm")),
        ({"metric": "ENERGY"}, r"Did you mean 'metrics'\?", ("mapper", "metric")),
        (
            {"ffm": {"objective_tolerence": 0.1}},
            r"'objective_tolerence' is not an FFM setting\. Did you mean 'objective_tolerance'\?",
            ("mapper", "ffm", "objective_tolerence"),
        ),
        (
            {"ffm": {"info_metric": 1}},
            r"Did you mean 'info_metrics'\?",
            ("mapper", "ffm", "info_metric"),
        ),
    ],
)
def test_mapper_unknown_keys(section: dict[str, Any], message: str, loc: tuple[str, ...]):
    with pytest.raises(SpecError, match=message) as info:
        Mapper.from_section(section)
    assert info.value.loc == loc


@pytest.mark.parametrize(
    ("section", "message", "loc"),
    [
        (
            {"max_fused_loops": -1},
            r"must be an integer >= 0, or inf",
            ("mapper", "max_fused_loops"),
        ),
        (
            {"ffm": {"max_fused_loops": -1}},
            r"must be an integer",
            ("mapper", "ffm", "max_fused_loops"),
        ),
        ({"metrics": "ENERGI"}, r"Did you mean 'ENERGY'\?", ("mapper", "metrics")),
        ({"ffm": {"metrics": 512}}, r"from 0 to 255", ("mapper", "ffm", "metrics")),
        ({"metrics": "ACTIONS"}, r"at least one optimisation metric", ("mapper", "metrics")),
        ({"metrics": []}, r"at least one optimisation metric", ("mapper", "metrics")),
        ({"ffm": 3}, r"must be a mapping of FFM settings", ("mapper", "ffm")),
        (["metrics"], r"must be a mapping of mapper settings", ("mapper",)),
    ],
)
def test_mapper_bad_values_name_where_they_were_written(
    section: Any, message: str, loc: tuple[str, ...]
):
    with pytest.raises(SpecError, match=message) as info:
        Mapper.from_section(section)
    assert info.value.loc == loc
    assert str(info.value).startswith(".".join(loc))


def test_mapper_assignment():
    mapper = Mapper()
    mapper.metrics = Metrics.ENERGY | Metrics.LATENCY
    assert mapper.metrics == Metrics(3)
    mapper.metrics = "latency | energy_delay_product"
    assert mapper.metrics == Metrics.LATENCY | Metrics.ENERGY_DELAY_PRODUCT
    mapper.ffm.objective_tolerance = 0.05
    assert mapper.ffm.objective_tolerance == 0.05
    with pytest.raises(SpecError, match=r"^mapper\.metrics: 'ENERGI' is not a Metrics name"):
        mapper.metrics = "ENERGI"
    mapper.max_fused_loops = 1  # an FFM knob set directly on the mapper, as in AccelForge
    assert mapper.ffm.max_fused_loops == 1
    assert mapper.max_fused_loops == 1
    mapper.ffm.max_fused_loops = 2
    assert mapper.max_fused_loops == 2
    with pytest.raises(SpecError, match=r"^mapper\.ffm\.max_fused_loops: must be an integer >= 0"):
        mapper.max_fused_loops = -1
    with pytest.raises(
        SpecError, match=r"'metric' is not a mapper setting\. Did you mean 'metrics'\?"
    ):
        mapper.metric = 1  # type: ignore[attr-defined]
    mapper.ffm = FFM(max_fused_loops=0)  # type: ignore[assignment]
    assert mapper.ffm.max_fused_loops == 0
    with pytest.raises(SpecError, match="objective_tolerence"):
        mapper.ffm = {"objective_tolerence": 1}  # type: ignore[assignment]


def test_mapper_keeps_a_given_ffm_instance():
    ffm = FFM(max_fused_loops=1)
    mapper = Mapper(metrics="LATENCY", ffm=ffm)
    assert mapper.ffm is ffm
    merged = Mapper.from_section({"ffm": ffm, "objective_tolerance": 0.1})
    assert merged.ffm == FFM(max_fused_loops=1, objective_tolerance=0.1)


def test_mapper_to_section_is_layout_one_with_plain_values():
    mapper = Mapper.from_section(
        {"metrics": "ENERGY | LATENCY", "max_fused_loops": 2, "objective_tolerance": "TOL"}
    )
    section = mapper.to_section()
    assert section["metrics"] == ["LATENCY", "ENERGY"]
    assert section["info_metrics"] == [name for name, _ in METRICS_TABLE]
    assert list(section["ffm"]) == FFM_NAMES
    assert section["ffm"]["max_fused_loops"] == 2
    assert section["ffm"]["time_limit"] == INF and type(section["ffm"]["time_limit"]) is float
    assert type(section["ffm"]["objective_tolerance"]) is str
    assert Mapper.from_section(section) == mapper


def test_mapper_inf_round_trip_through_yaml():
    mapper = Mapper.from_section(
        {"metrics": ["ENERGY", "LATENCY"], "ffm": {"max_loops": 7, "memory_limit": 1e9}}
    )
    yaml = YAML(typ="safe")
    stream = io.StringIO()
    yaml.dump({"mapper": mapper.to_section()}, stream)
    text = stream.getvalue()
    assert ".inf" in text
    loaded = yaml.load(text)["mapper"]
    assert math.isinf(loaded["ffm"]["max_fused_loops"])
    again = Mapper.from_section(loaded)
    assert again == mapper
    assert again.ffm.max_fused_loops == INF and again.ffm.max_loops == 7


def test_mapper_model_dump_round_trip():
    mapper = Mapper(metrics="ENERGY | RESOURCE_USAGE", ffm={"resource_usage_tolerance": 0.1})
    dumped = mapper.model_dump()
    assert dumped["metrics"] == ["ENERGY", "RESOURCE_USAGE"]
    assert Mapper.model_validate(dumped) == mapper


# ----------------------------------------------------------------------------------------------
# Module paths and exports


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("accelforge.frontend.mapper.ffm", "FFM"),
        ("accelforge.frontend.mapper.metrics", "Metrics"),
        ("accelforge.frontend.mapper.mapper", "Mapper"),
        ("accelforge.frontend.mapper", "FFM"),
        ("accelforge.frontend.mapper", "Metrics"),
        ("accelforge.frontend.mapper", "Mapper"),
    ],
)
def test_documented_module_paths(module: str, name: str):
    assert (
        getattr(importlib.import_module(module), name)
        is {"FFM": FFM, "Metrics": Metrics, "Mapper": Mapper}[name]
    )


def test_package_all_is_sorted_and_public():
    package = importlib.import_module("accelforge.frontend.mapper")
    assert package.__all__ == sorted(package.__all__) == ["FFM", "Mapper", "Metrics"]


# ----------------------------------------------------------------------------------------------
# Field metadata, read once (accelforge/frontend/mapper/fields.py)


def test_field_metadata_of_named_ffm_fields():
    fields = {f.name: f for f in FFM.field_metadata()}
    assert list(fields) == FFM_NAMES

    def summary(name: str) -> tuple[Any, ...]:
        f = fields[name]
        return (f.kind, f.minimum, f.min_inclusive, f.maximum, f.max_inclusive, f.unit)

    assert summary("time_limit") == ("number", 0, False, None, True, "s")
    assert summary("time_limit_per_pmapping_template") == ("number", 0, False, None, True, "s")
    assert summary("memory_limit") == ("number", 0, False, None, True, "B")
    assert summary("memory_limit_per_process") == ("number", 0, False, None, True, "B")
    assert summary("objective_tolerance") == ("fraction", 0, True, 1, False, None)
    assert summary("max_fused_loops") == ("limit", 0, True, None, True, None)
    assert summary("max_pmapping_templates_per_einsum") == ("limit", 1, True, None, True, None)
    assert summary("tiling_coarseness") == ("int", 1, True, None, True, None)
    assert summary("explore_loop_orders") == ("bool", None, True, None, True, None)
    assert fields["time_limit"].allows_unlimited and fields["max_loops"].allows_unlimited
    assert not fields["objective_tolerance"].allows_unlimited
    assert fields["objective_tolerance"].label == "objective tolerance"


@pytest.mark.parametrize(("name", "default", "annotation", "bounds"), FFM_TABLE)
def test_field_metadata_matches_the_pydantic_field(
    name: str, default: Any, annotation: Any, bounds: dict[str, float]
):
    meta = {f.name: f for f in FFM.field_metadata()}[name]
    info = FFM.model_fields[name]
    assert meta.default == default and type(meta.default) is type(default)
    assert meta.description == " ".join((info.description or "").split())
    lower = bounds.get("ge", bounds.get("gt"))
    upper = bounds.get("le", bounds.get("lt"))
    assert (meta.minimum, meta.maximum) == (lower, upper)
    assert meta.min_inclusive == ("gt" not in bounds)
    assert meta.max_inclusive == ("lt" not in bounds)
    # the unit is stated in the docstring, and every docstring that states one has it
    text = info.description or ""
    assert meta.unit == ("s" if "in seconds" in text else "B" if "in bytes" in text else None)


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("max_loops", "an integer >= 0, or inf"),
        ("tiling_coarseness", "an integer >= 1"),
        ("time_limit", "a number > 0, or inf"),
        ("objective_tolerance", "a number >= 0 and < 1"),
        ("explore_loop_orders", "true or false"),
    ],
)
def test_validation_messages_come_from_the_field_metadata(name: str, allowed: str):
    meta = {f.name: f for f in FFM.field_metadata()}[name]
    assert meta.allowed_text() == allowed
    with pytest.raises(SpecError, match=rf"must be {re.escape(allowed)}\."):
        FFM(**{name: 3 if meta.kind == "bool" else -7})
