"""Stage 1 of the mapper: every Einsum's loop-nest templates (docs/MAPPER.md §3, §4.8).

``make`` enumerates the templates (storage nodes, loop orders, fused-loop depths), ``crossing``
adds the variants where a tensor crosses a fanout, ``twins`` finds templates whose searches are
equal up to names.
"""
