"""The ledger's state: members, nonces, balances, escrows, listings, and its snapshot form.

Why a journal: every change goes through ``put``/``drop``, which remember the
old value, so a block (or a batch) that fails half-way is rolled back exactly
and the state is unchanged on rejection. Only live data is kept (settled
escrows and cleared listings' offers are dropped) so snapshots stay small.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from gridcoop.ledger.codec import canonical_json, parse_json
from gridcoop.ledger.errors import StorageError
from gridcoop.ledger.identity import account_id

_MISSING: Final = object()


@dataclass(frozen=True, slots=True)
class ChainConfig:
    """What block 0 fixes for the life of a chain."""

    chain_id: str
    authority_key: bytes
    validator_keys: tuple[bytes, ...]
    quorum: int
    signing: str
    snapshot_interval: int

    @property
    def authority(self) -> str:
        """The market authority's account id."""
        return account_id(self.authority_key)


@dataclass(frozen=True, slots=True)
class MemberRecord:
    """What the chain knows of a member (pseudonymous)."""

    public_key: bytes
    role: str
    profile_digest: str
    grid_digest: str


@dataclass(frozen=True, slots=True)
class Escrow:
    """Funds locked by ``payer`` for ``payee``; ``energy_wh`` > 0 for a trade's escrow.

    ``arbiter`` is the account that recorded the trade (market or aggregator) and
    may settle it; empty for a member's own escrow (the market arbitrates).
    """

    payer: str
    payee: str
    asset: str
    amount: int
    remaining: int
    energy_wh: int
    arbiter: str = ""


@dataclass(frozen=True, slots=True)
class AuctionEscrow:
    """The payments an ``AuctionRecord`` locked, until its ``SettlementRecord``.

    ``trades`` are the record's trade rows as they were recorded (``ledger.columns``),
    so settlement reads each trade's parties, energy and price from the record
    itself; ``arbiter`` recorded them and may settle them (as may the market).
    """

    arbiter: str
    trades: bytes


@dataclass(frozen=True, slots=True)
class Listing:
    """An hour's listing, its state (AUTHORIZE_OFFERS, BIDS_CLOSED, CLEARED) and its owner.

    The owner (the market, or an aggregator running its community's local
    market) closes, clears and trades in it.
    """

    start_s: int
    end_s: int
    state: str
    owner: str


@dataclass(frozen=True, slots=True)
class Resource:
    """A registered system and its owner."""

    owner: str
    resource_kind: str
    capacity_w: int


@dataclass(frozen=True, slots=True)
class Shortfall:
    """Energy a trade did not deliver, awaiting settlement at grid tariffs."""

    buyer: str
    seller: str
    energy_wh: int


class State:
    """All mutable ledger state; mutate only through ``put`` and ``drop``."""

    def __init__(self) -> None:
        self.config: ChainConfig | None = None
        self.members: dict[str, MemberRecord] = {}
        self.public_keys: dict[bytes, str] = {}
        self.grid_digests: dict[str, str] = {}
        self.nonces: dict[str, int] = {}
        self.balances: dict[tuple[str, str], int] = {}
        self.supply: dict[str, int] = {}
        self.escrows: dict[str, Escrow] = {}
        self.listings: dict[str, Listing] = {}
        self.offers: dict[str, dict[str, int]] = {}
        self.bids: dict[str, dict[str, int]] = {}
        self.resources: dict[str, Resource] = {}
        self.meter_counters: dict[str, int] = {}
        self.shortfalls: dict[str, Shortfall] = {}
        self.auction_escrows: dict[str, AuctionEscrow] = {}
        self.journal: list[tuple[dict[Any, Any], Any, Any]] = []

    # -- journalled mutation -----------------------------------------------------------------

    def put(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        """Set ``table[key]``, remembering the old value for ``rollback``."""
        self.journal.append((table, key, table.get(key, _MISSING)))
        table[key] = value

    def put_all(self, table: dict[Any, Any], items: Iterable[tuple[Any, Any]]) -> None:
        """``put`` each ``(key, value)`` in turn (one call for a record's many accounts)."""
        journal, get = self.journal, table.get
        for key, value in items:
            journal.append((table, key, get(key, _MISSING)))
            table[key] = value

    def drop(self, table: dict[Any, Any], key: Any) -> None:
        """Delete ``table[key]``, remembering it for ``rollback``."""
        self.journal.append((table, key, table.pop(key)))

    def mark(self) -> int:
        """A point to roll back to."""
        return len(self.journal)

    def rollback(self, mark: int = 0) -> None:
        """Undo every change made since ``mark``."""
        journal = self.journal
        while len(journal) > mark:
            table, key, old = journal.pop()
            if old is _MISSING:
                table.pop(key, None)
            else:
                table[key] = old

    def commit(self) -> None:
        """Forget the undo information (the block is durable)."""
        self.journal.clear()

    # -- queries -----------------------------------------------------------------------------

    def balance(self, account: str, asset: str) -> int:
        """An account's balance of an asset (0 when it never held any)."""
        return self.balances.get((account, asset), 0)

    def locked(self, asset: str) -> int:
        """Total held in open escrows for an asset."""
        return sum(e.remaining for e in self.escrows.values() if e.asset == asset)

    # -- snapshots ---------------------------------------------------------------------------

    def to_snapshot(self) -> bytes:
        """Canonical bytes of the whole state (hashed into the block header)."""
        config = self.config
        if config is None:
            raise StorageError("cannot snapshot a ledger without a genesis block")
        balances: dict[str, dict[str, int]] = {}
        for (account, asset), amount in self.balances.items():
            balances.setdefault(account, {})[asset] = amount
        doc = {
            "config": [config.chain_id, config.authority_key.hex(),
                       [k.hex() for k in config.validator_keys], config.quorum, config.signing,
                       config.snapshot_interval],
            "members": {a: [m.public_key.hex(), m.role, m.profile_digest, m.grid_digest]
                        for a, m in self.members.items()},
            "nonces": self.nonces,
            "balances": balances,
            "supply": self.supply,
            "escrows": {k: [e.payer, e.payee, e.asset, e.amount, e.remaining, e.energy_wh,
                            e.arbiter] for k, e in self.escrows.items()},
            "listings": {k: [v.start_s, v.end_s, v.state, v.owner]
                         for k, v in self.listings.items()},
            "offers": self.offers,
            "bids": self.bids,
            "resources": {k: [r.owner, r.resource_kind, r.capacity_w]
                          for k, r in self.resources.items()},
            "meter_counters": self.meter_counters,
            "shortfalls": {k: [s.buyer, s.seller, s.energy_wh]
                           for k, s in self.shortfalls.items()},
        }
        if self.auction_escrows:  # absent when empty: chains without records keep their hashes
            doc["auction_escrows"] = {k: [e.arbiter, e.trades.hex()]
                                      for k, e in self.auction_escrows.items()}
        return canonical_json(doc)

    @classmethod
    def from_snapshot(cls, data: bytes) -> State:
        """Rebuild a state from ``to_snapshot`` bytes (whose hash the caller checked)."""
        try:
            doc = parse_json(data)
            state = cls()
            chain_id, authority, validators, quorum, signing, interval = doc["config"]
            state.config = ChainConfig(chain_id, bytes.fromhex(authority),
                                       tuple(bytes.fromhex(v) for v in validators), quorum,
                                       signing, interval)
            for account, (key, role, profile, grid) in doc["members"].items():
                record = MemberRecord(bytes.fromhex(key), role, profile, grid)
                state.members[account] = record
                state.public_keys[record.public_key] = account
                state.grid_digests[grid] = account
            state.nonces = dict(doc["nonces"])
            state.balances = {(account, asset): amount
                              for account, assets in doc["balances"].items()
                              for asset, amount in assets.items()}
            state.supply = dict(doc["supply"])
            state.escrows = {k: Escrow(*v) for k, v in doc["escrows"].items()}
            state.listings = {k: Listing(*v) for k, v in doc["listings"].items()}
            state.offers = {k: dict(v) for k, v in doc["offers"].items()}
            state.bids = {k: dict(v) for k, v in doc["bids"].items()}
            state.resources = {k: Resource(*v) for k, v in doc["resources"].items()}
            state.meter_counters = dict(doc["meter_counters"])
            state.shortfalls = {k: Shortfall(*v) for k, v in doc["shortfalls"].items()}
            state.auction_escrows = {k: AuctionEscrow(a, bytes.fromhex(t)) for k, (a, t)
                                     in doc.get("auction_escrows", {}).items()}
        except (ValueError, KeyError, TypeError) as exc:
            raise StorageError(f"state snapshot cannot be decoded ({exc}); run "
                               "`gridcoop ledger verify` on the file") from exc
        return state


def snapshot_hash(snapshot: bytes) -> bytes:
    """The hash a block header carries for a snapshot."""
    return hashlib.sha256(snapshot).digest()
