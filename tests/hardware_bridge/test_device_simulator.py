"""The device simulator: plausible households, deterministic, obeys commands end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from gridcoop.experiments.cli import main
from gridcoop.hardware_bridge.chirpstack import ChirpStackBridge
from gridcoop.hardware_bridge.device_simulator import DEMO_MASTER_KEY, DeviceSimulator
from gridcoop.hardware_bridge.errors import DutyCycleError
from gridcoop.hardware_bridge.households import HouseholdFleet
from gridcoop.hardware_bridge.mosquitto import MosquittoBroker
from gridcoop.hardware_bridge.mqtt_transport import MqttTransport
from gridcoop.hardware_bridge.readings import Command, CommandAck, MeterReading
from gridcoop.hardware_bridge.registry import DeviceRegistry
from gridcoop.hardware_bridge.ttn import TtnBridge
from tests.hardware_bridge.conftest import gather, wait_until


class NullTransport(MqttTransport):
    """Never connects: for building messages offline."""

    def __init__(self) -> None:
        super().__init__("127.0.0.1", 1, client_id="offline")


def test_households_are_plausible_and_deterministic() -> None:
    pv = np.arange(200) % 10 == 9
    fleet = HouseholdFleet(200, seed=5, pv=pv)
    days = np.zeros(200)
    for k in range(96):
        energy, peak = fleet.interval(k * 900.0, (k + 1) * 900.0)
        assert (energy >= 0).all() and (peak * 0.25 >= energy - 1e-9).all()
        days += energy
    homes = days[~pv]
    assert 4 < homes.mean() < 20  # kWh/day of a household
    assert homes.min() > 24 * 0.04 * 0.3  # never below a fraction of the standby load
    assert 1 < days[pv].mean() < 15  # kWh/day of a 1.5-4 kWp roof
    night, _ = fleet.interval(2 * 3600.0, 3 * 3600.0)
    assert night[pv].max() == 0.0  # no sun at 02:00
    again = HouseholdFleet(200, seed=5, pv=pv)
    assert np.array_equal(
        again.interval(0.0, 900.0)[0], HouseholdFleet(200, 5, pv).interval(0.0, 900.0)[0]
    )


def test_same_seed_same_messages() -> None:
    def round_of(seed: int) -> list[tuple[str, bytes]]:
        sim = DeviceSimulator(
            "chirpstack", meters=5, seed=seed, start_s=0, transport=NullTransport()
        )
        return sim.build_round() + sim.build_round()

    assert round_of(1) == round_of(1)
    assert round_of(1) != round_of(2)


def test_messages_carry_valid_frames() -> None:
    sim = DeviceSimulator(
        "ttn", meters=3, seed=1, start_s=0, export_every=3, transport=NullTransport()
    )
    topic, payload = sim.build_round()[0]
    body = json.loads(payload)
    assert topic == "v3/gridcoop@ttn/devices/meter-00001/up"
    assert "f_cnt" not in body["uplink_message"]  # TTN omits zero fields
    assert body["correlation_ids"][0].startswith("as:up:")
    assert sim.registry.resolve("meter-00003").direction == "export"
    assert DeviceRegistry.simulated(3, DEMO_MASTER_KEY).by_device_id("meter-00001").key == (
        sim.registry.by_device_id("meter-00001").key
    )


@pytest.mark.broker
@pytest.mark.parametrize("server", ["chirpstack", "ttn"])
def test_end_to_end_readings_commands_reboot(
    broker: MosquittoBroker, client_id: str, server: str
) -> None:
    sim = DeviceSimulator(
        server,
        broker=broker.address,
        meters=20,
        seed=2,
        start_s=0,
        application_id=f"e2e-{server}",
        client_id=f"{client_id}-sim",
        export_every=5,
    ).start()
    bridge_class = ChirpStackBridge if server == "chirpstack" else TtnBridge
    bridge = bridge_class(
        sim.registry,
        application_id=sim.application_id,
        broker=broker.address,
        client_id=f"{client_id}-bridge",
    )
    readings: list[MeterReading] = []

    def got(n: int) -> bool:
        readings.extend(bridge.drain())
        return len(readings) >= n

    try:
        sim.step()
        sim.step()
        wait_until(lambda: got(40), what="two rounds")
        first = sim.devices[0].eui
        bridge.send(Command(first, 255, 500, "off", confirmed=True))
        bridge.send(Command(first, 255, 501, "dr_event", 2, duration_min=30))

        def answer_and_collect() -> list[CommandAck]:
            sim.handle_downlinks()  # the devices obey and send their fPort-12 acks
            return bridge.acks()

        acks = gather([], answer_and_collect, 2, what="two acks")
        assert sorted((a.command_id, a.status, a.via) for a in acks) == [
            (500, "acked", "device"),
            (501, "acked", "device"),
        ]
        sim.reboot(1)  # power cycle: boot+1, seq and energy from 0, OTAA re-join
        sim.step()
        wait_until(lambda: got(60), what="round three")
        by_meter: dict[str, list[MeterReading]] = {}
        for r in readings:
            by_meter.setdefault(r.meter_id, []).append(r)
        assert all(len(v) == 3 for v in by_meter.values())
        assert sum(r.import_wh + r.export_wh for r in readings) == sim.energy_wh_published.sum()
        # everything off in the third round: only the standby load (0.04 kW) is left
        assert by_meter[first][2].extra["relay_on"] == 0.0 and by_meter[first][2].import_wh < 20
        assert by_meter[first][1].extra["relay_on"] == 1.0
        assert by_meter[sim.devices[1].eui][2].extra["new_boot"] == 1.0
        pv_meters = {d.eui for d in sim.devices if d.direction == "export"}
        assert len(pv_meters) == 4  # every 5th of 20
        assert all(r.import_wh == 0 for r in readings if r.meter_id in pv_meters)
        assert all(r.export_wh == 0 for r in readings if r.meter_id not in pv_meters)
        stats = bridge.stats()
        assert stats["accepted"] == 60 and stats["reboots"] == 1
        assert not any(k.startswith("rejected.") for k in stats)
    finally:
        bridge.close()
        sim.close()


@pytest.mark.broker
def test_cli_simulate_and_registry(broker: MosquittoBroker, client_id: str, tmp_path: Path) -> None:
    registry_path = tmp_path / "fleet.yaml"
    runner = CliRunner()
    made = runner.invoke(
        main, ["devices", "registry", "--meters", "4", "--out", str(registry_path)]
    )
    assert made.exit_code == 0, made.output
    bridge = ChirpStackBridge(
        DeviceRegistry.load(registry_path),
        application_id="cli",
        broker=broker.address,
        client_id=client_id,
    )
    try:
        result = runner.invoke(
            main,
            [
                "devices",
                "simulate",
                "--server",
                "chirpstack",
                "--broker",
                broker.address,
                "--meters",
                "4",
                "--interval-s",
                "900",
                "--rounds",
                "2",
                "--speedup",
                "0",
                "--app-id",
                "cli",
                "--start",
                "0",
            ],
        )
        assert result.exit_code == 0, result.output
        readings = gather([], bridge.drain, 8, what="eight readings")
        assert sorted({r.seq for r in readings}) == [0, 1] and len(readings) == 8
        assert bridge.stats()["accepted"] == 8
    finally:
        bridge.close()
    bad = runner.invoke(
        main, ["devices", "simulate", "--server", "chirpstack", "--interval-s", "90"]
    )
    assert bad.exit_code != 0 and "whole number of minutes" in bad.output
    table = runner.invoke(main, ["devices", "airtime"])
    assert table.exit_code == 0 and "1810.4" in table.output


def test_a_one_minute_fleet_needs_a_fast_data_rate() -> None:
    # 20 B at DR0 (SF12) is 1.810 s on air: 1 % duty cycle -> at least 181 s between frames;
    # at DR5 (SF7) the same frame allows a frame every few seconds.
    with pytest.raises(DutyCycleError, match="at least 181 s, not 60 s"):
        DeviceSimulator("chirpstack", meters=2, interval_s=60)
    fast = DeviceSimulator("chirpstack", meters=2, interval_s=60, dr=5)
    assert [d.radio.dr for d in fast.devices] == [5, 5]
    assert all(d.radio.interval_s == 60 for d in fast.devices)
