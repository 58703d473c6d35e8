"""Bad frames on real sockets (inproc and tcp): refused, counted, answered, and the bus goes on.

A raw ZeroMQ socket plays the misbehaving peer, so the frames are exactly what
a buggy or hostile process could put on the wire.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import zmq

from gridcoop.agents.bus.messages import Ack, ErrorMessage, GateClosed, decode, encode
from gridcoop.agents.bus.transport import Bus, Endpoint
from tests.agents.bus.raw import raw_peer, rogue_peer

MAX = 2_000


def _valid(sender: str, message_id: str = "raw:1") -> bytes:
    return encode(GateClosed(id=message_id, sender=sender, auction_id="a", order_count=1))


@pytest.fixture(params=["inproc", "tcp"])
def setup(request: pytest.FixtureRequest) -> Iterator[tuple[Bus, Endpoint, zmq.Socket[bytes]]]:
    with raw_peer(request.param, max_message_bytes=MAX) as peer:
        yield peer


def _reply(bus: Bus, raw: zmq.Socket[bytes]) -> tuple[bytes, ErrorMessage | Ack]:
    for _ in range(200):
        bus.pump(0.01)
        if raw.poll(10):
            header, payload = raw.recv_multipart()
            message = decode(payload)
            assert isinstance(message, ErrorMessage | Ack)
            return header, message
    raise AssertionError("no reply from the bus")


CASES = [
    # (frames after the routing id, error code, words in the detail)
    ([b"one frame only"], "malformed", "got 2 frames"),
    ([b"Xj1", _valid("mallory")], "malformed", "bad frame header"),
    ([b"Sj", _valid("mallory")], "malformed", "bad frame header"),
    ([b"Sj7", b"{not json"], "malformed", "not valid JSON"),
    ([b"Sj7", b'{"type": "teleport", "id": "t"}'], "unknown_type", "unknown message type"),
    ([b"Sj7", b"x" * (MAX + 1)], "oversized", f"exceeds the limit of {MAX} bytes"),
    (
        [b"Sj7", json.dumps({"type": "gate_closed", "schema_version": 9}).encode()],
        "schema_version",
        "schema version 9",
    ),
    ([b"Sj7", encode(GateClosed(id="x:1", auction_id="a", order_count=1))], "malformed",
     "empty id or sender"),
    (
        [b"Sj7", encode(GateClosed(sender="mallory", auction_id="a", order_count=1))],
        "malformed",
        "empty id or sender",
    ),
]


@pytest.mark.parametrize(
    ("frames", "code", "words"), CASES, ids=[c[1] + str(i) for i, c in enumerate(CASES)]
)
def test_bad_frame_gets_an_error_reply_and_is_counted(
    setup: tuple[Bus, Endpoint, zmq.Socket[bytes]], frames: list[bytes], code: str, words: str
) -> None:
    bus, market, raw = setup
    raw.send_multipart(frames)
    header, reply = _reply(bus, raw)
    assert isinstance(reply, ErrorMessage)
    assert reply.code == code and words in reply.detail
    assert reply.sender == "market"
    if frames[0] == b"Sj7":
        assert header == b"Rj7"  # the reply names the sequence number of the refused frame
    assert market.stats.error_replies_sent == 1
    assert getattr(market.stats, f"rejected_{code}") == 1 and market.stats.rejected == 1
    assert market.drain() == []
    # the bus keeps running: a good frame from the same peer is delivered and acked
    raw.send_multipart([b"Sj8", _valid("mallory", "raw:2")])
    header, ack = _reply(bus, raw)
    assert isinstance(ack, Ack) and ack.acked_ids == ["raw:2"]
    [delivered] = market.drain()
    assert delivered.id == "raw:2" and delivered.sender == "mallory"
    assert market.stats.received == 1


def test_garbage_publications_are_counted_without_a_reply_channel() -> None:
    with Bus("tcp") as bus:
        replica = bus.endpoint("ra")
        with rogue_peer(bus, "rogue", zmq.XPUB) as rogue:
            replica.subscribe("rogue", "ledger")
            assert rogue.poll(5_000)  # the subscription arrived
            assert rogue.recv() == b"\x01ledger"
            rogue.send_multipart([b"ledger", b"Pj1", b"\x00garbage"])
            rogue.send_multipart([b"ledger", b"Pj2", b'{"type": "nope"}'])
            rogue.send_multipart([b"ledger", b"Pj3", _valid("rogue", "rogue:3")])
            for _ in range(200):
                bus.pump(0.01)
                if replica.stats.received:
                    break
            assert replica.stats.rejected_malformed == 1
            assert replica.stats.rejected_unknown_type == 1
            assert [m.id for m in replica.drain()] == ["rogue:3"]


def test_garbage_replies_are_counted_and_a_later_ack_still_counts() -> None:
    with Bus("tcp", ack_timeout_s=5) as bus:
        sender = bus.endpoint("ra")
        with rogue_peer(bus, "rogue", zmq.ROUTER) as rogue:
            message_id = sender.send("rogue", GateClosed(auction_id="a", order_count=0))
            assert rogue.poll(5_000)
            ident, header, _ = rogue.recv_multipart()
            assert ident[:1] == b"\0" and header.startswith(b"Sj1.")  # seq 1, then the session
            rogue.send_multipart([ident, b"Rj1", b"[]"])
            rogue.send_multipart([ident, b"junk"])
            ack = Ack(id="rogue:1", sender="rogue", acked_ids=[message_id])
            rogue.send_multipart([ident, b"Rj0", encode(ack)])
            sender.wait_acks()
            assert sender.stats.rejected_malformed == 2 and sender.stats.acked == 1


def test_frame_past_the_hard_cap_drops_only_that_connection_over_tcp() -> None:
    with Bus("tcp", max_message_bytes=MAX) as bus:
        market = bus.endpoint("market")
        context = zmq.Context()
        try:
            huge = context.socket(zmq.DEALER)
            huge.setsockopt(zmq.LINGER, 0)
            huge.connect(market.address)
            huge.send_multipart([b"Sj1", b"x" * (4 * MAX + 70_000)])  # past MAXMSGSIZE
            for _ in range(20):
                bus.pump(0.01)
            assert market.drain() == [] and not huge.poll(50)
            polite = context.socket(zmq.DEALER)
            polite.setsockopt(zmq.LINGER, 0)
            polite.connect(market.address)
            polite.send_multipart([b"Sj1", _valid("polite", "polite:1")])
            for _ in range(200):
                bus.pump(0.01)
                if polite.poll(0):
                    break
            assert [m.id for m in market.drain()] == ["polite:1"]
            huge.close()
            polite.close()
        finally:
            context.term()


def test_a_restarted_sender_is_not_mistaken_for_a_resend() -> None:
    with Bus("inproc") as bus:
        market = bus.endpoint("market")
        for session in (b"aaaa0001", b"bbbb0002"):  # the same peer, before and after a restart
            raw = bus.context.socket(zmq.DEALER)
            raw.setsockopt(zmq.LINGER, 0)
            raw.connect(market.address)
            raw.send_multipart([b"Sj1." + session, _valid("ra-1", "ra-1:1")])
            raw.send_multipart([b"Sj1." + session, _valid("ra-1", "ra-1:1")])  # a resend
            _, ack = _reply(bus, raw)
            assert isinstance(ack, Ack)
            raw.close()
        assert [m.id for m in market.drain()] == ["ra-1:1", "ra-1:1"]  # once per incarnation
        assert market.stats.duplicates == 2 and market.stats.received == 2


def test_a_connection_speaks_for_one_name_and_chosen_routing_ids_are_refused() -> None:
    """Routing ids are the ROUTER's own: a peer that names itself (``ra-1``, to take over
    that peer's connection with ROUTER_HANDOVER) is refused and counted, and a connection
    that spoke as one name may not switch to another."""
    with Bus("tcp") as bus:
        market = bus.endpoint("market")
        context = zmq.Context()
        try:
            thief = context.socket(zmq.DEALER)
            thief.setsockopt(zmq.LINGER, 0)
            thief.setsockopt(zmq.ROUTING_ID, b"ra-1")
            thief.connect(market.address)
            thief.send_multipart([b"Sj1.aaaa0001", _valid("ra-1", "ra-1:1")])
            _, refusal = _reply(bus, thief)
            assert isinstance(refusal, ErrorMessage) and refusal.code == "sender_mismatch"
            assert "chose its own routing id" in refusal.detail
            raw = context.socket(zmq.DEALER)
            raw.setsockopt(zmq.LINGER, 0)
            raw.connect(market.address)
            raw.send_multipart([b"Sj1.aaaa0001", _valid("ra-2", "ra-2:1")])
            assert isinstance(_reply(bus, raw)[1], Ack)
            raw.send_multipart([b"Sj2.aaaa0001", _valid("ra-1", "ra-1:2")])
            _, refusal = _reply(bus, raw)
            assert isinstance(refusal, ErrorMessage) and "speaks as" in refusal.detail
            assert market.stats.rejected_sender_mismatch == 2
            assert [m.id for m in market.drain()] == ["ra-2:1"]
            thief.close()
            raw.close()
        finally:
            context.term()
