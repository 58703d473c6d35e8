"""Orders and trades of one auction as columns, and their trips through bus and market.

Why columns: a region's orders go out as one ``OrderBatch`` message, into one
``market.clear`` call, and its trades come back as one ``ClearingResult``
message; no per-order Python object is made on the hot path. Energies are
integer Wh and prices integer µ€/kWh throughout, as on the ledger and in the
market, so what the market matched is exactly what the ledger records. The
two steps of the hierarchical clearing (local, then central on the regions'
remainders) are the market's; this module only maps their positions to nodes.
The bus messages carry the same integers, so no conversion happens on the way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.bus import messages as msg
from gridcoop.agents.trading.handed import Handed, NodeIndex
from gridcoop.market import ClearingResult as MarketResult
from gridcoop.market import OrderBatch as MarketBatch
from gridcoop.market import clear_central, clear_local
from gridcoop.market.clearing import trades_nothing
from gridcoop.units import IntArray

BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Orders:
    """Bids and offers of one auction; ``node`` indexes the model's node arrays."""

    order_ids: list[str]
    node: IntArray
    is_buy: BoolArray
    energy_wh: IntArray
    price_u: IntArray

    def __len__(self) -> int:
        return len(self.order_ids)

    @staticmethod
    def empty() -> Orders:
        z = np.zeros(0, dtype=np.int64)
        return Orders([], z, np.zeros(0, dtype=bool), z, z)

    @staticmethod
    def concat(parts: list[Orders]) -> Orders:
        parts = [p for p in parts if len(p)]
        if len(parts) < 2:  # nothing to join (a region's one book): no copy
            return parts[0] if parts else Orders.empty()
        return Orders(
            [i for p in parts for i in p.order_ids],
            np.concatenate([p.node for p in parts]),
            np.concatenate([p.is_buy for p in parts]),
            np.concatenate([p.energy_wh for p in parts]),
            np.concatenate([p.price_u for p in parts]),
        )

    def take(self, index: IntArray, energy_wh: IntArray) -> Orders:
        """The orders at ``index`` with new quantities (remainders)."""
        ids = self.order_ids
        return Orders([ids[i] for i in index.tolist()], self.node[index], self.is_buy[index],
                      energy_wh, self.price_u[index])


def build_orders(auction: str, node_offset: int, bid_wh: IntArray, offer_wh: IntArray,
                 bid_price_u: IntArray, offer_price_u: IntArray, node_ids: tuple[str, ...],
                 min_wh: int) -> Orders:
    """One region's orders: a bid where ``bid_wh >= min_wh``, an offer where ``offer_wh`` is.

    Arrays are the region's slice; ``node_offset`` is the slice's start. Bids
    come first, then offers, each in node order (the arrival order).
    """
    bids = np.flatnonzero(bid_wh >= min_wh)
    offers = np.flatnonzero(offer_wh >= min_wh)
    node = np.concatenate([bids, offers]) + node_offset
    ids = [f"{auction}:{node_ids[i]}:b" for i in (bids + node_offset).tolist()]
    ids += [f"{auction}:{node_ids[i]}:o" for i in (offers + node_offset).tolist()]
    return Orders(
        ids, node.astype(np.int64),
        np.concatenate([np.ones(bids.size, dtype=bool), np.zeros(offers.size, dtype=bool)]),
        np.concatenate([bid_wh[bids], offer_wh[offers]]).astype(np.int64),
        np.concatenate([bid_price_u[bids], offer_price_u[offers]]).astype(np.int64),
    )


def _order_columns(orders: Orders, node_ids: tuple[str, ...]) -> dict[str, Any]:
    return {"order_ids": orders.order_ids,
            "participant_ids": [node_ids[i] for i in orders.node.tolist()],
            "sides": ["bid" if b else "offer" for b in orders.is_buy.tolist()],
            "energy_wh": orders.energy_wh.tolist(),
            "price_ueur_per_kwh": orders.price_u.tolist()}


_HANDED_ORDERS: Handed[Orders] = Handed(
    lambda o: (o.node, o.is_buy, o.energy_wh, o.price_u), lambda o: (o.node,))


def orders_to_message(orders: Orders, auction: str, region: str, node_ids: tuple[str, ...],
                      sim_time_s: int) -> msg.OrderBatch:
    """Orders for the receiver to clear."""
    message = msg.OrderBatch.built(sim_time_s=sim_time_s, auction_id=auction,
                                   region_id=region, **_order_columns(orders, node_ids))
    _HANDED_ORDERS.keep(message, node_ids, orders)
    return message


def book_to_message(orders: Orders, auction: str, region: str, node_ids: tuple[str, ...],
                    sim_time_s: int) -> msg.OrderBookRecord:
    """A locally cleared book, for the ledger's record of offers and bids only."""
    message = msg.OrderBookRecord.built(sim_time_s=sim_time_s, auction_id=auction,
                                        region_id=region, **_order_columns(orders, node_ids))
    _HANDED_ORDERS.keep(message, node_ids, orders)
    return message


def orders_from_message(batch: msg.OrderColumns, node_index: NodeIndex) -> Orders:
    """The batch's columns: those it was built from when this process built it (see
    ``handed``), else parsed; a participant ``node_index`` does not hold raises KeyError."""
    handed = _HANDED_ORDERS.take(batch, node_index)
    if handed is not None:
        return handed
    return Orders(
        list(batch.order_ids),
        np.array([node_index[p] for p in batch.participant_ids], dtype=np.int64),
        np.array([s == "bid" for s in batch.sides], dtype=bool),
        np.array(batch.energy_wh, dtype=np.int64),
        np.array(batch.price_ueur_per_kwh, dtype=np.int64),
    )


@dataclass(frozen=True, slots=True)
class Trades:
    """Matched quantities of one auction (local or central)."""

    trade_ids: list[str]
    bid_ids: list[str]
    offer_ids: list[str]
    buyer: IntArray
    seller: IntArray
    energy_wh: IntArray
    price_u: IntArray

    def __len__(self) -> int:
        return len(self.trade_ids)

    @staticmethod
    def empty() -> Trades:
        z = np.zeros(0, dtype=np.int64)
        return Trades([], [], [], z, z, z, z)

    @staticmethod
    def concat(parts: list[Trades]) -> Trades:
        parts = [p for p in parts if len(p)]
        if len(parts) < 2:
            return parts[0] if parts else Trades.empty()
        return Trades(
            [i for p in parts for i in p.trade_ids], [i for p in parts for i in p.bid_ids],
            [i for p in parts for i in p.offer_ids],
            *(np.concatenate([getattr(p, f) for p in parts])
              for f in ("buyer", "seller", "energy_wh", "price_u")),
        )


@dataclass(frozen=True, slots=True)
class Cleared:
    """One clearing: its trades, what is left of the orders, and the uniform price."""

    trades: Trades
    remainder: Orders
    price_u: int | None


def _batch(orders: Orders, interval: int) -> MarketBatch:
    return MarketBatch(
        order_ids=orders.order_ids, participants=[str(i) for i in orders.node.tolist()],
        sides=orders.is_buy, energy_wh=orders.energy_wh, price_ueur_per_kwh=orders.price_u,
        interval=interval,
    )


def _trades(orders: Orders, result: MarketResult, trade_prefix: str) -> Trades:
    """The market's trades, their input positions mapped to ``orders``' nodes and ids."""
    view = result.trades
    buy_pos, sell_pos = view.buy_positions, view.sell_positions
    ids = orders.order_ids
    return Trades(
        [f"{trade_prefix}:{k}" for k in range(len(view))],
        [ids[i] for i in buy_pos.tolist()], [ids[i] for i in sell_pos.tolist()],
        orders.node[buy_pos], orders.node[sell_pos], view.energy_wh, view.price_ueur_per_kwh,
    )


def _skips(orders: Orders, mechanism: str, options: Mapping[str, Any]) -> bool:
    """Whether the market need not run: a side is empty, so nothing can trade, or the
    mechanism is sure to trade nothing (``market.trades_nothing``)."""
    buys = orders.is_buy
    return not len(orders) or bool(buys.all()) or not bool(buys.any()) or trades_nothing(
        buys, orders.price_u, orders.energy_wh, mechanism, options)


def clear_local_orders(orders: Orders, mechanism: str, interval: int,
                       trade_prefix: str, options: Mapping[str, Any] | None = None) -> Cleared:
    """A region's local clearing (``market.clear_local``); the remainder goes central."""
    if _skips(orders, mechanism, options or {}):
        return Cleared(Trades.empty(), orders, None)
    local = clear_local(_batch(orders, interval), mechanism, **(options or {}))
    result = local.result
    return Cleared(_trades(orders, result, trade_prefix),
                   orders.take(local.forwarded_positions, result.unmatched.remaining_wh),
                   result.clearing_price_ueur_per_kwh)


def clear_central_orders(remainders: list[Orders], mechanism: str, interval: int,
                         trade_prefix: str, options: Mapping[str, Any] | None = None) -> Cleared:
    """The central clearing of the regions' remainders, region by region
    (``market.clear_central``)."""
    orders = Orders.concat(remainders)
    if _skips(orders, mechanism, options or {}):
        return Cleared(Trades.empty(), orders, None)
    result = clear_central([_batch(r, interval) for r in remainders if len(r)], interval,
                           mechanism, **(options or {}))
    left = result.unmatched
    return Cleared(_trades(orders, result, trade_prefix),
                   orders.take(left.positions, left.remaining_wh),
                   result.clearing_price_ueur_per_kwh)


_HANDED_TRADES: Handed[Trades] = Handed(
    lambda t: (t.buyer, t.seller, t.energy_wh, t.price_u), lambda t: (t.buyer, t.seller))


def trades_to_message(trades: Trades, auction: str, mechanism: str, price_u: int | None,
                      node_ids: tuple[str, ...], sim_time_s: int) -> msg.ClearingResult:
    message = msg.ClearingResult.built(
        sim_time_s=sim_time_s, auction_id=auction, mechanism=mechanism,
        clearing_price_ueur_per_kwh=None if price_u is None else int(price_u),
        trade_ids=trades.trade_ids, bid_order_ids=trades.bid_ids,
        offer_order_ids=trades.offer_ids,
        buyer_ids=[node_ids[i] for i in trades.buyer.tolist()],
        seller_ids=[node_ids[i] for i in trades.seller.tolist()],
        energy_wh=trades.energy_wh.tolist(),
        price_ueur_per_kwh=trades.price_u.tolist(),
    )
    _HANDED_TRADES.keep(message, node_ids, trades)
    return message


def trades_from_message(result: msg.ClearingResult, node_index: NodeIndex) -> Trades:
    """As ``orders_from_message``, for trades."""
    handed = _HANDED_TRADES.take(result, node_index)
    if handed is not None:
        return handed
    return Trades(
        list(result.trade_ids), list(result.bid_order_ids), list(result.offer_order_ids),
        np.array([node_index[p] for p in result.buyer_ids], dtype=np.int64),
        np.array([node_index[p] for p in result.seller_ids], dtype=np.int64),
        np.array(result.energy_wh, dtype=np.int64),
        np.array(result.price_ueur_per_kwh, dtype=np.int64),
    )
