"""The mapper: its documented configuration (``FFM``, ``Metrics``, ``Mapper``).

``make_pmappings`` finds every Einsum's Pareto-optimal pmappings, ``join_pmappings`` joins them
into the Pareto-optimal fused mappings, ``map_workload_to_arch`` does both.
"""

from accelforge.frontend.mapper import FFM, Mapper, Metrics
from accelforge.mapper.pmappings import Pmappings, make_pmappings
from accelforge.mapper.run import join_pmappings, map_workload_to_arch

__all__ = [
    "FFM",
    "Mapper",
    "Metrics",
    "Pmappings",
    "join_pmappings",
    "make_pmappings",
    "map_workload_to_arch",
]
