"""Mapper runs and sweeps on a real Dask cluster: a scheduler and two workers on 127.0.0.1.

The processes are started here (``dask scheduler``, ``dask worker --no-nanny``) and stopped at
the end; one worker is killed mid-sweep to check that Dask re-runs its tasks.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

distributed = pytest.importorskip(
    "distributed", reason='dask.distributed is not installed (pip install -e ".[dask]")'
)

import accelforge as af  # noqa: E402
from accelforge.mapper import TemplateDone, map_workload_to_arch, start  # noqa: E402
from tests.mapper.specs import matmul_chain  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _worker(address: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
         "--no-nanny", "--no-dashboard", "--host", "127.0.0.1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.fixture
def cluster() -> Iterator[tuple[Any, list[subprocess.Popen[bytes]]]]:
    """A client of a scheduler with two single-threaded workers, all on 127.0.0.1."""
    address = f"tcp://127.0.0.1:{_free_port()}"
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", address.rsplit(":", 1)[1], "--no-dashboard"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    workers = [_worker(address) for _ in range(2)]
    client = None
    try:
        deadline = time.monotonic() + 60
        while client is None:
            try:
                client = distributed.Client(address, timeout=5)
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        client.wait_for_workers(2, timeout=60)
        yield client, workers
    finally:
        if client is not None:
            client.close()
        for process in [*workers, scheduler]:
            process.terminate()
        for process in [*workers, scheduler]:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()


def _spec() -> af.Spec:
    spec = matmul_chain(3, 64, 65536)
    spec.mapper.metrics = af.Metrics.ENERGY | af.Metrics.LATENCY
    return spec


def test_a_cluster_run_gives_the_in_process_front_with_its_tasks_on_the_workers(cluster) -> None:
    client, _ = cluster
    local = start(_spec(), n_workers=1)
    local_templates = sorted(e.template for e in local.events() if isinstance(e, TemplateDone))
    with distributed.get_task_stream(client) as stream:
        run = start(_spec(), executor=client)
        templates = sorted(e.template for e in run.events() if isinstance(e, TemplateDone))
        there = run.result(timeout=300)
    pd.testing.assert_frame_equal(there.data, local.result().data)
    assert templates == local_templates
    same = ("status", "templates", "unit_status", "einsums", "join_steps", "front_size")
    assert {k: run.statistics[k] for k in same} == {k: local.statistics[k] for k in same}
    assert run.statistics["n_workers"] == 2
    assert {task["worker"] for task in stream.data} == set(client.scheduler_info()["workers"])


def test_a_sweep_on_the_cluster_equals_serial_runs_point_by_point(cluster) -> None:
    client, _ = cluster
    sizes = [4096, 16384, 65536]
    spec = matmul_chain(2, 64, 65536)
    spec.mapper.metrics = af.Metrics.ENERGY
    data = af.sweep(spec, {"arch.GlobalBuffer.size": sizes}, executor=client).result(300)
    assert data["status"].eq("OK").all() and list(data["point"].unique()) == [0, 1, 2]
    for size in sizes:
        serial = spec.model_copy(deep=True)
        serial.arch.find("GlobalBuffer").size = size
        expected = map_workload_to_arch(serial, n_workers=1).data["energy"].tolist()
        got = data.loc[data["arch.GlobalBuffer.size"] == size, "energy"].tolist()
        assert got == expected


def test_killing_a_worker_mid_sweep_loses_no_point(cluster) -> None:
    client, workers = cluster
    spec = matmul_chain(2, 96, 65536)
    spec.mapper.metrics = af.Metrics.ENERGY
    run = af.sweep(spec, {"jinja.M": [32, 48, 64, 80, 96, 112]}, executor=client)
    events = run.events()
    first = next(events)
    os.kill(workers[0].pid, signal.SIGKILL)  # lost with whatever task it held
    rest = list(events)
    data = run.result(300)
    assert sorted(e.index for e in [first, *rest]) == list(range(6))
    assert data["status"].eq("OK").all() and sorted(data["point"].unique()) == list(range(6))
    assert workers[0].wait(10) == -signal.SIGKILL


def test_a_mapper_run_survives_a_lost_worker_and_a_cancel_drops_its_tasks(cluster) -> None:
    client, workers = cluster
    spec = matmul_chain(4, 64, 65536)
    spec.mapper.metrics = af.Metrics.ENERGY | af.Metrics.LATENCY
    here = map_workload_to_arch(spec, n_workers=1).data
    run = start(spec, executor=client)
    events = run.events()
    next(e for e in events if isinstance(e, TemplateDone))
    os.kill(workers[0].pid, signal.SIGKILL)  # its tasks go to the other worker
    list(events)
    assert run.status == "OK"
    pd.testing.assert_frame_equal(run.result(timeout=300).data, here)

    again = start(spec, executor=client)
    next(e for e in again.events() if isinstance(e, TemplateDone))
    again.cancel()
    again.result(timeout=60)
    assert again.status == "CANCELLED"
    deadline = time.monotonic() + 30
    while client.processing() and any(client.processing().values()):
        assert time.monotonic() < deadline, client.processing()  # the tasks were dropped
        time.sleep(0.5)


def test_executor_dask_starts_a_local_cluster_for_the_run_and_closes_it() -> None:
    spec = matmul_chain(2, 32, 65536)
    here = map_workload_to_arch(spec, n_workers=1).data
    run = start(spec, executor="dask")
    there = run.result(timeout=300)
    pd.testing.assert_frame_equal(there.data, here)
    assert run.status == "OK" and run.statistics["n_workers"] == (os.cpu_count() or 1)
    assert run._executor.client.status == "closed"  # the run owned it
