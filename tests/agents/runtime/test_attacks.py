"""Attacks on a running ``--processes`` run, over real sockets on loopback.

Each test starts a real multi-process run (spawned workers, ZeroMQ tcp), lets
it take a step, attacks its bus and control ports from another ZeroMQ context
(as another local process would), then finishes the run: it must end normally
with the very ledger head hash of the one-process run, every attack refused
and counted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import zmq

from gridcoop.agents.bus.curve import CurveKeyPair
from gridcoop.agents.bus.messages import MeterReadingBatch, encode
from gridcoop.agents.bus.wire import BusStats, make_header
from gridcoop.agents.model.community import CommunityModel
from gridcoop.agents.runtime.distributed import DistributedModel, WorkerRegions, load_worker_keys
from gridcoop.agents.runtime.distributed import make_keys as make_key_files
from gridcoop.agents.runtime.worker import serve

RUN: dict[str, Any] = {"households": 40, "regions": 4, "days": 1, "seed": 7}


@cache
def _one_process_head() -> str:
    model = CommunityModel("neighbourhood", **RUN)
    try:
        return str(model.run()["ledger_head_hash"])
    finally:
        model.close()


def _readings(sender: str, region: str, meters: list[str], import_wh: int) -> bytes:
    """A MeterReadingBatch that would multiply the bills if the market took it."""
    return encode(MeterReadingBatch(
        id=f"{sender}:999", sender=sender, sim_time_s=3600, region_id=region,
        interval_start_s=0, interval_s=3600, meter_ids=meters,
        import_wh=[import_wh] * len(meters), export_wh=[0] * len(meters),
        counters=[1] * len(meters)))


class Attacker:
    """Raw ZeroMQ sockets in a context of their own; closed at the end."""

    def __init__(self) -> None:
        self.context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        self.sockets: list[zmq.Socket[bytes]] = []

    def dealer(self, address: str, *, curve_server: bytes | None = None,
               keys: CurveKeyPair | None = None, name: bytes | None = None) -> zmq.Socket[bytes]:
        socket = self.context.socket(zmq.DEALER)
        socket.setsockopt(zmq.LINGER, 0)
        socket.setsockopt(zmq.SNDHWM, 0)
        if name is not None:  # a name take-over: the workers' name, handover on the far side
            socket.setsockopt(zmq.ROUTING_ID, name)
        if curve_server is not None:
            pair = keys or CurveKeyPair.generate()
            socket.curve_secretkey, socket.curve_publickey = pair.secret, pair.public
            socket.curve_serverkey = curve_server
        socket.connect(address)
        self.sockets.append(socket)
        return socket

    def close(self) -> None:
        for socket in self.sockets:
            socket.close(linger=0)
        self.context.destroy(linger=0)


@pytest.fixture
def attacker() -> Iterator[Attacker]:
    attack = Attacker()
    yield attack
    attack.close()


def _flood(socket: zmq.Socket[bytes], frames: int) -> threading.Thread:
    """Send ``frames`` frames without ever blocking: a socket whose handshake was refused
    has no peer, and a blocked send would outlive the test and abort when its context is
    destroyed."""
    def send() -> None:
        for i in range(frames):
            try:
                socket.send(b"%d" % i, zmq.NOBLOCK)
            except zmq.Again:
                return  # no peer to take it: the flood is over

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def _run_under_attack(model: CommunityModel, attack: Callable[[], list[threading.Thread]]
                      ) -> tuple[dict[str, Any], BusStats]:
    """Step once, attack, run to the end; the summary and the market bus's counters."""
    try:
        model.step()
        threads = attack()
        summary = model.run()
        for thread in threads:
            thread.join(60)
        return summary, model.bus.stats
    finally:
        model.close()


def test_strangers_are_refused_at_the_handshake_and_the_head_is_unchanged(
        attacker: Attacker) -> None:
    """Curve is on by default: forged readings, junk on the control port, a name take-over,
    an eavesdropping subscriber and a flood of 100,000 frames never get past the handshake."""
    model = DistributedModel("neighbourhood", processes=2, timeout_s=60, **RUN)
    workers = model.region_host
    assert isinstance(workers, WorkerRegions) and workers.control is not None
    central = model.bus.address_of("central")
    control = workers.control_address
    market_key = central.server_public_key
    assert market_key is not None
    meters = model.region_meter_ids["r0"]
    seen: list[bytes] = []

    def attack() -> list[threading.Thread]:
        forged = attacker.dealer(central.router, curve_server=market_key)
        forged.send_multipart([make_header(b"S", "json", 999, b"aaaa0001"),
                               _readings("ra-r0", "r0", meters, 10**9)])
        plain = attacker.dealer(central.router)  # no Curve at all
        plain.send_multipart([b"Sj999.aaaa0001", _readings("ra-r0", "r0", meters, 10**9)])
        junk = attacker.dealer(control, curve_server=market_key)
        for i in range(11):
            junk.send(b"\xff junk %d" % i)
        thief = attacker.dealer(central.router, curve_server=market_key, name=b"ra-r0")
        thief.send_multipart([b"Sj1.aaaa0001", _readings("ra-r0", "r0", meters, 10**9)])
        spy = attacker.context.socket(zmq.SUB)
        attacker.sockets.append(spy)
        pair = CurveKeyPair.generate()
        spy.curve_secretkey, spy.curve_publickey = pair.secret, pair.public
        spy.curve_serverkey = market_key
        spy.setsockopt(zmq.SUBSCRIBE, b"")
        spy.connect(central.pub)
        if spy.poll(200):
            seen.append(spy.recv())
        return [_flood(attacker.dealer(control), 100_000)]

    summary, stats = _run_under_attack(model, attack)
    print(f"curve on: head {summary['ledger_head_hash']}, bus handshakes refused "
          f"{stats.auth_refused}, control handshakes refused {workers.control_auth_refused}")
    assert summary["ledger_head_hash"] == _one_process_head()
    assert stats.auth_refused >= 3  # forged readings, take-over, eavesdropper
    assert stats.received > 0 and stats.rejected == 0
    assert model.central.refused == []
    assert seen == []


def test_without_curve_junk_floods_and_take_overs_are_refused_and_counted(
        attacker: Attacker) -> None:
    """On plain tcp (``insecure=True``) every frame reaches the market: each is refused
    and counted, and the run ends with the one-process head."""
    model = DistributedModel("neighbourhood", processes=2, timeout_s=60, insecure=True, **RUN)
    workers = model.region_host
    assert isinstance(workers, WorkerRegions) and workers.control is not None
    central = model.bus.address_of("central")
    control = workers.control_address
    meters = model.region_meter_ids["r0"]

    def attack() -> list[threading.Thread]:
        junk = attacker.dealer(control)
        for i in range(11):
            junk.send(b"\xff junk %d" % i)
        junk.send(b'{"n": 1, "error": "a forged worker failure"}')  # not from a worker
        thief = attacker.dealer(central.router, name=b"ra-r0")
        thief.send_multipart([b"Sj1.aaaa0001", _readings("ra-r0", "r0", meters, 10**9)])
        forged = attacker.dealer(central.router)
        forged.send_multipart([b"Sj1.aaaa0001", _readings("mallory", "r0", meters, 10**9)])
        forged.send_multipart([b"Sj2.aaaa0001", b"\x00" * 64])
        return [_flood(attacker.dealer(control), 100_000)]

    summary, stats = _run_under_attack(model, attack)
    print(f"plain tcp: head {summary['ledger_head_hash']}, control frames refused "
          f"{workers.control_refused}, bus rejected {stats.rejected} "
          f"(sender mismatch {stats.rejected_sender_mismatch}, forbidden "
          f"{stats.rejected_forbidden}, malformed {stats.rejected_malformed})")
    assert summary["ledger_head_hash"] == _one_process_head()
    assert workers.control is None  # closed; its counts were kept
    assert stats.rejected_sender_mismatch == 1  # the take-over
    assert stats.rejected_forbidden == 1  # readings from no region's aggregator
    assert stats.rejected_malformed == 1
    assert workers.control_refused >= 12  # the junk and the forged failure (and the flood)


def test_a_workers_key_speaks_only_for_its_own_regions(tmp_path: Path,
                                                       attacker: Attacker) -> None:
    """An insider: worker-0's key (regions r0, r1) tries to speak as r2's aggregator, to send
    r2's readings as r0's, and to slip a meter of r2 into r0's readings: all refused."""
    keys_dir = tmp_path / "keys"
    make_key_files(keys_dir, workers=2)
    groups = {"worker-0": ["r0", "r1"], "worker-1": ["r2", "r3"]}
    errors: list[str] = []
    address: dict[str, str] = {}
    ready = threading.Event()

    def worker(name: str) -> None:
        ready.wait(60)
        keys, market_key = load_worker_keys(keys_dir, name)
        try:
            serve(address["market"], groups[name], keys, market_key, timeout_s=60)
        except Exception as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(name,)) for name in groups]
    for thread in threads:
        thread.start()
    port = _free_port()
    address["market"] = f"tcp://127.0.0.1:{port}"
    ready.set()
    model = DistributedModel("neighbourhood", processes=0, remote=2,
                             listen=f"127.0.0.1:{port}", curve_dir=keys_dir, timeout_s=60, **RUN)
    central = model.bus.address_of("central")
    assert central.server_public_key is not None
    insider, _ = load_worker_keys(keys_dir, "worker-0")
    r0, r2 = model.region_meter_ids["r0"], model.region_meter_ids["r2"]

    def attack() -> list[threading.Thread]:
        for n, (sender, region, meters) in enumerate([
                ("ra-r2", "r2", r2),  # a name the key may not use
                ("ra-r0", "r2", r2),  # another region's readings
                ("ra-r0", "r0", [*r0[:-1], r2[0]])]):  # another region's meter
            socket = attacker.dealer(central.router, curve_server=central.server_public_key,
                                     keys=insider)
            socket.send_multipart([make_header(b"S", "json", n + 1, b"bbbb0002"),
                                   _readings(sender, region, meters, 10**9)])
        return []

    try:
        summary, stats = _run_under_attack(model, attack)
    finally:
        for thread in threads:
            thread.join(60)
    print(f"insider: head {summary['ledger_head_hash']}, sender mismatch "
          f"{stats.rejected_sender_mismatch}, forbidden {stats.rejected_forbidden}")
    assert errors == []
    assert summary["ledger_head_hash"] == _one_process_head()
    assert stats.rejected_sender_mismatch == 1 and stats.rejected_forbidden == 2


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
