"""The reference path: every step in plain Python, easy to read and to trust.

The fast path (:mod:`gridcoop.market.fast`) must reproduce this path's results exactly;
the property tests compare the two on random books.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from gridcoop.market.errors import InvalidAllocationError
from gridcoop.market.orders import Order, Side, to_kwh, to_units
from gridcoop.market.prepared import (
    ArrivalColumns,
    Margin,
    MeritOrderMatch,
    PairPrice,
    PreparedBook,
    TradeColumns,
)
from gridcoop.market.results import ClearingResult, ListSource, Trade, TradeList


class ReferenceMatch(MeritOrderMatch):
    """Merit-order match held as Python lists."""

    def __init__(
        self,
        buy_positions: list[int],
        sell_positions: list[int],
        units: list[int],
        bid_prices: list[float],
        offer_prices: list[float],
        accepted_bids: list[tuple[float, int]],
        margin: Margin,
    ) -> None:
        self.buy_positions = buy_positions
        self.sell_positions = sell_positions
        self.units = units
        self.bid_prices = bid_prices
        self.offer_prices = offer_prices
        self.accepted_bids = accepted_bids
        self.margin = margin
        self.volume_units = sum(units)

    @property
    def trade_count(self) -> int:
        return len(self.units)

    def uniform(self, price: float | None) -> TradeColumns:
        return TradeColumns(
            self.buy_positions, self.sell_positions, self.units,
            0.0 if price is None else price,
        )

    def pair_priced(self, rule: PairPrice) -> TradeColumns:
        if rule == "bid":
            prices = list(self.bid_prices)
        elif rule == "offer":
            prices = list(self.offer_prices)
        else:
            prices = [(b + a) / 2 for b, a in zip(self.bid_prices, self.offer_prices, strict=True)]
        return TradeColumns(self.buy_positions, self.sell_positions, self.units, prices)

    def average_accepted_bid_price(self, weighted: bool) -> float | None:
        if not self.accepted_bids:
            return None
        if weighted:
            total = sum(units for _, units in self.accepted_bids)
            return math.fsum(price * units for price, units in self.accepted_bids) / total
        return math.fsum(price for price, _ in self.accepted_bids) / len(self.accepted_bids)


class ReferenceBook(PreparedBook):
    """A validated book as a list of orders, sorted with Python's ``sorted``."""

    path = "reference"

    def __init__(self, orders: list[Order], interval: int | None) -> None:
        self.orders = orders
        self.source = ListSource(orders)
        self.interval = interval
        self.units = [to_units(o.quantity_kwh) for o in orders]
        bids = [k for k, o in enumerate(orders) if o.side is Side.BUY]
        offers = [k for k, o in enumerate(orders) if o.side is Side.SELL]
        # Priority: best price, then lowest sequence, then input position.
        self.bids = sorted(bids, key=lambda k: (-orders[k].price_eur_per_kwh,
                                                orders[k].sequence, k))
        self.offers = sorted(offers, key=lambda k: (orders[k].price_eur_per_kwh,
                                                    orders[k].sequence, k))

    def __len__(self) -> int:
        return len(self.orders)

    def merit_order_match(self) -> ReferenceMatch:
        orders, units, bids, offers = self.orders, self.units, self.bids, self.offers
        buy_positions: list[int] = []
        sell_positions: list[int] = []
        traded: list[int] = []
        bid_prices: list[float] = []
        offer_prices: list[float] = []
        accepted: list[tuple[float, int]] = []
        i = j = 0
        left_b = units[bids[0]] if bids else 0
        left_o = units[offers[0]] if offers else 0
        while i < len(bids) and j < len(offers):
            bid, offer = orders[bids[i]], orders[offers[j]]
            if bid.price_eur_per_kwh < offer.price_eur_per_kwh:
                break
            quantity = min(left_b, left_o)
            buy_positions.append(bids[i])
            sell_positions.append(offers[j])
            traded.append(quantity)
            bid_prices.append(bid.price_eur_per_kwh)
            offer_prices.append(offer.price_eur_per_kwh)
            if len(accepted) == i:  # first piece of bid i
                accepted.append((bid.price_eur_per_kwh, 0))
            price, filled = accepted[i]
            accepted[i] = (price, filled + quantity)
            left_b -= quantity
            left_o -= quantity
            if left_b == 0:
                i += 1
                left_b = units[bids[i]] if i < len(bids) else 0
            if left_o == 0:
                j += 1
                left_o = units[offers[j]] if j < len(offers) else 0
        margin = Margin(
            last_bid=bid_prices[-1] if traded else None,
            last_offer=offer_prices[-1] if traded else None,
            next_bid=orders[bids[i]].price_eur_per_kwh if i < len(bids) else None,
            next_offer=orders[offers[j]].price_eur_per_kwh if j < len(offers) else None,
        )
        return ReferenceMatch(buy_positions, sell_positions, traded, bid_prices,
                              offer_prices, accepted, margin)

    def arrival_columns(self) -> ArrivalColumns:
        orders = self.orders
        positions = sorted(range(len(orders)), key=lambda k: (orders[k].sequence, k))
        return ArrivalColumns(
            positions=positions,
            is_buy=[orders[k].side is Side.BUY for k in positions],
            prices=[orders[k].price_eur_per_kwh for k in positions],
            units=[self.units[k] for k in positions],
            sequences=[orders[k].sequence for k in positions],
        )

    def result(
        self, mechanism: str, trades: TradeColumns, clearing_price: float | None
    ) -> ClearingResult:
        orders, units = self.orders, self.units
        buys = [int(k) for k in trades.buy_positions]
        sells = [int(k) for k in trades.sell_positions]
        traded = [int(u) for u in trades.units]
        if not len(buys) == len(sells) == len(traded):
            raise InvalidAllocationError(
                f"mechanism {mechanism!r} returned trade columns of different lengths"
            )
        prices: Sequence[float] = (
            [float(trades.prices)] * len(traded) if isinstance(trades.prices, float)
            else [float(p) for p in trades.prices]
        )
        filled = [0] * len(orders)
        for b, s, u in zip(buys, sells, traded, strict=True):
            if u <= 0 or orders[b].side is not Side.BUY or orders[s].side is not Side.SELL:
                raise InvalidAllocationError(
                    f"mechanism {mechanism!r} made an invalid trade: buy position {b}, "
                    f"sell position {s}, {u} units"
                )
            filled[b] += u
            filled[s] += u
        for k, f in enumerate(filled):
            if f > units[k]:
                raise InvalidAllocationError(
                    f"mechanism {mechanism!r} over-filled order {orders[k].order_id!r}"
                )
        interval = self.interval if self.interval is not None else 0
        trade_list = TradeList([
            Trade(orders[b].order_id, orders[s].order_id, orders[b].participant,
                  orders[s].participant, to_kwh(u), p, interval)
            for b, s, u, p in zip(buys, sells, traded, prices, strict=True)
        ], buys, sells)
        unmatched = [
            o if f == 0 else o.with_quantity(to_kwh(units[k] - f))
            for k, (o, f) in enumerate(zip(orders, filled, strict=True))
            if f < units[k]
        ]
        return ClearingResult(
            mechanism=mechanism,
            interval=self.interval,
            clearing_price_eur_per_kwh=clearing_price,
            volume_kwh=to_kwh(sum(traded)),
            trades=trade_list,
            unmatched=unmatched,
            path=self.path,
        )
