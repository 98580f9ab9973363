"""The documented mapper configuration: :class:`Mapper` holds ``metrics`` and ``ffm``.

- :class:`FFM` (``accelforge.frontend.mapper.ffm``): the knobs of the Fast and Fusiest mapper.
- :class:`Metrics` (``accelforge.frontend.mapper.metrics``): the objectives, a flag enum.
- :class:`Mapper` (``accelforge.frontend.mapper.mapper``): the ``mapper:`` section of a spec.
"""

from accelforge.frontend.mapper.ffm import FFM
from accelforge.frontend.mapper.mapper import Mapper
from accelforge.frontend.mapper.metrics import Metrics

__all__ = ["FFM", "Mapper", "Metrics"]
