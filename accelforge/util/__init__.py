"""Helpers AccelForge users call by these names: the default worker count and parallel calls."""

from accelforge.util.parallel import (
    delayed,
    get_n_parallel_jobs,
    parallel,
    set_n_parallel_jobs,
)

__all__ = ["delayed", "get_n_parallel_jobs", "parallel", "set_n_parallel_jobs"]
