"""Every bus decoder turns any bytes into a value or a ``MessageError``, and the bus goes on.

Hypothesis drives the message codec (JSON and msgpack), the frame header, the
reassembly of parts, and whole frame sets through a real ROUTER socket, with
a bounded budget so CI time stays fixed.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import pytest
import zmq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridcoop.agents.bus.errors import MessageError
from gridcoop.agents.bus.messages import GateClosed, decode, encode
from gridcoop.agents.bus.parts import Reassembly
from gridcoop.agents.bus.transport import Bus, Endpoint
from gridcoop.agents.bus.wire import KIND_PUBLISH, KIND_REQUEST, KIND_SEND, Part, parse_header
from tests.agents.bus.raw import raw_peer

BUDGET = settings(max_examples=300, deadline=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["type", "id", "sender", "schema_version", "acked_ids", "auction_id",
                         "order_count", "meter_ids", "import_wh", "x"]), inner, max_size=5),
    max_leaves=25)


def _value_or_message_error(data: bytes, codec: str) -> None:
    with contextlib.suppress(MessageError):
        decode(data, codec)  # type: ignore[arg-type]


@BUDGET
@given(st.binary(max_size=200))
def test_decode_any_bytes(data: bytes) -> None:
    _value_or_message_error(data, "json")
    _value_or_message_error(data, "msgpack")


@BUDGET
@given(json_values)
def test_decode_any_json(value: object) -> None:
    _value_or_message_error(json.dumps(value).encode(), "json")


@BUDGET
@given(st.dictionaries(st.sampled_from(["type", "id", "sender", "order_count", "auction_id",
                                        "schema_version"]), json_values, max_size=6))
def test_decode_any_message_shaped_object(value: dict[str, object]) -> None:
    value.setdefault("type", "gate_closed")
    _value_or_message_error(json.dumps(value).encode(), "json")


@pytest.mark.parametrize("data", [b"[" * 200_000, b'{"type":' + b"[" * 100_000,
                                  b'{"a":' * 50_000, b"\x91" * 100_000, b"\xdd\xff\xff\xff\xff"])
def test_deep_or_truncated_input_is_a_message_error(data: bytes) -> None:
    for codec in ("json", "msgpack"):
        with pytest.raises(MessageError):
            decode(data, codec)


@BUDGET
@given(st.binary(max_size=80))
def test_parse_header_any_bytes(header: bytes) -> None:
    with contextlib.suppress(MessageError):
        parse_header(header, KIND_SEND + KIND_REQUEST + KIND_PUBLISH)


@BUDGET
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 6), st.integers(0, 60),
                          st.integers(0, 2), st.binary(max_size=24)), max_size=12))
def test_reassembly_of_any_parts(parts: list[tuple[int, int, int, int, bytes]]) -> None:
    """Whatever parts arrive, the result is a payload whose length and digest match what the
    parts announced, a MessageError, or nothing yet; memory stays within the bound."""
    reassembly = Reassembly(max_message_bytes=50, part_bytes=16)
    for number, count, total, source, data in parts:
        part = Part(number, count, total, "0" * 32)
        try:
            payload = reassembly.add(bytes([source]), 1, part, data)
        except MessageError:
            continue
        assert payload is None  # a made-up digest never matches
        assert reassembly.pending_bytes <= 3 * 50


@pytest.fixture(scope="module")
def bus() -> Iterator[tuple[Bus, Endpoint, zmq.Socket[bytes]]]:
    with raw_peer() as peer:
        yield peer


frame = st.binary(max_size=40) | st.sampled_from([
    b"Sj1", b"Sj1.abcd", b"Qj2", b"Pj1", b"Sm1", b"Sj1~0/2/10/" + b"0" * 32,
    encode(GateClosed(id="x:1", sender="x", auction_id="a", order_count=1))])


@settings(BUDGET, max_examples=150)
@given(st.lists(frame, min_size=0, max_size=4))
def test_any_frames_on_a_real_router_are_refused_or_delivered(
        bus: tuple[Bus, Endpoint, zmq.Socket[bytes]], frames: list[bytes]) -> None:
    the_bus, market, raw = bus
    if not frames:
        frames = [b""]
    raw.send_multipart(frames)
    before = market.stats.received + market.stats.rejected + market.stats.parts_received
    for _ in range(50):
        the_bus.pump(0.001)
        after = market.stats.received + market.stats.rejected + market.stats.parts_received
        if after > before or market.stats.duplicates:
            break
    market.drain()
    while raw.poll(0):
        raw.recv_multipart()
