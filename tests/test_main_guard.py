"""Scripts that start worker processes at their top level without a ``__main__`` guard."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from accelforge.util.main_guard import _guard_ranges, _guarded

ROOT = Path(__file__).resolve().parents[1]

START = """
import accelforge as af
from accelforge.mapper import start

data = {"N_EINSUMS": 2, "M": 16, "KN": 16, "GLB_SIZE": 4096}
arch, workload = af.examples.arches.simple, af.examples.workloads.matmuls
spec = af.Spec.from_yaml(arch, workload, jinja_parse_data=data)
"""


def _run(tmp_path: Path, body: str) -> tuple[subprocess.CompletedProcess[str], float]:
    script = tmp_path / "my_sweep.py"
    script.write_text(START + textwrap.dedent(body))
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done, time.monotonic() - began


def test_an_unguarded_multi_worker_run_maps_in_process_and_says_why(tmp_path: Path) -> None:
    body = """
    run = start(spec, n_workers=2)
    print("front", len(run.result()), run.status, run.statistics["n_workers"])
    """
    done, _ = _run(tmp_path, body)
    assert done.returncode == 0, done.stderr
    words = done.stdout.split()
    assert words[0] == "front" and int(words[1]) >= 1 and words[2:] == ["OK", "1"]
    assert f"top level of {tmp_path / 'my_sweep.py'} (line 9)" in done.stderr
    assert 'outside `if __name__ == "__main__":`' in done.stderr
    assert "It runs in this process instead (one worker)" in done.stderr
    assert "bootstrapping" not in done.stderr  # no worker was started


def test_an_explicit_process_pool_in_an_unguarded_script_is_refused_at_once(
    tmp_path: Path,
) -> None:
    body = """
    from accelforge.mapper import ProcessExecutor
    ProcessExecutor(2)
    """
    done, _ = _run(tmp_path, body)
    last = done.stderr.strip().splitlines()[-1]
    assert done.returncode == 1
    assert last.startswith("accelforge.errors.MainGuardError: ProcessExecutor(2) wants worker")
    assert "Put the code that starts it under" in last


def test_the_same_run_under_the_guard_maps(tmp_path: Path) -> None:
    body = """
    if __name__ == "__main__":
        run = start(spec, n_workers=2)
        print("front", len(run.result()), run.status)
    """
    done, _ = _run(tmp_path, body)
    assert done.returncode == 0, done.stderr
    words = done.stdout.split()
    assert words[0] == "front" and int(words[1]) >= 1 and words[2] == "OK"


def test_one_worker_needs_no_guard(tmp_path: Path) -> None:
    done, _ = _run(tmp_path, 'print("front", len(start(spec, n_workers=1).result()))\n')
    assert done.returncode == 0 and done.stdout.startswith("front "), done.stderr


def test_unguarded_util_parallel_runs_the_calls_here_and_says_why(tmp_path: Path) -> None:
    body = """
    import operator
    from accelforge.util import parallel, delayed
    print(parallel([delayed(operator.add)(1, 2)] * 3, n_jobs=2))
    """
    done, _ = _run(tmp_path, body)
    assert done.returncode == 0 and done.stdout.strip() == "[3, 3, 3]", done.stderr
    assert "accelforge.util.parallel wants worker processes" in done.stderr
    assert "The calls run here, one after another" in done.stderr


@pytest.mark.parametrize(
    ("source", "inside", "outside"),
    [
        ('x = 1\nif __name__ == "__main__":\n    go()\n    more()\n', [3, 4], [1]),
        ("if '__main__' == __name__:\n    go()\nelse:\n    other()\n", [2], [4]),
        ('if __name__ != "__main__":\n    go()\n', [], [2]),
        ('def main():\n    go()\n\nif __name__ == "__main__":\n    main()\n', [5], [2]),
    ],
)
def test_the_guard_is_read_from_the_scripts_syntax(
    tmp_path: Path, source: str, inside: list[int], outside: list[int]
) -> None:
    script = tmp_path / f"s{abs(hash(source))}.py"
    script.write_text(source)
    assert [_guarded(str(script), line) for line in inside] == [True] * len(inside)
    assert [_guarded(str(script), line) for line in outside] == [False] * len(outside)


def test_an_unreadable_script_is_not_refused_on_a_guess(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("def (:\n")
    assert _guard_ranges(str(broken)) is None and _guarded(str(broken), 1)
    assert _guarded(str(tmp_path / "missing.py"), 1)
