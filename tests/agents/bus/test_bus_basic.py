"""Smoke-level bus behaviour on real inproc and tcp sockets: send, ack, drain order, request."""

from __future__ import annotations

import pytest

from gridcoop.agents.bus.messages import Ack, Bid, GateClosed, MeterReadingBatch
from gridcoop.agents.bus.transport import Bus

TRANSPORTS = ["inproc", "tcp"]


def _batch(region: str) -> MeterReadingBatch:
    return MeterReadingBatch(
        sim_time_s=900,
        region_id=region,
        interval_start_s=0,
        interval_s=900,
        meter_ids=["m1", "m2"],
        import_wh=[120, 0],
        export_wh=[0, 45],
        counters=[1, 1],
    )


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_send_is_acked_and_drained_in_sender_then_sequence_order(transport: str) -> None:
    with Bus(transport) as bus:  # type: ignore[arg-type]
        r1, r0, market = bus.endpoint("region-1"), bus.endpoint("region-0"), bus.endpoint("market")
        r1.send("market", _batch("region-1"))
        r0.send("market", GateClosed(auction_id="a", order_count=3))
        r1.send("market", GateClosed(auction_id="b", order_count=1))
        bus.settle(timeout_s=5)
        got = market.drain()
        # senders by name ("region-0" < "region-1"), then each sender's sequence
        assert [(m.sender, m.id) for m in got] == [
            ("region-0", "region-0:1"),
            ("region-1", "region-1:1"),
            ("region-1", "region-1:2"),
        ]
        assert got[1] == _batch("region-1").model_copy(
            update={"id": "region-1:1", "sender": "region-1"}
        )
        assert r0.pending == [] and r1.pending == []
        assert bus.stats.acked == 3 and bus.stats.received == 3 and bus.stats.rejected == 0
        assert market.drain() == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_request_gets_the_handlers_reply(transport: str) -> None:
    with Bus(transport) as bus:  # type: ignore[arg-type]
        client, server = bus.endpoint("region-1"), bus.endpoint("market")
        server.serve("bid", lambda q: Ack(acked_ids=[q.id]))
        bid = Bid(
            auction_id="a",
            order_id="o1",
            participant_id="p1",
            energy_wh=1_000,
            price_ueur_per_kwh=80_000,
        )
        reply = client.request("market", bid, timeout_s=5)
        assert isinstance(reply, Ack)
        assert reply.reply_to == bid.id == "region-1:1"
        assert reply.acked_ids == ["region-1:1"] and reply.sender == "market"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_msgpack_bus_acks_sends_and_answers_requests(transport: str) -> None:
    """Acks and replies travel in the bus's own codec, so a msgpack bus is acknowledged."""
    with Bus(transport, codec="msgpack", ack_timeout_s=5.0) as bus:  # type: ignore[arg-type]
        region, market = bus.endpoint("region-0"), bus.endpoint("market")
        market.serve("gate_closed", lambda q: Ack(acked_ids=[q.id]))
        region.send("market", _batch("region-0"))
        bus.settle(timeout_s=5)
        assert [m.id for m in market.drain()] == ["region-0:1"]
        region.wait_acks(timeout_s=5)
        assert region.pending == [] and bus.stats.acked == 1
        reply = region.request("market", GateClosed(auction_id="a", order_count=2), timeout_s=5)
        assert isinstance(reply, Ack) and reply.acked_ids == ["region-0:2"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_sender_in_the_same_process_is_acked_without_a_frame(transport: str) -> None:
    with Bus(transport) as bus:  # type: ignore[arg-type]
        ra, market = bus.endpoint("ra"), bus.endpoint("market")
        replies: list[bytes] = []
        reply = market._reply

        def counted(ident: bytes, frames: list[bytes], peer_name: str | None) -> None:
            replies.append(ident)
            reply(ident, frames, peer_name)

        market._reply = counted  # type: ignore[method-assign]
        ra.send("market", GateClosed(auction_id="a", order_count=1))
        ra.send("market", GateClosed(auction_id="b", order_count=1))
        bus.settle(timeout_s=5)
        assert ra.pending == [] and ra.stats.acked == 2
        assert replies == []  # no ack frame was sent back
        # the ack still took its number: the market's next id is what it was with frames
        assert market.publish("gate", GateClosed(auction_id="c", order_count=0)) == "market:2"


def test_a_sender_in_another_process_still_gets_an_ack_frame() -> None:
    with Bus("tcp") as market_bus, Bus("tcp") as ra_bus:
        market = market_bus.endpoint("market")
        ra = ra_bus.endpoint("ra")
        ra_bus.add_peer("market", market_bus.address_of("market"))
        ra.send("market", GateClosed(auction_id="a", order_count=1))
        for _ in range(500):
            market_bus.pump(0.01)
            ra_bus.pump(0.01)
            if not ra.pending:
                break
        assert ra.pending == [] and ra.stats.acked == 1
        assert [m.id for m in market.drain()] == ["ra:1"]
