"""Stage 2 of the mapper: tile shapes for one template (docs/MAPPER.md §4.1-§4.4).

``enumeration`` lists the tile chains of each rank variable, ``search`` adds rank variables one
at a time, prunes partial tile shapes against the constraints and evaluates the survivors with
the model's vectorised per-Einsum evaluation, into the ``rows`` tables every later stage reads.
"""
