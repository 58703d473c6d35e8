"""``CommunityModel``: the Mesa model of a local energy community.

One ``step()`` is one metering interval and runs five phases in a fixed order
(docs/architecture.md, "One step"):

1. ``read_meters``  - each region's smart meters report the interval that just
   ended, one ``MeterReadingBatch`` per region to its aggregator (acked);
2. ``act``          - every node's physics runs for this interval; at a gate
   the central market invites orders for the next delivery interval and each
   region's members send one ``OrderBatch`` to their aggregator;
3. ``clear_market`` - at gate closure each aggregator clears its local book
   and forwards the remainder; the central market clears the remainders;
4. ``record_ledger``- trades lock payment in escrow; delivered intervals are
   settled against the meters; the day is billed; one block is sealed and
   published to the aggregators' replicas;
5. ``collect``      - Mesa's DataCollector records the time series and running
   KPIs (and, once a day, every member's bill against its grid-only baseline).

Randomness comes only from generators seeded by ``seed`` (one stream per
purpose), so the same scenario and seed give the same KPIs and ledger head hash.

Why parts (``gridcoop.agents.model.parts``): run modes differ only in where
the regions run (``region_host``: this process, or worker processes with
``gridcoop.agents.runtime.regions.WorkerRegions``) and how estimated readings
are settled (``estimates``: live mode bills them at the grid tariffs); the
phases below are the one code path every mode runs, extensions included.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import mesa
import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.behaviour.errors import PolicyError
from gridcoop.agents.meters.smart_meters import SmartMeter
from gridcoop.agents.meters.sources import attach_meter_sources
from gridcoop.agents.model.accounts import CommunityLedger
from gridcoop.agents.model.collect import (
    add_daily_bills,
    current_values,
    make_agent_datacollector,
    make_datacollector,
    member_standing,
)
from gridcoop.agents.model.kpis import Kpis
from gridcoop.agents.model.members import Member, make_members
from gridcoop.agents.model.orders import Flexibility, MemberOrders
from gridcoop.agents.model.parts import EstimatePricing, MeteredPricing, Regions
from gridcoop.agents.model.population import build_population, seeded_streams
from gridcoop.agents.model.regions import InProcessRegions
from gridcoop.agents.physics.clock import SimClock
from gridcoop.agents.physics.flows import Flows
from gridcoop.agents.runtime.replicas import ReplicaMode, ReplicaRefusedError, started_early
from gridcoop.agents.scenario.policies import split_given
from gridcoop.agents.scenario.registry import build_scenario, extensions_for
from gridcoop.agents.scenario.schema import CampusMicrogrid, Scenario, merge_params
from gridcoop.agents.trading.central import CentralMarket
from gridcoop.units import UEUR_PER_EUR, ueur_from_eur

IntArray = NDArray[np.int64]
_EXPLICIT = ("days", "metering_minutes", "market_minutes", "mechanism", "signing", "households")


class CommunityModel(mesa.Model):  # type: ignore[misc]
    """A local energy community: members, meters, aggregators, a central market, a ledger.

    All arguments are plain keywords (SolaraViz and batch runs rebuild the model
    from them). ``scenario`` is a scenario kind (``neighbourhood``,
    ``campus-microgrid``, ``market-only``); every other scenario parameter may
    be given as a keyword (nested groups as dicts), e.g.
    ``CommunityModel("neighbourhood", households=1000, mix={"prosumer": 0.5, ...})``.
    ``ledger_path`` is where the ledger's SQLite file goes (default in memory).
    ``region_host`` and ``estimates`` are the run mode's parts (default: every region
    in this process, every reading settled as metered). ``policies`` chooses the
    members' policies like a scenario's ``policies:`` section, and also takes
    policy objects and per-agent member classes (docs/guides/behaviour.md).
    """

    def __init__(self, scenario: str = "neighbourhood", *, seed: int | None = None,
                 days: int | None = None, metering_minutes: int | None = None,
                 market_minutes: int | None = None, mechanism: str | None = None,
                 signing: str | None = None, households: int | None = None,
                 ledger_path: str | os.PathLike[str] = ":memory:", transport: str = "inproc",
                 replicas: ReplicaMode = "auto", ledger_workers: int | None = None,
                 region_host: Regions | None = None, estimates: EstimatePricing | None = None,
                 policies: dict[str, Any] | None = None, **params: Any) -> None:
        given = dict(zip(_EXPLICIT, (days, metering_minutes, market_minutes, mechanism, signing,
                                     households), strict=True))
        params.update({k: v for k, v in given.items() if v is not None})
        policy_specs, self.policy_objects = split_given(policies)
        if "battery" in self.policy_objects:  # each region builds its own instance
            raise PolicyError("policies.battery: give a built-in name or an import path "
                              "(package.module:Name), not an object")
        if policy_specs:
            params["policies"] = merge_params(params.get("policies") or {}, policy_specs)
        if seed is not None:
            params["seed"] = seed
        self.scenario: Scenario = build_scenario(scenario, params)
        sc = self.scenario
        super().__init__(seed=sc.seed)
        # The page steps its model in a play thread while a session's end or Reset
        # closes it from another: closing mid-step freed sockets under a running step.
        self._stepping = threading.RLock()
        self.closed = False
        self.clock = SimClock(days=sc.days, metering_minutes=sc.metering_minutes,
                              market_minutes=sc.market_minutes,
                              start_day_of_year=sc.start_day_of_year,
                              start_weekday=sc.start_weekday)
        self.mechanism = sc.mechanism
        self.streams = seeded_streams(sc.seed)
        self.population = build_population(sc, self.clock, self.streams)
        pop = self.population
        n = pop.size
        self.kpis = Kpis(n, self.clock.step_h,
                         np.array([s.start for s in pop.region_slices], dtype=np.int64),
                         sc.feeder_capacity_kw)
        self.orders = MemberOrders(sc, self.clock, lambda: self.population.physics, n,
                                   self.streams, pop.region_slices, kinds=pop.kind,
                                   node_ids=pop.node_ids,
                                   policies=self.policy_objects.get("bidding"))
        self.tariff = self.orders.tariff
        self.local_clearings = 0  # local clearings done by the aggregators so far
        self.last_import_wh = np.zeros(n, dtype=np.int64)
        self.last_export_wh = np.zeros(n, dtype=np.int64)
        self.last_price_eur_per_kwh: float | None = None
        self.last_flows: Flows | None = None  # every node's flows of the last interval
        self.nearest = isinstance(sc, CampusMicrogrid) and sc.allocation == "nearest"
        self._unsettled = False
        own_regions = region_host is None  # then its replica process starts now, early
        if region_host is None:
            region_host = InProcessRegions(replica=started_early(replicas, n, self.clock.days))
        self.region_host: Regions = region_host
        try:
            self.members: list[Member] = make_members(self)
            self.meters = [SmartMeter(self, f"m-{node}", i) for i, node in enumerate(pop.node_ids)]
            self.accounts = CommunityLedger(
                ledger_path, seed=sc.seed, signing=sc.signing, node_ids=pop.node_ids,
                initial_balance_u=ueur_from_eur(sc.initial_balance_eur),
                pv_w=np.rint(pop.pv_kwp * 1000).astype(np.int64).tolist(),
                workers=ledger_workers)
            self.bus = self.region_host.make_bus(self, transport)
            self.central = CentralMarket(self, self.bus.endpoint("central"), self.accounts,
                                         MeteredPricing() if estimates is None else estimates)
            self.region_meter_ids: dict[str, list[str]] = {}
            self.region_host.attach(self, replicas)
        except BaseException:
            if own_regions:  # closes the replica process started for this failed model
                self.region_host.close()
            raise
        self.aggregators = self.region_host.aggregators
        self.meter_sources = attach_meter_sources(self)  # the scenario's hardware meters
        self.current: dict[str, Any] = {}
        self.datacollector = make_datacollector()
        self.agent_datacollector = make_agent_datacollector()
        self.member_standing: dict[str, IntArray] | None = None
        self.extensions = extensions_for(sc, self)
        try:
            self.region_host.start(self)
        except BaseException:
            self.close()
            raise

    def use_meter_source(self, region_id: str, source: Any) -> None:
        """Read ``region_id``'s meters from another ``MeterSource`` (e.g. real hardware from
        ``hardware_bridge.make_source("serial", ...)``) instead of the simulated bank.

        The source must report the region's meter ids (``m-<member>``) at the model's
        metering interval; the physics still runs, but settlement uses what the meters say.
        """
        def replace(old: Any) -> Any:
            close = getattr(old, "close", None)
            if close is not None:
                close()
            return source

        self.region_host.wrap_meter_source(region_id, replace)

    # --- tariffs --------------------------------------------------------------------

    def tariff_u(self, interval: int) -> tuple[int, int, int]:
        """(retail, feed-in, grid fee) in µ€/kWh for delivery interval ``interval``."""
        return self.orders.tariff_u(interval)

    # --- the step -------------------------------------------------------------------

    def step(self) -> None:
        """One metering interval: meters, agents, market, ledger, data, in that order.

        A closed model does not step (``close`` left ``running`` False): a page's play
        thread may still hold the model its session closed."""
        with self._stepping:
            if not self.closed:
                self._run_phases()

    def _run_phases(self) -> None:
        k = self.steps - 1  # Mesa counts steps from 1 before calling step()
        self.read_meters(self.clock.start_s(k))
        gate = k % self.clock.steps_per_market == 0
        self.act(k, gate)
        if gate:
            self.clear_market(k)
        self.record_ledger(k, gate)
        if k + 1 >= self.clock.total_steps:
            self.finish()
        self.collect()

    def read_meters(self, now_s: int) -> None:
        """Phase 1: each region's meters report every interval that ended by ``now_s``."""
        self.region_host.read(now_s)
        self.settle()
        for ra in self.aggregators:
            # readings forwarded to the centre travel with the phase's next settle
            self._unsettled = ra.handle_inbox() or self._unsettled

    def settle(self) -> None:
        """Deliver and acknowledge everything sent so far (drains are deterministic after)."""
        self.bus.settle()
        self._unsettled = False

    def open_gate(self, interval: int, now_s: int) -> None:
        """Invite orders for delivery ``interval`` (campus routing has no gate)."""
        if not self.nearest and interval < self.clock.total_markets:
            self.central.open_gate(interval, now_s)
            self._unsettled = True

    def act(self, k: int, gate: bool) -> None:
        """Phase 2: physics of interval ``k``; at a gate, orders for the next interval."""
        flows = self.region_host.step_physics(k)
        self.last_flows = flows
        self.kpis.add_flows(flows)
        for extension in self.extensions:
            extension.after_physics(k)
        start_s = self.clock.start_s(k)
        self.region_host.record_feeds(k, flows)
        target = self.clock.market_of(k) + 1
        if not gate or self.nearest or target >= self.clock.total_markets:
            return
        if target not in self.central.auctions:  # the first gate; later ones open an hour ahead
            self.open_gate(target, start_s)
            self.settle()
        self.region_host.send_orders(self.central.auctions[target].auction_id, target, start_s)
        self.settle()

    def clear_market(self, k: int) -> None:
        """Phase 3: gate closure; local books, then the central book."""
        target = self.clock.market_of(k) + 1
        if self.nearest or target >= self.clock.total_markets:
            return
        now_s = self.clock.start_s(k)
        self.central.close_gate(target, self.region_host.order_count(target), now_s)
        self.settle()
        self.local_clearings = self.region_host.clear_local(
            self.central.auctions[target].auction_id, target, now_s)
        self.central.handle_inbox()
        self.central.clear_central(target)
        trades = self.central.auctions[target].trades
        self.orders.bidders.cleared(target, self.central.last_price_u, trades.buyer,
                                    trades.seller, trades.energy_wh, trades.price_u,
                                    self.tariff_u(target), self.population.size)
        if self.population.battery_signal is not None:
            retail_u, feed_in_u, _ = self.tariff_u(target)
            self.population.battery_signal.note(self.central.last_price_u, retail_u, feed_in_u)
        price = self.central.last_price_u
        self.last_price_eur_per_kwh = None if price is None else price / UEUR_PER_EUR

    def record_ledger(self, k: int, gate: bool) -> None:
        """Phase 4: escrow for new trades, settlement of delivered intervals, billing, a block."""
        self.region_host.before_ledger(k)
        central = self.central
        if self._unsettled:
            self.settle()
        central.handle_inbox()
        now_s = self.clock.start_s(k)
        target = self.clock.market_of(k) + 1
        if gate and not self.nearest and target < self.clock.total_markets:
            central.record_auction(target)
        if self.nearest:
            central.record_posthoc()
        central.settle_ready()
        if k and k % self.clock.steps_per_day == 0:
            central.bill_day(f"day {self.clock.day_of(k) - 1}")
            for extension in self.extensions:
                extension.end_of_day(self.clock.day_of(k) - 1)
        for extension in self.extensions:
            extension.before_seal(k, now_s)
        if gate:  # invite orders for the interval after next: the gate stays open an hour
            self.open_gate(target + 1, now_s)
        if central.seal_and_publish(now_s) or self._unsettled:
            self.settle()
            for ra in self.aggregators:
                ra.handle_inbox()
        self.region_host.after_ledger(k)

    def collect(self) -> None:
        """Phase 5: the time series (running KPIs included); members' bills once a day."""
        self.current = current_values(self)
        self.datacollector.collect(self)
        k = self.steps - 1
        if (k + 1) % self.clock.steps_per_day == 0:
            add_daily_bills(self, self.clock.day_of(k))
            self.member_standing = member_standing(self)
            self.agent_datacollector.collect(self)

    def finish(self) -> None:
        """After the last interval: read it, settle it, bill the last day, seal, stop."""
        end_s = self.clock.start_s(self.clock.total_steps)
        self.read_meters(end_s)
        self.settle()
        self.central.handle_inbox()
        if self.nearest:
            self.central.record_posthoc()
        self.central.settle_ready()
        self.central.bill_day(f"day {self.clock.days - 1}")
        for extension in self.extensions:
            extension.end_of_day(self.clock.days - 1)
            extension.finish()
        self.central.seal_and_publish(end_s)
        self.settle()
        for ra in self.aggregators:
            ra.handle_inbox()
        head = self.accounts.ledger.head_hash
        for ra in self.aggregators:
            if ra.replica.head_hash != head:
                raise ReplicaRefusedError(f"{ra.name}: replica head {ra.replica.head_hash} differs "
                                          f"from the ledger's {head}")
        self.running = False

    # --- running and results ----------------------------------------------------------

    def run(self, progress: Any = None) -> dict[str, Any]:
        """Step to the end; ``progress(n)`` is called after each step. Returns the KPIs."""
        while self.running:
            self.step()
            if progress is not None:
                progress(1)
        return self.summary()

    def flexibility(self, interval: int, nodes: slice) -> Flexibility:
        """A region's forecast demand (kW) and flexible power per template for ``interval``."""
        return self.orders.flexibility(interval, nodes)

    def summary(self) -> dict[str, Any]:
        """The KPIs (identical for the same scenario and seed)."""
        kpis = self.kpis.summary(days=self.clock.days, members=self.population.size)
        kpis["scenario"] = self.scenario.kind
        kpis["seed"] = self.scenario.seed
        kpis["mechanism"] = "nearest classroom, static price" if self.nearest else self.mechanism
        kpis["signing"] = self.scenario.signing
        kpis["ledger_height"] = self.accounts.ledger.height
        kpis["ledger_head_hash"] = self.accounts.ledger.head_hash
        kpis["bus_rejected"] = self.bus.stats.rejected
        if self.central.attestation is not None:
            kpis.update(self.central.attestation.summary())
        for extension in self.extensions:
            kpis.update(extension.summary())
        return kpis

    def close(self) -> None:
        """Stop the regions (workers, replicas), close the bus and the ledger files.

        Waits for a step in progress in another thread; closing twice does nothing."""
        with self._stepping:
            if self.closed:
                return
            self.closed = True
            self.running = False
            self._close_parts()

    def _close_parts(self) -> None:
        for extension in getattr(self, "extensions", ()):
            extension.close()
        if hasattr(self, "meter_sources"):
            self.meter_sources.close()
        self.region_host.close()
        self.bus.close()
        self.accounts.close()
