"""The ledger panel and its once-per-head live verification."""

from __future__ import annotations

from gridcoop.experiments.viz.ledger_panel import ChainVerifier, ledger_view
from tests.experiments.viz.fakes import Block, FakeLedger, FakeSource, Tx


def chain(blocks: int) -> FakeLedger:
    return FakeLedger(
        blocks=[Block(h, f"{h:02d}" * 32, h * 3600, h + 1) for h in range(blocks)],
        transactions=[Tx(f"tx{i:04d}" * 4, "trade", f"m{i}", "market", 100 * i, "Wh")
                      for i in range(15)])


def test_no_ledger_gives_none() -> None:
    assert ledger_view(FakeSource(), ChainVerifier()) is None


def test_latest_blocks_and_transactions() -> None:
    ledger = chain(8)
    view = ledger_view(FakeSource(ledger_source=ledger), ChainVerifier())
    assert view is not None
    assert view.height == 7 and view.head_hash == "07" * 32
    assert [b.height for b in view.blocks] == [7, 6, 5, 4, 3]
    assert view.blocks[0].block_hash == "07" * 6
    assert view.blocks[0].time == "day 1 07:00"
    assert view.blocks[0].transaction_count == 8
    assert len(view.transactions) == 10 and view.transactions[0].sender == "m14"
    assert view.transactions[0].tx_id == "tx0014tx00"
    assert view.verification.verified
    assert view.verification.message == f"chain verified up to block 7 ({'07' * 6})"


def test_verifies_once_per_head() -> None:
    ledger = chain(3)
    source = FakeSource(ledger_source=ledger)
    verifier = ChainVerifier()
    for _ in range(3):
        ledger_view(source, verifier)
    assert ledger.verify_calls == 1 and verifier.runs == 1
    ledger.blocks.append(Block(3, "ff" * 32, 3 * 3600, 2))
    ledger_view(source, verifier)
    assert ledger.verify_calls == 2


def test_broken_chain_is_reported_not_hidden() -> None:
    ledger = chain(3)
    ledger.broken_at = 1
    view = ledger_view(FakeSource(ledger_source=ledger), ChainVerifier())
    assert view is not None and not view.verification.verified
    assert view.verification.message == "ValueError: block 1: hash does not match its contents"
