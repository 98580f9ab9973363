"""The ``accelforge`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from accelforge import cli_hwcomponents, cli_sweep, examples
from accelforge import columns as col
from accelforge.cli_args import parse_params, parse_value, resolve
from accelforge.errors import AccelForgeError
from accelforge.frontend.spec import Spec

__all__ = ["main"]

DEFAULT_ARCH = "tpu_like"
DEFAULT_WORKLOAD = "transformer_block"
MAP_DEFAULTS = (
    "simple",
    "matmuls",
    {"N_EINSUMS": 4, "M": 64, "KN": 64, "GLB_SIZE": 65536, "DRAM_ENERGY": 10, "GLB_THROUGHPUT": 1},
)


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
    mapper = sub.add_parser(
        "map",
        help="find the Pareto-optimal fused mappings and write the front",
        description="Map a workload onto an architecture and print the Pareto front. With no "
        "ARCH and WORKLOAD it maps a 4-matmul chain onto the two-level 'simple' arch with an "
        "8 KiB global buffer, where fusion trades energy against latency.",
    )
    mapper.add_argument("arch", nargs="?", help="architecture YAML or example name")
    mapper.add_argument("workload", nargs="?", help="workload YAML or example name")
    mapper.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="Jinja parameter for the spec files (repeatable)",
    )
    mapper.add_argument(
        "--metrics",
        default="energy,latency",
        help="comma-separated metrics to optimise (default energy,latency)",
    )
    mapper.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="ffm.KNOB=VALUE",
        dest="settings",
        help="set a mapper knob, e.g. ffm.max_fused_loops=1",
    )
    mapper.add_argument(
        "--out",
        default="accelforge-out",
        metavar="DIR",
        help="folder for front.csv, front.parquet, front.json, pareto.html",
    )
    cli_hwcomponents.add_subcommand(sub)
    cli_sweep.add_subcommand(sub)
    return parser


def _map(args: argparse.Namespace) -> int:
    """Map, print and write the front; 1 when the run did not end OK or found nothing."""
    from accelforge.export import write_front
    from accelforge.frontend.mapper.metrics import Metrics
    from accelforge.mapper import RunFinished, map_workload_to_arch

    _check_writable(Path(args.out))
    params = parse_params(args.param)
    if args.arch is None and args.workload is None:
        arch, workload = (
            getattr(examples.arches, MAP_DEFAULTS[0]),
            getattr(examples.workloads, MAP_DEFAULTS[1]),
        )
        params = {**MAP_DEFAULTS[2], **params}
    else:
        arch = resolve(args.arch or DEFAULT_ARCH, examples.arches)
        workload = resolve(args.workload or DEFAULT_WORKLOAD, examples.workloads)
    spec = Spec.from_yaml(arch, workload, jinja_parse_data=params)
    spec.mapper.metrics = Metrics.parse([m.strip().upper() for m in args.metrics.split(",")])
    for setting in args.settings:
        key, sep, value = setting.partition("=")
        if not sep or not key.startswith("ffm."):
            raise SystemExit(f"accelforge: --set expects ffm.KNOB=VALUE, got {setting!r}")
        setattr(spec.mapper.ffm, key.removeprefix("ffm."), parse_value(value))
    finished: list[RunFinished] = []
    mappings = map_workload_to_arch(
        spec, on_event=lambda e: finished.append(e) if isinstance(e, RunFinished) else None
    )
    status = finished[-1].status if finished else "ERROR"
    if not len(mappings):
        sys.stderr.write(f"accelforge: no mapping found (status {status})\n")
        return 1
    data = mappings.data
    einsums = spec.workload.einsum_names
    columns = [c for c in (col.ENERGY, col.LATENCY, col.ENERGY_DELAY_PRODUCT) if c in data.columns]
    columns += [c for c in data.columns if col.is_total_usage(c, einsums)]
    sys.stdout.write(f"{len(mappings)} Pareto-optimal mapping(s):\n")
    sys.stdout.write(data[columns].to_string(index=True) + "\n")
    for path in write_front(data, args.out, mappings.metadata()):
        sys.stdout.write(f"wrote {path}\n")
    if status != "OK":
        sys.stderr.write(f"accelforge: the run ended {status}: the front may not be optimal\n")
        return 1
    return 0


def _check_writable(out: Path) -> None:
    """Refuse an ``--out`` folder that cannot be written, before any mapping is done."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".accelforge-write-check"
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        raise SystemExit(
            f"accelforge: cannot write to --out {out}: {err.strerror or err}"
        ) from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "map":
            return _map(args)
        if args.command == "hwcomponents":
            return cli_hwcomponents.run_subcommand(args)
        if args.command == "sweep":
            return cli_sweep.run_subcommand(args)
        arch = resolve(args.arch, examples.arches)
        workload = resolve(args.workload, examples.workloads)
        spec = Spec.from_yaml(arch, workload, jinja_parse_data=parse_params(args.param))
        sys.stdout.write(spec.summary() + "\n")
    except (AccelForgeError, AttributeError) as err:
        sys.stderr.write(f"accelforge: {err}\n")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
