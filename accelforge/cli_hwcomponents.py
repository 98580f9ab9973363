"""``accelforge hwcomponents {status,build}``: the cost-model binaries from the command line.

``status`` says, for CACTI and NeuroSim, where the binary is and whether it runs; ``build``
compiles the ones that do not run from the sources their packages bundle
(``accelforge/hwcomponents_build.py`` does the work; cost-model calls do it by themselves on
first use). Hooked into ``accelforge/cli.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Any

from accelforge.hwcomponents_build import (
    INSTALL_COMPILER,
    TOOLS,
    BuildError,
    Tool,
    build,
    cache_root,
    check,
)

__all__ = ["add_subcommand", "run_subcommand"]


def add_subcommand(sub: Any) -> None:
    """Add ``hwcomponents`` (with ``status`` and ``build``) to the CLI's subparsers ``sub``."""
    names = ", ".join(t.name for t in TOOLS)
    both = " and ".join(t.name for t in TOOLS)
    parser = sub.add_parser(
        "hwcomponents",
        help=f"check or build the {both} binaries of the hwcomponents extra",
        description=f"The {both} binaries shipped by hwcomponents-cacti and "
        "hwcomponents-neurosim need glibc 2.38; 'build' compiles them from the sources the "
        f"packages bundle (needs g++ and make: {INSTALL_COMPILER}). Cost-model calls do this "
        "by themselves on first use.",
    )
    action = parser.add_subparsers(dest="hwc_command", required=True)
    action.add_parser("status", help="say where each binary is and whether it runs")
    builder = action.add_parser("build", help="build the binaries that do not run here")
    builder.add_argument("tools", nargs="*", metavar="TOOL", help=f"any of {names} (default all)")
    builder.add_argument("--force", action="store_true", help="rebuild even if the binary runs")
    builder.add_argument(
        "--into-cache",
        action="store_true",
        help=f"build into {cache_root() / 'hwcomponents'} even if the package is writable",
    )
    builder.add_argument("-j", "--jobs", type=int, default=None, help="parallel compile jobs")


def run_subcommand(args: argparse.Namespace) -> int:
    """Run ``accelforge hwcomponents ...``; returns the exit status."""
    if args.hwc_command == "status":
        return _print_status()
    chosen = _choose(args.tools)
    failed = 0
    for tool in chosen:
        if check(tool).package_dir is None:
            sys.stdout.write(f"{tool.name}: {tool.distribution} is not installed, skipped\n")
            continue
        start = time.perf_counter()
        try:
            binary = build(
                tool,
                force=args.force,
                jobs=args.jobs,
                into_cache=True if args.into_cache else None,
                announce=_say,
            )
        except BuildError as err:
            sys.stderr.write(f"accelforge: {err}\n")
            failed += 1
            continue
        sys.stdout.write(f"{tool.name}: {binary} runs ({time.perf_counter() - start:.1f} s)\n")
    return 1 if failed else 0


def _choose(names: Sequence[str]) -> list[Tool]:
    if not names:
        return list(TOOLS)
    by_name = {t.name.lower(): t for t in TOOLS}
    unknown = [n for n in names if n.lower() not in by_name]
    if unknown:
        raise BuildError(
            f"unknown tool {', '.join(unknown)}; choose from {', '.join(t.name for t in TOOLS)}"
        )
    return [by_name[n.lower()] for n in names]


def _print_status() -> int:
    bad = 0
    for tool in TOOLS:
        status = check(tool)
        if status.package_dir is None:
            sys.stdout.write(f"{tool.name}: {tool.distribution} is not installed\n")
            continue
        head = f"{tool.name} ({tool.distribution} {status.version}): "
        if status.bundled_runs:
            sys.stdout.write(head + f"{status.bundled} runs\n")
        elif status.cached_runs:
            sys.stdout.write(
                head + f"{status.cached} runs (built here; the bundled one does not)\n"
            )
        else:
            bad += 1
            sys.stdout.write(
                head + f"{status.bundled} does not run ({status.problem}); "
                "run: accelforge hwcomponents build\n"
            )
    return 1 if bad else 0


def _say(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()
