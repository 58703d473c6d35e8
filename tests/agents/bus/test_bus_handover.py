"""An in-process receiver takes the sender's own message object instead of decoding bytes
(reliable sends and publications alike).

A reliable send to an endpoint of the same process encodes nothing: its frame carries an
empty payload, and the receiver finds the object by the sender's session and seq. A
publication is still encoded (a subscriber elsewhere may read it). These tests pin when
the object is taken, when bytes are decoded, that an empty payload from anywhere else is
refused, and that in every built-in scenario each object taken is exactly what its bytes
would decode to, types included.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import BaseModel

import gridcoop.agents.bus.endpoint as endpoint_module
import gridcoop.agents.bus.inbound as inbound
from gridcoop.agents.bus.messages import (
    ErrorMessage,
    GateClosed,
    LedgerBlock,
    Message,
    decode,
    encode,
)
from gridcoop.agents.bus.schema import Envelope
from gridcoop.agents.bus.transport import Bus, Endpoint
from gridcoop.agents.bus.wire import KIND_SEND, Header, make_header
from gridcoop.experiments.cli import main
from tests.agents.bus.raw import raw_peer


def _counting_decodes(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    decoded: list[bytes] = []
    real = decode

    def counted(payload: bytes, *args: Any) -> Message:
        decoded.append(payload)
        return real(payload, *args)

    monkeypatch.setattr(inbound, "decode", counted)
    return decoded


def _counting_encodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    encoded: list[str] = []
    real = encode

    def counted(message: Envelope, *args: Any) -> bytes:
        encoded.append(message.type)
        return real(message, *args)

    monkeypatch.setattr(endpoint_module, "encode", counted)
    return encoded


@pytest.mark.parametrize("transport", ["inproc", "tcp"])
def test_a_sender_of_this_process_encodes_nothing_and_hands_over_its_object(
        transport: str, monkeypatch: pytest.MonkeyPatch) -> None:
    decoded = _counting_decodes(monkeypatch)
    encoded = _counting_encodes(monkeypatch)
    with Bus(transport, max_message_bytes=200) as bus:  # type: ignore[arg-type]
        ra, market = bus.endpoint("ra"), bus.endpoint("market")
        sent: list[Envelope] = [GateClosed(auction_id=f"b{i}", order_count=i) for i in range(3)]
        sent.append(LedgerBlock(height=0, block_hash="00" * 32, block_bytes=bytes(300)))  # no limit
        ra.send("market", sent[0])
        ra.send_many("market", sent[1:])
        bus.settle(timeout_s=5)
        got = market.drain()
        assert encoded == [] and decoded == []
        assert all(g is s for g, s in zip(got, sent, strict=True)) and len(got) == 4
        assert [g.id for g in got] == ["ra:1", "ra:2", "ra:3", "ra:4"]
        assert ra.pending == [] and ra._pending_by_seq == {}


def test_without_handover_every_message_is_encoded_and_decoded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    decoded = _counting_decodes(monkeypatch)
    encoded = _counting_encodes(monkeypatch)
    with Bus(handover=False) as bus:
        ra, market = bus.endpoint("ra"), bus.endpoint("market")
        market.subscribe("ra", "gate")
        sent = [GateClosed(auction_id=f"b{i}", order_count=i) for i in range(2)]
        ra.send("market", sent[0])
        ra.publish("gate", sent[1])
        bus.settle(timeout_s=5)
        got = market.drain()
        assert encoded == ["gate_closed"] * 2 and len(decoded) == 2
        assert all(g is not s and g == s for g, s in zip(got, sent, strict=True))


@pytest.mark.parametrize("session", [b"0000beef", None])
def test_an_empty_payload_that_names_no_held_message_is_refused(session: bytes | None) -> None:
    """From another process (a session no endpoint here has), or with a local endpoint's
    session but a seq it holds nothing at: refused as malformed, and the bus goes on."""
    with raw_peer() as (bus, market, raw):
        ra = bus.endpoint("ra")
        raw.send_multipart([make_header(KIND_SEND, "json", 7, session or ra._session), b""])
        for _ in range(100):
            bus.pump(0.01)
            if market.stats.rejected_malformed:
                break
        assert market.stats.rejected_malformed == 1 and market.drain() == []
        reply = decode(raw.recv_multipart()[1])
        assert isinstance(reply, ErrorMessage) and "empty payload" in reply.detail
        ra.send("market", GateClosed(auction_id="after", order_count=0))
        bus.settle(timeout_s=5)
        assert [m.id for m in market.drain()] == ["ra:1"]


def test_a_sender_in_another_process_is_always_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    decoded = _counting_decodes(monkeypatch)
    with Bus("tcp") as market_bus, Bus("tcp") as ra_bus:
        market = market_bus.endpoint("market")
        ra = ra_bus.endpoint("ra")
        ra_bus.add_peer("market", market_bus.address_of("market"))
        sent = [GateClosed(auction_id=f"a{i}", order_count=i) for i in range(2)]
        for message in sent:
            ra.send("market", message)
        got: list[Message] = []
        for _ in range(500):
            market_bus.pump(0.01)
            ra_bus.pump(0.01)
            got += market.drain()
            if len(got) == 2 and not ra.pending:
                break
        assert [g.id for g in got] == ["ra:1", "ra:2"]
        assert all(g is not s and g == s for g, s in zip(got, sent, strict=True))
        payloads = [d for d in decoded if b"gate_closed" in d]
        assert len(payloads) == 2


@pytest.mark.parametrize("transport", ["inproc", "tcp"])
def test_local_subscribers_take_the_publication_itself(
        transport: str, monkeypatch: pytest.MonkeyPatch) -> None:
    decoded = _counting_decodes(monkeypatch)
    with Bus(transport) as bus:  # type: ignore[arg-type]
        market = bus.endpoint("market")
        replicas = [bus.endpoint(f"ra-{i}") for i in range(2)]
        for replica in replicas:
            replica.subscribe("market", "ledger")
        blocks = [LedgerBlock(height=h, block_hash="00" * 32, block_bytes=bytes([h]))
                  for h in range(3)]
        for block in blocks:
            market.publish("ledger", block)
        market.publish("telemetry", GateClosed(auction_id="x", order_count=0))  # nobody's
        bus.settle(timeout_s=5)
        for replica in replicas:
            got = replica.drain()
            assert all(g is b for g, b in zip(got, blocks, strict=True)) and len(got) == 3
            assert replica._published_here == {}  # nothing is left behind
        assert decoded == []


def test_a_subscriber_in_another_process_decodes_publications(
        monkeypatch: pytest.MonkeyPatch) -> None:
    decoded = _counting_decodes(monkeypatch)
    with Bus("tcp") as market_bus, Bus("tcp") as ra_bus:
        market = market_bus.endpoint("market")
        replica = ra_bus.endpoint("ra")
        ra_bus.add_peer("market", market_bus.address_of("market"))
        replica.subscribe("market", "ledger")
        block = LedgerBlock(height=0, block_hash="00" * 32, block_bytes=b"genesis")
        got: list[Message] = []
        for _ in range(500):  # a late joiner misses what was published before it joined
            if market.subscribers("ledger"):
                break
            market_bus.pump(0.01)
            ra_bus.pump(0.01)
        market.publish("ledger", block)
        for _ in range(500):
            market_bus.pump(0.01)
            ra_bus.pump(0.01)
            got += replica.drain()
            if got:
                break
        assert got == [block] and got[0] is not block and len(decoded) == 1


def _shape(value: Any) -> Any:
    """``value`` with every leaf's type beside it (a tuple for a list, an np.int64 for an
    int would tell the in-process object from what a receiver elsewhere decodes)."""
    if isinstance(value, BaseModel):
        return {name: _shape(getattr(value, name)) for name in type(value).model_fields}
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [type(value).__name__, *map(_shape, value)]
    return (type(value).__name__, value)


SCENARIOS = {
    "campus-microgrid": ("--days", "1"),
    "campus-lighting": ("--days", "1"),
    "dr-community": ("--days", "1"),
    "ev-community": ("--days", "1"),
    "market-only": ("--days", "1"),
    "neighbourhood": ("--days", "1", "--set", "households=30", "--set", "regions=3"),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_object_handed_over_is_what_its_bytes_decode_to(
        scenario: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    handed_types: set[str] = set()
    real = inbound.Inbound._handed

    def checked(self: inbound.Inbound, header: Header) -> Message:
        message = real(self, header)
        again = decode(encode(message, header.codec), header.codec)
        assert _shape(message) == _shape(again), message.type
        handed_types.add(message.type)
        return message

    monkeypatch.setattr(inbound.Inbound, "_handed", checked)
    publish = Endpoint.publish

    def published(self: Endpoint, topic: str, message: Envelope) -> str:
        message_id = publish(self, topic, message)
        again = decode(encode(message))
        assert _shape(message) == _shape(again), message.type
        handed_types.add(message.type)
        return message_id

    monkeypatch.setattr(Endpoint, "publish", published)
    result = CliRunner().invoke(main, ["run", scenario, *SCENARIOS[scenario], "--out",
                                       str(tmp_path), "--quiet"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert handed_types  # the run did take objects over
    if scenario == "neighbourhood":
        assert {"meter_reading_batch", "order_batch", "clearing_result", "order_book_record",
                "flexibility_report", "gate_open", "gate_closed", "ledger_block"} <= handed_types


def test_a_drain_right_after_a_local_publication_returns_it() -> None:
    """The publish marks the publication awaited; a drain with no settle in between
    finds it, and one after it finds nothing more."""
    with Bus() as bus:
        market, replica = bus.endpoint("market"), bus.endpoint("ra")
        replica.subscribe("market", "ledger")
        block = LedgerBlock(height=1, block_hash="00" * 32, block_bytes=b"x")
        market.publish("ledger", block)
        assert replica.unsettled_publications() == ["market"]
        assert replica.drain() == [block] and replica.unsettled_publications() == []
        assert replica.drain() == []
