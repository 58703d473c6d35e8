"""A worker process: some aggregator regions' physics, smart meters and members.

Why this split: physics, meter banks and order building are per region and need
nothing from other regions, so they run in parallel; the aggregators' books,
the central market and the ledger stay with the market process (one writer).
The worker's meters and members send their ``MeterReadingBatch`` and
``OrderBatch`` messages over the ZeroMQ bus (tcp, CurveZMQ when keys are given)
straight to the aggregators' endpoints in the market process; the market
process drives the worker phase by phase over a JSON control channel
(``agents.distributed``), so what happens when never depends on socket timing.
"""

from __future__ import annotations

import json
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np
import zmq
from numpy.typing import NDArray

from agents.book import build_orders, orders_to_message
from agents.bus import Bus, PeerAddress
from agents.curve import CurveConfig, CurveGuard, CurveKeyPair
from agents.meters import PhysicsFeed, RegionMeters, simulated_source
from agents.physics.clock import SimClock
from agents.physics.flows import Flows
from agents.physics.regional import RegionalPhysics
from agents.physics.traders import TraderPhysics
from agents.population import build_population, seeded_streams
from agents.scenario import build_scenario
from agents.strategy import EUR_U_PER_EUR, PricingStrategy

FloatArray = NDArray[np.float64]


class WorkerError(RuntimeError):
    """A worker could not reach the market, was refused, crashed or stopped answering."""


@dataclass(frozen=True, slots=True)
class _Meter:
    meter_id: str


def _tariff_u(sc: Any, interval: int, market_minutes: int) -> tuple[int, int]:
    tariff = sc.tariffs.to_market()
    hour = int((interval * market_minutes // 60) % 24)
    return (round(tariff.retail_eur_per_kwh(hour) * EUR_U_PER_EUR),
            round(tariff.feed_in_eur_per_kwh * EUR_U_PER_EUR))


class RegionHost:
    """The regions one worker hosts: it does what ``CommunityModel`` does for them."""

    def __init__(self, setup: dict[str, Any], market_host: str, curve: CurveConfig | None) -> None:
        self.scenario = sc = build_scenario(setup["kind"], dict(setup["params"]))
        self.clock = SimClock(days=sc.days, metering_minutes=sc.metering_minutes,
                              market_minutes=sc.market_minutes,
                              start_day_of_year=sc.start_day_of_year,
                              start_weekday=sc.start_weekday)
        streams = seeded_streams(sc.seed)
        self.population = pop = build_population(sc, self.clock, streams)
        self.strategy = PricingStrategy(sc.strategy, pop.size, streams["strategy"])
        self.min_order_wh = max(1, round(sc.strategy.min_order_kwh * 1000))
        self.regions = [pop.region_ids.index(r) for r in setup["regions"]]
        self.bus = Bus("tcp", curve=curve)
        market_key = curve is not None and setup.get("market_key")
        self.meters: dict[int, RegionMeters] = {}
        self.feeds: dict[int, PhysicsFeed] = {}
        self.meter_eps, self.member_eps = {}, {}
        for r in self.regions:
            region = pop.region_ids[r]
            router, pub = setup["peers"][f"ra-{region}"]
            key = market_key.encode() if market_key else None
            self.bus.add_peer(f"ra-{region}", PeerAddress(
                router.replace("0.0.0.0", market_host), pub.replace("0.0.0.0", market_host), key))
            ids = [f"m-{pop.node_ids[i]}" for i in range(pop.region_slices[r].start,
                                                           pop.region_slices[r].stop)]
            source, feed = simulated_source(ids, self.clock.step_s)
            self.meters[r] = RegionMeters(region, [_Meter(m) for m in ids],  # type: ignore[misc]
                                          source, self.clock.step_s)
            self.feeds[r] = feed
            self.meter_eps[r] = self.bus.endpoint(f"meters-{region}")
            self.member_eps[r] = self.bus.endpoint(f"members-{region}")
        self._full: tuple[int, Flows] | None = None

    # --- phases ---------------------------------------------------------------------

    def read(self, now_s: int) -> dict[str, Any]:
        """Phase 1: read the meters, send each interval to the region's aggregator (acked)."""
        last: dict[str, Any] = {}
        for r in self.regions:
            meters = self.meters[r]
            for columns in meters.read(now_s):
                self.meter_eps[r].send(f"ra-{meters.region_id}", meters.to_message(columns, now_s))
                last[str(r)] = [columns.import_wh.tolist(), columns.export_wh.tolist()]
        self.bus.settle()
        return {"last": last}

    def physics(self, k: int) -> dict[str, Any]:
        """Phase 2: step the hosted regions' physics; record what the meters will read."""
        flows = self._flows(k)
        out = {}
        for r, f in flows.items():
            self.feeds[r].record(k, f.import_kwh * 1000, f.export_kwh * 1000)
            out[str(r)] = [a.tolist() for a in f]
        return {"flows": out}

    def _flows(self, k: int) -> dict[int, Flows]:
        physics = self.population.physics
        if isinstance(physics, RegionalPhysics):
            return physics.step_regions(k, self.regions)
        full = physics.step(k)  # one region (campus) or deterministic CSV traders
        return {r: Flows(*(a[self.population.region_slices[r]] for a in full))
                for r in self.regions}

    def orders(self, auction: str, interval: int, now_s: int) -> dict[str, Any]:
        """Phase 2 at a gate: the members' orders (one batch per region) and the flexibility."""
        pop, sc = self.population, self.scenario
        physics = pop.physics
        n = pop.size
        forecast: FloatArray | None = None
        if isinstance(physics, TraderPhysics):
            bid_kwh, offer_kwh = physics.gross_orders_kwh(interval)
            bid_limit, offer_limit = physics.limit_prices(interval)
            bid_u = np.rint(bid_limit * EUR_U_PER_EUR).astype(np.int64)
            offer_u = np.rint(offer_limit * EUR_U_PER_EUR).astype(np.int64)
        else:
            if isinstance(physics, RegionalPhysics):
                forecast = np.zeros(n)
                for r in self.regions:
                    forecast[pop.region_slices[r]] = physics.forecast_region(interval, r)
            else:
                forecast = physics.forecast_import_kwh(interval)
            share = sc.strategy.quantity_share
            bid_kwh = np.maximum(forecast, 0.0) * share
            offer_kwh = np.maximum(-forecast, 0.0) * share
            retail_u, feed_in_u = _tariff_u(sc, interval, self.clock.market_minutes)
            bid_u, offer_u = self.strategy.prices_u(retail_u / EUR_U_PER_EUR,
                                                    feed_in_u / EUR_U_PER_EUR)
        bid_wh = np.rint(bid_kwh * 1000).astype(np.int64)
        offer_wh = np.rint(offer_kwh * 1000).astype(np.int64)
        flex: dict[str, Any] = {}
        for r in self.regions:
            nodes = pop.region_slices[r]
            orders = build_orders(auction, nodes.start, bid_wh[nodes], offer_wh[nodes],
                                  bid_u[nodes], offer_u[nodes], pop.node_ids, self.min_order_wh)
            self.member_eps[r].send(f"ra-{pop.region_ids[r]}", orders_to_message(
                orders, auction, pop.region_ids[r], pop.node_ids, now_s))
            flex[str(r)] = self._flexibility(interval, r, forecast)
        self.bus.settle()
        return {"flex": flex}

    def _flexibility(self, interval: int, r: int, forecast: FloatArray | None) -> Any:
        """What ``CommunityModel.flexibility`` computes for region ``r`` (same arithmetic)."""
        nodes = self.population.region_slices[r]
        hours = self.clock.market_minutes / 60
        demand = 0.0 if forecast is None else float(np.maximum(forecast[nodes], 0).sum()) / hours
        physics = self.population.physics
        if isinstance(physics, RegionalPhysics):
            parts = physics.flexible_region(interval, r)
            return [demand, {t: float(v.sum()) for t, v in parts.items()}]
        flexible = getattr(physics, "flexible_kw", None)
        if flexible is None:
            return [demand, {}]
        return [demand, {t: float(v[nodes].sum()) for t, v in flexible(interval).items()}]

    def close(self) -> None:
        self.bus.close()


def serve(market: str, regions: list[str], keys: CurveKeyPair | None = None,
          market_key: bytes | None = None, timeout_s: float = 60.0) -> None:
    """Join the market at ``market`` (``tcp://HOST:PORT``) for ``regions`` and serve it
    until it says stop. With ``keys`` the control channel and the bus use CurveZMQ and
    ``market_key`` is the market's public key. Raises :class:`WorkerError` when the market
    does not answer within ``timeout_s`` (wrong address or a refused key)."""
    if (keys is None) != (market_key is None):
        raise WorkerError("give both the worker's key pair and the market's public key, or neither")
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    guard = CurveGuard(context, CurveConfig(keys)) if keys is not None else None
    control = context.socket(zmq.DEALER)
    control.setsockopt(zmq.LINGER, 0)
    if guard is not None and market_key is not None:
        guard.arm_client(control, market_key)
    host: RegionHost | None = None
    try:
        control.connect(market)
        control.send(json.dumps({"op": "hello", "regions": regions}).encode())
        while True:
            if not control.poll(int(timeout_s * 1000)):
                what = "its setup" if host is None else "a command"
                raise WorkerError(f"the market at {market} sent no {what} within {timeout_s} s: "
                                  "check the address, that the run is waiting for workers, and "
                                  "that this worker's CurveZMQ key is authorised there")
            request = json.loads(control.recv())
            op = request.pop("op")
            if op == "stop":
                control.send(json.dumps({"ok": True}).encode())
                return
            try:
                if op == "setup":
                    curve = CurveConfig(keys) if keys is not None else None
                    request["market_key"] = market_key.decode() if market_key else None
                    market_host = market.split("//", 1)[1].rsplit(":", 1)[0]
                    host = RegionHost(request, market_host, curve)
                    reply: dict[str, Any] = {}
                elif host is None:
                    raise WorkerError(f"{op!r} before setup")
                elif op == "read":
                    reply = host.read(request["now_s"])
                elif op == "physics":
                    reply = host.physics(request["k"])
                elif op == "orders":
                    reply = host.orders(request["auction"], request["interval"],
                                        request["now_s"])
                else:
                    raise WorkerError(f"unknown command {op!r}")
            except Exception:  # reported to the market, which fails the run with it
                control.send(json.dumps({"error": traceback.format_exc()}).encode())
                raise
            control.send(json.dumps(reply).encode())
    finally:
        if host is not None:
            host.close()
        control.close(linger=0)
        if guard is not None:
            guard.stop()
        context.destroy(linger=0)
