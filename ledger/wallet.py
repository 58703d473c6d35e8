"""Wallets: build (and sign) an issuer's transactions without filling nonces by hand.

Why two modes: an agent in live mode holds its own key and sends signed
transactions over the bus, so its wallet counts nonces itself (unbound); in a
simulation the wallet is bound to the ``Ledger`` (``gridcoop.ledger.wallet(account)``),
reads the next nonce from the ledger and submits at once, so a refused
transaction never leaves the wallet's nonce out of step.
"""

from __future__ import annotations

from typing import Any, Protocol

from gridcoop.ledger.envelope import SignedTx
from gridcoop.ledger.errors import WrongKeyError
from gridcoop.ledger.identity import KeyPair, Member, grid_id_digest
from gridcoop.ledger.transactions import (
    AuctionRecord,
    Bid,
    BillingRecord,
    ClearListing,
    CloseListing,
    DrCommand,
    DrOutcome,
    EscrowLock,
    EscrowRefund,
    EscrowRelease,
    GridSettlement,
    MeterAttestation,
    Mint,
    Offer,
    OpenListing,
    Penalty,
    RegisterMember,
    RegisterResource,
    Reward,
    Settle,
    SettlementRecord,
    Trade,
    Transfer,
)
from gridcoop.units import payment_ueur


class TxSink(Protocol):
    """Where a bound wallet sends its transactions (the ``Ledger``)."""

    def next_nonce(self, account: str) -> int: ...

    def submit(self, tx: Any) -> SignedTx: ...


class Wallet:
    """Builds one issuer's transactions; every builder returns the ``SignedTx``.

    Unbound (``sink=None``): nonces start at ``next_nonce`` and advance on every
    build; call ``resync`` after a refusal. Bound: each builder submits at once
    and raises the ledger's error (state unchanged) when refused.
    """

    def __init__(self, account: str, chain_id: str, keypair: KeyPair | None = None, *,
                 next_nonce: int = 0, sink: TxSink | None = None) -> None:
        if keypair is not None and keypair.account != account:
            raise WrongKeyError(f"key pair of {keypair.account} given for account {account}")
        self.account = account
        self.chain_id = chain_id
        self.keypair = keypair
        self.next_nonce = next_nonce
        self._sink = sink

    def resync(self, next_nonce: int) -> None:
        """Set the next nonce (e.g. from ``Ledger.next_nonce``) after a refusal."""
        self.next_nonce = next_nonce

    def _emit(self, cls: Any, *fields: Any) -> SignedTx:
        sink = self._sink
        if sink is not None:
            tx = cls(self.account, sink.next_nonce(self.account), *fields)
            return sink.submit(SignedTx.build(tx, self.chain_id, self.keypair))
        stx = SignedTx.build(cls(self.account, self.next_nonce, *fields), self.chain_id,
                             self.keypair)
        self.next_nonce += 1
        return stx

    # -- registry (market) -------------------------------------------------------------------

    def register_member(self, member: Member) -> SignedTx:
        """Register a member's key and role; its profile stays off the chain."""
        return self._emit(RegisterMember, member.account, member.public_key.hex(), member.role,
                          member.profile_digest(), grid_id_digest(self.chain_id, member.grid_id))

    def register_resource(self, resource_id: str, owner: str, resource_kind: str = "pv",
                          capacity_w: int = 0) -> SignedTx:
        """Register a PV system (or battery, EV, load, meter) and its owner."""
        return self._emit(RegisterResource, resource_id, owner, resource_kind, capacity_w)

    # -- market life cycle -------------------------------------------------------------------

    def open_listing(self, listing_id: str, start_s: int, end_s: int) -> SignedTx:
        """Open an hour's listing (AUTHORIZE_OFFERS) for delivery in [start_s, end_s)."""
        return self._emit(OpenListing, listing_id, start_s, end_s)

    def offer(self, listing_id: str, energy_wh: int, price_eur_u_per_kwh: int) -> SignedTx:
        """Offer energy in an open listing at a reserve price."""
        return self._emit(Offer, listing_id, energy_wh, price_eur_u_per_kwh)

    def bid(self, listing_id: str, energy_wh: int, price_eur_u_per_kwh: int) -> SignedTx:
        """Bid for energy in an open listing."""
        return self._emit(Bid, listing_id, energy_wh, price_eur_u_per_kwh)

    def close_listing(self, listing_id: str) -> SignedTx:
        """Close the gate (BIDS_CLOSED)."""
        return self._emit(CloseListing, listing_id)

    def clear_listing(self, listing_id: str) -> SignedTx:
        """Mark the clearing final (CLEARED): no more trades in this listing."""
        return self._emit(ClearListing, listing_id)

    def trade(self, listing_id: str, seller: str, buyer: str, energy_wh: int,
              price_eur_u_per_kwh: int) -> SignedTx:
        """Record a trade and lock the buyer's payment; the escrow id is ``.txid_hex``."""
        amount = payment_ueur(energy_wh, price_eur_u_per_kwh)
        return self._emit(Trade, listing_id, seller, buyer, energy_wh, price_eur_u_per_kwh,
                          amount)

    def settle(self, escrow_id: str, delivered_wh: int) -> SignedTx:
        """Settle a trade against metered delivery (pay delivered, refund rest, shortfall)."""
        return self._emit(Settle, escrow_id, delivered_wh)

    def auction(self, listing_id: str, start_s: int, end_s: int, orders: bytes,
                trades: bytes) -> SignedTx:
        """A whole auction as one record (columns: ``ledger.columns.pack_rows``)."""
        return self._emit(AuctionRecord, listing_id, start_s, end_s, orders, trades)

    def settlement(self, escrow_id: str, grid_price_eur_u_per_kwh: int,
                   rows: bytes) -> SignedTx:
        """Settle every trade of an auction record (its txid) in one record."""
        return self._emit(SettlementRecord, escrow_id, grid_price_eur_u_per_kwh, rows)

    def billing(self, memo: str, rows: bytes) -> SignedTx:
        """Bill many members for one period in one record (``ledger.columns.BILL_ROW``)."""
        return self._emit(BillingRecord, memo, rows)

    def grid_settlement(self, account: str, direction: str, energy_wh: int, amount_eur_u: int,
                        escrow_id: str = "") -> SignedTx:
        """Record energy bought from ("import") or fed to ("export") the grid."""
        return self._emit(GridSettlement, account, direction, energy_wh, amount_eur_u,
                          escrow_id)

    # -- money and tokens --------------------------------------------------------------------

    def escrow_lock(self, payee: str, asset: str, amount: int, energy_wh: int = 0,
                    memo: str = "") -> SignedTx:
        """Lock own funds for a payee; the escrow id is ``.txid_hex``."""
        return self._emit(EscrowLock, payee, asset, amount, energy_wh, memo)

    def escrow_release(self, escrow_id: str, amount: int) -> SignedTx:
        """Pay part of an escrow to its payee."""
        return self._emit(EscrowRelease, escrow_id, amount)

    def escrow_refund(self, escrow_id: str, amount: int) -> SignedTx:
        """Return part of an escrow to its payer."""
        return self._emit(EscrowRefund, escrow_id, amount)

    def transfer(self, to: str, asset: str, amount: int, memo: str = "") -> SignedTx:
        """Pay another account."""
        return self._emit(Transfer, to, asset, amount, memo)

    def mint(self, to: str, asset: str, amount: int, memo: str = "") -> SignedTx:
        """Issue new units (market authority only)."""
        return self._emit(Mint, to, asset, amount, memo)

    def reward(self, to: str, amount: int, reason: str = "") -> SignedTx:
        """Issue gamification tokens (aggregator or market)."""
        return self._emit(Reward, to, amount, reason)

    def penalty(self, account: str, asset: str, amount: int, reason: str = "") -> SignedTx:
        """Move ``amount`` from a misbehaving account to the issuer."""
        return self._emit(Penalty, account, asset, amount, reason)

    # -- commands and meters -----------------------------------------------------------------

    def dr_command(self, target: str, appliance: str, action: str, level: int, start_s: int,
                   duration_s: int) -> SignedTx:
        """Record an OpenADR-style command (action on/off/increase/decrease, level 0-3)."""
        return self._emit(DrCommand, target, appliance, action, level, start_s, duration_s)

    def dr_outcome(self, target: str, command_txid: str, outcome: str, via: str) -> SignedTx:
        """Record what became of the ``dr_command`` ``command_txid`` and who reported it."""
        return self._emit(DrOutcome, target, command_txid, outcome, via)

    def meter_attestation(self, subject: str, interval_start_s: int, interval_s: int,
                          import_wh: int, export_wh: int, counter: int) -> SignedTx:
        """A meter's authenticated reading of a node (its own or a neighbour's)."""
        return self._emit(MeterAttestation, subject, interval_start_s, interval_s, import_wh,
                          export_wh, counter)

    def __repr__(self) -> str:
        return f"Wallet(account={self.account!r}, bound={self._sink is not None})"
