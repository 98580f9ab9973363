"""accelforge: fusion-aware mapping of Einsum cascades onto tensor accelerators.

Load an architecture and a workload with :meth:`Spec.from_yaml`, set ``spec.mapper``'s
metrics and FFM knobs, and explore the results. Shipped examples live in
``accelforge.examples``.
"""

from accelforge import arch, compat, examples, mapper, model
from accelforge.errors import (
    AccelForgeError,
    EvaluationError,
    ExpressionError,
    InvalidMappingError,
    MainGuardError,
    MissingExtraError,
    SpecError,
    SpecWarning,
)
from accelforge.frontend.arch import Arch
from accelforge.frontend.mapper import FFM, Mapper, Metrics
from accelforge.frontend.mapping import Mapping
from accelforge.frontend.renames import Renames
from accelforge.frontend.spec import Config, Spec
from accelforge.frontend.variables import Variables
from accelforge.frontend.workload import Workload
from accelforge.sweep import sweep
from accelforge.util import get_n_parallel_jobs, set_n_parallel_jobs

__all__ = [
    "AccelForgeError",
    "Arch",
    "Config",
    "EvaluationError",
    "ExpressionError",
    "FFM",
    "InvalidMappingError",
    "MainGuardError",
    "Mapper",
    "Mapping",
    "Metrics",
    "MissingExtraError",
    "Renames",
    "Spec",
    "SpecError",
    "SpecWarning",
    "Variables",
    "Workload",
    "arch",
    "compat",
    "examples",
    "get_n_parallel_jobs",
    "mapper",
    "model",
    "set_n_parallel_jobs",
    "sweep",
]

__version__ = "0.1.0"
