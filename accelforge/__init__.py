"""accelforge: fusion-aware mapping of Einsum cascades onto tensor accelerators.

Load an architecture and a workload with :meth:`Spec.from_yaml`, set ``spec.mapper``'s
metrics and FFM knobs, and explore the results. Shipped examples live in
``accelforge.examples``.
"""

from accelforge import examples, mapper, model
from accelforge.errors import (
    AccelForgeError,
    ExpressionError,
    InvalidMappingError,
    MissingExtraError,
    SpecError,
    SpecWarning,
)
from accelforge.frontend.mapper import FFM, Mapper, Metrics
from accelforge.frontend.spec import Spec

__all__ = [
    "AccelForgeError",
    "ExpressionError",
    "FFM",
    "InvalidMappingError",
    "Mapper",
    "Metrics",
    "MissingExtraError",
    "Spec",
    "SpecError",
    "SpecWarning",
    "examples",
    "mapper",
    "model",
]

__version__ = "0.1.0"
