"""Simulator -> Mosquitto -> bridge -> live runner -> ledger -> DR command -> device ack.

Also: a silent meter, a meter reboot and a broker restart mid-run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gridcoop.experiments.live import LiveRunner, load_config
from gridcoop.experiments.live.journal import journal_rows
from gridcoop.hardware_bridge.device_simulator import DeviceSimulator
from gridcoop.hardware_bridge.mosquitto import MosquittoBroker

from .conftest import INTERVAL_S, command_log, make_simulator, wait_for, write_config

pytestmark = pytest.mark.broker


def _lockstep(runner: LiveRunner, sim: DeviceSimulator, rounds: int,
              skip: frozenset[tuple[int, int]] | set[tuple[int, int]] = frozenset()) -> None:
    """Publish round k (minus skipped devices), wait until the bridge accepted it, step k."""
    source = runner.sources["lns"]
    for _ in range(rounds):
        k = runner.next_step
        sim.handle_downlinks()
        messages = sim.build_round()
        kept = [m for i, m in enumerate(messages) if (k, i) not in skip]
        want = source.stats().get("accepted", 0)
        sim.publish_messages(kept)
        target = want + len(kept)

        def arrived(t: int = target) -> bool:
            return int(source.stats().get("accepted", 0)) >= t

        wait_for(arrived, 10, f"round {k}")
        assert runner.run(max_steps=1) == 1


def test_dr_command_goes_out_and_its_ack_lands_on_the_ledger(broker: MosquittoBroker,
                                                              tmp_path: Path) -> None:
    sim = make_simulator(broker, meters=3)
    try:
        path = write_config(tmp_path, broker, sim, real=3, rules=[
            {"threshold_kw": 0.1, "node": "h001", "appliance": 2, "action": "off"}])
        with LiveRunner(load_config(path)) as runner:
            _lockstep(runner, sim, 4)
            assert runner.next_step == 4
    finally:
        sim.close()
    rows = journal_rows(tmp_path / "ledger.sqlite")
    sent, outcomes = command_log(rows)
    # the rule fires once on the first interval (2 simulated meters at ~400 W alone exceed
    # 0.1 kW); the device obeys and acks; the ack is recorded in a later interval's block
    assert sent == [("2", 0, "off")]
    assert outcomes == [(0, "acked", "device")]
    measured = [r for r in rows if r["kind"] == "meter_attestation" and r["span_s"] == INTERVAL_S]
    # 4 intervals x (3 real + 2 simulated) meters, all measured
    assert len(measured) == 4 * 5
    assert sim.counters[1].state.level(2, 10**6) == 0  # h001's appliance 2 is off


def test_silent_meter_is_estimated_flagged_and_recovers_with_nothing_lost(
        broker: MosquittoBroker, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    sim = make_simulator(broker, meters=2)
    try:
        path = write_config(tmp_path, broker, sim, real=2, simulated=0)
        with LiveRunner(load_config(path)) as runner:
            meter_h001 = runner.journal.meter_of["h001"]
            estimator = runner.journal.estimator
            # h001's frames of rounds 1 and 2 are lost on air; it is heard again in round 3
            _lockstep(runner, sim, 2, skip={(1, 1), (2, 1)})
            assert runner.meters.silent == ["h001"]
            _lockstep(runner, sim, 1, skip={(2, 1)})
            assert runner.meters.silent == ["h001"]
            _lockstep(runner, sim, 2)
            assert runner.meters.silent == []
    finally:
        sim.close()
    rows = journal_rows(tmp_path / "ledger.sqlite")
    mine = [r for r in rows if r["kind"] == "meter_attestation" and r["issuer"] == meter_h001]
    estimates = [r for r in rows if r["kind"] == "meter_attestation" and r["issuer"] == estimator]
    # intervals 1 and 2 were estimated by the estimator account, never by the meter
    assert [(r["start_s"], r["span_s"]) for r in estimates] == [(300, 300), (600, 300)]
    # the meter's own records: interval 0, then one reading spanning the gap (900 s), then 4
    assert [(r["start_s"], r["span_s"]) for r in mine] == [(0, 300), (300, 900), (1200, 300)]
    # nothing lost: what the meter measured equals what the device counted
    assert sum(r["import_wh"] for r in mine) == int(sim.energy_wh_published[1])
    assert "is silent for interval 1" in caplog.text
    assert "is back after 2 silent interval(s)" in caplog.text


def test_meter_reboot_and_broker_restart_are_logged_and_lose_nothing(
        broker: MosquittoBroker, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    sim = make_simulator(broker, meters=2)
    try:
        path = write_config(tmp_path, broker, sim, real=2, simulated=0)
        with LiveRunner(load_config(path)) as runner:
            meter_h000 = runner.journal.meter_of["h000"]
            _lockstep(runner, sim, 2)
            sim.reboot(0)  # power cycle: boot 2, counter back to 0, re-join
            _lockstep(runner, sim, 1)
            broker.restart(down_s=0.3)
            wait_for(lambda: runner.sources["lns"].transport.connected, 15, "bridge reconnect")
            wait_for(lambda: sim.transport.connected, 15, "simulator reconnect")
            _lockstep(runner, sim, 2)
            assert runner.next_step == 5
            assert runner.meters.silent == []
    finally:
        sim.close()
    rows = journal_rows(tmp_path / "ledger.sqlite")
    mine = [r for r in rows if r["kind"] == "meter_attestation" and r["issuer"] == meter_h000]
    assert len(mine) == 5
    assert sum(r["import_wh"] for r in mine) == int(sim.energy_wh_published[0])
    counters = [r["counter"] for r in mine]
    assert counters == sorted(counters) and counters[2] >> 48 == 2  # boot 2 from interval 2
    assert "meter h000 rebooted (boot 1 -> 2)" in caplog.text
    # the outage began and ended between two intervals; its reason is logged all the same
    assert "network server lns: connection lost 1 time(s) since the last interval" in caplog.text
