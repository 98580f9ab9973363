"""AccelForge's ``Spec`` methods: ``spec.map_workload_to_arch()``, ``spec.evaluate_mapping()``.

Users' AccelForge scripts call them (docs/differences.md lists every drop-in name). The spec
model cannot import the mapper or the model (they import it), so these are bound to
:class:`~accelforge.frontend.spec.Spec` here, when ``accelforge`` is imported.
"""

from __future__ import annotations

from collections.abc import Sequence

from accelforge.errors import SpecError
from accelforge.frontend.spec import Spec
from accelforge.mapper import make_pmappings
from accelforge.mapper._run.blocking import map_workload_to_arch
from accelforge.model import evaluate_mapping
from accelforge.results import MappedResult, Mappings
from accelforge.util.parallel import get_n_parallel_jobs

__all__ = ["spec_evaluate_mapping", "spec_map_workload_to_arch"]


def spec_map_workload_to_arch(
    self: Spec,
    einsum_names: Sequence[str] | None = None,
    print_progress: bool = True,
    print_number_of_pmappings: bool = False,
) -> Mappings:
    """Map the workload (or only ``einsum_names``) with ``self.mapper``'s settings.

    Parameters
    ----------
    einsum_names : list of str, optional
        Map only these Einsums (the others are left out of the workload); default all.
    print_progress : bool
        Show progress bars.
    print_number_of_pmappings : bool
        Print how many pmappings each Einsum keeps for the join.

    Returns
    -------
    Mappings
        The Pareto front (the optimum with one objective), as
        :func:`accelforge.mapper.map_workload_to_arch` returns it, run with
        ``af.set_n_parallel_jobs``'s worker count.
    """
    spec = self if einsum_names is None else _only(self, einsum_names)
    if print_number_of_pmappings:
        pmappings = make_pmappings(spec)
        for name, einsum in pmappings.einsums.items():
            print(f"{name}: {sum(t.n for t in einsum.tables)} pmappings")  # noqa: T201
    return map_workload_to_arch(spec, n_workers=get_n_parallel_jobs(), show_progress=print_progress)


def spec_evaluate_mapping(self: Spec) -> Mappings:
    """Evaluate ``self.mapping``, as a :class:`Mappings` of that one mapping (as AccelForge).

    ``energy()`` and ``latency()`` give floats, ``[0].result`` the model's
    :class:`~accelforge.model.result.ModelResult` (:func:`accelforge.model.evaluate_mapping`
    returns it directly).
    """
    if self.mapping is None:
        raise SpecError("the spec has no mapping: add a 'mapping:' section or pass one.")
    result = evaluate_mapping(self)
    return Mappings(self, [MappedResult(self.mapping, result)], [], [])


def _only(spec: Spec, names: Sequence[str]) -> Spec:
    known = [e.name for e in spec.workload.einsums]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise SpecError(
            f"einsum_names: {', '.join(map(repr, unknown)) or 'an empty list'} "
            f"{'is' if len(unknown) == 1 else 'are'} not in the workload. "
            f"Its Einsums: {', '.join(known)}."
        )
    copy = spec.model_copy(deep=True)
    copy.workload.einsums = [e for e in copy.workload.einsums if e.name in set(names)]
    return copy


Spec.map_workload_to_arch = spec_map_workload_to_arch  # type: ignore[attr-defined]
Spec.evaluate_mapping = spec_evaluate_mapping  # type: ignore[attr-defined]
