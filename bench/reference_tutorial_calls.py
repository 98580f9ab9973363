"""Record AccelForge 1.0.467's figures for ``tests/tutorial_calls.py`` (the tutorial calls).

Run with the reference's Python (a scratch 3.12 venv with ``accelforge==1.0.467``; pydot needs
a ``dot`` on PATH, any stub will do), from a folder outside this repository:

    /path/to/refvenv/bin/python /path/to/this/repo/bench/reference_tutorial_calls.py \
        ../shared/reference/specs /path/to/this/repo/tests/data/reference_tutorial_calls.json

``tests/tutorial_calls.py`` is copied to a temporary folder put on the path (as
``tutorial_calls``), so ``accelforge`` and ``hwcomponents`` stay the reference venv's.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

_HERE = Path(tempfile.mkdtemp(prefix="tutorial-calls-"))
shutil.copy(Path(__file__).resolve().parents[1] / "tests" / "tutorial_calls.py", _HERE)
sys.path.insert(0, str(_HERE))

from tutorial_calls import TUTORIALS  # noqa: E402

import accelforge as af  # noqa: E402 - the reference, not this project


def main() -> None:
    specs, out = Path(sys.argv[1]), Path(sys.argv[2])
    figures, seconds = {}, {}
    for name, calls in TUTORIALS.items():
        began = time.perf_counter()
        figures[name] = calls(af, specs)
        seconds[name] = round(time.perf_counter() - began, 1)
    payload = {
        "reference": "accelforge 1.0.467",
        "command": "bench/reference_tutorial_calls.py ../shared/reference/specs <out>",
        "seconds": seconds,
        "figures": figures,
    }
    out.write_text(json.dumps(payload, indent=1) + "\n")


if __name__ == "__main__":
    main()
