"""Fuzz targets: every bridge decoder turns any input into a value or the project's error.

Each target runs ``budget.EXAMPLES`` examples (300 by default) per CI run. The
strategies mix plain random bytes with inputs shaped like the real thing and
then broken in the ways that stopped the bridge before: non-finite and
hundreds-of-digits numbers, deep nesting, wrong types in every field.
"""

from __future__ import annotations

import contextlib
import json
import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from gridcoop.experiments.bench.hostile import POISON_LITERALS
from gridcoop.hardware_bridge import chirpstack, serial_protocol
from gridcoop.hardware_bridge.codec import (
    MeterFrame,
    decode_uplink,
    encode_reading,
    normalize_eui,
)
from gridcoop.hardware_bridge.command_codec import decode_command
from gridcoop.hardware_bridge.errors import BridgeError, ConfigError, PayloadError
from gridcoop.hardware_bridge.ingest import Ingest, Uplink
from gridcoop.hardware_bridge.netjson import integer, load_object, number, parse_time
from gridcoop.hardware_bridge.registry import ENTRY_FIELDS, Device, DeviceRegistry
from gridcoop.hardware_bridge.replay_guard import FCNT_MOD, ReplayGuard
from tests.fuzz.budget import FUZZ

EUI = "70b3d57ed0000001"
KEY = bytes(range(16))
APP = "fuzz"
TOPIC = chirpstack.event_topic(APP, EUI, "up")

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
HOSTILE_LITERALS = [*POISON_LITERALS, b"1" * 25]


def uplink_body(seq: int = 1, f_cnt: int = 1) -> dict[str, Any]:
    frame = MeterFrame(
        boot=1, seq=seq, energy_vah=100 * seq, irms_ca=1, s_avg_va=1, s_max_va=1, interval_min=15
    )
    return chirpstack.uplink_event(
        application_id=APP,
        dev_eui=EUI,
        device_name="m",
        dev_addr="01020304",
        f_cnt=f_cnt,
        f_port=10,
        payload=encode_reading(frame, dev_eui=EUI, key=KEY),
        time_s=1_700_000_000.0,
        dedup_id=f"d-{seq}",
    )


FIELDS = [*sorted(uplink_body()), "rxInfo.rssi", "rxInfo.snr"]


def with_field(body: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    if field.startswith("rxInfo."):
        body["rxInfo"][0][field.split(".", 1)[1]] = value
    else:
        body[field] = value
    return body


def raw_with_literal(field: str, literal: bytes) -> bytes:
    marker = "@@HOSTILE@@"
    text = json.dumps(with_field(uplink_body(), field, marker)).encode()
    return text.replace(f'"{marker}"'.encode(), literal)


@FUZZ
@given(st.binary(max_size=300))
def test_load_object_any_bytes(payload: bytes) -> None:
    with contextlib.suppress(PayloadError):
        assert isinstance(load_object(payload, "fuzz"), dict)


@FUZZ
@given(st.sampled_from(FIELDS), json_values)
def test_chirpstack_uplink_any_field_value(field: str, value: Any) -> None:
    payload = json.dumps(with_field(uplink_body(), field, value)).encode()
    try:
        up = chirpstack.parse_uplink(TOPIC, payload, 0.0)
    except BridgeError:
        return
    assert up.rssi is None or math.isfinite(up.rssi)


@FUZZ
@given(st.sampled_from(FIELDS), st.sampled_from(HOSTILE_LITERALS))
def test_chirpstack_uplink_hostile_number_literals(field: str, literal: bytes) -> None:
    try:
        up = chirpstack.parse_uplink(TOPIC, raw_with_literal(field, literal), 0.0)
    except BridgeError:
        return
    assert up.f_cnt is None or abs(up.f_cnt) < 10**24


@FUZZ
@given(st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_netjson_field_readers_any_value(data: dict[str, Any]) -> None:
    for key in data:
        with contextlib.suppress(PayloadError):
            integer(data, key)
        value = number(data, key)
        assert value is None or math.isfinite(value)
        with contextlib.suppress(PayloadError):
            parse_time(data[key])


@FUZZ
@given(
    st.integers(-5, 300),
    st.binary(max_size=40) | st.text(max_size=60),
    st.none() | st.just(KEY),
    st.booleans(),
)
def test_uplink_codec_any_frame(
    port: int, payload: bytes | str, key: bytes | None, req: bool
) -> None:
    with contextlib.suppress(PayloadError):
        decode_uplink(EUI, port, payload, key, require_mac=req)


@FUZZ
@given(st.binary(max_size=24) | st.text(max_size=40), st.none() | st.just(KEY), st.booleans())
def test_command_codec_any_frame(payload: bytes | str, key: bytes | None, req: bool) -> None:
    with contextlib.suppress(PayloadError):
        decode_command(payload, dev_eui=EUI, key=key, require_mac=req)


@FUZZ
@given(st.text(max_size=80) | st.binary(max_size=40).map(bytes.hex))
def test_eui_any_text(text: str) -> None:
    with contextlib.suppress(PayloadError):
        assert len(normalize_eui(text)) == 16


@FUZZ
@given(st.lists(st.binary(max_size=300), max_size=5))
def test_serial_lines_any_bytes(chunks: list[bytes]) -> None:
    splitter = serial_protocol.LineSplitter()
    for chunk in chunks:
        for line in splitter.feed(chunk):
            with contextlib.suppress(PayloadError):
                serial_protocol.parse_line(line)
        with contextlib.suppress(PayloadError):
            serial_protocol.parse_line(chunk)


registry_entries = st.fixed_dictionaries(
    {"eui": json_values | st.just(EUI), "key": json_values | st.just(KEY.hex())},
    optional={name: json_values for name in (*ENTRY_FIELDS[2:], "extra")},
)
registry_documents = (
    st.lists(registry_entries, max_size=3).map(lambda e: {"devices": e})
    | st.lists(registry_entries | json_values, max_size=3)
    | json_values
)


@FUZZ
@given(registry_documents, st.booleans())
def test_registry_any_document(document: Any, as_json: bool) -> None:
    import yaml

    text = json.dumps(document) if as_json else yaml.safe_dump(document)
    with contextlib.suppress(ConfigError):
        DeviceRegistry.parse(text, as_json)


@FUZZ
@given(st.text(max_size=400), st.booleans())
def test_registry_any_text(text: str, as_json: bool) -> None:
    with contextlib.suppress(ConfigError):
        DeviceRegistry.parse(text, as_json)


@FUZZ
@given(registry_entries | json_values)
def test_device_entry_any_value(entry: Any) -> None:
    with contextlib.suppress(ConfigError):
        Device.from_entry(entry)


huge_ints = st.integers() | st.integers(-(10**40), 10**40) | st.sampled_from([10**30, 2**63, -1])


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["admit", "network", "join", "reject"]),
            st.sampled_from([EUI, "other", "x" * 500]),
            st.none() | st.text(max_size=8) | st.just("\ud800"),
            st.none() | st.text(max_size=80) | st.just("s\udfff"),
            st.none() | huge_ints,
            huge_ints,
        ),
        max_size=12,
    )
)
def test_replay_guard_any_counters(ops: list[tuple[str, str, Any, Any, Any, int]]) -> None:
    guard = ReplayGuard()
    for op, meter, dedup, session, f_cnt, n in ops:
        if op == "admit":
            guard.admit_reading(meter, dedup, session, f_cnt, n, n, n, 0.0)
        elif op == "network":
            guard.admit_network(meter, dedup, session, f_cnt, 0.0)
        elif op == "join":
            guard.reset_session(meter, session)
        else:
            guard.reject(meter, "fuzz", str(session), 0.0)
        guard.commit()  # never fails, whatever was admitted or refused
        state = guard.state(meter)
        assert state is None or state.f_cnt is None or 0 <= state.f_cnt < FCNT_MOD
    guard.close()


@FUZZ
@given(
    st.integers(-(10**30), 10**30),
    st.binary(max_size=30) | st.text(max_size=40),
    st.none() | st.text(max_size=100),
    st.none() | huge_ints,
    st.none() | st.floats(),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
)
def test_ingest_any_uplink(
    port: int, payload: bytes | str, session: str | None, f_cnt: int | None, rssi: float | None,
    received_s: float,
) -> None:
    registry = DeviceRegistry([Device(eui=EUI, key=KEY)])
    guard = ReplayGuard()
    up = Uplink(EUI, port, payload, "fuzz", received_s, None, session, f_cnt, rssi)
    Ingest(registry, guard).process(up)
    guard.commit()
    guard.close()
