"""Replicas verify every block they receive and refuse altered or out-of-order ones."""

from __future__ import annotations

import fcntl
import signal
import threading
from pathlib import Path

import pytest

from gridcoop.agents import CommunityModel
from gridcoop.agents.model import community
from gridcoop.agents.runtime.replicas import (
    LocalReplica,
    ProcessReplica,
    ReplicaHandle,
    ReplicaRefusedError,
    make_replicas,
    started_early,
    wants_process,
)


@pytest.fixture(scope="module")
def blocks() -> list[tuple[int, str, bytes]]:
    model = CommunityModel("neighbourhood", households=12, regions=2, days=1, seed=3,
                           replicas="shared")
    model.run()
    chain = [(b.height, b.hash.hex(), b.to_bytes()) for b in model.accounts.ledger.blocks()]
    model.close()
    return chain


def altered(data: bytes) -> bytes:
    """Change one byte of a transaction (the last bytes of a block are transaction bodies)."""
    i = len(data) - 10
    return data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1:]


@pytest.mark.parametrize("kind", [LocalReplica, ProcessReplica])
def test_replica_accepts_the_chain_and_refuses_alterations(
        blocks: list[tuple[int, str, bytes]], kind: type[LocalReplica | ProcessReplica]) -> None:
    genesis = blocks[0][2]
    replica = kind(genesis)
    handle = ReplicaHandle(replica, "ra-test")
    try:
        for height, block_hash, data in blocks[1:4]:
            handle.receive(height, block_hash, data)
        assert handle.head_hash == blocks[3][1]
        height, block_hash, data = blocks[4]
        with pytest.raises(ReplicaRefusedError, match="block 4"):
            handle.receive(height, block_hash, altered(data))
            handle.head_hash  # noqa: B018  (a process replica answers asynchronously)
    finally:
        replica.close()


def test_replica_refuses_a_gap_and_a_lying_message(blocks: list[tuple[int, str, bytes]]) -> None:
    replica = LocalReplica(blocks[0][2])
    handle = ReplicaHandle(replica, "ra-test")
    with pytest.raises(ReplicaRefusedError, match="apply blocks"):
        handle.receive(2, blocks[2][1], blocks[2][2])
    with pytest.raises(ReplicaRefusedError, match="its bytes are block 1"):
        handle.receive(1, blocks[2][1], blocks[1][2])
    replica.close()


def test_shared_handles_confirm_the_same_bytes_only(blocks: list[tuple[int, str, bytes]]) -> None:
    handles, replicas = make_replicas(blocks[0][2], ["ra-a", "ra-b"], "shared", members=10, days=1)
    height, block_hash, data = blocks[1]
    handles[0].receive(height, block_hash, data)
    handles[1].receive(height, block_hash, data)  # same bytes: confirmed without re-applying
    assert handles[1].received == 1 and handles[1].head_hash == block_hash
    with pytest.raises(ReplicaRefusedError):
        handles[1].receive(height, block_hash, altered(data))  # not the verified bytes
    for replica in replicas:
        replica.close()
    with pytest.raises(ValueError, match="replicas="):
        make_replicas(blocks[0][2], ["ra-a"], "everywhere", members=10, days=1)


def test_the_process_replica_keeps_its_chain_in_a_private_file(
        blocks: list[tuple[int, str, bytes]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Bounded memory: the verifier process writes the chain to an SQLite file in a
    temporary folder of its own (0700), removed when it ends."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    replica = ProcessReplica(blocks[0][2])
    handle = ReplicaHandle(replica, "ra-test")
    try:
        for height, block_hash, data in blocks[1:]:
            handle.receive(height, block_hash, data)
        assert handle.head_hash == blocks[-1][1]
        [folder] = tmp_path.glob("gridcoop-replica-*")
        assert (folder / "replica.sqlite").stat().st_size > 0
        assert folder.stat().st_mode & 0o777 == 0o700
    finally:
        replica.close()
    assert list(tmp_path.glob("gridcoop-replica-*")) == []


@pytest.mark.skipif(not hasattr(fcntl, "F_GETPIPE_SZ"), reason="pipe sizes are Linux's")
def test_the_process_replica_pipe_holds_a_large_block(blocks: list[tuple[int, str, bytes]]) -> None:
    """A block of up to 1 MiB is handed to the child without waiting for it to read."""
    replica = ProcessReplica(blocks[0][2])
    try:
        stdin = replica._process.stdin
        assert stdin is not None
        assert fcntl.fcntl(stdin.fileno(), fcntl.F_GETPIPE_SZ) >= ProcessReplica.PIPE_BYTES
    finally:
        replica.close()


def _while_stopped(blocks: list[tuple[int, str, bytes]], pipes: int,
                   wait_s: float) -> tuple[ReplicaHandle, threading.Thread, bool]:
    """Hand the chain over and over (a known block verifies again), ``pipes`` times what
    the pipe holds in all, to a replica whose child is stopped, in a thread of its own;
    whether that thread still waited after ``wait_s``. The child then resumes."""
    replica = ProcessReplica(blocks[0][2])
    handle = ReplicaHandle(replica, "ra-test")
    times = pipes * ProcessReplica.PIPE_BYTES // sum(len(d) for _, _, d in blocks[1:]) + 1

    def hand_over() -> None:
        for _ in range(times):
            for height, block_hash, data in blocks[1:]:
                replica.verify(handle.owner, height, block_hash, data)

    thread = threading.Thread(target=hand_over, daemon=True)
    replica._process.send_signal(signal.SIGSTOP)
    try:
        thread.start()
        thread.join(timeout=wait_s)
        waited = thread.is_alive()
    finally:
        replica._process.send_signal(signal.SIGCONT)
    thread.join(timeout=20)
    return handle, thread, waited


def test_the_process_replica_does_not_wait_for_a_child_that_is_not_reading(
        blocks: list[tuple[int, str, bytes]]) -> None:
    """Blocks beyond what the pipe holds wait in the model's memory, so a child still
    starting (or briefly descheduled) never stops the model; its verdicts come later."""
    handle, _, waited = _while_stopped(blocks, pipes=3, wait_s=20)
    assert not waited, "handing over blocks waited for a stopped child"
    assert handle.head_hash == blocks[-1][1]
    handle.replica.close()


def test_the_process_replica_backlog_is_bounded(
        blocks: list[tuple[int, str, bytes]], monkeypatch: pytest.MonkeyPatch) -> None:
    """Past ``BACKLOG_BYTES`` waiting, handing over a block waits for the child to read."""
    monkeypatch.setattr(ProcessReplica, "BACKLOG_BYTES", 1 << 18)
    handle, thread, waited = _while_stopped(blocks, pipes=2, wait_s=1)
    assert waited, "the backlog grew past its bound"
    assert not thread.is_alive()
    assert handle.head_hash == blocks[-1][1]
    handle.replica.close()


def test_closing_a_replica_whose_child_reads_nothing_kills_it(
        blocks: list[tuple[int, str, bytes]], monkeypatch: pytest.MonkeyPatch) -> None:
    """A hung child does not hang ``close``: after ``CLOSE_TIMEOUT_S`` it is killed."""
    monkeypatch.setattr(ProcessReplica, "CLOSE_TIMEOUT_S", 0.5)
    handle, _, waited = _while_stopped(blocks, pipes=0, wait_s=20)
    replica = handle.replica
    assert isinstance(replica, ProcessReplica) and not waited
    replica._process.send_signal(signal.SIGSTOP)
    try:
        chain = sum(len(data) for _, _, data in blocks[1:])
        for height, block_hash, data in blocks[1:] * (2 * replica.PIPE_BYTES // chain + 1):
            replica.verify(handle.owner, height, block_hash, data)  # past what the pipe holds
        assert replica._pipe.pending > 0
        closing = threading.Thread(target=replica.close, daemon=True)
        closing.start()
        closing.join(timeout=10)
        assert not closing.is_alive(), "close waited for a child that reads nothing"
        assert replica._process.returncode == -signal.SIGKILL
    finally:
        if replica._process.poll() is None:
            replica._process.send_signal(signal.SIGCONT)


def test_a_dead_process_replica_is_reported(blocks: list[tuple[int, str, bytes]]) -> None:
    """Blocks handed to a replica whose child is gone are refused, not lost in the pipe."""
    replica = ProcessReplica(blocks[0][2])
    handle = ReplicaHandle(replica, "ra-test")
    replica._process.kill()
    replica._process.wait()
    with pytest.raises(ReplicaRefusedError, match=r"gone|died"):
        for height, block_hash, data in blocks[1:]:
            handle.receive(height, block_hash, data)
        handle.head_hash  # noqa: B018 (waits for the verdicts)
    replica.close()


@pytest.mark.parametrize(("members", "days", "kind"), [
    (199, 1, LocalReplica), (200, 1, ProcessReplica),  # memory: the chain of a large one
    (71, 7, LocalReplica), (100, 5, ProcessReplica),  # speed: 500 member-days repay the start
    (8, 91, ProcessReplica), (5, 99, LocalReplica)])
def test_auto_verifies_in_a_process_from_200_members_or_500_member_days(
        blocks: list[tuple[int, str, bytes]], members: int, days: int,
        kind: type[LocalReplica | ProcessReplica]) -> None:
    assert wants_process("auto", members, days) == (kind is ProcessReplica)
    _, replicas = make_replicas(blocks[0][2], ["ra-a", "ra-b"], "auto", members=members,
                                days=days)
    assert [type(r) for r in replicas] == [kind]
    replicas[0].close()


def test_a_replica_process_started_early_is_used_or_closed(
        blocks: list[tuple[int, str, bytes]]) -> None:
    """The model starts the child before it builds its ledger; the child then verifies
    (its genesis verdict comes with the blocks'), or is closed if the mode wants none."""
    early = started_early("process", members=10, days=1)
    assert early is not None and started_early("shared", members=10, days=1) is None
    handles, replicas = make_replicas(blocks[0][2], ["ra-a"], "process", 10, 1, started=early)
    assert replicas == [early]
    for height, block_hash, data in blocks[1:]:
        handles[0].receive(height, block_hash, data)
    assert handles[0].head_hash == blocks[-1][1]
    early.close()
    unused = ProcessReplica()
    _, replicas = make_replicas(blocks[0][2], ["ra-a"], "shared", 10, 1, started=unused)
    assert [type(r) for r in replicas] == [LocalReplica]
    assert unused._process.poll() is not None  # closed, not left running
    replicas[0].close()


def test_a_bad_genesis_is_reported_at_the_first_verdict() -> None:
    """The model does not wait for the child to start; a genesis the child cannot read is
    still reported, at the first verdict the model asks for."""
    replica = ProcessReplica(b"not a genesis block")
    try:
        with pytest.raises(ReplicaRefusedError, match="died"):
            replica.head_hash()
    finally:
        replica.close()


def test_a_model_that_fails_to_build_closes_its_early_replica(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[ProcessReplica] = []

    def spy(mode: str, members: int, days: int) -> ProcessReplica | None:
        early = started_early(mode, members, days)
        if early is not None:
            started.append(early)
        return early

    monkeypatch.setattr(community, "started_early", spy)
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(OSError):  # the ledger's folder cannot be made under a file
        CommunityModel("neighbourhood", households=12, days=1, replicas="process",
                       ledger_path=str(tmp_path / "a-file" / "ledger.sqlite"))
    assert len(started) == 1 and started[0]._process.wait(timeout=10) is not None
