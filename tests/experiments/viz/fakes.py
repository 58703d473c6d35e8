"""Hand-built page sources for the view-model unit tests (test-only, never shipped)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class MemberInterval:
    time_s: int
    load_kwh: float
    production_kwh: float


@dataclass(frozen=True)
class Member:
    member_id: str
    kind: str
    region_id: str


@dataclass(frozen=True)
class Flow:
    member_id: str
    import_kwh: float
    export_kwh: float


@dataclass(frozen=True)
class Auction:
    time_s: int
    clearing_price_eur_per_kwh: float | None
    volume_kwh: float
    retail_eur_per_kwh: float = 0.095
    feed_in_eur_per_kwh: float = 0.039


@dataclass(frozen=True)
class Balance:
    time_s: int
    production_kwh: float
    consumption_kwh: float
    import_kwh: float
    export_kwh: float
    storage_kwh: float = 0.0


@dataclass(frozen=True)
class Block:
    height: int
    block_hash: str
    time_s: int
    transaction_count: int


@dataclass(frozen=True)
class Tx:
    tx_id: str
    kind: str
    sender: str
    receiver: str
    amount: int
    unit: str


@dataclass(frozen=True)
class TokenPoint:
    time_s: int
    total_tokens: int
    by_kind: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.by_kind:  # a point given only its total: energy tokens
            object.__setattr__(self, "by_kind", {"energy": self.total_tokens})


@dataclass(frozen=True)
class Capacity:
    time_s: int
    available_kw: float
    committed_kw: float


@dataclass(frozen=True)
class Call:
    time_s: int
    requested_kw: float
    served_kw: float


@dataclass(frozen=True)
class Event:
    time_s: int
    level: int
    targets: int
    opted_in: int
    complied: int


@dataclass
class FakeLedger:
    blocks: list[Block]
    transactions: list[Tx]
    broken_at: int | None = None
    verify_calls: int = 0

    @property
    def head_hash(self) -> str:
        return self.blocks[-1].block_hash if self.blocks else "0" * 64

    @property
    def height(self) -> int:
        return len(self.blocks) - 1

    def latest_blocks(self, n: int) -> Sequence[Block]:
        return list(reversed(self.blocks[-n:])) if n > 0 else []

    def latest_transactions(self, n: int) -> Sequence[Tx]:
        return list(reversed(self.transactions[-n:])) if n > 0 else []

    def verify(self) -> None:
        self.verify_calls += 1
        if self.broken_at is not None:
            raise ValueError(f"block {self.broken_at}: hash does not match its contents")


@dataclass
class FakeEV:
    rows: list[Capacity]
    calls: list[Call]

    def capacity(self) -> Sequence[Capacity]:
        return self.rows

    def reserve_calls(self) -> Sequence[Call]:
        return self.calls


@dataclass
class FakeDR:
    rows: list[Event]

    def events(self) -> Sequence[Event]:
        return self.rows


@dataclass
class FakeSource:
    member_rows: list[Member] = field(default_factory=list)
    region_ids: list[str] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    auction_rows: list[Auction] = field(default_factory=list)
    balance_rows: list[Balance] = field(default_factory=list)
    ledger_source: FakeLedger | None = None
    token_balances: dict[str, int] = field(default_factory=dict)
    token_points: list[TokenPoint] = field(default_factory=list)
    ev_source: FakeEV | None = None
    dr_source: FakeDR | None = None
    step_count: int = 0
    time_s: int = 0
    other_tokens: dict[str, dict[str, int]] = field(default_factory=dict)
    kpi_values: dict[str, float | None] = field(default_factory=dict)
    facts: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    histories: dict[str, list[MemberInterval]] = field(default_factory=dict)
    live: bool = False

    def members(self) -> Sequence[Member]:
        return self.member_rows

    def regions(self) -> Sequence[str]:
        return self.region_ids

    def interval_flows(self) -> Sequence[Flow]:
        return self.flows

    def auctions(self) -> Sequence[Auction]:
        return self.auction_rows

    def energy_balance(self) -> Sequence[Balance]:
        return self.balance_rows

    def ledger(self) -> FakeLedger | None:
        return self.ledger_source

    def tokens(self) -> Mapping[str, int]:
        return self.token_balances

    def token_history(self) -> Sequence[TokenPoint]:
        return self.token_points

    def tokens_by_kind(self) -> Mapping[str, Mapping[str, int]]:
        return {"energy": self.token_balances, **self.other_tokens}

    def kpis(self) -> Mapping[str, float | None]:
        return self.kpi_values

    def member_facts(self, member_id: str) -> Sequence[tuple[str, str]]:
        return self.facts.get(member_id, [])

    def member_history(self, member_id: str) -> Sequence[MemberInterval]:
        return self.histories.get(member_id, [])

    def ev(self) -> FakeEV | None:
        return self.ev_source

    def dr(self) -> FakeDR | None:
        return self.dr_source


def small_community() -> FakeSource:
    """Two regions, five members, one interval of flows (the network tests' example)."""
    return FakeSource(
        member_rows=[Member("p1", "prosumer", "north"), Member("p2", "prosumer", "north"),
                     Member("e1", "ev_owner", "south"), Member("d1", "dr_household", "south"),
                     Member("c1", "consumer", "")],
        region_ids=["north", "south"],
        flows=[Flow("p1", 0.0, 2.0), Flow("p2", 0.5, 0.0), Flow("e1", 3.0, 0.0),
               Flow("d1", 0.25, 0.75)],
        step_count=4,
    )
