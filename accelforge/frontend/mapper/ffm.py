"""The knobs of the Fast and Fusiest mapper: :class:`FFM` (``spec.mapper.ffm``).

Every field is typed, defaulted, bounded, documented and, where it has one, given a unit
(``json_schema_extra={"unit": ...}``); :mod:`accelforge.frontend.mapper.fields` reads them from
``FFM.model_fields`` for validation here, the Jupyter form and the docs. Any field may also
hold an :class:`Expression` (a string that is not a plain literal), evaluated with the spec's
variables by :meth:`FFM.evaluate`. Bad values and unknown names raise
:class:`~accelforge.errors.SpecError` (a ``ValueError``) naming the field
(``mapper.ffm.objective_tolerance``), the value and what is allowed.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import pydantic
from pydantic import Field, field_validator
from pydantic_core import CoreSchema, core_schema

from accelforge.errors import SpecError
from accelforge.frontend._literals import parse_literal
from accelforge.frontend.mapper.config_model import CONFIG, ConfigModel
from accelforge.frontend.mapper.fields import FieldMeta, field_meta, read_fields

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


def _plain_number(value: Any) -> Any:
    """Unwrap a numpy scalar into the equivalent Python value."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        return value.item()
    return value


# ----------------------------------------------------------------------------------------------
# Checking one value against its field's kind and bounds (read by accelforge.frontend.mapper.fields)


def _coerce(meta: FieldMeta, value: Any) -> Any:
    """Check one FFM value; return it in canonical form (int, float, bool or Expression)."""
    if isinstance(value, Expression):
        return value
    if meta.kind == "text":  # a programming error
        raise TypeError(f"FFM field {meta.name!r} has an unsupported type")
    value = _plain_number(value)
    allowed = meta.allowed_text()
    if isinstance(value, str):
        if not value.strip():
            raise SpecError(
                f"must be {allowed}, or an expression; not an empty string.", value=value
            )
        is_literal, literal = parse_literal(value)
        if not is_literal:
            return Expression(value)
        value = literal
    if meta.kind == "bool":
        if isinstance(value, bool):
            return value
        raise SpecError(f"must be {allowed}.", value=value)
    result = _as_number(meta, value, allowed)
    if not meta.in_bounds(result):
        raise SpecError(f"must be {allowed}.", value=value)
    return result


def _as_number(meta: FieldMeta, value: Any, allowed: str) -> int | float:
    """A numeric field's value as an int or a float, as its kind wants (bounds not checked)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SpecError(f"must be {allowed}.", value=value)
    number = float(value)
    if math.isnan(number):
        raise SpecError(f"must be {allowed}; nan is not allowed.", value=value)
    if meta.kind in ("number", "fraction"):
        return number
    if isinstance(value, numbers.Integral):
        return int(value)
    if number.is_integer():
        return int(number)
    if meta.kind == "limit" and math.isinf(number):
        return number
    raise SpecError(f"must be {allowed}.", value=value)


class FFM(ConfigModel):
    """Configuration of the Fast and Fusiest mapper (``spec.mapper.ffm``).

    The defaults explore the full documented mapspace exactly. Limits (``max_*``) shrink the
    mapspace; ``memory_limit*`` and ``time_limit*`` bound the run cooperatively (the run
    returns what it found, with a status); the tolerances trade exactness for speed within a
    stated bound. ``inf`` means "no limit" (``inf`` in YAML, ``float("inf")`` in Python).

    Any value may be an expression string over the spec's variables (``"2 * N_FUSED"``); it is
    kept as an :class:`Expression` until :meth:`evaluate`.
    """

    model_config = CONFIG
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

    memory_limit_per_process: float | Expression = Field(
        default=_INF, gt=0, json_schema_extra={"unit": "B"}
    )
    """The memory, in bytes, that each of the mapper's worker processes may use. A worker that
    would exceed it stops its current unit of work, reports that unit as memory-limited
    (keeping the pmappings already final) and goes on with the next one; the calling process
    is never killed. ``inf``: no limit."""

    memory_limit: float | Expression = Field(default=_INF, gt=0, json_schema_extra={"unit": "B"})
    """The memory, in bytes, for the whole mapper run, the join included. Each worker process
    may use min(``memory_limit_per_process``, ``memory_limit`` / number of workers).
    ``inf``: no limit."""

    time_limit: float | Expression = Field(default=_INF, gt=0, json_schema_extra={"unit": "s"})
    """The wall-clock time, in seconds, for the whole mapper call. Once it runs out no new work
    starts and running work stops; pmapping generation stops at 80 % of the budget so the join
    can run on what was found. The run returns with status ``TIME_LIMIT`` and the best
    mappings found so far. ``inf``: no limit."""

    time_limit_per_pmapping_template: float | Expression = Field(
        default=_INF, gt=0, json_schema_extra={"unit": "s"}
    )
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
            value = _coerce(field_meta(cls, name), value)
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

    @classmethod
    def field_metadata(cls) -> tuple[FieldMeta, ...]:
        """Every setting's kind, bounds, unit, default and description, in declaration order.

        Read once from ``model_fields`` (:mod:`accelforge.frontend.mapper.fields`); the same
        metadata checks the values, and the Jupyter form and the docs show it.
        """
        return read_fields(cls)

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
                    f"{field_meta(type(self), name).allowed_text()}.",
                    loc=loc,
                    value=result,
                )
            values[name] = result
        return type(self)(**values)
