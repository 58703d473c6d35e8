"""The ledger panel: latest blocks and transactions, the head hash, a live "verified" badge.

The badge comes from really verifying the chain (hashes, links, signatures)
through ``LedgerSource.verify``, not from trusting the model. Verification
runs once per new head: the page redraws more often than the chain grows.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridcoop.experiments.viz.formatting import format_sim_time, short_hash
from gridcoop.experiments.viz.protocol import LedgerSource, PageSource
from gridcoop.units import UEUR_PER_EUR, WH_PER_KWH

LATEST_BLOCKS = 5
LATEST_TRANSACTIONS = 10


@dataclass(frozen=True)
class BlockView:
    """One block as a table row."""

    height: int
    block_hash: str
    time: str
    transaction_count: int


@dataclass(frozen=True)
class TransactionView:
    """One transaction as a table row."""

    tx_id: str
    kind: str
    sender: str
    receiver: str
    amount: int
    unit: str

    @property
    def amount_text(self) -> str:
        """The amount as people read it: € for money, kWh for energy."""
        return format_amount(self.amount, self.unit)


def format_amount(amount: int, unit: str) -> str:
    """µ€ as €, Wh as kWh (with what follows the unit, e.g. "Wh delivered"), tokens as a
    count; a transaction that moves nothing shows its note alone."""
    head, _, rest = unit.partition(" ")
    note = f" {rest}" if rest else ""
    if head == "µ€":
        euros = amount / UEUR_PER_EUR
        return f"{euros:,.2f} €{note}" if abs(euros) >= 1 else f"{euros:,.4f} €{note}"
    if head == "Wh":
        return f"{amount / WH_PER_KWH:,.3f} kWh{note}"
    if head == "tokens":
        return f"{amount:,} tokens{note}"
    if amount == 0:
        return unit
    return f"{amount:,} {unit}".strip()


@dataclass(frozen=True)
class Verification:
    """The outcome of one verification of the chain up to ``head_hash``."""

    head_hash: str
    verified: bool
    message: str


@dataclass(frozen=True)
class LedgerView:
    """What the ledger panel shows."""

    head_hash: str
    height: int
    blocks: tuple[BlockView, ...]
    transactions: tuple[TransactionView, ...]
    verification: Verification


class ChainVerifier:
    """Verifies a ledger when its head changed since the last check; remembers the outcome."""

    def __init__(self) -> None:
        self.last: Verification | None = None
        self.runs = 0

    def check(self, ledger: LedgerSource) -> Verification:
        """The verification of the ledger's current head (reusing the last one if unchanged)."""
        head = ledger.head_hash
        if self.last is not None and self.last.head_hash == head:
            return self.last
        self.runs += 1
        try:
            ledger.verify()
        except Exception as exc:  # the badge reports any failure, naming its class and reason
            outcome = Verification(head, False, f"{type(exc).__name__}: {exc}")
        else:
            outcome = Verification(head, True, f"chain verified up to block {ledger.height} "
                                               f"({short_hash(head)})")
        self.last = outcome
        return outcome


def ledger_view(source: PageSource, verifier: ChainVerifier, blocks: int = LATEST_BLOCKS,
                transactions: int = LATEST_TRANSACTIONS) -> LedgerView | None:
    """The ledger panel's data, or ``None`` when the run keeps no ledger."""
    ledger = source.ledger()
    if ledger is None:
        return None
    verification = verifier.check(ledger)
    return LedgerView(
        head_hash=ledger.head_hash,
        height=ledger.height,
        blocks=tuple(BlockView(b.height, short_hash(b.block_hash), format_sim_time(b.time_s),
                               b.transaction_count) for b in ledger.latest_blocks(blocks)),
        transactions=tuple(TransactionView(short_hash(t.tx_id, 10), t.kind, t.sender,
                                           t.receiver, t.amount, t.unit)
                           for t in ledger.latest_transactions(transactions)),
        verification=verification,
    )
