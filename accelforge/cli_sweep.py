"""``accelforge sweep ARCH WORKLOAD --grid PATH=V1,V2,...``: ``af.sweep`` from the command line.

Each ``--grid`` adds a path and its values (``arch.GlobalBuffer.size=4096,16384``,
``mapper.max_fused_loops=1,2``, ``jinja.M=64,128``); every combination is mapped, on a process
pool, a local Dask cluster (``--dask``) or a running one (``--scheduler tcp://...``). Each
point is printed as it finishes; the long table goes to ``DIR/sweep.csv`` (with
``sweep.meta.json``). The exit status is 1 when a point did not end ``OK``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from accelforge import examples
from accelforge.cli_args import parse_params, parse_value, resolve

__all__ = ["add_subcommand", "run_subcommand"]


def add_subcommand(sub: Any) -> None:
    """Add ``sweep`` to the ``accelforge`` parser's sub-commands."""
    parser = sub.add_parser(
        "sweep",
        help="map a spec at every point of a grid of settings",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("arch", help="architecture YAML or example name")
    parser.add_argument("workload", help="workload YAML or example name")
    parser.add_argument(
        "--grid",
        action="append",
        required=True,
        metavar="PATH=V1,V2,...",
        help="a path and its values (repeatable; arch.NODE.FIELD, mapper.KNOB, jinja.VAR)",
    )
    parser.add_argument(
        "-p", "--param", action="append", default=[], metavar="KEY=VALUE",
        help="Jinja parameter for the spec files (repeatable)",
    )  # fmt: skip
    parser.add_argument("--metrics", default="energy", help="comma-separated (default energy)")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: CPUs)")
    parser.add_argument("--dask", action="store_true", help="run on a local Dask cluster")
    parser.add_argument("--scheduler", default=None, help="run on this Dask scheduler address")
    parser.add_argument("--out", default="accelforge-sweep", metavar="DIR", help="output folder")


def _grid(items: list[str]) -> dict[str, list[Any]]:
    grid: dict[str, list[Any]] = {}
    for item in items:
        path, sep, values = item.partition("=")
        if not sep or not path or not values:
            raise SystemExit(f"accelforge: --grid expects PATH=V1,V2,..., got {item!r}")
        grid[path.strip()] = [parse_value(v.strip()) for v in values.split(",")]
    return grid


def run_subcommand(args: argparse.Namespace) -> int:
    """Run the sweep; 0 when every point ended OK, else 1."""
    from pathlib import Path

    from accelforge import export
    from accelforge.frontend.mapper.metrics import Metrics
    from accelforge.frontend.spec import Spec
    from accelforge.sweep import sweep

    spec = Spec.from_yaml(
        resolve(args.arch, examples.arches),
        resolve(args.workload, examples.workloads),
        jinja_parse_data=parse_params(args.param),
    )
    metrics = Metrics.parse([m.strip().upper() for m in args.metrics.split(",")])
    executor: Any = "dask" if args.dask else None
    if args.scheduler:
        from distributed import Client

        executor = Client(args.scheduler)
    workers = None if executor is not None else args.workers
    run = sweep(spec, _grid(args.grid), executor=executor, metrics=metrics, n_workers=workers)
    for event in run.events():
        best = "" if event.front is None else f" best energy {event.front['energy'].min():.6g}"
        note = f" ({event.message})" if event.message else ""
        sys.stdout.write(f"point {event.index} {event.values}: {event.status}{best}{note}\n")
    data = run.result()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    export.write_csv(data, out / "sweep.csv", {"grid": _grid(args.grid), "arch": args.arch,
                                              "workload": args.workload})  # fmt: skip
    sys.stdout.write(f"wrote {out / 'sweep.csv'} ({len(data)} rows)\n")
    return 1 if run.failed() else 0
