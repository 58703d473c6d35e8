"""A broker restart mid-stream: the bridge reconnects and resubscribes; with QoS 1 and a
persistent session (ChirpStack) no reading is lost. TTN is QoS 0 by spec: it reconnects
and resubscribes, and frames sent during the outage may be lost (the cumulative energy
counter still brings their energy in with the next frame)."""

from __future__ import annotations

import pytest

from gridcoop.hardware_bridge.chirpstack import ChirpStackBridge
from gridcoop.hardware_bridge.device_simulator import DeviceSimulator
from gridcoop.hardware_bridge.mosquitto import MosquittoBroker
from gridcoop.hardware_bridge.mqtt_transport import MqttTransport
from gridcoop.hardware_bridge.readings import MeterReading
from gridcoop.hardware_bridge.ttn import TtnBridge
from tests.hardware_bridge.conftest import wait_until

METERS = 25


def received(bridge: ChirpStackBridge | TtnBridge, into: list[MeterReading], count: int) -> bool:
    into.extend(bridge.drain())
    return len(into) >= count


@pytest.mark.broker
def test_chirpstack_loses_nothing_across_a_broker_restart(
    restartable_broker: MosquittoBroker, client_id: str
) -> None:
    broker = restartable_broker
    sim_transport = MqttTransport(
        broker.host,
        broker.port,
        client_id=f"{client_id}-sim",
        persistent_session=False,
        reconnect_min_s=0.05,
        reconnect_max_s=0.2,
    )
    sim = DeviceSimulator(
        "chirpstack", meters=METERS, seed=3, start_s=0, qos=1, transport=sim_transport
    ).start()
    # the bridge reconnects more slowly than the devices: frames published in between can
    # only reach it through its persistent session, restored from the broker's file
    bridge_transport = MqttTransport(
        broker.host,
        broker.port,
        client_id=f"{client_id}-bridge",
        persistent_session=True,
        reconnect_min_s=1.0,
        reconnect_max_s=1.0,
    )
    bridge = ChirpStackBridge(
        sim.registry, application_id=sim.application_id, transport=bridge_transport, qos=1
    )
    readings: list[MeterReading] = []
    try:
        sim.step()
        wait_until(lambda: received(bridge, readings, METERS), what="round 1")

        broker.stop()  # SIGTERM: mosquitto writes sessions and queues to its file
        wait_until(lambda: not bridge.transport.connected, what="bridge noticing the outage")
        sim.publish_messages(sim.build_round())  # queued inside the devices' MQTT client
        broker.start()

        wait_until(lambda: sim.transport.outstanding() == 0, what="devices' backlog sent")
        sim.step()  # and a round after the restart
        wait_until(lambda: received(bridge, readings, 3 * METERS), what="rounds 2 and 3")
        assert bridge.transport.connects == 2 and bridge.transport.session_resumed == 1
        keys = sorted((r.meter_id, r.seq) for r in readings)
        assert keys == sorted((d.eui, s) for d in sim.devices for s in range(3))  # none lost
        assert sum(r.import_wh + r.export_wh for r in readings) == sim.energy_wh_published.sum()
        assert bridge.stats().get("rejected.duplicate", 0) >= 0  # QoS 1 may redeliver: filtered
    finally:
        bridge.close()
        sim.close()


@pytest.mark.broker
def test_ttn_reconnects_and_resubscribes(
    restartable_broker: MosquittoBroker, client_id: str
) -> None:
    broker = restartable_broker
    sim = DeviceSimulator(
        "ttn", broker=broker.address, meters=5, seed=4, start_s=0, client_id=f"{client_id}-sim"
    ).start()
    bridge = TtnBridge(
        sim.registry,
        application_id=sim.application_id,
        tenant=sim.tenant,
        broker=broker.address,
        client_id=f"{client_id}-bridge",
    )
    readings: list[MeterReading] = []
    try:
        sim.step()
        wait_until(lambda: received(bridge, readings, 5), what="round 1")
        broker.restart()
        wait_until(
            lambda: all(
                t.connects == 2 and t.wait_ready(0.1) for t in (bridge.transport, sim.transport)
            ),
            what="both clients back with their subscriptions",
        )
        sim.step()
        wait_until(lambda: received(bridge, readings, 10), what="round 2")
        assert bridge.transport.connects == 2
        assert sorted(r.seq for r in readings) == [0] * 5 + [1] * 5
    finally:
        bridge.close()
        sim.close()
