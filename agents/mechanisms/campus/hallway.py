"""Campus case 2 in the model: the hallway aggregator routes surplus to the nearest classroom.

Why in the aggregator: the routing is decided from what the meters measured
in each metering interval (an empty classroom's production goes to the
nearest classroom that can use it), so it runs where the readings arrive; at
the end of each delivery interval the aggregator sends the hour's transfers to
the central market as trades at the static price, already delivered, and the
central market records and settles them like any other trade.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.physics.campus import TieBreak, nearest_order
from gridcoop.agents.trading.book import Orders, Trades

IntArray = NDArray[np.int64]


class HallwayRouter:
    """Accumulates nearest-classroom transfers (Wh) over one delivery interval."""

    def __init__(
        self, rooms: int, node_offset: int, price_u: int, tie_break: TieBreak = "next",
        max_hops: int | None = None,
    ) -> None:
        self.rooms = rooms
        self.node_offset = node_offset
        self.price_u = price_u
        self.moved_wh = np.zeros((rooms, rooms), dtype=np.int64)
        reach = rooms if max_hops is None else max_hops
        self._order = [[j for j in order if abs(i - j) <= reach]
                       for i, order in enumerate(nearest_order(rooms, tie_break))]

    def add_interval(self, import_wh: IntArray, export_wh: IntArray) -> None:
        """Route one metering interval: exporters' Wh to the nearest importers.

        Sources in classroom order, each filling its nearest neighbours first (up to
        ``max_hops`` rooms away); what no classroom within reach takes goes to the grid.
        """
        left = export_wh.tolist()
        need = import_wh.tolist()
        if not any(left) or not any(need):
            return
        moved = self.moved_wh
        for i, order in enumerate(self._order):
            if not left[i]:
                continue
            for j in order:
                if need[j]:
                    amount = min(left[i], need[j])
                    moved[i, j] += amount
                    left[i] -= amount
                    need[j] -= amount
                    if not left[i]:
                        break

    def flush(self, auction: str, node_ids: tuple[str, ...]) -> tuple[Trades, Orders]:
        """The interval's transfers as trades, and the matching offers and bids; then reset."""
        sellers, buyers = np.nonzero(self.moved_wh)
        energy = self.moved_wh[sellers, buyers]
        off = self.node_offset
        trades = Trades(
            [f"{auction}:hall:{k}" for k in range(energy.size)],
            [f"{auction}:{node_ids[b + off]}:b" for b in buyers.tolist()],
            [f"{auction}:{node_ids[s + off]}:o" for s in sellers.tolist()],
            (buyers + off).astype(np.int64), (sellers + off).astype(np.int64),
            energy.astype(np.int64), np.full(energy.size, self.price_u, dtype=np.int64))
        sold = self.moved_wh.sum(axis=1)
        bought = self.moved_wh.sum(axis=0)
        offer_nodes, bid_nodes = np.flatnonzero(sold), np.flatnonzero(bought)
        book = Orders(
            [f"{auction}:{node_ids[b + off]}:b" for b in bid_nodes.tolist()]
            + [f"{auction}:{node_ids[s + off]}:o" for s in offer_nodes.tolist()],
            np.concatenate([bid_nodes, offer_nodes]).astype(np.int64) + off,
            np.concatenate([np.ones(bid_nodes.size, bool), np.zeros(offer_nodes.size, bool)]),
            np.concatenate([bought[bid_nodes], sold[offer_nodes]]).astype(np.int64),
            np.full(bid_nodes.size + offer_nodes.size, self.price_u, dtype=np.int64))
        self.moved_wh[:] = 0
        return trades, book
