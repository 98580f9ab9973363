"""The mapper: its documented configuration (``FFM``, ``Metrics``, ``Mapper``).

The search itself (``make_pmappings``, ``join_pmappings``, streaming runs) builds on these.
"""

from accelforge.frontend.mapper import FFM, Mapper, Metrics

__all__ = ["FFM", "Mapper", "Metrics"]
