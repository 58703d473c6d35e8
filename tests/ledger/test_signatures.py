"""Parallel signature verification in worker processes."""

from __future__ import annotations

import pytest

from gridcoop.ledger import KeyPair, LedgerError
from gridcoop.ledger.signatures import SignatureVerifier, verify_chunk


def _items(count: int) -> list[tuple[bytes, bytes, bytes]]:
    keys = [KeyPair.derive(b"sig-tests", f"k{i}") for i in range(5)]
    out = []
    for i in range(count):
        pair = keys[i % 5]
        message = b"message %d" % i
        out.append((pair.public_key, pair.sign(message), message))
    return out


def test_workers_find_the_first_bad_signature() -> None:
    items = _items(1_000)
    items[700] = (items[700][0], items[699][1], items[700][2])
    items[900] = (items[900][0], b"\x00" * 64, items[900][2])
    items[950] = (b"\x01" * 5, items[950][1], items[950][2])  # malformed key: just invalid
    verifier = SignatureVerifier(workers=2, min_parallel=10)
    try:
        assert verifier.start(items).first_bad() == 700
        assert verifier.start(items[:700]).first_bad() is None
        assert verifier.start(items[701:]).first_bad() == 900 - 701
    finally:
        verifier.close()
    assert verify_chunk(0, items) == 700


def test_small_batches_and_zero_workers_verify_inline() -> None:
    items = _items(20)
    verifier = SignatureVerifier(workers=0)
    assert verifier.start(items).first_bad() is None
    assert SignatureVerifier(workers=2).start(items[:5]).first_bad() is None  # below threshold


def test_a_worker_dying_mid_batch_is_reported_then_replaced() -> None:
    items = _items(200) * 60  # 12,000 verifications: the workers are still busy when killed
    verifier = SignatureVerifier(workers=2, min_parallel=10)
    try:
        assert verifier.start(items[:100]).first_bad() is None
        pending = verifier.start(items)
        victim = verifier._pool[0].process
        victim.kill()
        victim.wait()
        with pytest.raises(LedgerError, match="exited unexpectedly"):
            pending.first_bad()
        assert verifier.start(items[:400]).first_bad() is None  # a fresh pool
    finally:
        verifier.close()
