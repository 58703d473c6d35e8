"""Bundles of reliable sends (``Endpoint.send_many``): one frame set, each message its own.

A raw ZeroMQ DEALER plays a peer that builds bundles by hand, so a bad payload
inside a bundle, an over-long bundle and a bundled request are exactly what a
buggy or hostile process could put on the wire.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import pytest
import zmq

from gridcoop.agents.bus.errors import OversizedMessageError
from gridcoop.agents.bus.messages import Ack, ErrorMessage, GateClosed, Message, decode, encode
from gridcoop.agents.bus.transport import Bus, Endpoint
from gridcoop.agents.bus.wire import BUNDLE_MAX
from tests.agents.bus.raw import raw_peer, rogue_peer


def _closed(auction: str, count: int = 1) -> GateClosed:
    return GateClosed(auction_id=auction, order_count=count)


def _valid(message_id: str) -> bytes:
    return encode(GateClosed(id=message_id, sender="mallory", auction_id="a", order_count=1))


def _auctions(messages: list[Message]) -> list[str]:
    return [m.auction_id for m in messages if isinstance(m, GateClosed)]


def test_a_bundle_is_one_frame_set_on_the_wire() -> None:
    with Bus("tcp") as bus:
        ra = bus.endpoint("ra")
        with rogue_peer(bus, "market", zmq.ROUTER) as router:
            ra.send("market", _closed("a0"))
            ra.send_many("market", [_closed("a1"), _closed("a2"), _closed("a3")])
            first, bundle = router.recv_multipart(), router.recv_multipart()
        assert len(first) == 3 and len(bundle) == 5  # routing id, header, payloads
        assert bundle[1].startswith(b"Sj2.")  # the first payload's sequence number
        assert [decode(p).id for p in bundle[2:]] == ["ra:2", "ra:3", "ra:4"]


@pytest.mark.parametrize("transport", ["inproc", "tcp"])
def test_a_bundle_delivers_each_message_in_order(transport: Literal["inproc", "tcp"]) -> None:
    with Bus(transport) as bus:
        ra, market = bus.endpoint("ra"), bus.endpoint("market")
        before = ra.send("market", _closed("a0"))
        ids = ra.send_many("market", [_closed("a1"), _closed("a2", 2), _closed("a3")])
        after = ra.send("market", _closed("a4"))
        bus.settle()
        assert ids == ["ra:2", "ra:3", "ra:4"] and [before, after] == ["ra:1", "ra:5"]
        drained = market.drain()
        assert [m.id for m in drained] == ["ra:1", "ra:2", "ra:3", "ra:4", "ra:5"]
        assert _auctions(drained) == ["a0", "a1", "a2", "a3", "a4"]
        assert ra.stats.sent == ra.stats.acked == market.stats.received == 5
        assert ra.pending == []


def test_ids_and_order_are_those_of_sending_one_by_one() -> None:
    def run(bundled: bool) -> list[tuple[str, str]]:
        with Bus() as bus:
            ra, market = bus.endpoint("ra"), bus.endpoint("market")
            messages = [_closed(f"a{i}", i) for i in range(5)]
            if bundled:
                ra.send_many("market", messages)
            else:
                for message in messages:
                    ra.send("market", message)
            bus.settle()
            return [(m.id, m.model_dump_json()) for m in market.drain()]

    assert run(True) == run(False)


def test_messages_too_large_to_share_a_frame_go_one_by_one() -> None:
    with Bus(part_bytes=300, handover=False) as bus:  # the bytes are what is measured
        ra, market = bus.endpoint("ra"), bus.endpoint("market")
        big = [GateClosed(auction_id="x" * 100, order_count=i) for i in range(3)]
        ids = ra.send_many("market", big)  # each fits a frame, all three do not
        bus.settle()
        assert [m.id for m in market.drain()] == ids
        assert ra.stats.acked == 3


def test_an_oversized_message_refuses_the_whole_bundle_before_anything_is_sent() -> None:
    with Bus(max_message_bytes=200, handover=False) as bus:
        ra, market = bus.endpoint("ra"), bus.endpoint("market")
        with pytest.raises(OversizedMessageError, match="max_message_bytes=200"):
            ra.send_many("market", [_closed("a"), GateClosed(auction_id="x" * 120,
                                                             order_count=1)])
        bus.settle()
        assert market.drain() == [] and ra.pending == []
        ra.send("market", _closed("b"))  # the endpoint goes on
        bus.settle()
        assert _auctions(market.drain()) == ["b"]


@pytest.fixture
def peer() -> Iterator[tuple[Bus, Endpoint, zmq.Socket[bytes]]]:
    with raw_peer() as made:
        yield made


Reply = tuple[bytes, Ack | ErrorMessage]


def _replies(bus: Bus, raw: zmq.Socket[bytes], count: int) -> list[Reply]:
    got: list[Reply] = []
    for _ in range(200):
        bus.pump(0.01)
        while raw.poll(10):
            header, payload = raw.recv_multipart()
            message = decode(payload)
            assert isinstance(message, Ack | ErrorMessage)
            got.append((header, message))
        if len(got) >= count:
            return got
    raise AssertionError(f"expected {count} replies, got {got}")


def test_a_poison_payload_in_a_bundle_costs_none_of_the_others(
        peer: tuple[Bus, Endpoint, zmq.Socket[bytes]]) -> None:
    bus, market, raw = peer
    raw.send_multipart([b"Sj1", _valid("raw:1"), b"{not json", _valid("raw:3"),
                        b'{"type": "teleport", "id": "t"}', _valid("raw:5")])
    replies = _replies(bus, raw, 3)
    errors = {header: m for header, m in replies if isinstance(m, ErrorMessage)}
    acks = [m for _, m in replies if isinstance(m, Ack)]
    assert set(errors) == {b"Rj2", b"Rj4"}  # each error names its payload's sequence number
    assert errors[b"Rj2"].code == "malformed" and errors[b"Rj4"].code == "unknown_type"
    assert [i for ack in acks for i in ack.acked_ids] == ["raw:1", "raw:3", "raw:5"]
    assert [m.id for m in market.drain()] == ["raw:1", "raw:3", "raw:5"]
    assert market.stats.received == 3 and market.stats.rejected == 2


@pytest.mark.parametrize(("frames", "words"), [
    ([b"Qj1", _valid("raw:1"), _valid("raw:2")], "only whole reliable sends"),
    ([b"Sj1~0/2/10/" + b"0" * 32, _valid("raw:1"), _valid("raw:2")],
     "only whole reliable sends"),
    ([b"Sj1", *(_valid(f"raw:{i}") for i in range(BUNDLE_MAX + 1))], f"at most {BUNDLE_MAX}"),
], ids=["request", "part", "too-many"])
def test_a_bundle_that_is_not_whole_sends_is_refused_whole(
        peer: tuple[Bus, Endpoint, zmq.Socket[bytes]], frames: list[bytes],
        words: str) -> None:
    bus, market, raw = peer
    raw.send_multipart(frames)
    [(header, reply)] = _replies(bus, raw, 1)
    assert isinstance(reply, ErrorMessage) and reply.code == "malformed"
    assert words in reply.detail and header == b"Rj1"
    assert market.drain() == [] and market.stats.rejected_malformed == 1
