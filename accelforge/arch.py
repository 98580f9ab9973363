"""Architecture node classes (``af.arch.Memory``, ``af.arch.Toll``, ...), for building and checks.

``isinstance(node, af.arch.Leaf)`` holds for every node of ``spec.arch.nodes``.
"""

from accelforge.frontend.arch import (
    Action,
    Arch,
    Comparison,
    Component,
    Compute,
    Container,
    Leaf,
    Memory,
    Spatial,
    TensorHolder,
    TensorHolderAction,
    Tensors,
    Toll,
)

__all__ = [
    "Action",
    "Arch",
    "Comparison",
    "Component",
    "Compute",
    "Container",
    "Leaf",
    "Memory",
    "Spatial",
    "TensorHolder",
    "TensorHolderAction",
    "Tensors",
    "Toll",
]
