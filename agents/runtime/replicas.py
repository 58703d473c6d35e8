"""Ledger replicas held by the aggregators: every block from the bus is verified before it counts.

Three ways to hold them (``CommunityModel(replicas=...)``):

* ``shared``: aggregators in one process share one in-memory replica. It
  verifies each block fully (links, seals, Merkle root, every transaction's
  rules and, under ``full`` signing, every signature); every other aggregator
  checks that the block it received is byte for byte the verified one.
* ``per_aggregator``: each aggregator verifies every block on its own replica,
  as when each runs on its own machine.
* ``process``: the shared replica lives in a child process; aggregators hand it
  the blocks they received and the model goes on while it verifies (on another
  core). Blocks the child has not read yet wait in memory (``backlog``), up to
  ``ProcessReplica.BACKLOG_BYTES``. Refusals surface at the next step;
  ``finish`` waits for the last verdict and checks the replica's head equals
  the writer's. Its chain is an SQLite file in a private temporary folder, so
  its memory stays bounded however long the run (the in-process replicas keep
  theirs in memory).
* ``auto``: ``process`` for 200 members or more (the in-process replica holds the whole
  chain in memory), or from 500 member-days (members x days: 100 members for 5 days,
  where the child's start is repaid), else ``shared``.

The process replica's child is started before the model builds its ledger
(``started_early``) and the model never waits for it to start: its genesis
verdict is collected with the blocks', so its start overlaps the model's build.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any, Literal

from gridcoop.agents.runtime.backlog import PipeBacklog
from gridcoop.agents.runtime.replica_worker import HEADER, check_block
from gridcoop.ledger.errors import LedgerError
from gridcoop.ledger.ledger import Ledger

ReplicaMode = Literal["auto", "shared", "per_aggregator", "process"]
REPLICA_MODES = ("auto", "shared", "per_aggregator", "process")
AUTO_PROCESS_MEMBERS = 200
AUTO_PROCESS_MEMBER_DAYS = 500


class ReplicaRefusedError(RuntimeError):
    """A block from the bus did not verify on a replica: the chain or the bus is corrupt."""


class _Verified:
    """The last block a shared replica was given, to recognise the same bytes again."""

    __slots__ = ("block_bytes", "height")

    def __init__(self) -> None:
        self.height = -1
        self.block_bytes = b""


class LocalReplica:
    """A replica ledger in this process."""

    def __init__(self, genesis: bytes) -> None:
        self.ledger = Ledger.replica(":memory:", genesis, workers=0)

    def verify(self, owner: str, height: int, block_hash: str, block_bytes: bytes) -> None:
        verdict = check_block(self.ledger, height, block_hash, block_bytes, LedgerError)
        if verdict:
            raise ReplicaRefusedError(f"{owner}: {verdict}")

    def check(self) -> None:
        """Nothing is pending in this process."""

    def head_hash(self) -> str:
        return self.ledger.head_hash

    def close(self) -> None:
        self.ledger.close()


class ProcessReplica:
    """The shared replica, verifying in a child process while the model runs."""

    PIPE_BYTES = 1 << 20
    """The pipe to the child holds this much (Linux's default limit for a user): fewer
    trips through the backlog."""

    BACKLOG_BYTES = 64 << 20
    """Blocks the child has not read yet wait in the model's memory up to this much
    (``backlog.PipeBacklog``); past it, handing over a block waits for the child."""

    CLOSE_TIMEOUT_S = 10.0
    """``close`` waits this long for the child to take what waits, then again for it to
    end; then it kills the child."""

    def __init__(self, genesis: bytes | None = None) -> None:
        """Start the child; with ``genesis``, ``begin`` at once. Started early (before the
        model builds its ledger), the child imports the ledger while the model builds."""
        self._process = subprocess.Popen(
            [sys.executable, "-m", "gridcoop.agents.runtime.replica_worker"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE)
        assert self._process.stdin is not None
        _widen(self._process.stdin.fileno(), self.PIPE_BYTES)
        self._pipe = PipeBacklog(self._process.stdin.fileno(), self.BACKLOG_BYTES)
        self._sent = 0
        self._answered = 0
        self._head = ""
        self._owner = "replica"
        if genesis is not None:
            self.begin(genesis)

    def begin(self, genesis: bytes) -> ProcessReplica:
        """Hand the child the genesis block. Its verdict is collected with the blocks'
        (as a refusal is), so the model never waits for the child to start."""
        self._send(-1, "", genesis)
        return self

    def _send(self, height: int, block_hash: str, data: bytes) -> None:
        """Hand a frame to the child without waiting, unless the backlog is over its bound."""
        with _child_gone():
            self._pipe.write(HEADER.pack(height, block_hash.encode().ljust(64, b"0"),
                                         len(data)), data)
        if self._pipe.over_limit:  # else write has pushed what the pipe takes
            self._pump(self._pipe.limit)
        self._sent += 1

    def _pump(self, left_bytes: int, timeout_s: float | None = None) -> None:
        """Push the backlog until at most ``left_bytes`` wait, reading verdicts meanwhile:
        the child may be waiting for its own answers to be read before it reads more.
        ``TimeoutError`` after ``timeout_s`` (None: no limit); ``ReplicaRefusedError``
        when the child is gone."""
        stdout = self._process.stdout
        assert stdout is not None
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while not self._pushed() and self._pipe.pending > left_bytes:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise TimeoutError(f"the replica process read nothing for {timeout_s} s")
            readable, _, _ = select.select([stdout], [self._pipe.fd], [], left)
            if readable:
                self._read_verdict()

    def _pushed(self) -> bool:
        with _child_gone():
            return self._pipe.push()

    def verify(self, owner: str, height: int, block_hash: str, block_bytes: bytes) -> None:
        self._owner = owner
        self._send(height, block_hash, block_bytes)
        self.check()

    def check(self, wait: bool = False) -> None:
        """Collect verdicts (all of them when ``wait``); raise on the first refusal."""
        stdout = self._process.stdout
        assert stdout is not None
        if wait:
            self._pump(0)
        else:
            self._pushed()
        while self._answered < self._sent:
            if not wait and not select.select([stdout], [], [], 0)[0]:
                return
            self._read_verdict()

    def _read_verdict(self) -> None:
        stdout = self._process.stdout
        assert stdout is not None
        line = stdout.readline()
        if not line:
            raise ReplicaRefusedError("the replica process died; see its error above")
        answer = json.loads(line)
        self._answered += 1
        self._head = answer["head"]
        if answer["verdict"]:
            raise ReplicaRefusedError(f"{self._owner}: {answer['verdict']}")

    def head_hash(self) -> str:
        self.check(wait=True)
        return self._head

    def close(self) -> None:
        """Hand over what waits, end the child and reap it."""
        process = self._process
        if process.poll() is None and process.stdin is not None:
            with contextlib.suppress(OSError, ReplicaRefusedError):  # TimeoutError too
                self._pipe.write(HEADER.pack(0, b"0" * 64, 0))
                self._pump(0, self.CLOSE_TIMEOUT_S)
            with contextlib.suppress(OSError):
                process.stdin.close()
            try:
                process.wait(timeout=self.CLOSE_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()


@contextlib.contextmanager
def _child_gone() -> Iterator[None]:
    """A pipe error (``BrokenPipeError``, the pipe closed under us) told as the child gone."""
    try:
        yield
    except OSError:
        raise ReplicaRefusedError("the replica process is gone; see its error above") \
            from None


def _widen(pipe: int, size: int) -> None:
    """Ask for a pipe of ``size`` bytes where the system has the call and allows it;
    elsewhere the pipe keeps its size (only speed differs)."""
    setsize = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setsize is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(pipe, setsize, size)


Replica = LocalReplica | ProcessReplica


class ReplicaHandle:
    """One aggregator's replica: verifies the blocks it receives from the bus."""

    def __init__(self, replica: Replica, owner: str, verified: _Verified | None = None) -> None:
        self.replica = replica
        self.owner = owner
        self.received = 0
        self._verified = verified if verified is not None else _Verified()

    def receive(self, height: int, block_hash: str, block_bytes: bytes) -> None:
        """Verify a block (or confirm it is the very block already handed to the replica)."""
        last = self._verified
        if not (height == last.height and block_bytes == last.block_bytes):
            self.replica.verify(self.owner, height, block_hash, block_bytes)
            last.height, last.block_bytes = height, block_bytes
        else:
            self.replica.check()
        self.received += 1

    @property
    def head_hash(self) -> str:
        """The replica's head after every block handed to it was verified."""
        return self.replica.head_hash()


def wants_process(mode: str, members: int, days: int) -> bool:
    """Whether replicas ``mode`` puts the shared replica in a child process for a
    community of ``members`` over a run of ``days``; ``ValueError`` for a mode that does
    not exist."""
    if mode not in REPLICA_MODES:
        raise ValueError(f"replicas={mode!r}: use one of {', '.join(REPLICA_MODES)}")
    if mode == "auto":
        return members >= AUTO_PROCESS_MEMBERS or members * days >= AUTO_PROCESS_MEMBER_DAYS
    return mode == "process"


def started_early(mode: str, members: int, days: int) -> ProcessReplica | None:
    """The replica's child process, started before the model builds its ledger when
    ``mode`` will want one (else None), so its start overlaps the model's."""
    return ProcessReplica() if wants_process(mode, members, days) else None


def make_replicas(genesis: bytes, owners: list[str], mode: str, members: int, days: int,
                  started: ProcessReplica | None = None) -> tuple[list[ReplicaHandle], list[Any]]:
    """Replica handles for ``owners`` and the replicas behind them (to close at the end);
    ``started``: a child process started early for the shared replica."""
    process = wants_process(mode, members, days)
    if started is not None and not process:
        started.close()
    if mode == "per_aggregator":
        replicas = [LocalReplica(genesis) for _ in owners]
        return [ReplicaHandle(r, o) for r, o in zip(replicas, owners, strict=True)], replicas
    if process:
        shared: Replica = (started if started is not None else ProcessReplica()).begin(genesis)
    else:
        shared = LocalReplica(genesis)
    verified = _Verified()
    return [ReplicaHandle(shared, owner, verified) for owner in owners], [shared]
