"""Benchmark of the hardware bridge: codec decode rate and uplinks end to end through Mosquitto.

Figures:
* ``decode``: pure ``decode_uplink`` of base64 frames with MAC verification (uplinks/s).
* ``ingest``: the whole check pipeline without MQTT (JSON parse, decode, replay guard,
  reading), per second, with the SQLite commit at the end included.
* ``end_to_end_<server>``: one round of N meters' uplinks, built beforehand by the device
  simulator in its own process (where a network server would be), published to a private
  Mosquitto and turned into readings by the bridge; the clock runs from the signal to
  publish until the bridge holds the last reading. The issue's target is N = 10,000
  in at most 5 s with none lost (ChirpStack, QoS 1). ``quick``: N = 1,000.
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

from gridcoop.hardware_bridge.chirpstack import ChirpStackBridge, parse_uplink
from gridcoop.hardware_bridge.codec import MeterFrame, b64encode, decode_uplink, encode_reading
from gridcoop.hardware_bridge.device_simulator import DEMO_MASTER_KEY, DeviceSimulator
from gridcoop.hardware_bridge.ingest import Ingest
from gridcoop.hardware_bridge.mosquitto import MosquittoBroker, find_mosquitto
from gridcoop.hardware_bridge.mqtt_transport import MqttTransport
from gridcoop.hardware_bridge.registry import DeviceRegistry
from gridcoop.hardware_bridge.replay_guard import ReplayGuard
from gridcoop.hardware_bridge.ttn import TtnBridge

TARGET_S = 5.0


def _decode_rate(n: int) -> dict[str, float]:
    sim = DeviceSimulator(
        "chirpstack",
        meters=min(n, 2000),
        seed=1,
        start_s=0,
        transport=MqttTransport("127.0.0.1", 1, client_id="offline"),
    )
    frames = []
    for index in range(n):
        device = sim.devices[index % len(sim.devices)]
        frame = MeterFrame(
            boot=1,
            seq=index,
            energy_vah=index * 250,
            irms_ca=421,
            s_avg_va=968,
            s_max_va=2310,
            interval_min=15,
        )
        frames.append(
            (
                device.eui,
                b64encode(encode_reading(frame, dev_eui=device.eui, key=device.key)),
                device.key,
            )
        )
    start = time.perf_counter()
    for eui, payload, key in frames:
        decode_uplink(eui, 10, payload, key)
    elapsed = time.perf_counter() - start
    messages = sim.build_round()
    guard = ReplayGuard()
    ingest = Ingest(sim.registry, guard)
    start = time.perf_counter()
    for topic, body in messages:
        ingest.process(parse_uplink(topic, body, 0.0))
    guard.commit()
    ingest_s = time.perf_counter() - start
    return {
        "decode_uplinks_per_s": round(n / elapsed),
        "ingest_uplinks_per_s": round(len(messages) / ingest_s),
    }


def _publish_round(
    server: str, address: str, meters: int, app: str, ready: Any, go: Any, done: Any
) -> None:
    """The network server's side, in its own process (as ChirpStack or TTN would be)."""
    sim = DeviceSimulator(
        server,
        broker=address,
        meters=meters,
        seed=7,
        start_s=0,
        application_id=app,
        client_id=f"bench-sim-{server}",
    )
    sim.start()
    messages = sim.build_round()  # built before the clock starts
    ready.set()
    go.wait(60)
    sim.publish_messages(messages)
    sim.transport.flush(60)
    done.set()
    sim.close()


def _end_to_end(server: str, meters: int, broker: MosquittoBroker) -> dict[str, Any]:
    app = f"bench-{server}"
    registry = DeviceRegistry.simulated(meters, DEMO_MASTER_KEY)
    bridge: ChirpStackBridge | TtnBridge
    if server == "chirpstack":
        bridge = ChirpStackBridge(
            registry,
            application_id=app,
            broker=broker.address,
            client_id=f"bench-bridge-{server}",
            qos=1,
        )
    else:
        bridge = TtnBridge(
            registry,
            application_id=app,
            tenant="ttn",
            broker=broker.address,
            client_id=f"bench-bridge-{server}",
        )
    context = multiprocessing.get_context("spawn")
    ready, go, done = context.Event(), context.Event(), context.Event()
    publisher = context.Process(
        target=_publish_round, args=(server, broker.address, meters, app, ready, go, done)
    )
    publisher.start()
    try:
        if not ready.wait(120):
            raise RuntimeError("the device simulator process did not get ready")
        received = 0
        start = time.perf_counter()
        go.set()
        deadline = start + 60.0
        while received < meters and time.perf_counter() < deadline:
            got = len(bridge.drain())
            received += got
            if not got:
                time.sleep(0.002)
        elapsed = time.perf_counter() - start
        published = done.wait(60)
        stats = bridge.stats()
    finally:
        publisher.join(60)
        bridge.close()
    return {
        "meters": meters,
        "seconds": round(elapsed, 3),
        "uplinks_per_s": round(received / elapsed) if elapsed else 0,
        "lost": meters - received,
        "rejected": sum(v for k, v in stats.items() if k.startswith("rejected.")),
        "publisher_finished": published,
        "within_target": elapsed <= TARGET_S and received == meters,
    }


def run(quick: bool) -> dict[str, Any]:
    meters = 1000 if quick else 10_000
    figures: dict[str, Any] = {"codec": _decode_rate(5_000 if quick else 50_000)}
    if find_mosquitto() is None:
        figures["end_to_end"] = "skipped: mosquitto is not installed"
        return figures
    with MosquittoBroker() as broker:
        figures["end_to_end_chirpstack_qos1"] = _end_to_end("chirpstack", meters, broker)
        figures["end_to_end_ttn_qos0"] = _end_to_end("ttn", meters, broker)
    return figures
