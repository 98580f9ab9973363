"""Architecture node classes (``af.arch.Memory``, ``af.arch.Toll``, ...), for building and checks.

``isinstance(node, af.arch.Leaf)`` holds for every node of ``spec.arch.nodes``. The classes are
those of :mod:`accelforge.frontend.arch`, re-exported under this shorter name.
"""

from accelforge.frontend.arch import *  # noqa: F403 - the public names of the spec classes
from accelforge.frontend.arch import __all__ as __all__
