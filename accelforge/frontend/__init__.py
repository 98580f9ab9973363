"""What the user writes: the spec, its architecture, workload, renames and mapping."""
