"""Bus delivery on real sockets: deterministic order, acks, no drops at the high-water mark,
publish/subscribe, requests and their errors, retries, shutdown."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcoop.agents.bus.messages import (
    Ack,
    Bid,
    GateClosed,
    LedgerBlock,
    Message,
    OversizedMessageError,
    Reward,
)
from gridcoop.agents.bus.transport import (
    AckTimeoutError,
    BackpressureError,
    Bus,
    BusClosedError,
    MessageRejectedError,
    PeerAddress,
    RequestTimeoutError,
    UnknownPeerError,
)

TRANSPORTS = ["inproc", "tcp"]


def _closed(auction: str, count: int = 0) -> GateClosed:
    return GateClosed(auction_id=auction, order_count=count)


def _bid(order: str) -> Bid:
    return Bid(
        auction_id="a", order_id=order, participant_id="p", energy_wh=1_000,
        price_ueur_per_kwh=100_000,
    )


def _key(messages: list[Message]) -> list[tuple[str, str]]:
    return [(m.sender, m.auction_id if isinstance(m, GateClosed) else m.type) for m in messages]


@settings(max_examples=25, deadline=None)
@given(order=st.permutations([s for s in ("r2", "r0", "r1") for _ in range(4)]))
def test_drain_order_does_not_depend_on_send_interleaving(order: list[str]) -> None:
    # each sender sends its own messages 0..3 in order; the three senders interleave freely
    with Bus() as bus:
        senders = {name: bus.endpoint(name) for name in ("r0", "r1", "r2")}
        market = bus.endpoint("market")
        counters = dict.fromkeys(senders, 0)
        for name in order:
            senders[name].send("market", _closed(f"{name}-{counters[name]}"))
            counters[name] += 1
        bus.settle(timeout_s=5)
        expected = [(n, f"{n}-{i}") for n in ("r0", "r1", "r2") for i in range(4)]
        assert _key(market.drain()) == expected


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_sends_and_publications_share_each_senders_sequence(transport: str) -> None:
    with Bus(transport) as bus:  # type: ignore[arg-type]
        aggregator, market = bus.endpoint("ra-1"), bus.endpoint("market")
        replica = bus.endpoint("ra-2")
        replica.subscribe("market", "ledger")
        block = LedgerBlock(height=0, block_hash="00" * 32, block_bytes=b"genesis")
        market.publish("ledger", block)
        market.send("ra-2", _closed("after-block"))
        market.publish("telemetry", _closed("not-subscribed"))
        aggregator.send("ra-2", _closed("from-ra-1"))
        bus.settle(timeout_s=5)
        got = replica.drain()
        # senders by name ("market" < "ra-1"); market's publish (seq 1) before its send (seq 2)
        assert _key(got) == [
            ("market", "ledger_block"),
            ("market", "after-block"),
            ("ra-1", "from-ra-1"),
        ]
        assert got[0] == block and got[0].id == "market:1"
        assert bus.stats.published == 2 and bus.stats.acked == 2


def test_settle_waits_for_publications_to_reach_local_subscribers_over_tcp() -> None:
    with Bus("tcp") as bus:
        market, replicas = bus.endpoint("market"), [bus.endpoint(f"ra-{i}") for i in range(3)]
        for replica in replicas:
            replica.subscribe("market", "ledger")
        for height in range(50):
            market.publish(
                "ledger",
                LedgerBlock(height=height, block_hash="00" * 32, block_bytes=bytes([height])),
            )
        bus.settle(timeout_s=10)
        for replica in replicas:
            assert [m.height for m in replica.drain()] == list(range(50))  # type: ignore[union-attr]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_small_hwm_raises_backpressure_and_drops_nothing(transport: str) -> None:
    # encoded, as to another process: 200 kB frames are what fills tcp's buffers
    with Bus(transport, hwm=2, send_timeout_s=0.05,  # type: ignore[arg-type]
             handover=False) as bus:
        sender, receiver = bus.endpoint("meter"), bus.endpoint("ra")
        accepted: list[str] = []
        refused = 0
        payload = b"\0" * 200_000  # large enough that tcp's kernel buffers fill up too
        for i in range(2_000):
            block = LedgerBlock(height=i, block_hash="00" * 32, block_bytes=payload)
            try:
                accepted.append(sender.send("ra", block))
            except BackpressureError as exc:
                refused += 1
                assert "not draining" in str(exc)
                if refused == 3:
                    break
        assert refused == 3  # the queue filled up and said so instead of dropping
        assert len(accepted) < 2_000
        bus.settle(timeout_s=5)
        assert [m.id for m in receiver.drain()] == accepted  # every accepted message, in order
        assert bus.stats.acked == len(accepted) and sender.pending == []
        sender.send("ra", _closed("after"))  # and the bus carries on
        bus.settle(timeout_s=5)
        assert _key(receiver.drain()) == [("meter", "after")]
        assert bus.stats.rejected == 0


def test_publication_to_a_full_subscriber_raises_instead_of_dropping() -> None:
    with Bus(hwm=2, send_timeout_s=0.05) as bus:
        market, replica = bus.endpoint("market"), bus.endpoint("ra")
        replica.subscribe("market")
        published = []
        with pytest.raises(BackpressureError):
            for i in range(1_000):
                published.append(market.publish("ledger", _closed(f"b{i}")))
        bus.settle(timeout_s=5)
        assert [m.id for m in replica.drain()] == published


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_request_errors_come_back_as_specific_exceptions(transport: str) -> None:
    with Bus(transport) as bus:  # type: ignore[arg-type]
        client, server = bus.endpoint("ra"), bus.endpoint("market")

        def refuse(message: Message) -> Ack:
            raise ValueError(f"order {message.order_id} is late")  # type: ignore[union-attr]

        server.serve("bid", refuse)
        with pytest.raises(MessageRejectedError, match="order b-9 is late") as caught:
            client.request("market", _bid("b-9"), timeout_s=5)
        assert caught.value.code == "rejected"
        with pytest.raises(MessageRejectedError, match="serves no 'reward' requests") as caught:
            client.request("market", Reward(reward_id="r", member_id="m", tokens=1), timeout_s=5)
        assert caught.value.code == "no_handler"
        server.serve("bid", lambda m: Ack(acked_ids=[m.id]))
        assert isinstance(client.request("market", _bid("b-10"), timeout_s=5), Ack)
        assert server.stats.error_replies_sent == 2 and server.stats.requests_served == 1


def test_a_crashing_handler_replies_internal_error_and_raises_in_the_pump() -> None:
    with Bus() as bus:
        client, server = bus.endpoint("ra"), bus.endpoint("market")

        def crash(message: Message) -> Ack:
            raise ZeroDivisionError("bug in handler")

        server.serve("bid", crash)
        with pytest.raises(ZeroDivisionError):
            client.request("market", _bid("b-1"), timeout_s=5)  # the bug surfaces, not hidden
        assert server.stats.error_replies_sent == 1
        bus.pump()  # the "internal" error reply still reaches the client, after its request ended
        assert client.stats.late_replies == 1
        server.serve("bid", lambda m: Ack(acked_ids=[m.id]))
        assert isinstance(client.request("market", _bid("b-2"), timeout_s=5), Ack)


def test_request_times_out_when_nobody_answers() -> None:
    with Bus("tcp", ack_timeout_s=0.3) as bus:
        client = bus.endpoint("ra")
        bus_b = Bus("tcp")
        try:
            far = bus_b.endpoint("market")
            far.serve("bid", lambda m: Ack(acked_ids=[m.id]))
            bus.add_peer("market", bus_b.address_of("market"))
            # bus_b is never pumped, so the request is queued there and never answered
            with pytest.raises(RequestTimeoutError, match="no reply from 'market'"):
                client.request("market", _bid("b-1"))
        finally:
            bus_b.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_unacked_sends_are_resent_then_reported() -> None:
    with Bus("tcp", ack_timeout_s=0.2, retries=2) as bus:
        sender = bus.endpoint("ra")
        port = _free_port()  # nobody listens there
        bus.add_peer("ghost", PeerAddress(f"tcp://127.0.0.1:{port}", f"tcp://127.0.0.1:{port}"))
        ids = [sender.send("ghost", _closed("x")), sender.send("ghost", _closed("y"))]
        with pytest.raises(AckTimeoutError, match="2 message") as caught:
            bus.settle(timeout_s=0.2)
        assert caught.value.unacked_ids == ids
        assert sender.stats.resent == 4  # two messages, two retries each


@pytest.mark.parametrize("bundled", [False, True], ids=["one-by-one", "bundle"])
def test_a_resend_after_a_slow_peer_is_delivered_once(bundled: bool) -> None:
    receiver_bus, sender_bus = Bus("tcp"), Bus("tcp", ack_timeout_s=0.3, retries=3)
    try:
        receiver = receiver_bus.endpoint("market")
        sender = sender_bus.endpoint("ra")
        sender_bus.add_peer("market", receiver_bus.address_of("market"))
        stop = threading.Event()

        def pump_late() -> None:
            time.sleep(0.5)  # longer than the ack timeout: the sender resends meanwhile
            while not stop.is_set():
                receiver_bus.pump(0.01)

        messages = [_closed(f"a{i}") for i in range(5)]
        # a bundle's messages are resent one by one; the receiver drops what it has by id
        sent = (sender.send_many("market", messages) if bundled
                else [sender.send("market", m) for m in messages])
        thread = threading.Thread(target=pump_late)
        thread.start()
        try:
            sender.wait_acks()
        finally:
            stop.set()
            thread.join()
        assert sender.stats.resent >= 5
        assert [m.id for m in receiver.drain()] == sent  # each once, in order
        assert receiver.stats.duplicates == sender.stats.resent
        assert receiver.stats.received == 5
    finally:
        sender_bus.close()
        receiver_bus.close()


def test_misuse_raises_specific_errors() -> None:
    bus = Bus(max_message_bytes=1_000, handover=False)
    a = bus.endpoint("a")
    with pytest.raises(UnknownPeerError, match="no endpoint 'nobody'"):
        a.send("nobody", _closed("x"))
    with pytest.raises(ValueError, match="already exists"):
        bus.endpoint("a")
    with pytest.raises(ValueError, match="letters, digits"):
        bus.endpoint("bad name!")
    with pytest.raises(ValueError, match="sender 'b' is not this endpoint 'a'"):
        a.send("a", GateClosed(sender="b", auction_id="x", order_count=0))
    big = LedgerBlock(height=0, block_hash="00" * 32, block_bytes=b"\0" * 2_000)
    with pytest.raises(OversizedMessageError, match="max_message_bytes=1000"):
        a.send("a", big)
    with pytest.raises(ValueError, match="unknown message type"):
        a.serve("bogus", lambda m: m)
    with pytest.raises(ValueError, match="transport"):
        Bus("udp")  # type: ignore[arg-type]
    bus.close()
    bus.close()  # idempotent
    with pytest.raises(BusClosedError):
        a.send("a", _closed("x"))
    with pytest.raises(BusClosedError):
        bus.endpoint("c")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_close_leaves_no_threads_or_sockets(transport: str) -> None:
    before = threading.active_count()
    for _ in range(3):
        with Bus(transport) as bus:  # type: ignore[arg-type]
            a, b = bus.endpoint("a"), bus.endpoint("b")
            b.subscribe("a")
            a.send("b", _closed("x"))
            a.publish("t", _closed("y"))
            bus.settle(timeout_s=5)
        assert bus.context.closed
    assert threading.active_count() == before


def test_a_handler_may_request_and_send_to_other_endpoints() -> None:
    with Bus() as bus:
        client, ra, market = bus.endpoint("client"), bus.endpoint("ra"), bus.endpoint("market")
        market.serve("bid", lambda m: Ack(acked_ids=[m.id, "extra"]))

        def forward(message: Message) -> Reward:
            inner = ra.request("market", _bid("inner"), timeout_s=5)  # pumps the bus again
            ra.send("market", _closed("note"))
            assert isinstance(inner, Ack)
            return Reward(reward_id="r", member_id=message.sender, tokens=len(inner.acked_ids))

        ra.serve("bid", forward)
        reply = client.request("ra", _bid("outer"), timeout_s=5)
        assert isinstance(reply, Reward) and reply.tokens == 2 and reply.member_id == "client"
        bus.settle(timeout_s=5)
        assert _key(market.drain()) == [("ra", "note")]


def test_closing_an_endpoint_leaves_the_rest_of_the_bus_working() -> None:
    with Bus() as bus:
        market, gone, ra = bus.endpoint("market"), bus.endpoint("gone"), bus.endpoint("ra")
        gone.subscribe("market", "ledger")
        ra.subscribe("market", "ledger")
        market.publish("ledger", _closed("b1"))
        gone.close()  # never drained what was published to it
        bus.settle(timeout_s=2)  # does not wait for the closed subscriber
        with pytest.raises(UnknownPeerError):
            ra.send("gone", _closed("x"))
        market.publish("ledger", _closed("b2"))
        ra.send("market", _closed("x"))
        bus.settle(timeout_s=2)
        assert _key(ra.drain()) == [("market", "b1"), ("market", "b2")]
        assert _key(market.drain()) == [("ra", "x")]
        assert set(bus.endpoints) == {"market", "ra"}
