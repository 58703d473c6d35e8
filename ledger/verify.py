"""Full re-verification of a stored chain, streaming one block at a time.

Why replay from genesis: a stored chain is only trustworthy if every link,
seal, Merkle root and signature checks AND re-executing every transaction gives
the states anchored in the headers. Memory stays bounded: one block and the
live state are held at a time; signatures are verified on all cores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gridcoop.ledger.block import ZERO_HASH, Block, BlockHeader
from gridcoop.ledger.chain import check_link, genesis_config, replay_block
from gridcoop.ledger.errors import BlockError, LedgerError
from gridcoop.ledger.signatures import SignatureVerifier
from gridcoop.ledger.state import ChainConfig, State
from gridcoop.ledger.storage import Store


@dataclass
class VerifyReport:
    """Outcome of ``verify``: ``ok``, or the first bad block and why."""

    ok: bool
    blocks: int
    transactions: int
    head_height: int | None
    head_hash: str
    bad_height: int | None = None
    reason: str = ""
    balances: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)

    def __str__(self) -> str:
        if self.ok:
            return (f"ok: {self.blocks} blocks, {self.transactions} transactions, head "
                    f"{self.head_height} {self.head_hash}")
        return (f"INVALID at block {self.bad_height}: {self.reason} (checked {self.blocks} "
                f"valid blocks, {self.transactions} transactions before it)")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form for the CLI."""
        return {"ok": self.ok, "blocks": self.blocks, "transactions": self.transactions,
                "head_height": self.head_height, "head_hash": self.head_hash,
                "bad_height": self.bad_height, "reason": self.reason}


def _check_block(store: Store, state: State, block: Block, config: ChainConfig,
                 verifier: SignatureVerifier) -> None:
    snapshot = replay_block(state, block, config, verifier)
    if snapshot is not None:
        stored = store.snapshot(block.height)
        if stored is None:
            state.rollback(0)
            raise BlockError(block.height, "the state snapshot of this block is missing")
        if stored != snapshot:
            state.rollback(0)
            raise BlockError(block.height, "the stored state snapshot differs from the "
                                           "replayed state")
    state.commit()


def verify_store(store: Store, verifier: SignatureVerifier) -> VerifyReport:
    """Check the whole chain in ``store``; never raises for a bad chain, reports it."""
    state = State()
    config: ChainConfig | None = None
    prev: BlockHeader | None = None
    prev_hash = ZERO_HASH
    blocks = transactions = 0
    expected = 0
    try:
        for height, stored_hash, header, seals, section in store.rows():
            try:
                if height != expected:
                    raise BlockError(expected, f"missing (the next stored block is {height})")
                block = Block.from_parts(header, seals, section)
                if block.height != height:
                    raise BlockError(height, f"stored at height {height} but its header says "
                                             f"{block.height}")
                if block.hash != stored_hash:
                    raise BlockError(height, "the stored hash column does not match the header")
                if config is None:
                    config = genesis_config(block)
                check_link(block, prev, prev_hash, config)
                _check_block(store, state, block, config, verifier)
            except BlockError as exc:
                return VerifyReport(False, blocks, transactions, expected - 1 if expected else
                                    None, prev_hash.hex(), exc.height if exc.height is not None
                                    else height, exc.reason)
            prev, prev_hash = block.header, block.hash
            blocks += 1
            transactions += block.header.tx_count
            expected += 1
    except LedgerError as exc:
        return VerifyReport(False, blocks, transactions, expected - 1 if expected else None,
                            prev_hash.hex(), expected, f"cannot read the file: {exc}")
    if prev is None:
        return VerifyReport(False, 0, 0, None, "", 0, "the file holds no blocks")
    return VerifyReport(True, blocks, transactions, prev.height, prev_hash.hex(),
                        balances=dict(state.balances))
