"""Replicas verify every block they receive and refuse altered or out-of-order ones."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from gridcoop.agents import CommunityModel
from gridcoop.agents.runtime.replicas import (
    LocalReplica,
    ProcessReplica,
    ReplicaHandle,
    ReplicaRefusedError,
    make_replicas,
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
    handles, replicas = make_replicas(blocks[0][2], ["ra-a", "ra-b"], "shared", members=10)
    height, block_hash, data = blocks[1]
    handles[0].receive(height, block_hash, data)
    handles[1].receive(height, block_hash, data)  # same bytes: confirmed without re-applying
    assert handles[1].received == 1 and handles[1].head_hash == block_hash
    with pytest.raises(ReplicaRefusedError):
        handles[1].receive(height, block_hash, altered(data))  # not the verified bytes
    for replica in replicas:
        replica.close()
    with pytest.raises(ValueError, match="replicas="):
        make_replicas(blocks[0][2], ["ra-a"], "everywhere", members=10)


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


def test_auto_verifies_in_a_process_from_60_members_on_more_than_one_core(
        blocks: list[tuple[int, str, bytes]], monkeypatch: pytest.MonkeyPatch) -> None:
    genesis = blocks[0][2]
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    for members, kind in ((59, LocalReplica), (60, ProcessReplica)):
        _, replicas = make_replicas(genesis, ["ra-a", "ra-b"], "auto", members=members)
        assert [type(r) for r in replicas] == [kind]
        replicas[0].close()
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})  # one core: no child
    _, replicas = make_replicas(genesis, ["ra-a"], "auto", members=10_000)
    assert [type(r) for r in replicas] == [LocalReplica]
    replicas[0].close()


def test_the_process_replica_starts_without_waiting_and_reports_a_bad_genesis_later() -> None:
    """The child imports the ledger while the model starts; a genesis it cannot read
    is reported at the first verdict asked for, not lost."""
    replica = ProcessReplica(b"not a genesis block")
    try:
        with pytest.raises(ReplicaRefusedError, match="died"):
            replica.head_hash()
    finally:
        replica.close()
