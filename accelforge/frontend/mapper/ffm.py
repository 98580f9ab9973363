"""The knobs of the Fast and Fusiest mapper: :class:`FFM` (``spec.mapper.ffm``).

Every field is typed, defaulted, bounded and documented; the Jupyter form and the docs read
them from ``FFM.model_fields``. Any field may also hold an :class:`Expression` (a string that is
not a plain literal), evaluated with the spec's variables by :meth:`FFM.evaluate`. Bad values
and unknown names raise :class:`~accelforge.errors.SpecError` (a ``ValueError``) naming the
field (``mapper.ffm.objective_tolerance``), the value and what is allowed.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal, get_args

import annotated_types
import pydantic
from pydantic import ConfigDict, Field, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import CoreSchema, core_schema
from typing_extensions import Self

from accelforge.errors import SpecError, did_you_mean, format_loc

__all__ = ["FFM", "Expression"]

_INF = float("inf")


class Expression(str):
    """A setting given as an expression string, kept unevaluated until :meth:`FFM.evaluate`.

    A string that reads as a literal (``"inf"``, ``"1e-2"``, ``"true"``) is converted to that
    value instead; every other string becomes an ``Expression``.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Expression({str.__repr__(self)})"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                str, return_schema=core_schema.str_schema()
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: CoreSchema, handler: Any) -> dict[str, Any]:
        return {"type": "string", "description": "An expression over the spec's variables."}

    @classmethod
    def _validate(cls, value: Any) -> Expression:
        if isinstance(value, str):
            return cls(value)
        raise ValueError("an expression must be a string")


def _parse_literal(text: str) -> tuple[bool, Any]:
    """``(True, value)`` when ``text`` is a number/bool/inf/nan literal, else ``(False, None)``."""
    from accelforge.frontend._expressions import parse_literal

    is_literal, value = parse_literal(text)
    return bool(is_literal), value


def _plain_number(value: Any) -> Any:
    """Unwrap a numpy scalar into the equivalent Python value."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        return value.item()
    return value


# ----------------------------------------------------------------------------------------------
# Shared behaviour of the mapper configuration models (FFM here, Mapper in mapper.py)


def _problem_to_error(problem: Mapping[str, Any], loc: tuple[str, ...]) -> SpecError:
    """One entry of ``ValidationError.errors()`` as a :class:`SpecError` with a full path."""
    where = (*loc, *(str(part) for part in problem.get("loc", ())))
    inner = (problem.get("ctx") or {}).get("error")
    if isinstance(inner, SpecError):
        return inner.with_location(loc_prefix=where)
    return SpecError(f"{problem['msg']}.", loc=where, value=problem.get("input"))


def _to_spec_error(err: pydantic.ValidationError, loc: tuple[str, ...]) -> SpecError:
    """Convert a pydantic ``ValidationError``: the first problem, naming the others' paths."""
    problems = err.errors(include_url=False)
    first = _problem_to_error(problems[0], loc)
    if len(problems) > 1:
        others = [format_loc(_problem_to_error(p, loc).loc) for p in problems[1:]]
        if first.has_value and "Got " not in first.message:
            first.message += f" Got {first.value!r} instead."
        first.message += f" Also invalid: {', '.join(others)}."
        first.args = (str(first),)
    return first


_CONFIG = ConfigDict(use_attribute_docstrings=True, validate_assignment=True, extra="forbid")


class _ConfigModel(pydantic.BaseModel):
    """Base of :class:`FFM` and ``Mapper``: every error reaches the user as a SpecError."""

    model_config = _CONFIG

    _LOC: ClassVar[tuple[str, ...]] = ()
    """The path of this object in a spec (``("mapper", "ffm")``), the prefix of error paths."""

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as err:
            raise _to_spec_error(err, type(self)._LOC) from None

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        """Validate ``obj`` (a mapping); problems raise :class:`SpecError`."""
        try:
            return super().model_validate(obj, **kwargs)
        except pydantic.ValidationError as err:
            raise _to_spec_error(err, cls._LOC) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or name in type(self).model_fields:
            try:
                super().__setattr__(name, value)
            except pydantic.ValidationError as err:
                raise _to_spec_error(err, type(self)._LOC) from None
            return
        raise type(self)._unknown_setting(name)

    @model_validator(mode="before")
    @classmethod
    def _prepare(cls, data: Any) -> Any:
        return cls._prepare_input(data)

    @classmethod
    def _prepare_input(cls, data: Any) -> Any:
        """Check the input before field validation (subclasses extend this)."""
        if not isinstance(data, Mapping):
            raise SpecError(
                f"must be a mapping of {cls.__name__} settings.", loc=cls._LOC, value=data
            )
        for key in data:
            if key not in cls.model_fields:
                raise cls._unknown_setting(key)
        return data

    @classmethod
    def _unknown_setting(cls, name: Any) -> SpecError:
        """The error for a key or attribute that is not a field."""
        known = [field for field in cls.model_fields if not field.startswith("_")]
        return SpecError(
            f"'{name}' is not {cls._setting_noun()}.{did_you_mean(str(name), known)}"
            f"{cls._unknown_hint(str(name))}",
            loc=(*cls._LOC, str(name)),
            allowed=", ".join(sorted(known)),
        )

    @classmethod
    def _setting_noun(cls) -> str:
        return f"a {cls.__name__} setting"

    @classmethod
    def _unknown_hint(cls, name: str) -> str:
        return ""


# ----------------------------------------------------------------------------------------------
# Field kinds and bounds, read from the annotations and Field(...) metadata

_Kind = Literal["bool", "int", "int_or_inf", "float"]
_Check = Callable[[float, float], bool]
_OPS: dict[type[Any], tuple[str, str, _Check]] = {
    annotated_types.Ge: ("ge", ">=", lambda v, b: v >= b),
    annotated_types.Gt: ("gt", ">", lambda v, b: v > b),
    annotated_types.Le: ("le", "<=", lambda v, b: v <= b),
    annotated_types.Lt: ("lt", "<", lambda v, b: v < b),
}


def _kind(annotation: Any) -> _Kind:
    types = {t for t in get_args(annotation) or (annotation,) if t is not Expression}
    if types == {bool}:
        return "bool"
    if types == {int}:
        return "int"
    if types == {int, float}:
        return "int_or_inf"
    if types == {float}:
        return "float"
    raise TypeError(f"FFM field type {annotation!r} is not supported")  # a programming error


def _bounds(info: FieldInfo) -> list[tuple[str, float, _Check]]:
    """``(operator text, bound, check)`` for each bound in the field's metadata."""
    found = []
    for item in info.metadata:
        for cls, (attr, text, check) in _OPS.items():
            if isinstance(item, cls):
                found.append((text, getattr(item, attr), check))
    return found


def _allowed_text(info: FieldInfo) -> str:
    """What a field accepts, in words (``"an integer >= 0, or inf"``); used in messages."""
    kind = _kind(info.annotation)
    if kind == "bool":
        return "true or false"
    bounds = _bounds(info)
    text = {"int": "an integer", "int_or_inf": "an integer", "float": "a number"}[kind]
    if bounds:
        text += " " + " and ".join(f"{op} {bound:g}" for op, bound, _ in bounds)
    has_upper = any(op in ("<", "<=") for op, _, _ in bounds)
    if kind == "int_or_inf" or (kind == "float" and not has_upper):
        text += ", or inf"
    return text


def _coerce(info: FieldInfo, value: Any) -> Any:
    """Check one FFM value; return it in canonical form (int, float, bool or Expression)."""
    if isinstance(value, Expression):
        return value
    value = _plain_number(value)
    allowed = _allowed_text(info)
    if isinstance(value, str):
        if not value.strip():
            raise SpecError(
                f"must be {allowed}, or an expression; not an empty string.", value=value
            )
        is_literal, literal = _parse_literal(value)
        if not is_literal:
            return Expression(value)
        value = literal
    kind = _kind(info.annotation)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        raise SpecError(f"must be {allowed}.", value=value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SpecError(f"must be {allowed}.", value=value)
    number = float(value)
    if math.isnan(number):
        raise SpecError(f"must be {allowed}; nan is not allowed.", value=value)
    result: int | float
    if kind == "float":
        result = number
    elif isinstance(value, numbers.Integral):
        result = int(value)
    elif number.is_integer():
        result = int(number)
    elif kind == "int_or_inf" and math.isinf(number):
        result = number
    else:
        raise SpecError(f"must be {allowed}.", value=value)
    for _, bound, check in _bounds(info):
        if not check(result, bound):
            raise SpecError(f"must be {allowed}.", value=value)
    return result


class FFM(_ConfigModel):
    """Configuration of the Fast and Fusiest mapper (``spec.mapper.ffm``).

    The defaults explore the full documented mapspace exactly. Limits (``max_*``) shrink the
    mapspace; ``memory_limit*`` and ``time_limit*`` bound the run cooperatively (the run
    returns what it found, with a status); the tolerances trade exactness for speed within a
    stated bound. ``inf`` means "no limit" (``inf`` in YAML, ``float("inf")`` in Python).

    Any value may be an expression string over the spec's variables (``"2 * N_FUSED"``); it is
    kept as an :class:`Expression` until :meth:`evaluate`.
    """

    model_config = _CONFIG
    _LOC: ClassVar[tuple[str, ...]] = ("mapper", "ffm")

    force_memory_hierarchy_order: bool | Expression = True
    """If true, storage nodes of inner (lower-level) memories must be placed below the storage
    nodes of outer (higher-level) memories: for example, every MainMemory storage node goes
    above every LocalBuffer storage node. It applies between two memories whose own
    ``tensors.force_memory_hierarchy_order`` is also true, and not to persistent tensors.

    Whatever the setting, storage nodes of the same tensor always follow the hierarchy
    (MainMemory keeping Output stays above LocalBuffer keeping Output), and so does an outer
    memory's node that backs a fusable tensor. Turning this off permits, for example,
    MainMemory keeping Output below LocalBuffer keeping Input: more templates, a larger
    mapspace."""

    out_of_order_hierarchy_explore_removing_spatials_for_more_temporals: bool | Expression = False
    """When the hierarchy order is relaxed (``force_memory_hierarchy_order`` off, here or for
    a memory), a spatial fanout can end up above a storage node whose memory does not have
    that fanout. A temporal loop between that spatial loop and the storage node may then not
    iterate over a rank variable of the spatial loop that indexes the node's tensor (the
    node's tile would not be contiguous).

    By default the mapper resolves each such conflict by not placing the temporal loop. If
    true, it also explores removing the spatial loop so that the temporal loop can be placed.
    No effect when the hierarchy order is forced or the architecture has no fanout."""

    max_fused_loops_per_rank_variable: int | Expression = Field(default=1, ge=0)
    """The maximum number of non-trivial fused loops over any one rank variable in a
    pmapping. Fused loops are those shared with the Einsums fused with this one (above the
    backing storage of a fused tensor). Larger values explore more tilings of the fused
    region, at the cost of more pmappings."""

    max_fused_loops: int | float | Expression = Field(default=_INF, ge=0)
    """The maximum total number of non-trivial fused loops in a pmapping. 0 allows fusion
    without tiling (no loops in the fused region). ``inf``: no limit."""

    max_loops_minus_ranks: int | float | Expression = Field(default=_INF, ge=0)
    """The maximum total number of non-trivial loops (temporal and spatial) in a pmapping minus
    the number of its rank variables (those with a bound > 1). For example, 3 allows up to
    (number of ranks + 3) loops and 0 allows one non-trivial loop per rank variable.
    ``inf``: no limit."""

    max_loops: int | float | Expression = Field(default=_INF, ge=0)
    """The maximum total number of non-trivial loops (temporal and spatial) in a pmapping.
    ``inf``: no limit."""

    max_pmapping_templates_per_einsum: int | float | Expression = Field(default=_INF, ge=1)
    """The maximum number of pmapping templates per Einsum (and compute unit). Once this many
    templates are generated, in a deterministic order, the mapper stops generating more for
    that Einsum, and the run status and a warning say the mapspace was capped. A debugging aid
    (why are so many templates generated?): the kept subset is biased by the enumeration
    order. ``inf``: no cap."""

    memory_limit_per_process: float | Expression = Field(default=_INF, gt=0)
    """The memory, in bytes, that each of the mapper's worker processes may use. A worker that
    would exceed it stops its current unit of work, reports that unit as memory-limited
    (keeping the pmappings already final) and goes on with the next one; the calling process
    is never killed. ``inf``: no limit."""

    memory_limit: float | Expression = Field(default=_INF, gt=0)
    """The memory, in bytes, for the whole mapper run, the join included. Each worker process
    may use min(``memory_limit_per_process``, ``memory_limit`` / number of workers).
    ``inf``: no limit."""

    time_limit: float | Expression = Field(default=_INF, gt=0)
    """The wall-clock time, in seconds, for the whole mapper call. Once it runs out no new work
    starts and running work stops; pmapping generation stops at 80 % of the budget so the join
    can run on what was found. The run returns with status ``TIME_LIMIT`` and the best
    mappings found so far. ``inf``: no limit."""

    time_limit_per_pmapping_template: float | Expression = Field(default=_INF, gt=0)
    """The wall-clock time, in seconds, for exploring the tile shapes of one pmapping
    template. A template that runs out stops, keeps the pmappings already final and is marked
    truncated; the run goes on with the next template. ``inf``: no limit."""

    objective_tolerance: float | Expression = Field(default=0.0, ge=0, lt=1)
    """The mapper may return mappings up to (1 + ``objective_tolerance``) times optimal: every
    point of the exact Pareto front is matched by a returned mapping within that factor in
    every objective. Larger values treat more near-equal pmappings as equal and prune them,
    cutting memory use and runtime. 0 is exact. Must be at least 0 and below 1."""

    resource_usage_tolerance: float | Expression = Field(default=0.0, ge=0, lt=1)
    """The mapper may drop mappings that use more than (1 - ``resource_usage_tolerance``) of
    the capacity of some memory; every Pareto-optimal mapping using less than that is kept (it
    is matched by a returned mapping no worse in every objective). Larger values prune more,
    cutting memory use and runtime. Applies to pmapping generation and to the join. Ignored
    when ``RESOURCE_USAGE`` is one of the metrics (``objective_tolerance`` then applies to
    resource usage). 0 is exact. Must be at least 0 and below 1."""

    prioritize_reuse_of_unfused_tensors: bool | Expression = False
    """If true, at every memory without ``tensor_order_options``, the storage nodes of unfused
    tensors (tensors also kept by a memory above) are placed above those of fused tensors, so
    the mapper avoids mappings that re-fetch unfused tensors in order to use smaller tiles of
    fused tensors. This prunes the mapspace: the mapper runs faster but can lose the optimal
    mapping (a measured case got 4 % worse energy)."""

    explore_loop_orders: bool | Expression = True
    """If true, between two storage nodes each partially relevant rank variable (such as a
    convolution window) is tried as the first loop, since for those variables the loop order
    changes buffer occupancy. If false, one canonical order is used: fewer templates, possibly
    worse mappings. No effect on workloads without partially relevant rank variables (such as
    matrix multiplications)."""

    explore_imperfect_temporal_loops: bool | Expression = False
    """If true, temporal loops over simple rank variables may use tile shapes that do not
    divide the enclosing tile (the outermost loop of the variable takes the remainder), e.g. a
    tile of 3 for a rank of 10. A much larger mapspace; if false, only tile shapes that divide
    the enclosing tile are explored."""

    explore_imperfect_spatial_loops: bool | Expression = False
    """Like ``explore_imperfect_temporal_loops``, for spatial loops: a fanout may be used with
    a tile shape that does not divide the rank (e.g. all 4 MACs for a rank of 10, tiles of
    3). Templates then get a temporal loop below each fanout's spatial loops, where each
    instance walks its part, and the spatial loop may take the remainder when it is the
    outermost non-trivial loop of its variable."""

    tiling_coarseness: int | Expression = Field(default=1, ge=1)
    """Coarsens the tile shapes explored: with a value c > 1, each candidate tile shape is at
    least c times the previous one (c = 4 for a rank of 64 gives 1, 4, 16, 64). The full
    enclosing size is always a candidate. 1 explores every candidate; larger values shrink the
    mapspace and may miss the optimal mapping."""

    @field_validator("*", mode="wrap")
    @classmethod
    def _validate_setting(
        cls, value: Any, handler: pydantic.ValidatorFunctionWrapHandler, info: Any
    ) -> Any:
        name = str(info.field_name)
        try:
            value = _coerce(cls.model_fields[name], value)
        except SpecError as err:
            raise err.with_location(loc_prefix=(*cls._LOC, name)) from None
        if isinstance(value, Expression):
            return value
        return handler(value)

    @classmethod
    def _setting_noun(cls) -> str:
        return "an FFM setting"

    @classmethod
    def _unknown_hint(cls, name: str) -> str:
        if name in ("metrics", "info_metrics"):
            return f" '{name}' is a Mapper setting: set it as mapper.{name}."
        if name.startswith("_"):
            return " Private AccelForge settings are not supported."
        return ""

    def expressions(self) -> dict[str, Expression]:
        """The settings that still hold an unevaluated :class:`Expression`, by field name."""
        return {
            name: value
            for name in type(self).model_fields
            if isinstance(value := getattr(self, name), Expression)
        }

    def evaluate(
        self,
        scope: Mapping[str, Any],
        *,
        functions: Mapping[str, Callable[..., Any]] | None = None,
    ) -> FFM:
        """Return a copy with every :class:`Expression` evaluated in ``scope`` and validated.

        ``functions`` are extra callables for the expressions
        (``config.expression_custom_functions``).

        Raises
        ------
        SpecError
            If an expression fails (an :class:`~accelforge.errors.ExpressionError`) or gives a
            value the field does not accept; the error names the field
            (``mapper.ffm.objective_tolerance``).
        """
        pending = self.expressions()
        if not pending:
            return self.model_copy()
        from accelforge.frontend._expressions import evaluate_expression

        values = {name: getattr(self, name) for name in type(self).model_fields}
        for name, text in pending.items():
            loc = (*type(self)._LOC, name)
            try:
                result = evaluate_expression(str(text), scope, functions=functions)
            except SpecError as err:
                raise err.with_location(loc_prefix=loc) from None
            result = _plain_number(result)
            if isinstance(result, str):
                raise SpecError(
                    f"the expression {str(text)!r} gave a string, not "
                    f"{_allowed_text(type(self).model_fields[name])}.",
                    loc=loc,
                    value=result,
                )
            values[name] = result
        return type(self)(**values)
