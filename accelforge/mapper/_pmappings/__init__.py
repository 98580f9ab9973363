"""Stage 3 of the mapper: every Einsum's Pareto-optimal pmappings (docs/MAPPER.md §2, §4.5-§4.6).

``make`` runs stages 1 and 2 for each Einsum, keeps each template's Pareto-optimal rows and
holds them, with the context shared by every unit of work, as ``Pmappings``.
"""
