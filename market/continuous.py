"""The continuous double auction: orders match on arrival.

Orders are taken in arrival order (``sequence``, then input position). An
arriving bid trades against resting offers priced at or below its limit,
cheapest first and oldest first at equal price, each trade at the resting
offer's price; an arriving offer likewise against resting bids, highest first,
at the resting bid's price. Whatever is left rests in the book. This is the
price-time priority of exchange order books; it has no uniform price, so
``clearing_price_eur_per_kwh`` is ``None``.

Both paths run the same event loop (heaps keyed by price, sequence and
position): it cannot be vectorised, as each arrival depends on all before it.
"""

from __future__ import annotations

import heapq

from market.prepared import PreparedBook, TradeColumns
from market.registry import register_mechanism
from market.results import ClearingResult


@register_mechanism("continuous")
def continuous(book: PreparedBook) -> ClearingResult:
    """Match each order on arrival against the best resting orders."""
    arrivals = book.arrival_columns()
    # Heap entries: (priority price, sequence, position, remaining units, limit price).
    resting_bids: list[tuple[float, int, int, int, float]] = []
    resting_offers: list[tuple[float, int, int, int, float]] = []
    buys: list[int] = []
    sells: list[int] = []
    traded: list[int] = []
    prices: list[float] = []
    for pos, is_buy, price, units, seq in zip(
        arrivals.positions, arrivals.is_buy, arrivals.prices, arrivals.units,
        arrivals.sequences, strict=True,
    ):
        left = units
        if is_buy:
            while left and resting_offers and resting_offers[0][0] <= price:
                key, o_seq, o_pos, o_left, o_price = resting_offers[0]
                quantity = min(left, o_left)
                buys.append(pos)
                sells.append(o_pos)
                traded.append(quantity)
                prices.append(o_price)
                left -= quantity
                if quantity == o_left:
                    heapq.heappop(resting_offers)
                else:
                    heapq.heapreplace(resting_offers,
                                      (key, o_seq, o_pos, o_left - quantity, o_price))
            if left:
                heapq.heappush(resting_bids, (-price, seq, pos, left, price))
        else:
            while left and resting_bids and resting_bids[0][4] >= price:
                key, b_seq, b_pos, b_left, b_price = resting_bids[0]
                quantity = min(left, b_left)
                buys.append(b_pos)
                sells.append(pos)
                traded.append(quantity)
                prices.append(b_price)
                left -= quantity
                if quantity == b_left:
                    heapq.heappop(resting_bids)
                else:
                    heapq.heapreplace(resting_bids,
                                      (key, b_seq, b_pos, b_left - quantity, b_price))
            if left:
                heapq.heappush(resting_offers, (price, seq, pos, left, price))
    return book.result("continuous", TradeColumns(buys, sells, traded, prices), None)
