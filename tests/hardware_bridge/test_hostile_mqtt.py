"""Hostile MQTT traffic never costs a valid reading (real Mosquitto).

The three poison messages are the ones that stopped live mode before: a
non-finite ``fCnt``, a 400-digit ``rssi`` and 200,000 nested brackets, each sent
on a real device's uplink topic by someone with no device key. Each one must be
refused and counted while all 50 valid readings around it survive; kept on the
broker as a retained message it must not stop any of three bridge restarts.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gridcoop.hardware_bridge.chirpstack import ChirpStackBridge, event_topic
from gridcoop.hardware_bridge.device_simulator import DeviceSimulator
from gridcoop.hardware_bridge.mosquitto import MosquittoBroker
from gridcoop.hardware_bridge.mqtt_transport import MqttTransport
from gridcoop.hardware_bridge.readings import MeterReading
from tests.hardware_bridge.conftest import wait_until

METERS = 50
POISONS = {
    "infinite_fcnt": b'{"fCnt": 1e999, "fPort": 10, "data": "AAAA", "devAddr": "01020304"}',
    "huge_rssi": b'{"fPort": 10, "data": "AAAA", "rxInfo": [{"rssi": ' + b"9" * 400 + b"}]}",
    "deep_nesting": b'{"fPort": 10, "data": ' + b"[" * 200_000 + b"]" * 200_000 + b"}",
}


@pytest.fixture
def publisher(broker: MosquittoBroker, client_id: str) -> Iterator[MqttTransport]:
    client = MqttTransport(
        broker.host, broker.port, client_id=f"{client_id}-ns", persistent_session=False
    )
    client.start(10)
    yield client
    client.close()


def simulator(app: str, publisher: MqttTransport) -> DeviceSimulator:
    return DeviceSimulator(
        "chirpstack", meters=METERS, seed=5, start_s=0, application_id=app, transport=publisher
    )


def collect(bridge: ChirpStackBridge, into: list[MeterReading], count: int) -> None:
    def enough() -> bool:
        into.extend(bridge.drain())
        return len(into) >= count

    wait_until(enough, 20.0, f"{count} readings")


@pytest.mark.broker
@pytest.mark.parametrize("poison", sorted(POISONS))
def test_a_poison_message_costs_no_valid_reading(
    broker: MosquittoBroker, publisher: MqttTransport, client_id: str, poison: str
) -> None:
    app = f"hostile-{poison}"
    sim = simulator(app, publisher)
    messages = sim.build_round()
    poison_topic = event_topic(app, sim.devices[7].eui, "up")
    bridge = ChirpStackBridge(
        sim.registry, application_id=app, broker=broker.address, client_id=client_id, qos=1
    )
    try:
        publisher.publish(poison_topic, POISONS[poison], 1)  # first, and again mid-stream
        sim.publish_messages(messages[:25])
        publisher.publish(poison_topic, POISONS[poison], 1)
        sim.publish_messages(messages[25:])
        readings: list[MeterReading] = []
        collect(bridge, readings, METERS)
        assert sorted(r.meter_id for r in readings) == sorted(d.eui for d in sim.devices)
        wait_until(lambda: len(bridge.guard.rejections()) == 2)
        stats = bridge.stats()
        assert stats["accepted"] == METERS
        assert stats.get("rejected.decoder_fault", 0) == 0
        # an unusable rssi is only left out; that poison's frame ("AAAA") is then refused
        reason = "bad_version" if poison == "huge_rssi" else "malformed_message"
        assert [row[1] for row in bridge.guard.rejections()] == [reason, reason]
    finally:
        bridge.close()


@pytest.mark.broker
def test_a_retained_poison_survives_three_restarts(
    broker: MosquittoBroker, publisher: MqttTransport, client_id: str, tmp_path: object
) -> None:
    app = "hostile-retained"
    sim = simulator(app, publisher)
    poison_topic = event_topic(app, sim.devices[0].eui, "up")
    publisher.publish(poison_topic, POISONS["infinite_fcnt"], 1, retain=True)
    guard = f"{tmp_path}/guard.sqlite"
    total: list[MeterReading] = []
    try:
        for restart in range(3):
            bridge = ChirpStackBridge(
                sim.registry,
                application_id=app,
                broker=broker.address,
                client_id=client_id,
                qos=1,
                guard=guard,
            )
            try:
                wait_until(
                    lambda b=bridge: b.stats().get("events.malformed_message", 0) >= 1,  # type: ignore[misc]
                    what=f"the retained poison after restart {restart}",
                )
                sim.publish_messages(sim.build_round())
                readings: list[MeterReading] = []
                collect(bridge, readings, METERS)
                assert len(readings) == METERS
                total.extend(readings)
            finally:
                bridge.close()
    finally:
        publisher.publish(poison_topic, b"", 1, retain=True)  # clear the retained message
    assert len(total) == 3 * METERS
    assert len({(r.meter_id, r.seq) for r in total}) == 3 * METERS
