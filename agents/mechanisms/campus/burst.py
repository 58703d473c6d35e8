"""The footprint burst: one interval's token requests sent at once through the real path.

Why processes and sockets: the pilot's worst case was about 180 requests
arriving at its server at the same moment, from two classrooms' card readers.
Here each reader is its own process with its own ZeroMQ bus (``tcp://`` on
loopback, CurveZMQ with the readers' keys on the desk's allow-list, as live
mode's remote peers use); all readers wait on one signal, then send every
request of their classrooms as reliable bus messages. The desk's endpoint
checks each request as it is read (:meth:`TokenDesk.policy`: a bad one is
refused back to its reader with the reason), mints what it accepted since its
last read in one batch on a ``full``-signed ledger (fresh keys, nothing
derived from a seed; every signature verified) and seals the interval's block
once every request is answered.

Measured per request, on the machine's monotonic clock shared by the
processes: from its send to its mint applied to the open block
(``accept_ms``) and to the sealed block (``seal_ms``). The counts say whether
anything was lost (a valid request never minted) or duplicated (a request
minted twice).
"""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gridcoop.agents.bus.curve import CurveConfig, CurveKeyPair
from gridcoop.agents.bus.errors import MessageRejectedError
from gridcoop.agents.bus.messages import Reward
from gridcoop.agents.bus.transport import Bus
from gridcoop.agents.bus.wire import PeerAddress
from gridcoop.agents.mechanisms.campus.tokens import (
    TOKEN_ASSET,
    TokenDesk,
    request_id,
    token_request,
)
from gridcoop.ledger.envelope import SignedTx
from gridcoop.ledger.identity import KeyPair, Member
from gridcoop.ledger.ledger import Ledger
from gridcoop.ledger.transactions import Mint

DESK = "campus-tokens"

Request = tuple[str, int, str, int]
"""One request as a reader sends it: (classroom, interval, person, tokens in Wh)."""


@dataclass(frozen=True)
class BurstResult:
    """What one burst did: counts, per-request latencies, the sealed block."""

    requests: int
    senders: int
    accepted: int
    refused: dict[str, int]
    minted: int
    minted_wh: int
    lost: int
    duplicated: int
    accept_ms: list[float] = field(repr=False)
    seal_ms: list[float] = field(repr=False)
    seconds: float
    height: int
    verified: bool

    def figures(self) -> dict[str, Any]:
        """The benchmark's and the report's figures (milliseconds, requests per second)."""
        def q(values: list[float], p: float) -> float:
            return round(float(np.percentile(values, p)), 2) if values else 0.0

        return {"requests": self.requests, "senders": self.senders, "accepted": self.accepted,
                "refused": sum(self.refused.values()), "minted": self.minted,
                "lost": self.lost, "duplicated": self.duplicated,
                "accept_p50_ms": q(self.accept_ms, 50), "accept_p95_ms": q(self.accept_ms, 95),
                "accept_max_ms": q(self.accept_ms, 100), "seal_p50_ms": q(self.seal_ms, 50),
                "seal_max_ms": q(self.seal_ms, 100),
                "requests_per_s": round(self.accepted / self.seconds) if self.seconds else 0,
                "verified": self.verified}


def _reader(name: str, keys: CurveKeyPair, desk: PeerAddress, requests: Sequence[Request],
            interval_s: int, ready: Any, go: Any, out: Any) -> None:
    """One classroom's card reader, in its own process: send every request at the signal."""
    with Bus("tcp", curve=CurveConfig(keys), ack_timeout_s=30.0) as bus:
        endpoint = bus.endpoint(name)
        bus.add_peer(DESK, desk)
        messages = [token_request(room, interval, interval_s, person, tokens)
                    for room, interval, person, tokens in requests]
        ready.set()
        go.wait(120)
        sent: dict[str, float] = {}
        for message in messages:
            sent[message.reward_id] = time.monotonic()
            endpoint.send(DESK, message)
        while True:  # refusals come back one error reply each; the rest are still acked
            try:
                bus.settle(60.0)
                break
            except MessageRejectedError:
                continue
        out.put((name, sent, endpoint.stats.error_replies_received))


def _share(requests: Sequence[Request], rooms: list[str], senders: int) -> list[list[Request]]:
    """Each classroom's requests to its readers: reader ``j`` reads classroom ``j mod rooms``
    (more readers than classrooms share them in turn; fewer serve several)."""
    share: list[list[Request]] = [[] for _ in range(senders)]
    turn: Counter[str] = Counter()
    for request in sorted(requests):
        rank = rooms.index(request[0])
        mine = [j for j in range(senders) if j % len(rooms) == rank] or [rank % senders]
        share[mine[turn[request[0]] % len(mine)]].append(request)
        turn[request[0]] += 1
    return share


def _register(ledger: Ledger, people: Sequence[str]) -> dict[str, str]:
    """Every card holder as a member with a fresh key pair (the desk never needs their keys)."""
    return {person: ledger.register(Member.new(person, "", "", KeyPair.generate().public_key))
            for person in people}


def _mint(ledger: Ledger, keys: KeyPair, members: dict[str, str],
          messages: Sequence[Reward]) -> None:
    """Mint what the desk accepted since the last pump, in one batch (signed, verified)."""
    nonce = ledger.next_nonce(keys.account)
    ledger.submit_many([SignedTx.build(
        Mint(keys.account, nonce + i, members[m.member_id], TOKEN_ASSET, m.tokens, m.reason),
        ledger.config.chain_id, keys) for i, m in enumerate(messages)])


def _start_readers(context: Any, names: list[str], share: list[list[Request]],
                   keys: dict[str, CurveKeyPair], desk: PeerAddress, interval_s: int, go: Any,
                   out: Any, timeout_s: float) -> list[Any]:
    """One process per reader, each connected and waiting for ``go``."""
    readers = []
    for name, mine in zip(names, share, strict=True):
        ready = context.Event()
        process = context.Process(target=_reader, args=(
            name, keys[name], desk, mine, interval_s, ready, go, out), daemon=True)
        process.start()
        readers.append((process, ready))
    for process, ready in readers:
        until = time.monotonic() + timeout_s
        while not ready.wait(0.1):
            if process.exitcode is not None or time.monotonic() > until:
                raise RuntimeError(f"card reader process {process.pid} did not start "
                                   f"(exit code {process.exitcode})")
    return [process for process, _ in readers]


def run_burst(requests: Sequence[Request], metered_wh: dict[tuple[str, int], int],
              people: Sequence[str], interval_s: int, folder: Path, *, senders: int = 4,
              bad: Sequence[tuple[int, Request]] = (), timeout_s: float = 120.0) -> BurstResult:
    """Send ``requests`` at once from ``senders`` reader processes; ``bad`` adds requests a
    given reader sends too (index, request), which the desk should refuse."""
    rooms = sorted({r[0] for r in requests} | {r[0] for _, r in bad})
    senders = max(1, min(senders, len(requests) or 1))
    names = [f"reader-{i + 1}" for i in range(senders)]
    share = _share(requests, rooms, senders)
    rooms_of = {name: frozenset(r[0] for r in mine) for name, mine in zip(names, share,
                                                                          strict=True)}
    for index, request in bad:
        share[index % senders].append(request)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tokens.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    interval_end = max(interval for _, interval, _, _ in [*requests, *(r for _, r in bad)]) + 1
    authority = KeyPair.generate()
    ledger = Ledger.create(path, authority=authority, signing="full", workers=0)
    reader_keys = {name: CurveKeyPair.generate() for name in names}
    server = CurveConfig(CurveKeyPair.generate(),
                         allowed_clients={k.public: {n} for n, k in reader_keys.items()})
    context = multiprocessing.get_context("spawn")
    out, go = context.Queue(), context.Event()
    processes: list[Any] = []
    try:
        members = _register(ledger, people)
        ledger.seal_block(interval_end * interval_s)
        desk = TokenDesk(members, lambda room, k: metered_wh.get((room, k)), rooms_of)
        with Bus("tcp", curve=server) as bus:
            endpoint = bus.endpoint(DESK)
            endpoint.policy = desk.policy
            processes = _start_readers(context, names, share, reader_keys,
                                       bus.address_of(DESK), interval_s, go, out, timeout_s)
            expected = len(requests) + len(bad)
            accepted_at: dict[str, float] = {}
            go.set()
            deadline = time.monotonic() + timeout_s
            while (len(accepted_at) + sum(desk.refused.values()) < expected
                   and time.monotonic() < deadline):
                bus.pump(0.002)
                drained = [m for m in endpoint.drain() if isinstance(m, Reward)]
                if drained:
                    _mint(ledger, authority, members, drained)
                    now = time.monotonic()
                    accepted_at.update((m.reward_id, now) for m in drained)
            block = ledger.seal_block(interval_end * interval_s)
            sealed = time.monotonic()
            reports = [out.get(timeout=timeout_s) for _ in processes]
            for _ in range(20):  # the readers wait for their last acks: keep answering
                bus.pump(0.01)
            for process in processes:
                process.join(timeout_s)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
        report = ledger.verify()
        ledger.close()
    sent = {rid: t for _, times, _ in reports for rid, t in times.items()}
    mints = [tx.tx for tx in block.transactions() if isinstance(tx.tx, Mint)]
    memos = Counter((tx.to, tx.memo) for tx in mints)
    valid = {request_id(room, k, p) for room, k, p, _ in requests}
    first = min(sent.values(), default=sealed)
    return BurstResult(
        requests=len(requests), senders=senders, accepted=len(accepted_at),
        refused=dict(desk.refused), minted=len(mints),
        minted_wh=sum(tx.amount for tx in mints),
        lost=len(valid - set(accepted_at)),
        duplicated=sum(n - 1 for n in memos.values()) + len(set(accepted_at) - valid),
        accept_ms=sorted(1000 * (accepted_at[r] - sent[r]) for r in accepted_at if r in sent),
        seal_ms=sorted(1000 * (sealed - sent[r]) for r in accepted_at if r in sent),
        seconds=max((max(accepted_at.values(), default=first) - first), 1e-9),
        height=block.header.height, verified=report.ok)


def busiest_interval(tokens: pd.DataFrame) -> int:
    """The interval with the most token requests (all classrooms), the earliest of equals."""
    written = tokens[tokens["tokens"] > 0]
    if written.empty:
        raise ValueError("no tokens were written: there is no burst to send")
    counts = written.groupby("interval").size()
    return int(counts.index[counts.to_numpy().argmax()])


def interval_requests(tokens: pd.DataFrame, interval: int) -> list[Request]:
    """The requests of one interval, one per person and classroom with tokens."""
    rows = tokens[(tokens["interval"] == interval) & (tokens["tokens"] > 0)]
    return [(str(room), int(interval), str(person), int(amount)) for room, person, amount in
            zip(rows["classroom"], rows["person_id"], rows["tokens"], strict=True)]
