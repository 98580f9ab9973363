"""The analytical model: evaluate one (fused) mapping of a workload on an architecture."""

from accelforge.model.evaluate import evaluate_mapping
from accelforge.model.result import ModelResult

__all__ = ["ModelResult", "evaluate_mapping"]
