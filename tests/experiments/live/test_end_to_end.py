"""Simulator -> Mosquitto -> bridge -> live runner -> ledger -> DR command -> device ack -> ledger."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments.live import LiveRunner, load_config
from experiments.live.journal import journal_rows
from hardware_bridge.mosquitto import MosquittoBroker

from .conftest import INTERVAL_S, make_simulator, wait_for, write_config

pytestmark = pytest.mark.broker


def _lockstep(runner: LiveRunner, sim: object, rounds: int, skip: set[tuple[int, int]] = frozenset(),
              before: object = None) -> None:
    """Publish round k (minus skipped devices), wait until the bridge accepted it, step k."""
    source = runner.sources["lns"]
    for _ in range(rounds):
        k = runner.next_step
        if before is not None:
            before(k)
        sim.handle_downlinks()
        messages = sim.build_round()
        kept = [m for i, m in enumerate(messages) if (k, i) not in skip]
        want = source.stats().get("accepted", 0)
        sim.publish_messages(kept)
        target = want + len(kept)
        wait_for(lambda: source.stats().get("accepted", 0) >= target, 10, f"round {k}")
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
    commands = [r["appliance"] for r in rows if r["kind"] == "dr_command"]
    # the rule fires once on the first interval (2 simulated meters at ~400 W alone exceed
    # 0.1 kW); the device obeys and acks; the ack is recorded in a later interval's block
    assert commands[0] == "a2/cmd0/off"
    assert "a2/cmd0/off/acked:device" in commands
    assert len(commands) == 2
    measured = [r for r in rows if r["kind"] == "meter_attestation" and r["span_s"] == INTERVAL_S]
    # 4 intervals x (3 real + 2 simulated) meters, all measured
    assert len(measured) == 4 * 5
    assert sim.counters[1].state.level(2, 10**6) == 0  # h001's appliance 2 is off
