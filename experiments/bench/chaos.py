"""``gridcoop bench chaos``: hostile inputs and faults against the bridge; nothing may be lost.

Figures (the totals first, then each part):

* ``decoders``: seeded hostile variants of real uplinks, registries and serial
  lines through every decoder; each must end in a value or the project's own
  error (``non_project_errors`` must be 0).
* ``chirpstack``: a real Mosquitto, simulated meters publishing QoS 1 uplinks
  mixed with hostile messages (a retained poison among them), and faults
  injected in the middle: the broker restarted, the bridge restarted, and the
  replay guard's file locked by another process so commits fail for a while.
  Every valid reading must arrive exactly once (``records_lost`` and
  ``duplicates_delivered`` 0) with the energy the meters published.
* ``ttn``: the same hostile mix over The Things Stack's QoS 0 topics (no
  broker restart: QoS 0 may lose frames in an outage by specification).

``refused`` counts the bridge's recorded refusals; a hostile copy that still
carries a genuine signed frame may be accepted in place of the original, so
``refused`` can be a little below the hostile inputs tried.
"""

from __future__ import annotations

import contextlib
import logging
import random
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from gridcoop.experiments.bench.hostile import hostile_variants, interleave
from gridcoop.hardware_bridge import chirpstack, ttn
from gridcoop.hardware_bridge.chirpstack import ChirpStackBridge
from gridcoop.hardware_bridge.codec import decode_uplink
from gridcoop.hardware_bridge.command_codec import decode_command
from gridcoop.hardware_bridge.device_simulator import DeviceSimulator
from gridcoop.hardware_bridge.errors import BridgeError
from gridcoop.hardware_bridge.mosquitto import MosquittoBroker, find_mosquitto
from gridcoop.hardware_bridge.mqtt_bridge import MqttBridge
from gridcoop.hardware_bridge.mqtt_transport import MqttTransport
from gridcoop.hardware_bridge.readings import MeterReading
from gridcoop.hardware_bridge.registry import DeviceRegistry
from gridcoop.hardware_bridge.serial_protocol import format_uplink, parse_line
from gridcoop.hardware_bridge.ttn import TtnBridge

SEED = 15
LOCK_S = 7.0  # longer than SQLite's 5 s busy timeout, so guard commits really fail
SETTLE_S = 1.0


def _offline(server: str, meters: int) -> DeviceSimulator:
    transport = MqttTransport("127.0.0.1", 1, client_id="chaos-offline")
    return DeviceSimulator(server, meters=meters, seed=SEED, start_s=0, transport=transport)


def _try_all(inputs: list[Any], decode: Callable[[Any], object]) -> dict[str, int]:
    counts = {"tried": len(inputs), "refused": 0, "decoded": 0, "non_project_errors": 0}
    for item in inputs:
        try:
            decode(item)
            counts["decoded"] += 1
        except BridgeError:
            counts["refused"] += 1
        except Exception:  # what the suite exists to find
            counts["non_project_errors"] += 1
    return counts


def _decoders(n: int) -> dict[str, dict[str, int]]:
    cs, tt = _offline("chirpstack", 20), _offline("ttn", 20)
    cs_msgs, tt_msgs = cs.build_round(), tt.build_round()
    rng = random.Random(SEED)
    device = cs.devices[0]
    frames = [rng.randbytes(rng.choice([0, 4, 8, 16, 20, 24])) for _ in range(n)]
    lines = [format_uplink(device.eui, 10, f) for f in frames[: n // 2]]
    lines += [bytes(rng.randrange(256) for _ in range(rng.randrange(80))) for _ in range(n // 2)]
    registry_text = yaml.safe_dump({"devices": [d.to_entry() for d in cs.devices[:3]]})
    registries = [
        registry_text[: rng.randrange(len(registry_text))]
        + rng.choice(["", "[", "{", ": 1e999", "- 5", "&a [*a]", "\t", "\ud800"])
        + registry_text[rng.randrange(len(registry_text)) :]
        for _ in range(n)
    ]
    return {
        "chirpstack_json": _try_all(
            hostile_variants(cs_msgs, n, SEED),
            lambda m: chirpstack.parse_uplink(m[0], m[1], 0.0),
        ),
        "ttn_json": _try_all(
            hostile_variants(tt_msgs, n, SEED + 1),
            lambda m: ttn.parse_uplink(tt.registry, m[0], m[1], 0.0),
        ),
        "uplink_codec": _try_all(
            frames, lambda f: decode_uplink(device.eui, 10 + 2 * (f[:1] == b"\x00"), f, device.key)
        ),
        "command_codec": _try_all(
            frames, lambda f: decode_command(f, dev_eui=device.eui, key=device.key)
        ),
        "serial_lines": _try_all(lines, parse_line),
        "registry_yaml": _try_all(registries, lambda t: DeviceRegistry.parse(t, False)),
    }


def _collect(bridge: MqttBridge, into: list[MeterReading], count: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while len(into) < count and time.monotonic() < deadline:
        got = bridge.drain()
        into.extend(got)
        if not got:
            time.sleep(0.05)


class _Run:
    """One network server's chaos run: the simulator, the bridge, and the counters."""

    def __init__(self, server: str, broker: MosquittoBroker, meters: int, folder: Path) -> None:
        self.server, self.broker, self.meters = server, broker, meters
        self.guard_path = folder / f"guard-{server}.sqlite"
        self.client_id = f"chaos-bridge-{server}"
        publisher = MqttTransport(broker.host, broker.port, client_id=f"chaos-ns-{server}",
                                  persistent_session=False, reconnect_min_s=0.05,
                                  reconnect_max_s=0.2)
        self.sim = DeviceSimulator(server, meters=meters, seed=SEED, start_s=0,
                                   application_id=f"chaos-{server}", transport=publisher).start()
        self.readings: list[MeterReading] = []
        self.valid = self.hostile = self.faults = 0
        self.bridge = self._open()

    def _open(self) -> MqttBridge:
        common: dict[str, Any] = {"broker": self.broker.address, "client_id": self.client_id,
                                  "guard": self.guard_path}
        if self.server == "chirpstack":
            return ChirpStackBridge(self.sim.registry, application_id=self.sim.application_id,
                                    qos=1, **common)
        return TtnBridge(self.sim.registry, application_id=self.sim.application_id,
                         tenant=self.sim.tenant, **common)

    def restart_bridge(self) -> None:
        """Close the bridge (a persistent session keeps queueing) and open it again."""
        self.faults += 1
        time.sleep(SETTLE_S)  # QoS 0 (TTN): what is in flight when it closes is lost
        self.readings.extend(self.bridge.drain())
        self.bridge.close()
        self.bridge = self._open()

    def round(self, hostile: int, during: Callable[[], None] | None = None) -> None:
        """Publish one round of valid uplinks mixed with ``hostile`` broken ones."""
        valid = self.sim.build_round()
        bad = hostile_variants(valid, hostile, SEED + self.sim.round)
        mixed = interleave(valid, bad, SEED + self.sim.round)
        half = len(mixed) // 2
        self.sim.publish_messages(mixed[:half])
        if during is not None:
            during()
        self.sim.publish_messages(mixed[half:])
        self.sim.transport.flush(30)
        self.valid += len(valid)
        self.hostile += len(bad)

    def figures(self) -> dict[str, Any]:
        _collect(self.bridge, self.readings, self.valid, 60.0)
        stats = self.bridge.stats()  # the guard's counters persist across bridge restarts
        keys = {(r.meter_id, r.boot, r.seq) for r in self.readings}
        published = int(self.sim.energy_wh_published.sum())
        delivered = sum(r.import_wh + r.export_wh for r in self.readings)
        return {
            "faults_injected": self.faults, "valid_published": self.valid,
            "hostile_tried": self.hostile,
            "refused": sum(v for k, v in stats.items() if k.startswith("rejected.")),
            "decoder_faults": stats.get("rejected.decoder_fault", 0),
            "guard_write_failures": stats.get("events.guard_write_failed", 0),
            "survived": len(keys),
            "records_lost": self.valid - len(keys),
            "duplicates_delivered": len(self.readings) - len(keys),
            "energy_wh_matches": delivered == published,
        }

    def close(self) -> None:
        self.bridge.close()
        self.sim.close()


def _lock_guard(path: Path, hold_s: float) -> threading.Thread:
    """Another connection holds the guard file's write lock for ``hold_s``: the bridge's
    commits meanwhile fail. Returns once the lock is held, so what is published next
    meets it (held and released in the meantime, the lock could miss every commit)."""
    held = threading.Event()

    def hold() -> None:
        try:
            with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as holder:
                holder.execute("BEGIN EXCLUSIVE")
                held.set()
                time.sleep(hold_s)
                holder.execute("ROLLBACK")
        finally:
            held.set()  # also when the lock could not be taken: the round goes on

    thread = threading.Thread(target=hold, name="guard-lock", daemon=True)
    thread.start()
    held.wait()
    return thread


def _chirpstack(meters: int, rounds: int, hostile: int, folder: Path) -> dict[str, Any]:
    with MosquittoBroker(workdir=folder / "mqtt-cs", persistence=True) as broker:
        run = _Run("chirpstack", broker, meters, folder)
        poison = chirpstack.event_topic(run.sim.application_id, run.sim.devices[0].eui, "up")
        try:
            run.sim.transport.publish(poison, b'{"fCnt": 1e999}', 1, retain=True)
            run.hostile += 1
            run.round(hostile)

            def broker_restart() -> None:
                run.faults += 1
                broker.restart(0.5)

            run.round(hostile, broker_restart)
            run.round(hostile, run.restart_bridge)

            lockers: list[threading.Thread] = []

            def guard_locked() -> None:
                run.faults += 1
                lockers.append(_lock_guard(run.guard_path, LOCK_S))

            run.round(hostile, guard_locked)  # the round's second half meets the lock
            for locker in lockers:
                locker.join()
            for _ in range(max(rounds - 4, 0)):
                run.round(hostile)
            return run.figures()
        finally:
            run.sim.transport.publish(poison, b"", 1, retain=True)
            run.close()


def _ttn(meters: int, rounds: int, hostile: int, folder: Path) -> dict[str, Any]:
    with MosquittoBroker(workdir=folder / "mqtt-ttn") as broker:
        run = _Run("ttn", broker, meters, folder)
        try:
            for index in range(rounds):
                run.round(hostile, run.restart_bridge if index == 1 else None)
                _collect(run.bridge, run.readings, run.valid, 30.0)  # QoS 0: no backlog
            return run.figures()
        finally:
            run.close()


def run(quick: bool) -> dict[str, Any]:
    meters, rounds, hostile, n = (20, 4, 40, 300) if quick else (100, 6, 300, 3000)
    bridge_log = logging.getLogger("gridcoop.hardware_bridge")
    level = bridge_log.level
    bridge_log.setLevel(logging.CRITICAL)  # thousands of refusals, each logged: counted here
    try:
        return _run(meters, rounds, hostile, n)
    finally:
        bridge_log.setLevel(level)


def _run(meters: int, rounds: int, hostile: int, n: int) -> dict[str, Any]:
    decoders = _decoders(n)
    parts: dict[str, Any] = {"decoders": decoders}
    if find_mosquitto() is None:
        parts["mqtt"] = "skipped: mosquitto is not installed"
    else:
        with tempfile.TemporaryDirectory(prefix="gridcoop-chaos-") as tmp:
            parts["chirpstack"] = _chirpstack(meters, rounds, hostile, Path(tmp))
            parts["ttn"] = _ttn(meters, rounds, hostile, Path(tmp))
    mqtt = [p for p in (parts.get("chirpstack"), parts.get("ttn")) if isinstance(p, dict)]
    totals = {
        "faults_injected": sum(p["faults_injected"] for p in mqtt),
        "inputs_tried": sum(d["tried"] for d in decoders.values())
        + sum(p["valid_published"] + p["hostile_tried"] for p in mqtt),
        "refused": sum(d["refused"] for d in decoders.values()) + sum(p["refused"] for p in mqtt),
        "survived": sum(p["survived"] for p in mqtt),
        "records_lost": sum(p["records_lost"] for p in mqtt),
        "non_project_errors": sum(d["non_project_errors"] for d in decoders.values())
        + sum(p["decoder_faults"] for p in mqtt),
    }
    return {**totals, **parts}
