"""Read a :class:`CommunityModel` as a :class:`~gridcoop.experiments.viz.protocol.PageSource`.

What comes from where:

* members, regions: the model's population (ids, kinds, regions);
* this interval's flows: the meter readings the model read last
  (``last_import_wh`` / ``last_export_wh``, integer Wh);
* auctions: every delivery interval auctioned so far; price and volume are
  those of its trades (local and central), volume-weighted, from the central
  market's settled ``trade_log`` and its still-open ``auctions``; an interval
  without trades has no price;
* energy balance: the DataCollector's community series (kW per interval times
  the interval), storage as what closes production + import = consumption +
  export + storage;
* ledger: :class:`~gridcoop.experiments.viz.ledger_source.LedgerReader` over the
  model's ledger, verified by the page's own replica;
* tokens: each member's ``wh`` token balance on the ledger; tokens over time:
  the minted total each time the page looked (a cumulative figure, so a page
  that redraws every few steps only draws it coarser).

A source is cached per model (weakly), so the replica and the caches live as
long as the model does.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

from gridcoop.agents.model.community import CommunityModel
from gridcoop.agents.model.population import NodeKind
from gridcoop.experiments.viz.ledger_source import LedgerReader
from gridcoop.experiments.viz.protocol import DRSource, EVSource
from gridcoop.units import UEUR_PER_EUR

KIND_NAMES = {NodeKind.PROSUMER: "prosumer", NodeKind.EV_OWNER: "ev_owner",
              NodeKind.DR_HOUSEHOLD: "dr_household", NodeKind.CLASSROOM: "classroom",
              NodeKind.TRADER: "trader"}


@dataclass(frozen=True)
class MemberInfo:
    member_id: str
    kind: str
    region_id: str


@dataclass(frozen=True)
class MeteredFlow:
    member_id: str
    import_kwh: float
    export_kwh: float


@dataclass(frozen=True)
class AuctionResult:
    time_s: int
    clearing_price_eur_per_kwh: float | None
    volume_kwh: float
    retail_eur_per_kwh: float
    feed_in_eur_per_kwh: float


@dataclass(frozen=True)
class IntervalBalance:
    time_s: int
    production_kwh: float
    consumption_kwh: float
    import_kwh: float
    export_kwh: float
    storage_kwh: float


@dataclass(frozen=True)
class TokenTotal:
    time_s: int
    total_tokens: int


class CommunitySource:
    """The page's read-only view of one running ``CommunityModel``."""

    def __init__(self, model: CommunityModel) -> None:
        self._model = weakref.ref(model)
        pop = model.population
        self._members = [MemberInfo(node_id, KIND_NAMES[NodeKind(int(kind))],
                                    pop.region_ids[int(region)])
                         for node_id, kind, region in zip(pop.node_ids, pop.kind.tolist(),
                                                          pop.region.tolist(), strict=True)]
        accounts = model.accounts.accounts
        self._accounts = list(accounts)
        self._ledger = LedgerReader(model.accounts.ledger,
                                    dict(zip(accounts, pop.node_ids, strict=True)))
        self._settled: dict[int, tuple[int, int]] = {}
        self._settled_seen = 0
        self._tokens: list[TokenTotal] = []
        weakref.finalize(model, self._ledger.close)

    @property
    def model(self) -> CommunityModel:
        model = self._model()
        if model is None:
            raise ReferenceError("the model of this page source is gone")
        return model

    @property
    def step_count(self) -> int:
        return int(self.model.steps)

    @property
    def time_s(self) -> int:
        return int(self.model.clock.start_s(int(self.model.steps)))

    def members(self) -> list[MemberInfo]:
        return self._members

    def regions(self) -> tuple[str, ...]:
        return tuple(self.model.population.region_ids)

    def interval_flows(self) -> list[MeteredFlow]:
        imports = self.model.last_import_wh.tolist()
        exports = self.model.last_export_wh.tolist()  # both whole arrays, fixed length
        return [MeteredFlow(m.member_id, i / 1000, e / 1000)
                for m, i, e in zip(self._members, imports, exports, strict=True)]

    def _auction_totals(self) -> dict[int, tuple[int, int]]:
        """``interval -> (energy Wh, value µ€·Wh/kWh)`` of every interval with trades."""
        central = self.model.central
        log = central.trade_log
        for interval, trades, _delivered in log[self._settled_seen:]:
            self._settled[interval] = (int(trades.energy_wh.sum()),
                                       int((trades.energy_wh * trades.price_u).sum()))
        self._settled_seen = len(log)
        totals = dict(self._settled)
        for interval, auction in list(central.auctions.items()):  # copied: Play steps meanwhile
            trades = auction.trades
            if interval not in totals and len(trades):
                totals[interval] = (int(trades.energy_wh.sum()),
                                    int((trades.energy_wh * trades.price_u).sum()))
        return totals

    def auctions(self) -> list[AuctionResult]:
        model = self.model
        if model.nearest or model.steps == 0:
            return []
        clock = model.clock
        last_gate = (int(model.steps) - 1) // clock.steps_per_market * clock.steps_per_market
        newest = min(clock.market_of(last_gate) + 1, clock.total_markets - 1)
        totals = self._auction_totals()
        feed_in = model.tariff.feed_in_eur_per_kwh
        rows = []
        for interval in range(1, newest + 1):
            start_s = interval * clock.market_minutes * 60
            energy_wh, value = totals.get(interval, (0, 0))
            price = value / energy_wh / UEUR_PER_EUR if energy_wh else None
            hour = (start_s // 3600) % 24
            rows.append(AuctionResult(start_s, price, energy_wh / 1000,
                                      model.tariff.retail_eur_per_kwh(hour), feed_in))
        return rows

    def energy_balance(self) -> list[IntervalBalance]:
        series = self.model.datacollector.model_vars
        step_h = self.model.clock.step_h
        names = ("time_h", "production_kw", "consumption_kw", "grid_import_kw", "grid_export_kw")
        # Under Play the model steps in another thread: read the rows every series has.
        count = min(len(series[name]) for name in names)
        columns = [series[name][:count] for name in names]
        rows = []
        for time_h, prod_kw, cons_kw, imp_kw, exp_kw in zip(*columns, strict=True):
            prod, cons, imp, exp = (prod_kw * step_h, cons_kw * step_h, imp_kw * step_h,
                                    exp_kw * step_h)
            rows.append(IntervalBalance(round(time_h * 3600), prod, cons, imp, exp,
                                        prod + imp - cons - exp))
        return rows

    def ledger(self) -> LedgerReader:
        return self._ledger

    def tokens(self) -> dict[str, int]:
        ledger = self.model.accounts.ledger
        return {m.member_id: ledger.balance(account, "wh")
                for m, account in zip(self._members, self._accounts, strict=True)}

    def token_history(self) -> list[TokenTotal]:
        now = self.time_s
        if self.model.steps and (not self._tokens or self._tokens[-1].time_s < now):
            self._tokens.append(TokenTotal(now, int(self.model.kpis.tokens_wh)))
        return self._tokens

    def ev(self) -> EVSource | None:
        """The EV communities' hourly capacity vs commitment and reserve calls, if any."""
        for extension in getattr(self.model, "extensions", ()):
            page = getattr(extension, "page", None)
            if extension.name == "ev-community" and page is not None:
                source: EVSource = page()
                return source
        return None

    def dr(self) -> DRSource | None:
        """The DR extension's events (``dr-community`` kinds), else None."""
        for extension in getattr(self.model, "extensions", ()):
            if extension.name == "dr" and hasattr(extension, "event_rows"):
                return _DRPanel(extension)
        return None

    def close(self) -> None:
        """Release the page's ledger replica."""
        self._ledger.close()


@dataclass(frozen=True)
class DREventInfo:
    time_s: int
    level: int
    targets: int
    opted_in: int
    complied: int


class _DRPanel:
    """The DR panel's rows: each event's start, SIMPLE level (0 for a load dispatch),
    commands sent, opt-ins, and commitments the meters found honoured."""

    def __init__(self, extension: Any) -> None:
        self._extension = extension

    def events(self) -> list[DREventInfo]:
        return [DREventInfo(e.time_s, e.level, e.targets, e.opted_in, e.complied)
                for e in self._extension.event_rows()]


_SOURCES: weakref.WeakKeyDictionary[Any, CommunitySource] = weakref.WeakKeyDictionary()


def community_source(model: CommunityModel) -> CommunitySource:
    """The page source of ``model``, made once and kept while the model lives."""
    source = _SOURCES.get(model)
    if source is None:
        source = _SOURCES[model] = CommunitySource(model)
    return source
