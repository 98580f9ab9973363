"""The top-level :class:`Spec`: loading from YAML, validation with locations, evaluation."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import Field, PrivateAttr

from accelforge.errors import SpecError, SpecWarning, did_you_mean
from accelforge.frontend._base import SpecModel, locate_error
from accelforge.frontend._expressions import using_functions
from accelforge.frontend._yaml import load_yaml_files
from accelforge.frontend.arch import Arch
from accelforge.frontend.component_costs import calculate_component_costs
from accelforge.frontend.custom_functions import load_custom_functions
from accelforge.frontend.evaluate_arch import EvaluatedArch, evaluate_arch
from accelforge.frontend.evaluate_workload import (
    EvaluatedWorkload,
    evaluate_workload,
    warn_about_renames,
)
from accelforge.frontend.mapper import Mapper, Metrics
from accelforge.frontend.mapper.metrics import MetricsField
from accelforge.frontend.mapping import Mapping as MappingTree
from accelforge.frontend.mapping import check_references
from accelforge.frontend.renames import Renames
from accelforge.frontend.spec_yaml import spec_to_yaml
from accelforge.frontend.workload import Workload

__all__ = ["Config", "ModelSettings", "Spec"]

SPEC_KEYS = ("arch", "workload", "renames", "variables", "mapping", "config", "mapper", "model")


class Config(SpecModel):
    """The ``config`` section."""

    expression_custom_functions: list[Any] = Field(default_factory=list)
    """Python files (or callables, from Python) whose functions join the expression scope."""
    component_models: list[Any] = Field(default_factory=list)
    """Extra component-model plug-ins (not supported yet)."""
    use_installed_component_models: bool = True
    """Use installed ``hwcomponents`` models for components without explicit costs."""


class ModelSettings(SpecModel):
    """The ``model`` section: what ``evaluate_mapping`` reports."""

    metrics: MetricsField = Field(default_factory=lambda: Metrics(sum(m.value for m in Metrics)))
    """Metrics reported by the model (default: all)."""


class Spec(SpecModel):
    """A whole specification: architecture, workload, renames, variables, mapping, settings."""

    _source: dict[str, Any] | None = PrivateAttr(default=None)
    """How :meth:`from_yaml` loaded the spec (files, Jinja data), for re-rendering."""
    arch: Arch = Field(default_factory=Arch)
    workload: Workload = Field(default_factory=Workload)
    renames: Renames = Field(default_factory=Renames)
    variables: dict[str, Any] = Field(default_factory=dict)
    """Free-form variables, evaluated first; visible to every expression."""
    mapping: MappingTree = Field(default_factory=MappingTree)
    """A user mapping for ``evaluate_mapping``; the mapper ignores it."""
    config: Config = Field(default_factory=Config)
    mapper: Mapper = Field(default_factory=Mapper)
    model: ModelSettings = Field(default_factory=ModelSettings)

    @classmethod
    def _refuse_unknown(cls, data: Mapping[str, Any], loc: Sequence[str | int]) -> None:  # noqa: ARG003 - overrides SpecModel's
        unknown = [k for k in data if k not in SPEC_KEYS]
        if unknown:
            raise SpecError(
                f"'{unknown[0]}' is not a spec key.{did_you_mean(unknown[0], SPEC_KEYS)}",
                loc=(unknown[0],),
                allowed=", ".join(SPEC_KEYS),
            )

    @classmethod
    def prepare(cls, data: dict[str, Any], loc: Sequence[str | int]) -> dict[str, Any]:  # noqa: ARG003 - a SpecModel hook
        """Build each section with its own rules."""
        _refuse_unopted_custom_function_files(data.get("config"))
        builders: dict[str, type[SpecModel]] = {
            "arch": Arch,
            "workload": Workload,
            "renames": Renames,
            "mapping": MappingTree,
            "config": Config,
            "model": ModelSettings,
        }
        for key, model in builders.items():
            if data.get(key) is not None:
                data[key] = model.from_data(data[key], (key,))
            else:
                data.pop(key, None)
        if "mapper" in data:
            data["mapper"] = _build_mapper(data["mapper"])
        if data.get("variables") is None:
            data.pop("variables", None)
        return data

    @classmethod
    def from_yaml(
        cls,
        *files: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
        jinja_parse_data: Mapping[str, Any] | None = None,
        top_key: str | None = None,
        strict: bool = False,
        allow_custom_functions: bool = False,
        **kwargs: Any,
    ) -> Spec:
        """Load a spec from one or more YAML files (docs/SPEC_FORMAT.md §2).

        Parameters
        ----------
        files:
            Paths, lists of paths or glob patterns. Top-level keys are combined; when two
            files define the same key the first wins, with a warning.
        jinja_parse_data:
            Variables for the Jinja2 templates; ``kwargs`` are added to them.
        top_key:
            Validate only this key's subtree.
        strict:
            Turn every :class:`~accelforge.errors.SpecWarning` into an error, and evaluate the
            architecture for every Einsum now (by default the first one; the others when a
            run needs them, as AccelForge does).
        allow_custom_functions:
            Run the Python files ``config.expression_custom_functions`` lists (paths are
            relative to the file that holds ``config``); refused otherwise.
        """
        with warnings.catch_warnings():
            if strict:
                warnings.simplefilter("error", SpecWarning)
            try:
                loaded = load_yaml_files(list(files), jinja_parse_data, strict=strict, **kwargs)
                data: dict[str, Any] = dict(loaded.data)
                if top_key is not None:
                    data = {top_key: data.get(top_key)} if top_key in data else data
                custom = _take_custom_functions(data, loaded.key_files, allow_custom_functions)
                try:
                    spec = cls.from_data(data)
                    spec.config.expression_custom_functions += custom
                    spec.check(every_einsum=strict)
                except SpecError as err:
                    locate_error(err, loaded.data, loaded.key_files)
                    raise
            except SpecWarning as warning:
                raise SpecError(f"{warning} (an error because strict=True)") from None
        spec._source = {
            "files": list(files),
            "jinja_parse_data": dict(jinja_parse_data or {}),
            "options": {
                "top_key": top_key,
                "strict": strict,
                "allow_custom_functions": allow_custom_functions,
                **kwargs,
            },
        }
        return spec

    def custom_functions(self) -> dict[str, Callable[..., Any]]:
        """The functions of ``config.expression_custom_functions`` by name."""
        return load_custom_functions(self.config.expression_custom_functions)

    def evaluate_workload(self) -> EvaluatedWorkload:
        """Evaluate variables, rank sizes, renames and sets for every Einsum."""
        with using_functions(self.custom_functions()):
            return evaluate_workload(self)

    def evaluated_mapper(self, workload: EvaluatedWorkload | None = None) -> Mapper:
        """The mapper settings with every FFM expression evaluated with the spec's variables."""
        variables = (workload or self.evaluate_workload()).variables
        with using_functions(self.custom_functions()):
            return self.mapper.model_copy(update={"ffm": self.mapper.ffm.evaluate(variables)})

    def validate_for_every_einsum(self) -> None:
        """:meth:`check` with the architecture evaluated for every Einsum."""
        self.check(every_einsum=True)

    def check(self, *, every_einsum: bool = False) -> None:
        """Check the spec as loading does.

        That is the whole workload, the mapper settings, the mapping references, and the
        architecture for the first Einsum (for every one with ``every_einsum``; otherwise the
        others are evaluated when a run needs them, and an error there names its Einsum).

        Costs that need the optional ``hwcomponents`` extra are left unknown (NaN) here; they
        raise their error when a result needs them.
        """
        workload = self.evaluate_workload()
        warn_about_renames(self)
        self.evaluated_mapper(workload)
        if self.mapping.nodes:
            check_references(
                self.mapping,
                {n.name: type(n).__name__ for n in self.arch.nodes},
                {n: set(f.rank_variable_bounds) for n, f in workload.einsums.items()},
                set(workload.tensors),
            )
        if not self.workload.einsums:
            return
        for name in list(workload.einsums)[: None if every_einsum else 1]:
            self.evaluate(name, require_costs=False, workload=workload)

    def evaluate(
        self,
        einsum: str | None = None,
        *,
        require_costs: bool = True,
        workload: EvaluatedWorkload | None = None,
    ) -> EvaluatedArch:
        """Evaluate the architecture for ``einsum`` (the first Einsum when ``None``)."""
        workload = workload or self.evaluate_workload()
        if not self.workload.einsums:
            raise SpecError(
                "the workload has no Einsums; the architecture is evaluated per Einsum.",
                loc=("workload", "einsums"),
            )
        if not self.arch.computes:
            raise SpecError(
                "the architecture has no !Compute node; add one at the end of arch.nodes.",
                loc=("arch", "nodes"),
            )
        facts = workload.einsum(einsum)
        base = {
            "spec": self,
            "workload": self.workload,
            "renames": self.renames,
            "variables": workload.variables,
        }
        with using_functions(self.custom_functions()):
            return evaluate_arch(self.arch, workload, facts, base, require_costs=require_costs)

    def calculate_component_costs(self, einsum_name: str | None = None) -> Spec:
        """A copy with every component's area, leak power and action costs filled in.

        Its ``arch.total_area``, ``arch.per_component_total_area``, ``arch.total_leak_power``
        and ``arch.per_component_total_leak_power`` answer the area and power questions
        (:mod:`accelforge.frontend.component_costs`); costs are those of ``einsum_name``
        (default: the first Einsum).
        """
        return calculate_component_costs(self, einsum_name)

    def to_yaml(self) -> str:
        """The spec as the text of one YAML file that loads back to the same spec."""
        return spec_to_yaml(self)

    def summary(self) -> str:
        """A short text summary: Einsums, tensors and architecture levels."""
        workload = self.evaluate_workload()
        lines = ["Einsums:"]
        for name, facts in workload.einsums.items():
            bounds = ", ".join(f"{v}={b}" for v, b in facts.rank_variable_bounds.items())
            tensors = ", ".join(facts.einsum.tensor_names)
            lines.append(f"  {name}: [{bounds}] tensors {tensors}; {facts.n_computes:,} computes")
        lines.append("Tensors:")
        for name, tensor in workload.tensors.items():
            shape = "x".join(str(s) for s in tensor.shape.values()) or "scalar"
            lines.append(
                f"  {name}: {tensor.role}, {shape}, {tensor.bits_per_value:g} bits/value, "
                f"{tensor.size_bits:,.0f} bits"
            )
        lines.append("Architecture (outermost first):")
        arch = self.evaluate()
        for node in arch.nodes:
            fanout = " x ".join(f"{s.name}={s.fanout}" for s in node.spatial)
            size = ""
            bits = getattr(node, "size", None)  # containers have no size
            if bits is not None:
                size = f", size {bits:,.0f} bits" if bits != float("inf") else ", size inf"
            lines.append(
                f"  {node.kind} {node.name}{size}" + (f", fanout {fanout}" if fanout else "")
            )
        return "\n".join(lines)


def _build_mapper(raw: Any) -> Mapper:
    try:
        return Mapper.from_section(raw)
    except SpecError as err:
        raise err.with_location(loc_prefix=("mapper",)) from None


def _refuse_unopted_custom_function_files(config: Any) -> None:
    """A raw ``config`` section (from YAML or a dict) may not name Python files to run.

    A built :class:`Config` comes from Python code, whose author opted in.
    """
    if not isinstance(config, Mapping):
        return
    entries = config.get("expression_custom_functions") or []
    if any(isinstance(f, (str, os.PathLike)) for f in entries):
        raise SpecError(
            "config.expression_custom_functions lists Python files; loading them would run "
            "their code, so it is refused. Pass allow_custom_functions=True to "
            "Spec.from_yaml if you trust the file, or pass the functions from Python.",
            loc=("config", "expression_custom_functions"),
        )


def _take_custom_functions(
    data: dict[str, Any], key_files: Mapping[str, str], allowed: bool
) -> list[Any]:
    """With ``allowed``, remove the YAML's custom-function files from ``data``, resolved."""
    config = data.get("config")
    if not allowed or not isinstance(config, Mapping):
        return []
    entries = config.get("expression_custom_functions") or []
    base = os.path.dirname(key_files.get("config", ""))
    data["config"] = {k: v for k, v in config.items() if k != "expression_custom_functions"}
    return [
        os.path.join(base, e) if isinstance(e, str) and not os.path.isabs(e) else e for e in entries
    ]
