"""The Things Stack v3 MQTT server: ``v3/{app}@{tenant}/devices/{id}/...``.

Differences from ChirpStack that matter here: topics carry the *device id*, not
the devEUI (the registry maps one to the other); the server speaks MQTT 3.1.1
with QoS 0 only (no persistent delivery: a broker outage loses frames, the
cumulative energy counter still loses no energy); empty, zero and false fields
are omitted, so ``f_cnt`` is absent when 0. Commands go to ``down/push`` with a
``bridge:cmd:<uuid>`` correlation id that ``down/ack|nack|failed`` echo back.
For The Things Stack Open Source give ``tenant=""`` (no ``@tenant``).

The data rate: current The Things Stack reports the modulation only
(``settings.data_rate.lora`` {bandwidth, spreading_factor, coding_rate}; the old
``settings.data_rate_index`` and ``settings.coding_rate`` fields are reserved in
its ``lorawan.proto``), so the EU868 index is looked up from the modulation
(:func:`gridcoop.hardware_bridge.airtime.data_rate_of_lora`). A message from an
older server that still carries only ``data_rate_index`` is read from that.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from gridcoop.hardware_bridge.airtime import (
    data_rate,
    data_rate_of_fsk,
    data_rate_of_lora,
    uplink_airtime_s,
)
from gridcoop.hardware_bridge.bridge_base import RegistryLike
from gridcoop.hardware_bridge.codec import COMMAND_PORT, b64encode, normalize_eui
from gridcoop.hardware_bridge.errors import CommandError, MalformedMessageError, PayloadError
from gridcoop.hardware_bridge.ingest import Uplink
from gridcoop.hardware_bridge.mqtt_bridge import MqttBridge
from gridcoop.hardware_bridge.mqtt_transport import MqttTransport
from gridcoop.hardware_bridge.netjson import (
    best_radio,
    format_time,
    integer,
    load_object,
    parse_time,
    section,
)
from gridcoop.hardware_bridge.readings import Command
from gridcoop.hardware_bridge.registry import Device, DeviceRegistry
from gridcoop.hardware_bridge.untrusted import refuses_junk, string_list

NETWORK = "ttn"
CORRELATION_PREFIX = "bridge:cmd:"


def app_prefix(application_id: str, tenant: str) -> str:
    return f"v3/{application_id}@{tenant}" if tenant else f"v3/{application_id}"


def device_topic(application_id: str, tenant: str, device_id: str, suffix: str) -> str:
    return f"{app_prefix(application_id, tenant)}/devices/{device_id}/{suffix}"


def split_topic(topic: str) -> tuple[str, str]:
    """(device id, event path such as ``up`` or ``down/ack``) of a TTN topic."""
    parts = topic.split("/")
    if len(parts) < 5 or parts[0] != "v3" or parts[2] != "devices":
        raise MalformedMessageError(f"topic {topic!r} is not v3/APP[@TENANT]/devices/ID/EVENT")
    return parts[3], "/".join(parts[4:])


def resolve_device(registry: DeviceRegistry, device_id: str, data: Mapping[str, Any]) -> str:
    """The devEUI behind a TTN device id, cross-checked with ``dev_eui`` when present."""
    ids = section(data, "end_device_ids")
    payload_eui = ids.get("dev_eui")
    known = registry.find_device_id(device_id)
    if known is not None:
        if payload_eui and str(payload_eui).lower() != known.eui:
            raise MalformedMessageError(
                f"TTN device {device_id} reports dev_eui {payload_eui}, registry says {known.eui}"
            )
        return known.eui
    if payload_eui:
        try:
            return normalize_eui(str(payload_eui))
        except PayloadError as exc:
            raise MalformedMessageError(str(exc)) from exc
    return device_id  # unknown: the ingest refuses and counts it as unknown_device


def data_rate_index(settings: Mapping[str, Any]) -> int | None:
    """The EU868 data rate of an uplink's ``settings`` (None: not an EU868 data rate).

    ``data_rate.lora`` (current servers) wins over ``data_rate_index`` (older ones);
    a message with neither is an old one whose index 0 was omitted as a zero field.
    """
    modulation = section(settings, "data_rate")
    lora, fsk = section(modulation, "lora"), section(modulation, "fsk")
    if lora:
        rate = data_rate_of_lora(integer(lora, "spreading_factor"), integer(lora, "bandwidth"))
    elif fsk:
        rate = data_rate_of_fsk(integer(fsk, "bit_rate"))
    elif modulation:  # LR-FHSS or a modulation this bridge does not know
        return None
    else:
        index = integer(settings, "data_rate_index")
        return index if 0 <= index <= 15 else None
    return None if rate is None else rate.index


@refuses_junk
def parse_uplink(registry: DeviceRegistry, topic: str, payload: bytes, now_s: float) -> Uplink:
    device_id, _ = split_topic(topic)
    data = load_object(payload, f"TTN uplink on {topic}")
    message = section(data, "uplink_message")
    rssi, snr, _ = best_radio(message.get("rx_metadata"))
    correlation = string_list(data.get("correlation_ids"))
    dedup = next((c for c in correlation if c.startswith("as:up:")), None)
    frm = message.get("frm_payload")
    received = parse_time(message.get("received_at")) or parse_time(data.get("received_at"))
    return Uplink(
        meter_ref=resolve_device(registry, device_id, data),
        f_port=integer(message, "f_port"),
        payload=frm if isinstance(frm, str) else "",
        network=NETWORK,
        received_s=received or now_s,
        dedup_id=dedup,
        session=str(message.get("session_key_id") or ""),
        f_cnt=integer(message, "f_cnt"),
        rssi=rssi,
        snr=snr,
        dr=data_rate_index(section(message, "settings")),
    )


def uplink_message(
    *,
    application_id: str,
    device_id: str,
    dev_eui: str,
    session_key_id: str,
    f_cnt: int,
    f_port: int,
    payload: bytes,
    time_s: float,
    correlation_id: str,
    dr: int = 0,
    rssi: int = -97,
    snr: float = 7.25,
    legacy_index: bool = False,
) -> dict[str, Any]:
    """An ``up`` body as current The Things Stack publishes it (zero fields omitted).

    ``legacy_index`` gives the older shape instead: ``data_rate_index`` and
    ``coding_rate`` directly under ``settings``.
    """
    rate = data_rate(dr)
    modulation: dict[str, Any] = (
        {"fsk": {"bit_rate": rate.bandwidth_hz}}
        if rate.is_fsk
        else {"lora": {"bandwidth": rate.bandwidth_hz, "spreading_factor": rate.spreading_factor,
                       "coding_rate": "4/5"}}
    )  # fmt: skip
    settings: dict[str, Any] = {"data_rate": modulation, "frequency": "867100000"}
    if legacy_index:
        settings = {"data_rate_index": dr, "coding_rate": "4/5", "frequency": "867100000"}
        settings = {k: v for k, v in settings.items() if v != 0}  # zero fields are omitted
    message: dict[str, Any] = {
        "session_key_id": session_key_id,
        "f_port": f_port,
        "f_cnt": f_cnt,
        "frm_payload": b64encode(payload),
        "rx_metadata": [
            {
                "gateway_ids": {"gateway_id": "campus-gw-01"},
                "rssi": rssi,
                "channel_rssi": rssi,
                "snr": snr,
            }
        ],
        "settings": settings,
        "received_at": format_time(time_s),
        "consumed_airtime": f"{uplink_airtime_s(len(payload), dr):.6f}s",
    }
    message = {k: v for k, v in message.items() if v not in (0, "", None, False)}
    message["settings"] = {k: v for k, v in message["settings"].items() if v != 0}
    return {
        "end_device_ids": {
            "device_id": device_id,
            "application_ids": {"application_id": application_id},
            "dev_eui": dev_eui.upper(),
        },
        "correlation_ids": [correlation_id, f"ns:uplink:{correlation_id[6:]}"],
        "received_at": format_time(time_s),
        "uplink_message": message,
    }


def join_message(
    *, application_id: str, device_id: str, dev_eui: str, session_key_id: str, time_s: float
) -> dict[str, Any]:
    return {
        "end_device_ids": {
            "device_id": device_id,
            "application_ids": {"application_id": application_id},
            "dev_eui": dev_eui.upper(),
        },
        "join_accept": {"session_key_id": session_key_id, "received_at": format_time(time_s)},
    }


@refuses_junk
def parse_join(registry: DeviceRegistry, device_id: str, payload: bytes) -> tuple[str, str]:
    """(devEUI, new session key id) of a ``join`` message."""
    data = load_object(payload, f"TTN join message for {device_id}")
    session = section(data, "join_accept").get("session_key_id")
    return resolve_device(registry, device_id, data), session if isinstance(session, str) else ""


def downlink_push(
    *, f_port: int, payload: bytes, confirmed: bool, priority: str, correlation_id: str
) -> dict[str, Any]:
    """The body published to ``down/push``."""
    return {
        "downlinks": [
            {
                "f_port": f_port,
                "frm_payload": b64encode(payload),
                "priority": priority,
                "confirmed": confirmed,
                "correlation_ids": [correlation_id],
            }
        ]
    }


def bridge_correlation(ids: Sequence[str]) -> str | None:
    return next((c for c in ids if c.startswith(CORRELATION_PREFIX)), None)


@refuses_junk
def parse_down_event(kind: str, payload: bytes) -> tuple[str, bool, str] | None:
    """(bridge correlation id, delivered?, detail) of a ``down/{ack,nack,failed}`` message;
    None for other ``down/*`` events and for downlinks this bridge did not send."""
    data = load_object(payload, f"TTN down/{kind} message")
    inner = section(data, f"downlink_{kind}")
    ids = string_list(data.get("correlation_ids")) + string_list(inner.get("correlation_ids"))
    ids += string_list(section(inner, "downlink").get("correlation_ids"))
    corr = bridge_correlation(ids)
    if corr is None:
        return None
    if kind == "ack":
        return corr, True, "delivered (network ack)"
    if kind == "nack":
        return corr, False, "device nacked the downlink"
    if kind == "failed":
        error = section(inner, "error")
        name = error.get("name") or error.get("message_format")
        return corr, False, f"downlink failed: {name if isinstance(name, str) else 'unknown error'}"
    return None


class TtnBridge(MqttBridge):
    """Readings and command acks from one TTN application; commands to its devices."""

    network = NETWORK

    def __init__(
        self,
        registry: RegistryLike,
        *,
        application_id: str,
        tenant: str = "ttn",
        api_key: str | None = None,
        broker: str = "127.0.0.1:1883",
        client_id: str | None = None,
        tls: bool = False,
        priority: str = "NORMAL",
        transport: MqttTransport | None = None,
        **bridge_options: Any,
    ) -> None:
        self.application_id = application_id
        self.tenant = tenant
        self.priority = priority
        user = f"{application_id}@{tenant}" if tenant else application_id
        options = {
            "client_id": client_id or f"gridcoop-ttn-{application_id}",
            "username": user if api_key else None,
            "password": api_key,
            "tls": tls,
            "mqtt5": False,
            "persistent_session": False,
        }
        super().__init__(
            registry,
            broker=broker,
            transport=transport,
            transport_options=options,
            **bridge_options,
        )

    def _subscriptions(self) -> list[tuple[str, int]]:
        base = f"{app_prefix(self.application_id, self.tenant)}/devices/+"
        return [(f"{base}/up", 0), (f"{base}/join", 0), (f"{base}/down/+", 0)]

    def _correlation_id(self, device: Device, command: Command) -> str:
        return f"{CORRELATION_PREFIX}{uuid.uuid4()}"

    def _route(self, topic: str, payload: bytes) -> None:
        device_id, event = split_topic(topic)
        self.events[event] += 1
        now = self.clock()
        if event == "up":
            self._accept(parse_uplink(self.registry, topic, payload, now))
            return
        if event == "join":
            eui, session = parse_join(self.registry, device_id, payload)
            self.guard.reset_session(eui, session)
            return
        if not event.startswith("down/"):
            return
        parsed = parse_down_event(event[len("down/") :], payload)
        if parsed is None:
            return
        outcome = self.pending.network_outcome(*parsed)
        if outcome is not None:
            self._acks.append(outcome)

    def _transmit(self, device: Device, command: Command, payload: bytes, corr_id: str) -> None:
        if not device.device_id:
            raise CommandError(f"device {device.eui} has no TTN device_id in the registry")
        body = downlink_push(
            f_port=COMMAND_PORT,
            payload=payload,
            confirmed=command.confirmed,
            priority=self.priority,
            correlation_id=corr_id,
        )
        topic = device_topic(self.application_id, self.tenant, device.device_id, "down/push")
        self.transport.publish(topic, json.dumps(body), 0)
