"""The community's accounts on the shared ledger: members, listings, trades, settlement.

Why a batch builder: the central market writes thousands of transactions per
auction; building ``SignedTx`` objects with locally tracked nonces and
handing them to ``Ledger.submit_many`` in one call (one block per auction)
costs a few microseconds per transaction, where a wallet call per
transaction would cost a ledger round trip each. All amounts are integers:
money in µ€ (``eur_u``), energy tokens in Wh (``wh``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gridcoop.ledger.columns import BILL_ROWS, ORDER_ROWS, SETTLE_ROWS, TRADE_ROWS
from gridcoop.ledger.envelope import SignedTx
from gridcoop.ledger.identity import KeyPair, Member
from gridcoop.ledger.ledger import Ledger
from gridcoop.ledger.transactions import (
    AuctionRecord,
    BillingRecord,
    Mint,
    RegisterResource,
    SettlementRecord,
)
from gridcoop.units import IntArray, payment_ueur, sum_by


class CommunityLedger:
    """The writer's side: the market authority's ledger and every member's account.

    Keys derive from the run's seed, so the same scenario and seed give the
    same accounts, transactions and head hash; the genesis says so
    (``key_origin="seed"``), and ``gridcoop ledger verify`` reports that such a
    chain's signatures prove nothing to anyone who knows the seed.
    """

    def __init__(self, path: str | os.PathLike[str], *, seed: int, signing: str,
                 node_ids: Sequence[str], roles: Sequence[str] | None = None,
                 initial_balance_u: int, pv_w: Sequence[int] = (), chain_id: str = "gridcoop",
                 workers: int | None = None) -> None:
        if os.fspath(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            for suffix in ("", "-wal", "-shm"):
                stale = Path(f"{os.fspath(path)}{suffix}")
                if stale.exists():
                    stale.unlink()
        self.master = f"gridcoop-run/{seed}".encode()
        self.authority_keys = KeyPair.derive(self.master, "market")
        self.ledger = Ledger.create(path, authority=self.authority_keys, signing=signing,
                                    chain_id=chain_id, workers=workers, key_origin="seed",
                                    power_safe=False)
        self.signing = signing
        self.chain_id = self.ledger.config.chain_id
        self.authority = self.authority_keys.account
        self.keys: dict[str, KeyPair] = {self.authority: self.authority_keys}
        self.accounts: list[str] = []
        self._nonce: dict[str, int] = {}
        self.initial_balance_u = initial_balance_u
        self.minted_ueur = 0
        self.deposits_ueur = np.zeros(len(node_ids), dtype=np.int64)
        self.escrow_ids: dict[str, str] = {}
        """The escrow (auction record txid) of each recorded listing, until it is settled."""
        for i, node in enumerate(node_ids):
            role = roles[i] if roles is not None else "member"
            member, keys = Member.from_seed(self.master, node, node, "", role)  # type: ignore[arg-type]
            self.ledger.register(member)
            self.ledger.add_signer(keys)
            self.keys[member.account] = keys
            self.accounts.append(member.account)
        self.raw_accounts = np.array([bytes.fromhex(a) for a in self.accounts], dtype="S16")
        batch = []
        for i, account in enumerate(self.accounts):
            batch.append(self.tx(Mint, self.authority, account, "eur_u", initial_balance_u,
                                  "opening balance"))
            if i < len(pv_w) and pv_w[i] > 0:
                batch.append(self.tx(RegisterResource, self.authority, f"pv-{node_ids[i]}",
                                      account, "pv", int(pv_w[i])))
        self.minted_ueur += initial_balance_u * len(self.accounts)
        self.submit(batch)
        self.ledger.seal_block(0)

    # --- building ---------------------------------------------------------------------

    def tx(self, cls: Any, issuer: str, *fields: Any) -> SignedTx:
        """Build one transaction of kind ``cls`` for ``issuer`` with its next nonce.

        Why here and not ``Ledger.wallet``: a batch of many transactions per block is
        built before any is applied, so the writer counts nonces itself; every writer of
        the model's ledger (the central market, the EV, DR and campus extensions) builds
        its transactions through this one method so the count stays right.
        """
        nonce = self._nonce.get(issuer)
        if nonce is None:
            nonce = self.ledger.next_nonce(issuer)
        self._nonce[issuer] = nonce + 1
        keys = self.keys.get(issuer) if self.signing == "full" else None
        return SignedTx.build(cls(issuer, nonce, *fields), self.chain_id, keys)

    def submit(self, batch: list[SignedTx]) -> list[SignedTx]:
        """Apply a batch all or nothing; on refusal the local nonces resync and the error rises."""
        if not batch:
            return batch
        try:
            return self.ledger.submit_many(batch)
        except BaseException:
            self._nonce.clear()
            raise

    def top_ups(self, payer: IntArray, amount_ueur: IntArray, memo: str) -> list[SignedTx]:
        """Deposits for members whose balance cannot cover ``amount_ueur`` (summed per payer):
        each is brought back to its opening balance plus what it is about to pay."""
        if not payer.size:
            return []
        need = sum_by(payer, amount_ueur, len(self.accounts))
        balances = self.ledger.state.balances
        batch = []
        for node in np.flatnonzero(need).tolist():
            account = self.accounts[node]
            have = balances.get((account, "eur_u"), 0)
            if have < need[node]:
                top_up = self.initial_balance_u + int(need[node]) - have
                batch.append(self.tx(Mint, self.authority, account, "eur_u", top_up,
                                      f"deposit {memo}"))
                self.minted_ueur += top_up
                self.deposits_ueur[node] += top_up
        return batch

    def adopt_keys(self, account: str, keys: KeyPair) -> None:
        """Sign for ``account`` from now on (an account registered by a transaction built
        with :meth:`tx`, e.g. an aggregator's)."""
        self.keys[account] = keys
        self.ledger.add_signer(keys)

    def register_account(self, member: Member) -> str:
        """Register one more member now (with its directory entry); returns its account.

        ``Ledger.register`` spends the authority's nonce, so the cached count is dropped.
        """
        account = self.ledger.register(member)
        self._nonce.pop(self.authority, None)
        return account

    def member_account(self, node: int) -> str:
        return self.accounts[node]

    # --- an auction --------------------------------------------------------------------

    def auction_txs(self, listing_id: str, start_s: int, end_s: int, book_node: IntArray,
                    book_is_buy: NDArray[np.bool_], book_wh: IntArray,
                    book_price_ueur_per_kwh: IntArray, buyer: IntArray, seller: IntArray,
                    energy_wh: IntArray, price_ueur_per_kwh: IntArray) -> list[SignedTx]:
        """The auction as one ``AuctionRecord`` (book and trades as columns), after the
        deposits its buyers need. Its txid is kept as the listing's escrow id."""
        raw = self.raw_accounts
        orders = np.empty(book_node.size, dtype=ORDER_ROWS)
        orders["account"] = raw[book_node]
        orders["side"] = book_is_buy
        orders["energy_wh"] = book_wh
        orders["price"] = book_price_ueur_per_kwh
        trades = np.empty(buyer.size, dtype=TRADE_ROWS)
        trades["seller"] = raw[seller]
        trades["buyer"] = raw[buyer]
        trades["energy_wh"] = energy_wh
        trades["price"] = price_ueur_per_kwh
        batch = self.top_ups(buyer, payment_ueur(energy_wh, price_ueur_per_kwh), listing_id)
        record = self.tx(AuctionRecord, self.authority, listing_id, start_s, end_s,
                         orders.tobytes(), trades.tobytes())
        self.escrow_ids[listing_id] = record.txid_hex
        batch.append(record)
        return batch

    def settlement_txs(self, listing_id: str, buyer: IntArray, delivered_wh: IntArray,
                       shortfall_import_wh: IntArray, grid_price_ueur_per_kwh: int,
                       memo: str = "settlement") -> list[SignedTx]:
        """Settle the listing's escrow in one ``SettlementRecord``: per trade (in recorded
        order) the delivered energy and the shortfall its buyer took from the grid."""
        batch = self.top_ups(buyer, payment_ueur(shortfall_import_wh, grid_price_ueur_per_kwh),
                             memo)
        rows = np.empty(buyer.size, dtype=SETTLE_ROWS)
        rows["delivered_wh"] = delivered_wh
        rows["short_wh"] = shortfall_import_wh
        batch.append(self.tx(SettlementRecord, self.authority, self.escrow_ids.pop(listing_id),
                             grid_price_ueur_per_kwh, rows.tobytes()))
        return batch

    def billing_txs(self, memo: str, import_wh: IntArray, import_ueur: IntArray,
                    export_wh: IntArray, export_ueur: IntArray, fee_ueur: IntArray,
                    tokens_wh: IntArray, low_water_u: int) -> list[SignedTx]:
        """One billing period as one ``BillingRecord``: per billed member its grid import and
        feed-in, grid fee, energy tokens, and a deposit that tops it up to its opening
        balance when it would run low."""
        billed = np.flatnonzero(import_wh + export_wh + fee_ueur + tokens_wh)
        if not billed.size:
            return []
        cost = import_ueur[billed] + fee_ueur[billed]
        balances = self.ledger.state.balances
        have = np.fromiter((balances.get((self.accounts[node], "eur_u"), 0)
                            for node in billed.tolist()), dtype=np.int64, count=billed.size)
        have += export_ueur[billed]
        deposit = np.where(have - cost < low_water_u, self.initial_balance_u + cost - have, 0)
        rows = np.empty(billed.size, dtype=BILL_ROWS)
        rows["account"] = self.raw_accounts[billed]
        rows["deposit_ueur"] = deposit
        rows["import_wh"], rows["import_ueur"] = import_wh[billed], import_ueur[billed]
        rows["export_wh"], rows["export_ueur"] = export_wh[billed], export_ueur[billed]
        rows["fee_ueur"], rows["tokens_wh"] = fee_ueur[billed], tokens_wh[billed]
        self.minted_ueur += int(deposit.sum())
        self.deposits_ueur[billed] += deposit
        return [self.tx(BillingRecord, self.authority, memo, rows.tobytes())]

    def seal(self, time_s: int) -> Any:
        """Seal the open transactions into a block (one per auction)."""
        return self.ledger.seal_block(time_s)

    def genesis_bytes(self) -> bytes:
        return self.ledger.block(0).to_bytes()

    def close(self) -> None:
        self.ledger.close()
