"""Shared fixtures: a small community on a fresh ledger, under either signing policy."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gridcoop.ledger import KeyPair, Ledger, Member
from gridcoop.ledger.wallet import Wallet

SEED = b"gridcoop-ledger-tests"
OPENING_EUR_U = 1_000_000  # 1 EUR each


@dataclass
class Community:
    """A ledger with a market, members alice/bob/carol, an aggregator and a meter."""

    book: Ledger
    keys: dict[str, KeyPair]
    accounts: dict[str, str]

    def wallet(self, name: str) -> Wallet:
        return self.book.wallet(self.accounts[name])

    @property
    def market(self) -> Wallet:
        return self.book.market

    def balance(self, name: str, asset: str = "eur_u") -> int:
        return self.book.balance(self.accounts[name], asset)


def build_community(path: str | Path, signing: str = "block", seed: bytes = SEED,
                    **create: object) -> Community:
    """Register alice, bob, carol (members), agg (aggregator), meter; mint 1 EUR each."""
    market = KeyPair.derive(seed, "market")
    create.setdefault("key_origin", "seed")
    book = Ledger.create(path, authority=market, signing=signing, **create)  # type: ignore[arg-type]
    keys = {"market": market}
    accounts = {"market": market.account}
    roles = {"alice": "member", "bob": "member", "carol": "member", "agg": "aggregator",
             "meter": "meter"}
    for name, role in roles.items():
        member, pair = Member.from_seed(seed, f"grid-{name}", name.title(), f"{name}@example.org",
                                        role)  # type: ignore[arg-type]
        book.register(member)
        book.add_signer(pair)
        keys[name] = pair
        accounts[name] = member.account
    for name in ("alice", "bob", "carol", "agg"):
        book.market.mint(accounts[name], "eur_u", OPENING_EUR_U)
    book.seal_block(0)
    return Community(book, keys, accounts)


@pytest.fixture(params=["block", "full"])
def community(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Community]:
    """The community under each signing policy."""
    built = build_community(tmp_path / "ledger.sqlite", signing=request.param)
    yield built
    built.book.close()


@pytest.fixture
def block_community(tmp_path: Path) -> Iterator[Community]:
    """The community under the ``block`` policy only."""
    built = build_community(tmp_path / "ledger.sqlite")
    yield built
    built.book.close()


@pytest.fixture
def full_community(tmp_path: Path) -> Iterator[Community]:
    """The community under the ``full`` policy only."""
    built = build_community(tmp_path / "ledger.sqlite", signing="full")
    yield built
    built.book.close()


def build_stored_ledger(path: Path) -> Community:
    """A closed ``full`` ledger file with a listing, a trade, its settlement and a reward."""
    c = build_community(path, signing="full")
    c.market.open_listing("h1", 0, 3_600)
    c.wallet("alice").offer("h1", 500, 80_000)
    c.wallet("bob").bid("h1", 500, 90_000)
    c.market.close_listing("h1")
    trade = c.market.trade("h1", c.accounts["alice"], c.accounts["bob"], 500, 85_000)
    c.market.clear_listing("h1")
    c.book.seal_block(3_600)
    c.market.settle(trade.txid_hex, 400)
    c.wallet("agg").reward(c.accounts["carol"], 7, "plugged in")
    c.book.seal_block(7_200)
    c.book.close()
    return c
