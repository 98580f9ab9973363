"""Stage 5 of the mapper: runs (docs/MAPPER.md §10-§11).

``streaming`` runs the pipeline in the background and streams events (``start``,
``MapperRun``), planning its units of work with ``plan`` and wording its rows and messages
with ``report``; ``blocking`` is the blocking consumer of those events
(``map_workload_to_arch``, ``join_pmappings``).
"""
