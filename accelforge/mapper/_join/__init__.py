"""Stage 4 of the mapper: joining pmappings into full mappings (docs/MAPPER.md §8-§9).

``loop_blocks`` compares the fused loops of neighbouring Einsums, ``groups`` groups each
Einsum's rows by what the join must match, ``bounds`` bounds what the remaining Einsums can add,
``join`` joins Einsum by Einsum, ``build`` turns a joined row into a ``Mapping`` and ``evaluate``
evaluates every joined mapping with the model.
"""
