"""CurveZMQ over real tcp on 127.0.0.1: listed keys get through, unknown keys are refused."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gridcoop.agents.bus.curve import ANY_NAME, CurveConfig, CurveKeyPair
from gridcoop.agents.bus.errors import CurveConfigError
from gridcoop.agents.bus.messages import Ack, Bid, GateClosed, LedgerBlock
from gridcoop.agents.bus.transport import AuthenticationError, Bus, MessageRejectedError


class Served:
    """A bus pumped by a background thread, as a separate process would pump its own."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.bus.pump(0.01)

    def __enter__(self) -> Served:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def keys() -> dict[str, CurveKeyPair]:
    return {name: CurveKeyPair.generate() for name in ("market", "ra", "intruder")}


@pytest.fixture
def server(keys: dict[str, CurveKeyPair]) -> Iterator[Bus]:
    config = CurveConfig(keys["market"], allowed_clients={keys["ra"].public: {"ra-1", "ra-2"}})
    bus = Bus("tcp", curve=config)
    market = bus.endpoint("market")
    market.serve("bid", lambda m: Ack(acked_ids=[m.id]))
    yield bus
    bus.close()


def _client(keys: CurveKeyPair, server: Bus) -> Bus:
    bus = Bus("tcp", curve=CurveConfig(keys), ack_timeout_s=3, retries=0)
    bus.add_peer("market", server.address_of("market"))
    return bus


def test_listed_key_is_accepted_for_its_names(server: Bus, keys: dict[str, CurveKeyPair]) -> None:
    client = _client(keys["ra"], server)
    try:
        ra = client.endpoint("ra-1")
        with Served(server):
            ra.send("market", GateClosed(auction_id="a", order_count=2))
            ra.wait_acks()
            bid = Bid(
                auction_id="a",
                order_id="o",
                participant_id="p",
                energy_wh=1_000,
                price_ueur_per_kwh=100_000,
            )
            assert isinstance(ra.request("market", bid, timeout_s=3), Ack)
        [received] = server["market"].drain()
        assert received.sender == "ra-1" and received.auction_id == "a"  # type: ignore[union-attr]
        assert server.stats.auth_refused == 0
    finally:
        client.close()


def test_unknown_key_is_refused_in_the_handshake(
    server: Bus, keys: dict[str, CurveKeyPair]
) -> None:
    intruder = _client(keys["intruder"], server)
    try:
        endpoint = intruder.endpoint("ra-1")  # even with a name the server knows
        with Served(server):
            endpoint.send("market", GateClosed(auction_id="evil", order_count=1))
            with pytest.raises(AuthenticationError, match="not allowed there"):
                endpoint.wait_acks()
        assert server["market"].drain() == []
        assert server.stats.auth_refused >= 1
        assert server.stats.received == 0
    finally:
        intruder.close()


def test_listed_key_may_not_speak_for_other_names(
    server: Bus, keys: dict[str, CurveKeyPair]
) -> None:
    client = _client(keys["ra"], server)
    try:
        impostor = client.endpoint("ra-9")
        with Served(server):
            impostor.send("market", GateClosed(auction_id="a", order_count=1))
            with pytest.raises(MessageRejectedError, match="may not speak for 'ra-9'") as caught:
                impostor.wait_acks()
        assert caught.value.code == "sender_mismatch"
        assert server["market"].drain() == []
        assert server.stats.rejected_sender_mismatch == 1
    finally:
        client.close()


def test_subscriber_needs_a_listed_key_too(keys: dict[str, CurveKeyPair]) -> None:
    config = CurveConfig(keys["market"], allowed_clients={keys["ra"].public: {ANY_NAME}})
    with Bus("tcp", curve=config) as server:
        market = server.endpoint("market")
        good = _client(keys["ra"], server)
        bad = _client(keys["intruder"], server)
        try:
            replica, spy = good.endpoint("replica"), bad.endpoint("spy")
            replica.subscribe("market", "ledger")
            spy.subscribe("market", "ledger")
            with Served(server):
                deadline = 200
                while market.subscribers("ledger") < 1 and deadline:
                    good.pump(0.01)
                    deadline -= 1
            block = LedgerBlock(height=0, block_hash="00" * 32, block_bytes=b"b")
            market.publish("ledger", block)
            for _ in range(100):
                good.pump(0.01)
                bad.pump(0.0)
                if replica.stats.received:
                    break
            assert [m.id for m in replica.drain()] == ["market:1"]
            assert spy.drain() == []
            assert market.subscribers("ledger") == 1
            assert server.stats.auth_refused >= 1
        finally:
            good.close()
            bad.close()


def test_key_files_round_trip_and_bad_configs_are_refused(tmp_path: Path) -> None:
    pair = CurveKeyPair.generate()
    public_path, secret_path = pair.save(tmp_path / "keys", "market")
    assert CurveKeyPair.load(secret_path) == pair
    assert secret_path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(CurveConfigError, match="no secret key"):
        CurveKeyPair.load(public_path)
    with pytest.raises(CurveConfigError, match="40-byte"):
        CurveKeyPair(b"short", pair.secret)
    with pytest.raises(CurveConfigError, match="allowed client key"):
        CurveConfig(pair, allowed_clients={b"x" * 39: {"a"}})
    with pytest.raises(CurveConfigError, match="tcp only"):
        Bus("inproc", curve=CurveConfig(pair))
    assert pair.secret.decode() not in repr(pair)


def test_closing_a_curve_bus_stops_the_zap_thread(keys: dict[str, CurveKeyPair]) -> None:
    before = threading.active_count()
    bus = Bus("tcp", curve=CurveConfig(keys["market"]))
    assert threading.active_count() == before + 1  # the ZAP handler
    bus.endpoint("market")
    bus.close()
    assert threading.active_count() == before


def test_a_secret_key_others_can_read_is_refused(tmp_path: Path) -> None:
    _, secret_path = CurveKeyPair.generate().save(tmp_path, "worker-0")
    for mode in (0o644, 0o640, 0o604):
        secret_path.chmod(mode)
        with pytest.raises(CurveConfigError, match=f"may be read by others \\(mode {mode:o}\\)"):
            CurveKeyPair.load(secret_path)
    secret_path.chmod(0o600)
    assert CurveKeyPair.load(secret_path).secret
    with pytest.raises(CurveConfigError, match="cannot read"):
        CurveKeyPair.load(tmp_path / "missing.key_secret")
