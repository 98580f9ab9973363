"""The ``accelforge`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from accelforge import examples
from accelforge.errors import AccelForgeError
from accelforge.frontend.spec import Spec

__all__ = ["main"]

DEFAULT_ARCH = "tpu_like"
DEFAULT_WORKLOAD = "transformer_block"


def _resolve(name: str, folder: examples.ExampleFolder) -> Path:
    """A path as given, or the shipped example of that name."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml", ".jinja", ".jinja2") or path.exists():
        return path
    return getattr(folder, name)


def _parse_value(text: str) -> Any:
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def _parse_params(items: Sequence[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"accelforge: -p expects KEY=VALUE, got {item!r}")
        params[key.strip()] = _parse_value(value.strip())
    return params


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="accelforge",
        description="Map Einsum cascades onto tensor accelerators.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    summary = sub.add_parser(
        "summary",
        help="load an arch and a workload and print their Einsums, tensors and arch levels",
        description="Load a spec and print a summary. ARCH and WORKLOAD are YAML paths or names "
        f"of shipped examples (arches: {', '.join(examples.arches.names())}; workloads: "
        f"{', '.join(examples.workloads.names())}).",
    )
    summary.add_argument(
        "arch",
        nargs="?",
        default=DEFAULT_ARCH,
        help=f"architecture YAML or example name (default {DEFAULT_ARCH})",
    )
    summary.add_argument(
        "workload",
        nargs="?",
        default=DEFAULT_WORKLOAD,
        help=f"workload YAML or example name (default {DEFAULT_WORKLOAD})",
    )
    summary.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="Jinja parameter for the spec files (repeatable)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        arch = _resolve(args.arch, examples.arches)
        workload = _resolve(args.workload, examples.workloads)
        spec = Spec.from_yaml(arch, workload, jinja_parse_data=_parse_params(args.param))
        sys.stdout.write(spec.summary() + "\n")
    except (AccelForgeError, AttributeError) as err:
        sys.stderr.write(f"accelforge: {err}\n")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
