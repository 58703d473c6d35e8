"""The web page of a live community: snapshots of the runner's model, read by the page's threads.

Why snapshots (and not the model itself behind a lock): the page renders in the
web server's threads while the runner steps the model in its own, and the
model's ledger is an SQLite connection that may only be used by the thread
that opened it. After every interval the runner's thread copies what the page
shows into an immutable ``LiveSnapshot`` (verifying the new blocks with the
page's own replica on the way) and swaps it in under a lock; a page session
(``LivePageModel``) only ever reads the latest snapshot, and its Step/Play
buttons fetch a newer one instead of stepping the live model.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import mesa

from gridcoop.agents.model.community import CommunityModel
from gridcoop.experiments.viz.community import community_source
from gridcoop.experiments.viz.protocol import (
    AuctionRow,
    BalanceRow,
    BlockRow,
    DRSource,
    EVSource,
    FlowRow,
    MemberIntervalRow,
    MemberRow,
    TokenPoint,
    TransactionRow,
)

BLOCKS_KEPT = 50
TRANSACTIONS_KEPT = 200
MEMBER_FACTS_KEPT = 500
"""Members whose facts each snapshot copies (a live community is small; this bounds it)."""


class PageNotAttachedError(RuntimeError):
    """No live runner publishes to this page (start it with ``gridcoop live CONFIG --viz``)."""


@dataclass(frozen=True)
class LedgerSnapshot:
    """The ledger panel's view at one interval (newest blocks and transactions)."""

    head_hash: str
    height: int
    blocks: tuple[BlockRow, ...]
    transactions: tuple[TransactionRow, ...]
    refused: str = ""  # why the page's replica refused a block, if it did

    def latest_blocks(self, n: int) -> Sequence[BlockRow]:
        return self.blocks[:n]

    def latest_transactions(self, n: int) -> Sequence[TransactionRow]:
        return self.transactions[:n]

    def verify(self) -> None:
        if self.refused:
            raise RuntimeError(self.refused)


@dataclass(frozen=True)
class _DRRows:
    event_rows: tuple[Any, ...]

    def events(self) -> Sequence[Any]:
        return self.event_rows


@dataclass(frozen=True)
class _EVRows:
    capacity_rows: tuple[Any, ...]
    call_rows: tuple[Any, ...]

    def capacity(self) -> Sequence[Any]:
        return self.capacity_rows

    def reserve_calls(self) -> Sequence[Any]:
        return self.call_rows


@dataclass(frozen=True)
class LiveSnapshot:
    """Everything the page shows, copied from the live model after one interval."""

    step_count: int
    time_s: int
    member_rows: tuple[MemberRow, ...]
    region_ids: tuple[str, ...]
    flows: tuple[FlowRow, ...]
    auction_rows: tuple[AuctionRow, ...]
    balance: tuple[BalanceRow, ...]
    ledger_view: LedgerSnapshot
    token_balances: Mapping[str, int]
    token_points: tuple[TokenPoint, ...]
    ev_rows: _EVRows | None = None
    dr_rows: _DRRows | None = None
    live_status: Mapping[str, Any] = field(default_factory=dict)
    kind_balances: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    kpi_values: Mapping[str, float | None] = field(default_factory=dict)
    facts: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, model: CommunityModel, status: Mapping[str, Any] | None = None) -> LiveSnapshot:
        """Copy ``model``'s page data (call from the thread that steps the model)."""
        source = community_source(model)
        reader = source.ledger()
        refused = ""
        try:
            reader.verify()
        except Exception as exc:  # the panel shows why the replica refused
            refused = str(exc)
        ledger = LedgerSnapshot(reader.head_hash, reader.height,
                                tuple(reader.latest_blocks(BLOCKS_KEPT)),
                                tuple(reader.latest_transactions(TRANSACTIONS_KEPT)), refused)
        ev = source.ev()
        dr = source.dr()
        return cls(source.step_count, source.time_s, tuple(source.members()),
                   tuple(source.regions()), tuple(source.interval_flows()),
                   tuple(source.auctions()), tuple(source.energy_balance()), ledger,
                   dict(source.tokens()), tuple(source.token_history()),
                   None if ev is None else _EVRows(tuple(ev.capacity()),
                                                   tuple(ev.reserve_calls())),
                   None if dr is None else _DRRows(tuple(dr.events())), dict(status or {}),
                   {kind: dict(b) for kind, b in source.tokens_by_kind().items()},
                   dict(source.kpis()),
                   {m.member_id: tuple(source.member_facts(m.member_id))
                    for m in source.members()[:MEMBER_FACTS_KEPT]})


class LivePublisher:
    """Where the runner puts each interval's snapshot and page sessions take the latest."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: LiveSnapshot | None = None
        self.published = 0

    def publish(self, snapshot: LiveSnapshot) -> None:
        with self._lock:
            self._latest = snapshot
            self.published += 1

    def latest(self) -> LiveSnapshot:
        with self._lock:
            if self._latest is None:
                raise PageNotAttachedError("the live runner has not published an interval yet")
            return self._latest


PUBLISHER = LivePublisher()
"""The process's publisher: ``gridcoop live --viz`` attaches its runner's model here."""


class LivePageModel(mesa.Model):  # type: ignore[misc]
    """One page session's view of the live community (a ``PageSource``); Step = refresh."""

    def __init__(self, publisher: LivePublisher | None = None) -> None:
        super().__init__()
        self.publisher = publisher or PUBLISHER
        self.snapshot = self.publisher.latest()

    def step(self) -> None:
        self.snapshot = self.publisher.latest()

    @property
    def step_count(self) -> int:
        return self.snapshot.step_count

    @property
    def time_s(self) -> int:
        return self.snapshot.time_s

    def members(self) -> Sequence[MemberRow]:
        return self.snapshot.member_rows

    def regions(self) -> Sequence[str]:
        return self.snapshot.region_ids

    def interval_flows(self) -> Sequence[FlowRow]:
        return self.snapshot.flows

    def auctions(self) -> Sequence[AuctionRow]:
        return self.snapshot.auction_rows

    def energy_balance(self) -> Sequence[BalanceRow]:
        return self.snapshot.balance

    def ledger(self) -> LedgerSnapshot:
        return self.snapshot.ledger_view

    def tokens(self) -> Mapping[str, int]:
        return self.snapshot.token_balances

    def token_history(self) -> Sequence[TokenPoint]:
        return self.snapshot.token_points

    def tokens_by_kind(self) -> Mapping[str, Mapping[str, int]]:
        return self.snapshot.kind_balances

    def kpis(self) -> Mapping[str, float | None]:
        return self.snapshot.kpi_values

    def member_facts(self, member_id: str) -> Sequence[tuple[str, str]]:
        return self.snapshot.facts.get(member_id, ())

    def member_history(self, member_id: str) -> Sequence[MemberIntervalRow]:
        """Not carried in snapshots: the live member view shows this interval's facts only."""
        return ()

    @property
    def live(self) -> bool:
        return True

    def ev(self) -> EVSource | None:
        return self.snapshot.ev_rows

    def dr(self) -> DRSource | None:
        return self.snapshot.dr_rows
