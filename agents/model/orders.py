"""The members' orders of one gate, the tariff they are priced against, and their flexibility.

Why one home: the model in one process and a worker process that hosts some
regions (``gridcoop.agents.runtime.worker``) build the same orders from the
same physics, policies and tariff; any difference between two copies would
break "same scenario and seed, same ledger head" across run modes. The
members' bidding policies (``gridcoop.agents.model.bidders``) give whole Wh
and whole µ€/kWh, validated, before any order is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.bus.messages import OrderBatch
from gridcoop.agents.model.bidders import BiddingGroups
from gridcoop.agents.physics.clock import SimClock
from gridcoop.agents.physics.regional import RegionalPhysics
from gridcoop.agents.physics.traders import TraderPhysics
from gridcoop.agents.scenario.schema import Scenario
from gridcoop.agents.trading.book import build_orders, orders_to_message
from gridcoop.units import ueur_from_eur

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
Flexibility = tuple[float, dict[str, float]]


@dataclass(frozen=True, slots=True)
class OrderArrays:
    """Every member's bid and offer of one gate (Wh, µ€/kWh); zero where it sends none."""

    bid_wh: IntArray
    offer_wh: IntArray
    bid_u: IntArray
    offer_u: IntArray

    def as_arrays(self) -> dict[str, NDArray[Any]]:
        """Named arrays (to travel on the worker wire)."""
        return {"bid_wh": self.bid_wh, "offer_wh": self.offer_wh, "bid_u": self.bid_u,
                "offer_u": self.offer_u}

    @staticmethod
    def from_arrays(arrays: dict[str, NDArray[Any]]) -> OrderArrays:
        return OrderArrays(arrays["bid_wh"], arrays["offer_wh"], arrays["bid_u"],
                           arrays["offer_u"])


class MemberOrders:
    """Builds the members' orders and flexibility reports from the population's physics.

    ``physics`` gives the population's current physics (an extension may wrap
    it after construction). ``regions`` limits the forecast to the regions a
    worker hosts (their physics only is built there); ``None`` means all.
    ``kinds``, ``node_ids`` and ``policies`` (policy objects or classes by group,
    from the Python API) let the scenario's bidding groups be formed.
    """

    def __init__(self, scenario: Scenario, clock: SimClock, physics: Callable[[], Any], size: int,
                 streams: dict[str, np.random.Generator], region_slices: Sequence[slice],
                 regions: Sequence[int] | None = None, kinds: IntArray | None = None,
                 node_ids: Sequence[str] | None = None,
                 policies: Mapping[str, Any] | None = None) -> None:
        self.scenario = scenario
        self.clock = clock
        self._physics = physics
        self.size = size
        self.tariff = scenario.tariffs.to_market()
        self.bidders = BiddingGroups(scenario, size, streams["strategy"], kinds, node_ids,
                                     policies)
        self.min_order_wh = max(1, round(scenario.strategy.min_order_kwh * 1000))
        self.region_slices = tuple(region_slices)
        self.regions = regions
        self.forecast_kwh: FloatArray | None = None  # of the last gate, for flexibility
        self.last: OrderArrays | None = None  # the members' last decisions
        self._flex_cache: tuple[int, dict[str, FloatArray]] = (-1, {})

    def tariff_u(self, interval: int) -> tuple[int, int, int]:
        """(retail, feed-in, grid fee) in µ€/kWh for delivery interval ``interval``."""
        hour = int((interval * self.clock.market_minutes // 60) % 24)
        return (ueur_from_eur(self.tariff.retail_eur_per_kwh(hour)),
                ueur_from_eur(self.tariff.feed_in_eur_per_kwh),
                ueur_from_eur(self.tariff.grid_fee_eur_per_kwh))

    def arrays(self, interval: int) -> OrderArrays:
        """Every member's order quantities and limit prices for delivery ``interval``."""
        physics = self._physics()
        if isinstance(physics, TraderPhysics):
            bid_kwh, offer_kwh = physics.gross_orders_kwh(interval)
            bid_limit, offer_limit = physics.limit_prices(interval)
            bid_u, offer_u = ueur_from_eur(bid_limit), ueur_from_eur(offer_limit)
        else:
            forecast = self._forecast(interval)
            self.forecast_kwh = forecast
            bid_wh, bid_u, offer_wh, offer_u = self.bidders.decide(
                interval, forecast, self.tariff_u(interval))
            self.last = OrderArrays(bid_wh, offer_wh, bid_u, offer_u)
            return self.last
        self.last = OrderArrays(np.rint(bid_kwh * 1000).astype(np.int64),
                                np.rint(offer_kwh * 1000).astype(np.int64), bid_u, offer_u)
        return self.last

    def _forecast(self, interval: int) -> FloatArray:
        physics = self._physics()
        if self.regions is not None and isinstance(physics, RegionalPhysics):
            forecast = np.zeros(self.size)
            for r in self.regions:
                forecast[self.region_slices[r]] = physics.forecast_region(interval, r)
            return forecast
        result: FloatArray = physics.forecast_import_kwh(interval)
        return result

    def message(self, arrays: OrderArrays, region: int, region_id: str, node_ids: tuple[str, ...],
                auction: str, now_s: int) -> OrderBatch:
        """Region ``region``'s ``OrderBatch`` (bids first, then offers, in node order)."""
        nodes = self.region_slices[region]
        orders = build_orders(auction, nodes.start, arrays.bid_wh[nodes], arrays.offer_wh[nodes],
                              arrays.bid_u[nodes], arrays.offer_u[nodes], node_ids,
                              self.min_order_wh)
        return orders_to_message(orders, auction, region_id, node_ids, now_s)

    def flexibility(self, interval: int, nodes: slice) -> Flexibility:
        """A region's forecast demand (kW) and flexible power per template for ``interval``."""
        forecast = self.forecast_kwh
        hours = self.clock.market_minutes / 60
        demand = 0.0 if forecast is None else float(np.maximum(forecast[nodes], 0).sum()) / hours
        physics = self._physics()
        if isinstance(physics, RegionalPhysics):  # per region: a worker builds only its own
            parts = physics.flexible_region(interval, self.region_slices.index(nodes))
            return demand, {t: float(v.sum()) for t, v in parts.items()}
        flexible = getattr(physics, "flexible_kw", None)
        if flexible is None:
            return demand, {}
        if self._flex_cache[0] != interval:
            self._flex_cache = (interval, flexible(interval))
        return demand, {t: float(v[nodes].sum()) for t, v in self._flex_cache[1].items()}
