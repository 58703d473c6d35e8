"""Region workers placed by Dask: same ledger head as one process, CurveZMQ still on.

A real ``distributed.LocalCluster`` of two worker processes hosts the two
region workers as long-running tasks; the market process talks to them over
ZeroMQ with CurveZMQ exactly as to spawned workers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gridcoop.agents.model.community import CommunityModel
from gridcoop.agents.runtime.distributed import DistributedModel, WorkerRegions
from gridcoop.agents.runtime.launch import DaskLauncher

distributed = pytest.importorskip("distributed")

RUN: dict[str, Any] = {"households": 40, "regions": 4, "days": 1, "seed": 5}


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as local:
        yield local


@pytest.mark.slow
def test_dask_placed_workers_give_the_one_process_head(cluster: Any) -> None:
    single = CommunityModel("neighbourhood", **RUN)
    try:
        expected = single.run()
    finally:
        single.close()
    model = DistributedModel("neighbourhood", processes=2, dask=cluster.scheduler_address,
                             timeout_s=120, **RUN)
    try:
        workers = model.region_host
        assert isinstance(workers, WorkerRegions) and workers.control is not None
        assert isinstance(workers.control.launcher, DaskLauncher)
        assert workers.control.curve is not None  # the data plane is still CurveZMQ
        got = model.run()
        report = workers.worker_report()
    finally:
        model.close()
    assert got == expected
    assert sorted(report) == ["r0", "r1", "r2", "r3"]
    assert all(r["head"] == expected["ledger_head_hash"] for r in report.values())


def test_dask_needs_processes() -> None:
    with pytest.raises(ValueError, match="--dask places the --processes workers"):
        DistributedModel("neighbourhood", processes=0, remote=1, curve_dir=".", dask="local",
                         **RUN)


def test_cli_dask_without_processes_is_a_usage_error() -> None:
    from click.testing import CliRunner

    from gridcoop.experiments.cli import main

    result = CliRunner().invoke(main, ["run", "neighbourhood", "--dask", "local", "--quiet"])
    assert result.exit_code == 2
    assert "--dask places the --processes workers" in result.output
