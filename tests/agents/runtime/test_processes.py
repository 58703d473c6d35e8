"""One community across processes: the same KPIs and ledger head hash as one process.

Workers are real spawned processes talking to the market over ZeroMQ tcp; the
remote-worker tests run ``serve`` (what ``gridcoop worker`` runs) in threads
with real CurveZMQ keys on loopback.
"""

from __future__ import annotations

import json
import socket
import threading
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from gridcoop.agents.model.community import CommunityModel
from gridcoop.agents.model.orders import MemberOrders
from gridcoop.agents.model.population import build_population, seeded_streams
from gridcoop.agents.physics.clock import SimClock
from gridcoop.agents.runtime.distributed import (
    DistributedModel,
    RemoteAggregator,
    WorkerError,
    WorkerRegions,
    load_worker_keys,
    make_keys,
)
from gridcoop.agents.runtime.launch import LocalLauncher
from gridcoop.agents.runtime.worker import serve
from gridcoop.agents.scenario.registry import build_scenario
from gridcoop.agents.trading.aggregator import RegionalAggregator
from gridcoop.experiments.cli import main

SMALL: dict[str, Any] = {"households": 40, "regions": 4, "days": 2, "seed": 7}


def _single(**kw: Any) -> dict[str, Any]:
    model = CommunityModel("neighbourhood", **kw)
    try:
        return model.run()
    finally:
        model.close()


def test_two_processes_equal_one_process() -> None:
    expected = _single(**SMALL)
    model = DistributedModel("neighbourhood", processes=2, **SMALL)
    try:
        got = model.run()
        series = model.datacollector.get_model_vars_dataframe()
    finally:
        model.close()
    assert got == expected  # every KPI, the ledger height and head hash
    assert got["trades"] > 0 and got["ledger_height"] > 2
    assert len(series) == 2 * 96


def test_local_books_and_clearing_live_in_the_workers() -> None:
    """The market process holds stand-ins without books; the workers' aggregators cleared.

    2 days of hourly markets are 48 delivery intervals; the first gate (interval 0's
    step) invites orders for interval 1, so intervals 1..47 are auctioned: 47 auctions
    x 4 regions = 188 local clearings, as the single-process aggregators do.
    """
    single = CommunityModel("neighbourhood", **SMALL)
    try:
        single.run()
        single_clearings = sum(ra.local_clearings for ra in single.aggregators)
    finally:
        single.close()
    model = DistributedModel("neighbourhood", processes=2, **SMALL)
    try:
        model.run()
        assert all(isinstance(ra, RemoteAggregator) for ra in model.aggregators)
        assert not any(isinstance(a, RegionalAggregator) for a in model.agents)
        assert not any(hasattr(ra, "endpoint") or hasattr(ra, "_orders")
                       for ra in model.aggregators)
        assert sorted(model.bus.endpoints) == ["central"]  # members and meters are there too
        workers = model.region_host
        assert isinstance(workers, WorkerRegions)
        assert model.local_clearings == workers.local_clearings == single_clearings == 47 * 4
        report = workers.worker_report()
        head = model.accounts.ledger.head_hash
        published = model.central.endpoint.stats.published - model.central.gates_published
        assert published > 0
        for region in ("r0", "r1", "r2", "r3"):
            assert report[region]["clearings"] == 47
            assert report[region]["books"] == 0  # every book was cleared
            assert report[region]["head"] == head  # the worker's replica verified every block
            assert report[region]["blocks"] == published
            assert report[region]["refused"] == []
    finally:
        model.close()
    assert len(workers.worker_cpu_s) == 2 and all(w["cpu_s"] > 0 for w in workers.worker_cpu_s)


def test_cli_processes_writes_the_same_files(tmp_path: Path) -> None:
    args = ["run", "neighbourhood", "--set", "households=40", "--set", "regions=4",
            "--days", "2", "--seed", "3", "--quiet"]
    one = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "one")])
    two = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "two"), "--processes", "2"])
    assert one.exit_code == 0, one.output
    assert two.exit_code == 0, two.output
    for name in ("summary.json", "trades.csv", "timeseries.csv", "bills.csv"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    summary = json.loads((tmp_path / "two" / "summary.json").read_text())
    assert len(summary["ledger_head_hash"]) == 64


def test_region_physics_sliced_equals_whole() -> None:
    """A process stepping regions 2-3 only gets exactly the whole run's slice of them."""
    sc = build_scenario("neighbourhood", dict(SMALL))
    clock = SimClock(days=1, metering_minutes=sc.metering_minutes,
                     market_minutes=sc.market_minutes)
    whole = build_population(sc, clock, seeded_streams(sc.seed))
    part = build_population(sc, clock, seeded_streams(sc.seed))
    for k in range(clock.steps_per_day):
        flows = whole.physics.step(k)
        mine = part.physics.step_regions(k, [2, 3])  # type: ignore[attr-defined]
        for r in (2, 3):
            nodes = whole.region_slices[r]
            for name, array in zip(flows._fields, flows, strict=True):
                np.testing.assert_array_equal(getattr(mine[r], name), array[nodes])


def test_member_orders_of_some_regions_equal_the_whole_runs_slice() -> None:
    """A worker building regions 1 and 3's orders (their physics only) sends exactly what one
    process sends for them: same Wh, same µ€/kWh (the strategy's draws cover every member)."""
    sc = build_scenario("neighbourhood", dict(SMALL))
    clock = SimClock(days=1, metering_minutes=sc.metering_minutes,
                     market_minutes=sc.market_minutes)
    built = []
    for regions in (None, [1, 3]):
        streams = seeded_streams(sc.seed)
        pop = build_population(sc, clock, streams)
        built.append((pop, MemberOrders(sc, clock, partial(getattr, pop, "physics"), pop.size,
                                        streams, pop.region_slices, regions)))
    (whole_pop, whole), (_, part) = built
    for interval in (1, 9, 17):
        expected, got = whole.arrays(interval), part.arrays(interval)
        for r in (1, 3):
            nodes = whole_pop.region_slices[r]
            for name, array in expected.as_arrays().items():
                np.testing.assert_array_equal(got.as_arrays()[name][nodes], array[nodes])
            assert part.flexibility(interval, nodes) == whole.flexibility(interval, nodes)
            sent = part.message(got, r, f"r{r}", whole_pop.node_ids, "a000001", 0)
            assert sent.order_ids == whole.message(expected, r, f"r{r}", whole_pop.node_ids,
                                                   "a000001", 0).order_ids
            assert sent.order_ids  # the region's members do trade
    assert whole.tariff_u(9) == part.tariff_u(9)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _remote_run(tmp_path: Path, worker_key: str) -> tuple[dict[str, Any] | None, list[str]]:
    """A market waiting for one remote worker that uses the pair ``worker_key``."""
    make_keys(tmp_path / "market", workers=1)
    if worker_key != "worker-0":  # a stranger's keys: the market's public key, its own pair
        make_keys(tmp_path / "other", workers=1)
        (tmp_path / "other" / "market.key").write_bytes(
            (tmp_path / "market" / "market.key").read_bytes())
    keys_dir = tmp_path / ("market" if worker_key == "worker-0" else "other")
    errors: list[str] = []
    address: dict[str, str] = {}
    ready = threading.Event()

    def worker() -> None:
        ready.wait(30)
        keys, market_key = load_worker_keys(keys_dir, "worker-0")
        try:
            serve(address["market"], ["r0", "r1", "r2", "r3"], keys, market_key, timeout_s=3)
        except WorkerError as exc:
            errors.append(str(exc))

    thread = threading.Thread(target=worker)
    thread.start()
    model: CommunityModel | None = None
    port = _free_port()
    address["market"] = f"tcp://127.0.0.1:{port}"
    try:
        ready.set()  # the worker retries until the market binds and answers
        model = DistributedModel("neighbourhood", processes=0, remote=1,
                                 listen=f"127.0.0.1:{port}", curve_dir=tmp_path / "market",
                                 timeout_s=5, **SMALL)
        return model.run(), errors
    finally:
        ready.set()
        if model is not None:
            model.close()
        thread.join(30)


def test_remote_worker_with_curve_keys_equals_one_process(tmp_path: Path) -> None:
    got, errors = _remote_run(tmp_path, "worker-0")
    assert errors == []
    assert got == _single(**SMALL)


def test_worker_without_the_right_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WorkerError, match=r"[1-9]\d* handshake\(s\) refused"):
        _remote_run(tmp_path, "stranger")


def test_a_crashed_worker_fails_the_run_without_hanging() -> None:
    model = DistributedModel("neighbourhood", processes=2, timeout_s=20, **SMALL)
    try:
        model.step()
        workers = model.region_host
        assert isinstance(workers, WorkerRegions) and workers.control is not None
        launcher = workers.control.launcher
        assert isinstance(launcher, LocalLauncher)
        launcher.processes[0].kill()
        with pytest.raises(WorkerError, match="exited with code -9"):
            model.run()
    finally:
        model.close()


@pytest.mark.parametrize(("scenario", "sets"), [
    ("ev-community", ["households=14", "regions=2", "ev_community.warmup_days=7"]),
    ("dr-community", []),
    ("campus-microgrid", []),
    ("campus-lighting", []),
    ("campus-footprint", []),
])
def test_community_mechanisms_under_processes_write_the_same_files(
        tmp_path: Path, scenario: str, sets: list[str]) -> None:
    """EV, DR and campus extensions run in the market process (their physics with them);
    the workers meter, order and clear: the same files and ledger head as one process."""
    args = ["run", scenario, "--days", "1", "--seed", "5", "--quiet"]
    for item in sets:
        args += ["--set", item]
    one = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "one")])
    two = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "two"), "--processes", "2"])
    assert one.exit_code == 0, one.output
    assert two.exit_code == 0, two.output
    for name in ("summary.json", "trades.csv", "bills.csv"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    summary = json.loads((tmp_path / "two" / "summary.json").read_text())
    assert summary["scenario"] == scenario and len(summary["ledger_head_hash"]) == 64
    assert summary["ledger_height"] > 1


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="at least one worker"):
        DistributedModel("neighbourhood", processes=0, **SMALL)
    with pytest.raises(ValueError, match="CurveZMQ keys"):
        DistributedModel("neighbourhood", processes=0, remote=1, **SMALL)


def test_an_aggregator_holds_its_messages_until_released() -> None:
    """Held messages leave in the order they were made, with the ids they would have had."""
    kw: dict[str, Any] = {"households": 12, "regions": 1, "days": 1, "seed": 3}
    plain, held = CommunityModel("neighbourhood", **kw), CommunityModel("neighbourhood", **kw)
    try:
        for _ in range(4):  # steps 0-3: the first hour's gate invites orders for hour 1
            plain.step()
            held.step()
        ra = held.aggregators[0]
        sent = ra.endpoint.stats.sent
        ra.hold()
        held.read_meters(held.clock.start_s(4))  # hour 0 ends: its readings are forwarded
        assert ra.endpoint.stats.sent == sent  # ... but held
        assert ra.release() == 1
        assert ra.release() == 0  # nothing twice
        plain.read_meters(plain.clock.start_s(4))
        held.settle()
        plain.settle()
        got, expected = held.central.endpoint.drain(), plain.central.endpoint.drain()
        assert got and [m.id for m in got] == [m.id for m in expected]
        assert [m.model_dump(exclude={"ts"}) for m in got] == \
            [m.model_dump(exclude={"ts"}) for m in expected]
    finally:
        plain.close()
        held.close()
