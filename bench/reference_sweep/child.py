"""One case in its own process, in a scratch directory, under a wall-clock timeout.

Shared by ``record.py`` (run under the reference's Python) and ``large.py``; it imports neither
accelforge. The child prints one ``RESULT {json}`` line; on timeout its whole process group is
killed (only this case's processes).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Any


@dataclass
class ChildRun:
    """What the child process gave: its ``RESULT`` (None if it printed none), or a timeout."""

    result: dict[str, Any] | None
    timed_out: bool
    returncode: int | None
    last_error_line: str
    wall_s: float


def run_child(cmd: list[str], timeout: float, prefix: str) -> ChildRun:
    """Run ``cmd`` in a fresh scratch directory and session; read its ``RESULT`` line."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=prefix) as scratch:
        proc = subprocess.Popen(  # noqa: S603 - our own script, fixed arguments
            cmd,
            cwd=scratch,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # this case's process group only
            proc.communicate()
            return ChildRun(None, True, None, "", timeout)
    wall = time.perf_counter() - start
    result = None
    for line in out.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
    last = err.strip().splitlines()[-1] if err.strip() else ""
    return ChildRun(result, False, proc.returncode, last, wall)
