"""Stage 4 of the mapper: joining pmappings into full mappings (docs/MAPPER.md §4.7, §5-§7).

``loop_blocks`` compares the fused loops of neighbouring Einsums, ``groups`` groups each
Einsum's rows by what the join must match, ``bounds`` bounds what the remaining Einsums can add,
``pair`` combines a partial join with one group, ``join`` joins Einsum by Einsum, ``build``
turns a joined row into a ``Mapping`` and ``evaluate`` evaluates every joined mapping with the
model.
"""
