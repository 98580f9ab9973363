"""The mapper: its documented configuration (``FFM``, ``Metrics``, ``Mapper``) and runs.

``make_pmappings`` finds every Einsum's Pareto-optimal pmappings, ``join_pmappings`` joins them
into the Pareto-optimal fused mappings, ``map_workload_to_arch`` does both. ``start`` runs the
same pipeline in the background (in worker processes), streaming events (``RunStarted``,
``TemplateDone``, ``EinsumDone``, ``FrontUpdate``, ``JoinStep``, ``RunWarning``,
``RunFinished``) and supporting cancellation.
"""

from accelforge.frontend.mapper import FFM, Mapper, Metrics
from accelforge.mapper._pmappings.make import Pmappings, make_pmappings
from accelforge.mapper._run.blocking import join_pmappings, map_workload_to_arch
from accelforge.mapper._run.streaming import MapperRun, start
from accelforge.mapper.events import (
    EinsumDone,
    FrontUpdate,
    JoinStep,
    RunFinished,
    RunStarted,
    RunWarning,
    TemplateDone,
)
from accelforge.mapper.executors import InProcessExecutor, ProcessExecutor
from accelforge.mapper.progress import RunProgress

__all__ = [
    "EinsumDone",
    "FFM",
    "FrontUpdate",
    "InProcessExecutor",
    "JoinStep",
    "Mapper",
    "MapperRun",
    "Metrics",
    "Pmappings",
    "ProcessExecutor",
    "RunFinished",
    "RunProgress",
    "RunStarted",
    "RunWarning",
    "TemplateDone",
    "join_pmappings",
    "make_pmappings",
    "map_workload_to_arch",
    "start",
]
