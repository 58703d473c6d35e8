"""Fuzz targets for every ledger decoder: any input gives a value or the ledger's own error.

Targets: block headers, transaction bodies, the block wire form, signed
transaction frames, state snapshots, checkpoints, a replica's ``apply_block``
(its head must not move on a refusal) and opening a file whose snapshot row was
mutated. Inputs are raw bytes, JSON-shaped documents (deep nesting included) and
byte-level mutations of valid encodings. The budget per target is bounded
(``FUZZ_EXAMPLES``) so the whole module stays within seconds in CI; the counts
of inputs tried and refused are kept in ``TALLY`` (printed by ``-s``).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridcoop.ledger import Block, Ledger, LedgerError
from gridcoop.ledger.block import BlockHeader
from gridcoop.ledger.checkpoint import Checkpoint
from gridcoop.ledger.envelope import SignedTx, decode_body
from gridcoop.ledger.state import State
from tests.ledger.conftest import build_community

FUZZ_EXAMPLES = 100
TALLY: Counter[str] = Counter()
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats()
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                  max_size=4),
    max_leaves=20)
KEYS = ["kind", "issuer", "nonce", "height", "chain_id", "prev_hash", "merkle_root", "time_s",
        "tx_count", "state_hash", "version", "validator_keys", "key_origin", "config", "seals",
        "format", "genesis_hash", "hash", "members", "balances"]
documents = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=10)
deep = st.integers(1, 300_000).map(lambda n: b"[" * n + b"]" * n)


def _encoded(value: Any) -> bytes:
    return json.dumps(value).encode()  # NaN and Infinity included: json.loads accepts them


def _mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    out = bytearray(data)
    for position, value in edits:
        if out:
            out[position % len(out)] = value
    return bytes(out[:cut] if cut is not None else out)


mutations = st.tuples(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)),
                               min_size=1, max_size=4),
                      st.none() | st.integers(0, 10**6))
hostile = st.binary(max_size=400) | documents.map(_encoded) | json_values.map(_encoded) | deep


def _target(name: str, decode: Callable[[bytes], object], data: bytes) -> None:
    """One input: a value, or a LedgerError subclass; anything else fails the test."""
    TALLY[f"{name}:tried"] += 1
    try:
        decode(data)
    except LedgerError:
        TALLY[f"{name}:refused"] += 1


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Ledger]]:
    """Blocks 0..2 (a snapshot at 2), closed so the file holds everything, then read-only."""
    path = tmp_path_factory.mktemp("fuzz") / "ledger.sqlite"
    c = build_community(path, signing="full", snapshot_interval=2)
    c.wallet("alice").transfer(c.accounts["bob"], "eur_u", 10)
    c.book.seal_block(60)
    c.book.close()
    with Ledger.open(path, readonly=True, workers=0) as book:
        yield path, book


DECODERS: dict[str, Callable[[bytes], object]] = {
    "header": BlockHeader.from_bytes, "body": decode_body, "checkpoint": Checkpoint.from_bytes,
    "snapshot": State.from_snapshot, "block": Block.from_bytes,
    "signed_tx": lambda d: SignedTx.from_parts(d, bytes(64)),
    "signed_tx_bad_sig": lambda d: SignedTx.from_parts(d, bytes(7)),
}


@pytest.mark.parametrize("name", sorted(DECODERS))
@FUZZ
@given(data=hostile)
def test_decoder(name: str, data: bytes) -> None:
    _target(name, DECODERS[name], data)


@FUZZ
@given(mutations)
def test_block_wire_and_snapshot_mutations(chain: tuple[Path, Ledger],
                                           mutation: tuple[list[tuple[int, int]], int | None]
                                           ) -> None:
    _path, book = chain
    wire = book.block(2).to_bytes()
    _target("block", Block.from_bytes, _mutate(wire, *mutation))
    snapshot = book.store.snapshot(2)
    assert snapshot is not None
    _target("snapshot", State.from_snapshot, _mutate(snapshot, *mutation))


@FUZZ
@given(mutations | hostile.map(lambda d: ([], None, d)))
def test_replica_apply_block(chain: tuple[Path, Ledger], mutation: tuple[Any, ...]) -> None:
    """A replica given a mutated or hostile block refuses it and keeps its head."""
    _path, book = chain
    replica = Ledger.replica(":memory:", book.block(0).to_bytes(), workers=0)
    try:
        replica.apply_block(book.block(1).to_bytes())
        head = replica.head_hash
        good = book.block(2).to_bytes()
        data = mutation[2] if len(mutation) == 3 else _mutate(good, *mutation)
        _target("apply_block", replica.apply_block, data)
        if data == good:
            TALLY["apply_block:unchanged_input"] += 1  # a mutation that rewrote the same bytes
        else:
            assert replica.head_hash in (head, book.block(2).hash.hex())
            assert replica.height <= 2
    finally:
        replica.close()


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations)
def test_open_with_a_mutated_snapshot_row(chain: tuple[Path, Ledger], tmp_path: Path,
                                          mutation: tuple[list[tuple[int, int]], int | None]
                                          ) -> None:
    path, book = chain
    copy = tmp_path / "copy.sqlite"
    copy.unlink(missing_ok=True)
    shutil.copy(path, copy)
    snapshot = book.store.snapshot(2)
    assert snapshot is not None
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE snapshots SET state = ? WHERE height = 2",
                   (_mutate(snapshot, *mutation),))

    def _open(_data: bytes) -> None:
        Ledger.open(copy, readonly=True, workers=0).close()

    _target("open", _open, b"")


def test_zz_report_tally() -> None:
    """Print what the targets tried and refused (run with -s to see it)."""
    print({k: TALLY[k] for k in sorted(TALLY)})
