"""Simulated meters on a simulated network server: realistic uplinks, answered downlinks.

Why: demos and end-to-end tests need a ChirpStack or TTN application without
radios. Each simulated device measures a household (``households``), keeps the
firmware's counters (boot in EEPROM, seq, cumulative VAh), signs its frames
with its own key (``registry.derive_key`` from one master key) and publishes
exactly what the network server would. It listens on the command topics, obeys
(``appliances``), answers the network-level ack for confirmed downlinks and
sends its own fPort-12 ack uplink.

Time is virtual: round ``k`` covers ``[start_s + k*interval_s, ... + interval_s)``
and the events are stamped with its end, so a run at ``speedup`` 450 shows a
15-minute meter every 2 s with consistent timestamps.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gridcoop.hardware_bridge import chirpstack, ttn
from gridcoop.hardware_bridge.appliances import RESULT_BAD_ARG, RESULT_UNSUPPORTED, ApplianceState
from gridcoop.hardware_bridge.codec import (
    ACK_PORT,
    READING_PORT,
    AckFrame,
    MeterFrame,
    b64decode_strict,
    encode_ack,
    encode_reading,
)
from gridcoop.hardware_bridge.command_codec import decode_command
from gridcoop.hardware_bridge.errors import (
    BadMacError,
    ConfigError,
    PayloadError,
    UnknownOpcodeError,
)
from gridcoop.hardware_bridge.households import N_APPLIANCES, HouseholdFleet
from gridcoop.hardware_bridge.mqtt_transport import MqttTransport, parse_broker
from gridcoop.hardware_bridge.netjson import load_object
from gridcoop.hardware_bridge.registry import DeviceRegistry

DEMO_MASTER_KEY = hashlib.sha256(b"gridcoop demo master key - not for production").digest()
RESULT_UNAUTHENTICATED = 4
V_NOMINAL = 230.0


@dataclass(slots=True)
class DeviceCounters:
    """What the firmware keeps: boot (EEPROM), seq and energy since boot, frame counter."""

    boot: int = 1
    seq: int = 0
    energy_vah: int = 0
    energy_frac_vah: float = 0.0
    f_cnt: int = 0
    f_cnt_down: int = 0
    session: str = ""
    state: ApplianceState = field(default_factory=ApplianceState)


class DeviceSimulator:
    """``meters`` simulated devices publishing as ChirpStack v4 or The Things Stack v3."""

    def __init__(
        self,
        server: str,
        *,
        broker: str = "127.0.0.1:1883",
        meters: int = 10,
        interval_s: int = 900,
        dr: int = 0,
        seed: int = 0,
        master_key: bytes = DEMO_MASTER_KEY,
        application_id: str = "gridcoop",
        tenant: str = "ttn",
        qos: int = 1,
        start_s: float | None = None,
        export_every: int = 0,
        client_id: str | None = None,
        transport: MqttTransport | None = None,
    ) -> None:
        if server not in ("chirpstack", "ttn"):
            raise ConfigError(f"server {server!r} must be 'chirpstack' or 'ttn'")
        if interval_s < 60 or interval_s % 60:
            raise ConfigError(f"interval_s {interval_s} must be a whole number of minutes")
        self.server = server
        self.application_id = application_id
        self.tenant = tenant
        self.qos = qos if server == "chirpstack" else 0  # TTN: QoS 0 only
        self.interval_s = interval_s
        self.registry = DeviceRegistry.simulated(
            meters, master_key, interval_s=interval_s, dr=dr, export_every=export_every
        )
        self.devices = list(self.registry)
        pv = np.array([d.direction == "export" for d in self.devices], dtype=bool)
        self.fleet = HouseholdFleet(meters, seed, pv)
        self.seed = seed
        self._uuid_counter = 0
        self.counters = [DeviceCounters() for _ in self.devices]
        for index in range(meters):
            self.counters[index].session = self._new_session(index, 1)
        self._index = {d.eui: i for i, d in enumerate(self.devices)}
        self._by_device_id = {d.device_id: i for i, d in enumerate(self.devices)}
        start = time.time() if start_s is None else start_s
        self.start_s = float(start - start % interval_s)
        self.round = 0
        self.published = 0
        self.commands_handled = 0
        self.energy_wh_published = np.zeros(meters, dtype=np.int64)
        if transport is None:
            host, port = parse_broker(broker)
            transport = MqttTransport(
                host,
                port,
                client_id=client_id or f"gridcoop-devsim-{server}-{seed}",
                mqtt5=server == "chirpstack",
                persistent_session=False,
            )
        self.transport = transport
        if server == "chirpstack":
            transport.subscribe(f"application/{application_id}/device/+/command/down", 1)
        else:
            prefix = ttn.app_prefix(application_id, tenant)
            transport.subscribe(f"{prefix}/devices/+/down/push", 0)
            transport.subscribe(f"{prefix}/devices/+/down/replace", 0)

    # -- ids and sessions ------------------------------------------------------------
    def _uuid(self) -> str:
        """Deterministic UUID-shaped ids (seeded), so runs repeat exactly."""
        self._uuid_counter += 1
        digest = hashlib.sha256(f"{self.seed}:{self._uuid_counter}".encode()).hexdigest()
        return f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-a{digest[17:20]}-{digest[20:32]}"

    def _new_session(self, index: int, epoch: int) -> str:
        digest = hashlib.sha256(f"{self.seed}:{index}:{epoch}".encode()).digest()
        if self.server == "chirpstack":
            return digest[:4].hex()  # devAddr
        return digest[:16].hex()  # session_key_id (TTN sends base64; any opaque string works)

    # -- lifecycle ---------------------------------------------------------------------
    def start(self, timeout_s: float = 10.0) -> DeviceSimulator:
        self.transport.start(timeout_s)
        return self

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> DeviceSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def now_s(self) -> float:
        """The virtual time at the end of the current round."""
        return self.start_s + self.round * self.interval_s

    def _publish(self, topic: str, body: dict[str, Any], qos: int | None = None) -> None:
        self.transport.publish(topic, json.dumps(body), self.qos if qos is None else qos)
        self.published += 1

    # -- uplinks -------------------------------------------------------------------------
    def _frame_message(
        self, index: int, f_port: int, payload: bytes, time_s: float
    ) -> tuple[str, dict[str, Any]]:
        device, counters = self.devices[index], self.counters[index]
        f_cnt = counters.f_cnt
        counters.f_cnt += 1
        if self.server == "chirpstack":
            body = chirpstack.uplink_event(
                application_id=self.application_id,
                dev_eui=device.eui,
                device_name=device.device_id,
                dev_addr=counters.session,
                f_cnt=f_cnt,
                f_port=f_port,
                payload=payload,
                time_s=time_s,
                dedup_id=self._uuid(),
            )
            return chirpstack.event_topic(self.application_id, device.eui, "up"), body
        body = ttn.uplink_message(
            application_id=self.application_id,
            device_id=device.device_id,
            dev_eui=device.eui,
            session_key_id=counters.session,
            f_cnt=f_cnt,
            f_port=f_port,
            payload=payload,
            time_s=time_s,
            correlation_id=f"as:up:{self._uuid()}",
        )
        topic = ttn.device_topic(self.application_id, self.tenant, device.device_id, "up")
        return topic, body

    def _levels(self, now_s: float) -> np.ndarray:
        levels = np.ones((len(self.devices), N_APPLIANCES))
        for index, counters in enumerate(self.counters):
            state = counters.state
            if state.levels or state.default_level != 100 or state.dr_cap_pct != 100:
                levels[index] = [state.level(a, now_s) / 100.0 for a in range(N_APPLIANCES)]
        return levels

    def build_round(self) -> list[tuple[str, bytes]]:
        """Advance one metering interval; the uplink messages of every device (not sent)."""
        t0 = self.start_s + self.round * self.interval_s
        t1 = t0 + self.interval_s
        energy_kwh, peak_kw = self.fleet.interval(t0, t1, self._levels(t0))
        hours = self.interval_s / 3600.0
        messages: list[tuple[str, bytes]] = []
        for index, device in enumerate(self.devices):
            counters = self.counters[index]
            vah = energy_kwh[index] * 1000.0 + counters.energy_frac_vah  # PF 1: VAh = Wh
            whole = int(vah)
            counters.energy_frac_vah = vah - whole
            counters.energy_vah = (counters.energy_vah + whole) & 0xFFFFFFFF
            self.energy_wh_published[index] += whole
            s_avg = min(round(energy_kwh[index] * 1000.0 / hours), 0xFFFF)
            frame = MeterFrame(
                boot=counters.boot,
                seq=counters.seq,
                energy_vah=counters.energy_vah,
                irms_ca=min(round(s_avg / V_NOMINAL * 100), 0xFFFF),
                s_avg_va=s_avg,
                s_max_va=min(round(peak_kw[index] * 1000.0), 0xFFFF),
                interval_min=self.interval_s // 60,
                relay_on=counters.state.relay_on(t1),
            )
            counters.seq = (counters.seq + 1) & 0xFFFF
            payload = encode_reading(frame, dev_eui=device.eui, key=device.key)
            topic, body = self._frame_message(index, READING_PORT, payload, t1)
            messages.append((topic, json.dumps(body).encode()))
        self.round += 1
        return messages

    def publish_messages(self, messages: list[tuple[str, bytes]]) -> None:
        for topic, payload in messages:
            self.transport.publish(topic, payload, self.qos)
        self.published += len(messages)

    def step(self) -> int:
        """Answer pending downlinks, then publish one round of readings; returns their count."""
        self.handle_downlinks()
        messages = self.build_round()
        self.publish_messages(messages)
        return len(messages)

    def run(
        self,
        rounds: int | None = None,
        *,
        speedup: float = 1.0,
        stop: threading.Event | None = None,
    ) -> int:
        """Publish ``rounds`` rounds (None: until ``stop``), one every interval_s / speedup."""
        stop = stop or threading.Event()
        pace = self.interval_s / speedup
        done = 0
        next_at = time.monotonic()
        while (rounds is None or done < rounds) and not stop.is_set():
            self.step()
            done += 1
            next_at += pace
            while not stop.is_set() and time.monotonic() < next_at:
                self.handle_downlinks()
                stop.wait(min(0.05, max(0.0, next_at - time.monotonic())))
        self.handle_downlinks()
        return done

    # -- device life events ------------------------------------------------------------
    def reboot(self, index: int) -> None:
        """Power cycle: boot+1 (EEPROM), seq and energy restart, OTAA re-join (fCnt 0)."""
        counters = self.counters[index]
        counters.boot = (counters.boot + 1) & 0xFF
        counters.seq, counters.energy_vah, counters.energy_frac_vah = 0, 0, 0.0
        self.rejoin(index)

    def rejoin(self, index: int) -> None:
        """A new network session: new devAddr / session key, frame counter back to 0."""
        device, counters = self.devices[index], self.counters[index]
        counters.f_cnt = counters.f_cnt_down = 0
        counters.session = self._new_session(index, counters.boot * 1000 + self.round)
        if self.server == "chirpstack":
            body = chirpstack.join_event(
                application_id=self.application_id,
                dev_eui=device.eui,
                dev_addr=counters.session,
                time_s=self.now_s,
            )
            self._publish(chirpstack.event_topic(self.application_id, device.eui, "join"), body)
        else:
            body = ttn.join_message(
                application_id=self.application_id,
                device_id=device.device_id,
                dev_eui=device.eui,
                session_key_id=counters.session,
                time_s=self.now_s,
            )
            topic = ttn.device_topic(self.application_id, self.tenant, device.device_id, "join")
            self._publish(topic, body)

    # -- downlinks -----------------------------------------------------------------------
    def handle_downlinks(self) -> int:
        """Obey every command received so far; returns how many were handled."""
        handled = 0
        for topic, payload in self.transport.messages():
            try:
                if self.server == "chirpstack":
                    self._chirpstack_downlink(topic, payload)
                else:
                    self._ttn_downlink(topic, payload)
                handled += 1
            except PayloadError:
                continue  # a real network server would have refused it; so does the device
        self.commands_handled += handled
        return handled

    def _obey(self, index: int, payload: bytes) -> int:
        device, counters = self.devices[index], self.counters[index]
        try:
            command = decode_command(payload, dev_eui=device.eui, key=device.key, require_mac=True)
        except BadMacError:
            return RESULT_UNAUTHENTICATED
        except UnknownOpcodeError:
            return RESULT_UNSUPPORTED
        except PayloadError:
            return RESULT_BAD_ARG
        result, _ = counters.state.apply(command, self.now_s)
        return result

    def _ack_uplink(self, index: int, cmd_id: int, result: int) -> None:
        device = self.devices[index]
        state = self.counters[index].state
        frame = AckFrame(cmd_id=cmd_id, result=result, relay_on=state.relay_on(self.now_s))
        payload = encode_ack(frame, dev_eui=device.eui, key=device.key)
        topic, body = self._frame_message(index, ACK_PORT, payload, self.now_s)
        self._publish(topic, body)

    def _chirpstack_downlink(self, topic: str, raw: bytes) -> None:
        _, topic_eui, _ = chirpstack.split_topic(topic)
        data = load_object(raw, f"downlink on {topic}")
        index = self._index.get(topic_eui)
        if index is None or str(data.get("devEui", "")) != topic_eui:
            return  # ChirpStack refuses a devEui that differs from the topic's
        payload = b64decode_strict(str(data.get("data", "")))
        counters = self.counters[index]
        counters.f_cnt_down += 1
        if data.get("confirmed"):
            body = chirpstack.ack_event(
                dev_eui=topic_eui,
                queue_item_id=str(data.get("id", "")),
                acknowledged=True,
                f_cnt_down=counters.f_cnt_down,
                time_s=self.now_s,
            )
            self._publish(chirpstack.event_topic(self.application_id, topic_eui, "ack"), body)
        result = self._obey(index, payload)
        self._ack_uplink(
            index, int.from_bytes(payload[2:4], "big") if len(payload) >= 4 else 0, result
        )

    def _ttn_downlink(self, topic: str, raw: bytes) -> None:
        device_id, _ = ttn.split_topic(topic)
        index = self._by_device_id.get(device_id)
        if index is None:
            return
        data = load_object(raw, f"downlink on {topic}")
        for downlink in data.get("downlinks") or []:
            payload = b64decode_strict(str(downlink.get("frm_payload", "")))
            self.counters[index].f_cnt_down += 1
            prefix = ttn.device_topic(self.application_id, self.tenant, device_id, "down")
            ids = list(downlink.get("correlation_ids") or [])
            if downlink.get("confirmed"):
                ack = {
                    "end_device_ids": {"device_id": device_id},
                    "correlation_ids": ["as:downlink:ack", *ids],
                    "downlink_ack": {
                        "f_port": downlink.get("f_port"),
                        "frm_payload": downlink.get("frm_payload"),
                        "confirmed": True,
                        "correlation_ids": ids,
                    },
                }
                self._publish(f"{prefix}/ack", ack, 0)
            result = self._obey(index, payload)
            cmd_id = int.from_bytes(payload[2:4], "big") if len(payload) >= 4 else 0
            self._ack_uplink(index, cmd_id, result)
