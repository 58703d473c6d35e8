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
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gridcoop.agents.model.community import CommunityModel
from gridcoop.agents.model.population import NodeKind
from gridcoop.experiments.viz.ledger_source import LedgerReader
from gridcoop.experiments.viz.member_source import (
    FlowRecorder,
    MemberInterval,
    interval_facts,
    order_facts,
    storage_facts,
    trade_rows,
)
from gridcoop.experiments.viz.protocol import DRSource, EVSource
from gridcoop.ledger import GRID_ACCOUNT
from gridcoop.units import UEUR_PER_EUR, WH_PER_KWH

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
    by_kind: Mapping[str, int] = field(default_factory=dict)


ENERGY = "energy"
TOKEN_KIND = {"ev-community": "EV", "dr": "DR", "campus-footprint": "footprint",
              "campus-lighting": "lighting"}
"""The ledger's ``token`` asset belongs to the one mechanism a scenario runs; energy tokens
are the ``wh`` asset (1 token = 1 Wh delivered locally)."""


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
        self._names = dict(zip(accounts, pop.node_ids, strict=True))
        self._index = {node_id: i for i, node_id in enumerate(pop.node_ids)}
        self._token_kind = next((TOKEN_KIND[e.name] for e in getattr(model, "extensions", ())
                                 if e.name in TOKEN_KIND), None)
        self._settled: dict[int, tuple[int, int]] = {}
        self._settled_seen = 0
        self._tokens: list[TokenTotal] = []
        self._flows = FlowRecorder()
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
        for interval, settled, _delivered in log[self._settled_seen:]:
            self._settled[interval] = (int(settled.energy_wh.sum()),
                                       int((settled.energy_wh * settled.price_u).sum()))
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
            by_kind = {ENERGY: int(self.model.kpis.tokens_wh)}
            if self._token_kind is not None:
                by_kind[self._token_kind] = int(
                    self.model.accounts.ledger.state.supply.get("token", 0))
            self._tokens.append(TokenTotal(now, sum(by_kind.values()), by_kind))
        return self._tokens

    def tokens_by_kind(self) -> dict[str, dict[str, int]]:
        """Energy tokens of every member, and the scenario's own tokens of every holder
        (for the footprint: people, who are not metered members)."""
        out = {ENERGY: self.tokens()}
        if self._token_kind is not None:
            balances = self.model.accounts.ledger.state.balances
            out[self._token_kind] = {
                self._names.get(account, f"person {account[:6]}"): amount
                for (account, asset), amount in list(balances.items())
                if asset == "token" and account != GRID_ACCOUNT}
        return out

    def kpis(self) -> dict[str, float | None]:
        """The run's key figures so far, from the model's running totals."""
        k = self.model.kpis
        bills = float(k.bill_u.sum()) / UEUR_PER_EUR
        baseline = float(k.baseline_u.sum()) / UEUR_PER_EUR
        return {
            "self_sufficiency": ((k.consumption_kwh - k.grid_import_kwh) / k.consumption_kwh
                                 if k.consumption_kwh > 0 else None),
            "self_consumption": ((k.production_kwh - k.grid_export_kwh) / k.production_kwh
                                 if k.production_kwh > 0 else None),
            "bills_eur": bills, "baseline_eur": baseline, "savings_eur": baseline - bills,
            "peak_import_kw": float(k.peak_grid_import_kw),
        }

    def member_facts(self, member_id: str) -> list[tuple[str, str]]:
        """What the meters, the market and the bills say about one member so far."""
        i = self._index.get(member_id)
        if i is None:
            return []
        k = self.model.kpis
        member = self._members[i]
        bill, baseline = int(k.bill_u[i]) / UEUR_PER_EUR, int(k.baseline_u[i]) / UEUR_PER_EUR
        return [
            ("kind", member.kind), ("region", member.region_id or "-"),
            ("this interval", f"import {int(self.model.last_import_wh[i]) / WH_PER_KWH:.3f} "
                              f"kWh, export {int(self.model.last_export_wh[i]) / WH_PER_KWH:.3f}"
                              " kWh"),
            ("metered so far", f"import {int(k.node_import_wh[i]) / WH_PER_KWH:,.2f} kWh, "
                               f"export {int(k.node_export_wh[i]) / WH_PER_KWH:,.2f} kWh"),
            ("traded locally", f"bought {int(k.node_bought_wh[i]) / WH_PER_KWH:,.2f} kWh, "
                               f"sold {int(k.node_sold_wh[i]) / WH_PER_KWH:,.2f} kWh"),
            ("bill so far", f"{bill:,.2f} € against {baseline:,.2f} € grid-only "
                            f"(saving {baseline - bill:,.2f} €)"),
            *interval_facts(self.model, i),
            *storage_facts(self.model.population.physics, i),
            *order_facts(self.model, i),
            *((f"trade, {when}", f"{energy} with {other} at {price}")
              for when, other, energy, price in trade_rows(self.model, i)),
        ]

    def member_history(self, member_id: str) -> list[MemberInterval]:
        """The member's load and production of every interval the page saw."""
        self._flows.observe(self.model)
        i = self._index.get(member_id)
        return [] if i is None else self._flows.history(i)

    @property
    def live(self) -> bool:
        return False

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
