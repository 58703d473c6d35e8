"""The TTN and ChirpStack parsers on hostile input: any bytes give a value or
``MalformedMessageError`` (the project's own error), never another exception."""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridcoop.hardware_bridge import chirpstack, ttn
from gridcoop.hardware_bridge.errors import MalformedMessageError
from gridcoop.hardware_bridge.registry import Device, DeviceRegistry
from tests.hardware_bridge.conftest import GOLDEN_EUI, GOLDEN_KEY, load_fixture

CS_TOPIC = f"application/app/device/{GOLDEN_EUI}/event/up"
TTN_TOPIC = "v3/campus-meters@ttn/devices/meter-ed1-001/up"
REGISTRY = DeviceRegistry([Device(eui=GOLDEN_EUI, key=GOLDEN_KEY, device_id="meter-ed1-001")])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                 max_size=4),
    max_leaves=20,
)  # fmt: skip


def mutate(fixture: str, path: tuple[str, ...], value: object) -> bytes:
    """The fixture with the field at ``path`` replaced (or added) with ``value``."""
    body = json.loads(load_fixture(fixture))
    node = body
    for key in path[:-1]:
        node = node.setdefault(key, {}) if isinstance(node.get(key), dict | None) else node
    node[path[-1]] = value
    return json.dumps(body, allow_nan=True).encode()


def survives(parse: Callable[[bytes], Any], payload: bytes) -> None:
    with contextlib.suppress(MalformedMessageError):
        parse(payload)


HOSTILE = [
    b'{"fCnt": 1e999}',
    b'{"f_cnt": -1e999}',
    b'{"fCnt": NaN}',
    b'{"rxInfo": [{"rssi": ' + b"9" * 400 + b"}]}",
    b'{"uplink_message": {"rx_metadata": [{"rssi": ' + b"9" * 400 + b"}]}}",
    b'{"uplink_message": {"f_cnt": ' + b"7" * 5000 + b"}}",
    b"[" * 200_000 + b"]" * 200_000,
    b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    b'{"correlation_ids": 5, "uplink_message": {"settings": {"data_rate": {"lora": []}}}}',
    b'{"uplink_message": {"settings": {"data_rate": {"lora": {"spreading_factor": 1e308}}}}}',
    b'{"time": "0001-01-01T00:00:00+14:00"}',
    b'{"deviceInfo": {"devEui": ["x"]}, "deduplicationId": {"a": 1}}',
    b"\xff\xfe\x00",
    b'"\\ud800"',
]


@pytest.mark.parametrize("payload", HOSTILE, ids=range(len(HOSTILE)))
def test_known_hostile_messages(payload: bytes, golden_registry: DeviceRegistry) -> None:
    survives(lambda p: chirpstack.parse_uplink(CS_TOPIC, p, 0.0), payload)
    survives(lambda p: ttn.parse_uplink(golden_registry, TTN_TOPIC, p, 0.0), payload)
    survives(lambda p: chirpstack.parse_ack(CS_TOPIC, p), payload)
    survives(lambda p: chirpstack.parse_join(CS_TOPIC, p), payload)
    survives(lambda p: ttn.parse_down_event("failed", p), payload)
    survives(lambda p: ttn.parse_join(golden_registry, "meter-ed1-001", p), payload)


def test_infinite_frame_counter_is_our_error() -> None:
    with pytest.raises(MalformedMessageError):
        chirpstack.parse_uplink(CS_TOPIC, mutate("chirpstack_up_v4_1.json", ("fCnt",),
                                                 float("inf")), 0.0)  # fmt: skip


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CS_FIELDS = [("fCnt",), ("fPort",), ("dr",), ("time",), ("data",), ("devAddr",), ("rxInfo",),
             ("deduplicationId",), ("deviceInfo",), ("deviceInfo", "devEui"),
             ("txInfo",)]  # fmt: skip
TTN_FIELDS = [("correlation_ids",), ("received_at",), ("end_device_ids",),
              ("end_device_ids", "dev_eui"), ("uplink_message",), ("uplink_message", "f_cnt"),
              ("uplink_message", "f_port"), ("uplink_message", "rx_metadata"),
              ("uplink_message", "settings"), ("uplink_message", "received_at"),
              ("uplink_message", "frm_payload"), ("uplink_message", "session_key_id")]  # fmt: skip


@FUZZ
@given(field=st.sampled_from(CS_FIELDS), value=json_values)
def test_fuzz_chirpstack_uplink_fields(field: tuple[str, ...], value: object) -> None:
    payload = mutate("chirpstack_up_v4_1.json", field, value)
    survives(lambda p: chirpstack.parse_uplink(CS_TOPIC, p, 0.0), payload)


@FUZZ
@given(field=st.sampled_from(TTN_FIELDS), value=json_values)
def test_fuzz_ttn_uplink_fields(field: tuple[str, ...], value: object) -> None:
    payload = mutate("ttn_up_current.json", field, value)
    survives(lambda p: ttn.parse_uplink(REGISTRY, TTN_TOPIC, p, 0.0), payload)


@FUZZ
@given(value=json_values)
def test_fuzz_chirpstack_ack_and_ttn_down_events(value: object) -> None:
    payload = json.dumps(value, allow_nan=True).encode()
    survives(lambda p: chirpstack.parse_ack(CS_TOPIC, p), payload)
    for kind in ("ack", "nack", "failed", "sent"):
        survives(functools.partial(ttn.parse_down_event, kind), payload)
    survives(lambda p: ttn.parse_down_event("failed", p), mutate(
        "ttn_up_current.json", ("downlink_failed",), {"error": value, "correlation_ids": value}))


@FUZZ
@given(raw=st.binary(max_size=300))
def test_fuzz_raw_bytes(raw: bytes) -> None:
    survives(lambda p: chirpstack.parse_uplink(CS_TOPIC, p, 0.0), raw)
    survives(lambda p: ttn.parse_uplink(REGISTRY, TTN_TOPIC, p, 0.0), raw)

