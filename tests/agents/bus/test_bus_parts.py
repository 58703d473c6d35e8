"""Large messages travel in parts over real sockets: whole, checked, bounded.

A 10 MB ledger block (what a daily block of a large community weighs) goes
as 1 MiB parts, reliably and as a publication, with and without CurveZMQ; a
part altered in transit fails the digest; a message over the receiver's
``max_message_bytes`` is refused; an abandoned message is dropped and counted.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import zmq

from gridcoop.agents.bus.curve import CurveConfig, CurveKeyPair
from gridcoop.agents.bus.errors import MalformedMessageError, OversizedMessageError
from gridcoop.agents.bus.messages import ErrorMessage, LedgerBlock, decode, encode
from gridcoop.agents.bus.parts import Reassembly, digest, split
from gridcoop.agents.bus.transport import Bus, MessageRejectedError
from gridcoop.agents.bus.wire import make_header
from tests.agents.bus.test_bus_curve import Served

BLOCK = os.urandom(10 * 1024 * 1024)


def _block(data: bytes = BLOCK) -> LedgerBlock:
    return LedgerBlock(height=7, block_hash="ab" * 32, block_bytes=data)


def test_split_and_reassemble_are_inverse_and_layout_is_strict() -> None:
    payload = os.urandom(2_500_001)
    parts = split(payload, 1_000_000)
    assert [len(d) for _, d in parts] == [833_334, 833_334, 833_333]
    reassembly = Reassembly(max_message_bytes=3_000_000, part_bytes=1_000_000)
    got = [reassembly.add(b"c", 1, part, data) for part, data in reversed(parts)
           if part is not None]
    assert got[:2] == [None, None] and got[2] == payload
    assert split(b"small", 10) == [(None, b"small")]
    first, data = parts[0]
    assert first is not None
    with pytest.raises(MalformedMessageError, match="same part_bytes"):
        Reassembly(3_000_000, 500_000).add(b"c", 1, first, data)
    with pytest.raises(OversizedMessageError, match="exceeds the limit of 2000000 bytes"):
        Reassembly(2_000_000, 1_000_000).add(b"c", 1, first, data)


def test_an_altered_part_fails_the_digest_and_a_new_message_drops_the_old() -> None:
    payload = os.urandom(3_000)
    parts = [(p, d) for p, d in split(payload, 1_000) if p is not None]
    reassembly = Reassembly(10_000, 1_000)
    assert reassembly.add(b"c", 1, *parts[0]) is None
    assert reassembly.add(b"c", 2, *parts[0]) is None  # message 1 will never be finished
    assert reassembly.dropped == 1 and reassembly.pending_bytes == 1_000
    assert reassembly.add(b"c", 2, parts[1][0], parts[1][1]) is None
    with pytest.raises(MalformedMessageError, match="digest"):
        reassembly.add(b"c", 2, parts[2][0], b"x" * len(parts[2][1]))
    assert reassembly.pending_bytes == 0
    assert digest(payload) == parts[0][0].digest


@pytest.fixture(params=["plain", "curve"])
def pair(request: pytest.FixtureRequest) -> Iterator[tuple[Bus, Bus]]:
    if request.param == "curve":
        server_keys, client_keys = CurveKeyPair.generate(), CurveKeyPair.generate()
        server = Bus("tcp", curve=CurveConfig(server_keys, {client_keys.public: {"ra-1"}}))
        client = Bus("tcp", curve=CurveConfig(client_keys, {server_keys.public: {"central"}}),
                     ack_timeout_s=20)
    else:
        server, client = Bus("tcp"), Bus("tcp", ack_timeout_s=20)
    yield server, client
    client.close()
    server.close()


def test_a_10_mb_block_travels_in_parts_both_ways(pair: tuple[Bus, Bus]) -> None:
    server, client = pair
    central = server.endpoint("central")
    ra = client.endpoint("ra-1")
    client.add_peer("central", server.address_of("central"))
    ra.subscribe("central", "blocks")
    server.add_peer("ra-1", client.address_of("ra-1"))
    with Served(server):
        ra.send("central", _block())
        ra.wait_acks()
    [got] = central.drain()
    assert isinstance(got, LedgerBlock) and got.block_bytes == BLOCK
    parts = len(split(encode(_block()), server.part_bytes))
    assert central.stats.parts_received == parts > 10
    for _ in range(100):  # the subscription reaches the publisher
        if central.subscribers("blocks"):
            break
        server.pump(0.05)
    central.publish("blocks", _block(BLOCK[::-1]))
    for _ in range(400):
        client.pump(0.02)
        if ra.stats.received:
            break
    [published] = ra.drain()
    assert isinstance(published, LedgerBlock) and published.block_bytes == BLOCK[::-1]
    assert ra.stats.parts_received == parts


def test_over_the_limit_is_refused_on_both_ends() -> None:
    with Bus("tcp", max_message_bytes=4 * 1024 * 1024, handover=False) as small, \
            Bus("tcp") as big:
        central = small.endpoint("central")
        ra = big.endpoint("ra-1")
        big.add_peer("central", small.address_of("central"))
        with pytest.raises(OversizedMessageError, match="max_message_bytes=4194304"):
            small.endpoint("x").send("central", _block())  # refused before sending
        ra.send("central", _block())  # the big bus would send it: the receiver refuses
        with Served(small), pytest.raises(MessageRejectedError, match="oversized"):
            ra.wait_acks(timeout_s=20)
        assert central.drain() == [] and central.stats.rejected_oversized >= 1


def test_a_forged_part_from_a_raw_socket_is_refused_with_a_reply() -> None:
    with Bus("tcp") as bus:
        central = bus.endpoint("central")
        context = zmq.Context()
        raw = context.socket(zmq.DEALER)
        raw.setsockopt(zmq.LINGER, 0)
        raw.connect(central.address)
        try:
            payload = encode(_block(BLOCK[: 3 * 1024 * 1024]))
            parts = [(p, d) for p, d in split(payload, bus.part_bytes) if p is not None]
            for part, data in parts[:-1]:
                raw.send_multipart([make_header(b"S", "json", 1, b"aaaa0001", part), data])
            last, data = parts[-1]
            raw.send_multipart([make_header(b"S", "json", 1, b"aaaa0001", last),
                                bytes(len(data))])
            for _ in range(200):
                bus.pump(0.01)
                if raw.poll(0):
                    break
            _, reply = raw.recv_multipart()
            error = decode(reply)
            assert isinstance(error, ErrorMessage) and "digest" in error.detail
            assert central.drain() == [] and central.stats.rejected_malformed == 1
        finally:
            raw.close()
            context.term()
