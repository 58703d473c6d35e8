"""ChirpStack v4 MQTT integration: uplink/join/ack events in, ``command/down`` out.

Topics (defaults of ChirpStack's MQTT integration, JSON encoding):
``application/{application_id}/device/{devEui}/event/{up|join|ack|txack|log|status}``
and ``application/{application_id}/device/{devEui}/command/down``. The devEUI is
lower-case hex and must match between topic and payload. The downlink ``id`` (a
UUID) comes back as ``queueItemId`` in the ``ack`` event: that is the
correlation. ``data`` is preferred over ``object`` (which exists only with a
codec); v4.0 left out zero fields, so every field defaults.

The ``*_event`` builders produce what ChirpStack itself would publish; the
device simulator and the tests use them, so format knowledge lives here only.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from gridcoop.hardware_bridge.bridge_base import RegistryLike
from gridcoop.hardware_bridge.codec import COMMAND_PORT, b64encode, normalize_eui
from gridcoop.hardware_bridge.errors import MalformedMessageError, PayloadError
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
from gridcoop.hardware_bridge.registry import Device
from gridcoop.hardware_bridge.untrusted import refuses_junk

NETWORK = "chirpstack"
# integration.proto's LogCode names: anything else is counted as "log.OTHER"
LOG_CODES = frozenset({
    "UNKNOWN", "DOWNLINK_PAYLOAD_SIZE", "UPLINK_CODEC", "DOWNLINK_CODEC", "OTAA",
    "UPLINK_F_CNT_RESET", "UPLINK_MIC", "UPLINK_F_CNT_RETRANSMISSION", "DOWNLINK_GATEWAY",
    "RELAY_NEW_END_DEVICE", "F_CNT_DOWN", "EXPIRED",
})  # fmt: skip


def event_topic(application_id: str, dev_eui: str, event: str) -> str:
    return f"application/{application_id}/device/{dev_eui.lower()}/event/{event}"


def command_topic(application_id: str, dev_eui: str) -> str:
    return f"application/{application_id}/device/{dev_eui.lower()}/command/down"


def split_topic(topic: str) -> tuple[str, str, str]:
    """(application id, devEUI, event or command) of a ChirpStack topic."""
    parts = topic.split("/")
    if len(parts) != 6 or parts[0] != "application" or parts[2] != "device":
        raise MalformedMessageError(f"topic {topic!r} is not application/ID/device/EUI/KIND/NAME")
    return parts[1], parts[3], parts[5]


def _device_eui(data: Mapping[str, Any], topic_eui: str) -> str:
    payload_eui = section(data, "deviceInfo").get("devEui")
    if payload_eui is not None and str(payload_eui).lower() != topic_eui.lower():
        raise MalformedMessageError(
            f"devEui {payload_eui} in the payload differs from {topic_eui} in the topic"
        )
    try:
        return normalize_eui(topic_eui)
    except PayloadError as exc:
        raise MalformedMessageError(str(exc)) from exc


@refuses_junk
def parse_uplink(topic: str, payload: bytes, now_s: float) -> Uplink:
    """An ``event/up`` message as an ``Uplink`` (missing fields default to 0 / empty)."""
    _, topic_eui, _ = split_topic(topic)
    data = load_object(payload, f"ChirpStack uplink on {topic}")
    rssi, snr, _ = best_radio(data.get("rxInfo"))
    data_field = data.get("data")
    return Uplink(
        meter_ref=_device_eui(data, topic_eui),
        f_port=integer(data, "fPort"),
        payload=data_field if isinstance(data_field, str) else "",
        network=NETWORK,
        received_s=parse_time(data.get("time")) or now_s,
        dedup_id=_text(data, "deduplicationId") or None,
        session=_text(data, "devAddr"),
        f_cnt=integer(data, "fCnt"),
        rssi=rssi,
        snr=snr,
        dr=integer(data, "dr"),
    )


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


@refuses_junk
def parse_join(topic: str, payload: bytes) -> tuple[str, str]:
    """(devEUI, new devAddr) of a ``join`` event: the frame counters start again."""
    _, topic_eui, _ = split_topic(topic)
    data = load_object(payload, f"ChirpStack join event on {topic}")
    return _device_eui(data, topic_eui), _text(data, "devAddr")


@refuses_junk
def parse_ack(topic: str, payload: bytes) -> tuple[str, bool, str]:
    """(queue item id, acknowledged?, detail) of an ``ack`` event."""
    data = load_object(payload, f"ChirpStack ack event on {topic}")
    ok = data.get("acknowledged") is True
    detail = "delivered (network ack)" if ok else "confirmed downlink not acknowledged"
    return _text(data, "queueItemId"), ok, detail


@refuses_junk
def parse_log_code(topic: str, payload: bytes) -> str:
    """The ``code`` of a ``log`` event, one of :data:`LOG_CODES` or ``OTHER``."""
    code = load_object(payload, f"ChirpStack log event on {topic}").get("code", "UNKNOWN")
    return code if isinstance(code, str) and code in LOG_CODES else "OTHER"


def uplink_event(
    *,
    application_id: str,
    dev_eui: str,
    device_name: str,
    dev_addr: str,
    f_cnt: int,
    f_port: int,
    payload: bytes,
    time_s: float,
    dedup_id: str,
    dr: int = 0,
    rssi: int = -97,
    snr: float = 7.25,
    emit_defaults: bool = True,
) -> dict[str, Any]:
    """An ``event/up`` body as ChirpStack v4.1+ (``emit_defaults``) or v4.0 publishes it."""
    event: dict[str, Any] = {
        "deduplicationId": dedup_id,
        "time": format_time(time_s),
        "deviceInfo": {
            "tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242",
            "tenantName": "gridcoop",
            "applicationId": application_id,
            "applicationName": "gridcoop-meters",
            "deviceProfileName": "uno-sct013-eu868",
            "deviceName": device_name,
            "devEui": dev_eui.lower(),
            "deviceClassEnabled": "CLASS_A",
        },
        "devAddr": dev_addr,
        "adr": True,
        "dr": dr,
        "fCnt": f_cnt,
        "fPort": f_port,
        "confirmed": False,
        "data": b64encode(payload),
        "rxInfo": [
            {
                "gatewayId": "0016c001f153a14c",
                "rssi": rssi,
                "snr": snr,
                "channel": 3,
                "crcStatus": "CRC_OK",
            }
        ],
        "txInfo": {
            "frequency": 867100000,
            "modulation": {
                "lora": {"bandwidth": 125000, "spreadingFactor": 12 - dr, "codeRate": "CR_4_5"}
            },
        },
    }
    if not emit_defaults:  # v4.0: zero / false / empty fields are left out
        event = {k: v for k, v in event.items() if v not in (0, False, "", None)}
    return event


def join_event(
    *, application_id: str, dev_eui: str, dev_addr: str, time_s: float
) -> dict[str, Any]:
    return {
        "deduplicationId": str(uuid.uuid4()),
        "time": format_time(time_s),
        "deviceInfo": {"applicationId": application_id, "devEui": dev_eui.lower()},
        "devAddr": dev_addr,
    }


def ack_event(
    *, dev_eui: str, queue_item_id: str, acknowledged: bool, f_cnt_down: int, time_s: float
) -> dict[str, Any]:
    return {
        "deduplicationId": str(uuid.uuid4()),
        "time": format_time(time_s),
        "deviceInfo": {"devEui": dev_eui.lower()},
        "queueItemId": queue_item_id,
        "acknowledged": acknowledged,
        "fCntDown": f_cnt_down,
    }


def downlink_command(
    *, corr_id: str, dev_eui: str, payload: bytes, confirmed: bool, expires_at_s: float | None
) -> dict[str, Any]:
    """The body published to ``command/down``."""
    body: dict[str, Any] = {
        "id": corr_id,
        "devEui": dev_eui.lower(),
        "confirmed": confirmed,
        "fPort": COMMAND_PORT,
        "data": b64encode(payload),
    }
    if expires_at_s is not None:
        body["expiresAt"] = format_time(expires_at_s)
    return body


class ChirpStackBridge(MqttBridge):
    """Readings and command acks from one ChirpStack application; commands to its devices."""

    network = NETWORK

    def __init__(
        self,
        registry: RegistryLike,
        *,
        application_id: str,
        broker: str = "127.0.0.1:1883",
        qos: int = 1,
        client_id: str | None = None,
        username: str | None = None,
        password: str | None = None,
        tls: bool = False,
        transport: MqttTransport | None = None,
        **bridge_options: Any,
    ) -> None:
        self.application_id = application_id
        self.qos = qos
        options = {
            "client_id": client_id or f"gridcoop-chirpstack-{application_id}",
            "username": username,
            "password": password,
            "tls": tls,
            "mqtt5": True,
            "persistent_session": qos > 0,
        }
        super().__init__(
            registry,
            broker=broker,
            transport=transport,
            transport_options=options,
            **bridge_options,
        )

    def _subscriptions(self) -> list[tuple[str, int]]:
        return [(f"application/{self.application_id}/device/+/event/+", self.qos)]

    def _route(self, topic: str, payload: bytes) -> None:
        _, _, event = split_topic(topic)
        self.events[event] += 1
        now = self.clock()
        if event == "up":
            self._accept(parse_uplink(topic, payload, now))
            return
        if event == "join":
            self.guard.reset_session(*parse_join(topic, payload))
        elif event == "ack":
            outcome = self.pending.network_outcome(*parse_ack(topic, payload))
            if outcome is not None:
                self._acks.append(outcome)
        elif event == "log":
            self.events[f"log.{parse_log_code(topic, payload)}"] += 1

    def _transmit(self, device: Device, command: Command, payload: bytes, corr_id: str) -> None:
        expires = self.clock() + command.expires_in_s if command.expires_in_s else None
        body = downlink_command(
            corr_id=corr_id,
            dev_eui=device.eui,
            payload=payload,
            confirmed=command.confirmed,
            expires_at_s=expires,
        )
        topic = command_topic(self.application_id, device.eui)
        self.transport.publish(topic, json.dumps(body), self.qos)
