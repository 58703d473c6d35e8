"""A :class:`~gridcoop.experiments.viz.protocol.LedgerSource` over gridcoop's ``ledger.Ledger``.

The "verified" badge must not take the writer's word: the page keeps its own
in-memory replica, started from the chain's genesis block, and applies every
new block to it (links, seals, Merkle root, signatures, every transaction's
rules, state snapshots) exactly as an aggregator's replica does. That is
incremental, so a redraw costs only the blocks sealed since the last one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gridcoop.ledger import GRID_ACCOUNT, Ledger, LedgerError
from gridcoop.ledger.columns import BILL_ROW, SETTLE_ROW, TRADE_ROW

ASSET_UNITS = {"wh": "Wh", "eur_u": "µ€", "token": "tokens"}
"""Ledger assets as units: energy tokens are Wh of delivered energy (shown as kWh)."""


class BlockRefusedError(RuntimeError):
    """The page's replica refused a block of the writer's chain."""


class ChainMismatchError(RuntimeError):
    """The replica accepted every block but ends on another head than the writer."""


@dataclass(frozen=True)
class BlockSummary:
    """One block as the ledger panel lists it."""

    height: int
    block_hash: str
    time_s: int
    transaction_count: int


@dataclass(frozen=True)
class TxSummary:
    """One transaction as the ledger panel lists it."""

    tx_id: str
    kind: str
    sender: str
    receiver: str
    amount: int
    unit: str


def describe_tx(tx: Any, name: Mapping[str, str]) -> tuple[str, str, str, int, str]:
    """``(kind, from, to, amount, unit)`` of a ledger transaction, accounts shown by name.

    Energy moves from seller to buyer and from the grid to an importer; tokens
    and money from issuer to recipient; orders and settlements point at their
    listing or escrow.
    """
    def who(account: str) -> str:
        return name.get(account, account[:10])

    kind: str = tx.kind
    issuer = who(tx.issuer)
    if kind == "trade":
        return kind, who(tx.seller), who(tx.buyer), tx.energy_wh, "Wh"
    if kind == "grid_settlement":
        member = who(tx.account)
        ends = ("grid", member) if tx.direction == "import" else (member, "grid")
        return kind, *ends, tx.energy_wh, "Wh"
    if kind in ("offer", "bid"):
        return kind, issuer, tx.listing_id, tx.energy_wh, "Wh"
    if kind in ("transfer", "mint"):
        return kind, issuer, who(tx.to), tx.amount, ASSET_UNITS.get(tx.asset, tx.asset)
    if kind == "settle":
        return kind, issuer, f"escrow {tx.escrow_id[:8]}", tx.delivered_wh, "Wh delivered"
    if kind == "auction":  # a whole auction's trades in one record
        energy = [row[2] for row in TRADE_ROW.iter_unpack(tx.trades)]
        return kind, issuer, tx.listing_id, sum(energy), f"Wh in {len(energy)} trades"
    if kind == "settlement":  # every trade of one auction settled at once
        delivered = [row[0] for row in SETTLE_ROW.iter_unpack(tx.rows)]
        return (kind, issuer, f"escrow {tx.escrow_id[:8]}", sum(delivered),
                f"Wh delivered in {len(delivered)} trades")
    if kind == "billing":  # a billing period of many members at once
        rows = list(BILL_ROW.iter_unpack(tx.rows))
        return (kind, issuer, f"{len(rows)} members", sum(row[2] for row in rows),
                "Wh imported from the grid")
    if kind == "escrow_lock":
        return kind, issuer, who(tx.payee), tx.amount, ASSET_UNITS.get(tx.asset, tx.asset)
    if kind in ("escrow_release", "escrow_refund"):
        return kind, issuer, f"escrow {tx.escrow_id[:8]}", tx.amount, ""
    if kind in ("open_listing", "close_listing", "clear_listing"):
        return kind, issuer, tx.listing_id, 0, ""
    if kind == "register_member":
        return kind, issuer, who(tx.account), 0, ""
    if kind == "register_resource":
        return kind, issuer, tx.resource_id, tx.capacity_w, "W"
    if kind == "dr_command":
        return kind, issuer, who(tx.target), tx.level, f"level, {tx.action} {tx.appliance}"
    if kind == "dr_outcome":
        return kind, issuer, who(tx.target), 0, f"{tx.outcome} via {tx.via}"
    if kind == "reward":
        return kind, issuer, who(tx.to), tx.amount, "tokens"
    if kind == "penalty":
        return kind, who(tx.account), issuer, tx.amount, ASSET_UNITS.get(tx.asset, tx.asset)
    if kind == "meter_attestation":
        return kind, issuer, who(tx.subject), tx.import_wh, "Wh imported"
    return kind, issuer, "", 0, ""


BLOCKS_DECODED_KEPT = 2000
"""How many blocks' decoded transactions a reader keeps (the newest, about a thousand)."""


class LedgerReader:
    """The ledger panel's view of a writer ledger, verified by a page-owned replica."""

    def __init__(self, ledger: Ledger, names: Mapping[str, str]) -> None:
        self._ledger = ledger
        self._names = {GRID_ACCOUNT: "grid", ledger.authority: "market", **names}
        self._replica: Ledger | None = None
        self._block_txs: dict[tuple[int, str], list[TxSummary]] = {}
        """Each sealed block's transactions, decoded once (newest first): the ledger panel
        and the member view both read the latest ones after every step."""

    @property
    def head_hash(self) -> str:
        return self._ledger.head_hash

    @property
    def height(self) -> int:
        return self._ledger.height

    def latest_blocks(self, n: int) -> list[BlockSummary]:
        """The newest ``n`` blocks, newest first."""
        top = self._ledger.height
        blocks = (self._ledger.block(h) for h in range(top, max(-1, top - n), -1))
        return [BlockSummary(b.height, b.hash.hex(), b.header.time_s, b.header.tx_count)
                for b in blocks]

    def _transactions_of(self, height: int) -> list[TxSummary]:
        """Block ``height``'s transactions, newest first, decoded once per block."""
        block = self._ledger.block(height)
        key = (height, block.hash.hex())
        cached = self._block_txs.get(key)
        if cached is None:
            cached = self._block_txs[key] = [
                TxSummary(stx.txid_hex, *describe_tx(stx.tx, self._names))
                for stx in reversed(block.transactions())]
        return cached

    def latest_transactions(self, n: int) -> list[TxSummary]:
        """The newest ``n`` sealed transactions, newest first."""
        found: list[TxSummary] = []
        height = self._ledger.height
        while height >= 0 and len(found) < n:
            found.extend(self._transactions_of(height)[:n - len(found)])
            height -= 1
        if len(self._block_txs) > BLOCKS_DECODED_KEPT:
            for key in sorted(self._block_txs)[:-BLOCKS_DECODED_KEPT // 2]:
                del self._block_txs[key]  # the oldest: the page reads the newest blocks
        return found

    def verify(self) -> None:
        """Apply every block the replica has not seen; raise on the first it refuses."""
        if self._replica is None:
            self._replica = Ledger.replica(":memory:", self._ledger.block(0).to_bytes(),
                                           workers=0)
        replica = self._replica
        for height in range(replica.height + 1, self._ledger.height + 1):
            try:
                replica.apply_block(self._ledger.block(height).to_bytes())
            except LedgerError as exc:
                raise BlockRefusedError(f"block {height} refused by the page's replica: "
                                        f"{type(exc).__name__}: {exc}") from exc
        if replica.head_hash != self._ledger.head_hash:
            raise ChainMismatchError(
                f"the replica's head {replica.head_hash[:12]} differs from the writer's "
                f"{self._ledger.head_hash[:12]} at height {replica.height}")

    def close(self) -> None:
        """Close the replica (the writer ledger belongs to the model)."""
        if self._replica is not None:
            self._replica.close()
            self._replica = None
