"""Campus case 2 in the model: the hallway aggregator routes surplus to the nearest classroom.

Why in the aggregator: the routing is decided from what the meters measured
in each metering interval (an empty classroom's production goes to the
nearest classroom that can use it), so it runs where the readings arrive; at
the end of each delivery interval the aggregator sends the hour's transfers to
the central market as trades at the static price, already delivered, and the
central market records and settles them like any other trade.

How a tie is read: two classrooms at the same distance from a source are a
tie. ``next`` fills the higher-numbered one first, ``previous`` the lower one,
and ``split`` offers ``next_share`` of what is left to the higher-numbered one
and the rest to the lower one; what one side cannot take is offered to the
other. ``next`` and ``previous`` are ``split`` with a share of 1 and 0, so the
three readings are one rule.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.trading.book import Orders, Trades

IntArray = NDArray[np.int64]
TieRule = Literal["next", "previous", "split"]
SourceOrder = Literal["up", "down"]
PPM = 1_000_000


def next_share_ppm(tie_break: TieRule, next_share: float) -> int:
    """The share (ppm) of a tie's surplus offered to the higher-numbered classroom."""
    if tie_break == "next":
        return PPM
    if tie_break == "previous":
        return 0
    return round(next_share * PPM)


class HallwayRouter:
    """Accumulates nearest-classroom transfers (Wh) over one delivery interval."""

    def __init__(
        self, rooms: int, node_offset: int, price_u: int, tie_break: TieRule = "next",
        max_hops: int | None = None, next_share: float = 0.5, source_order: SourceOrder = "up",
    ) -> None:
        self.rooms = rooms
        self.node_offset = node_offset
        self.price_u = price_u
        self.moved_wh = np.zeros((rooms, rooms), dtype=np.int64)
        self.share_ppm = next_share_ppm(tie_break, next_share)
        reach = rooms - 1 if max_hops is None else min(max_hops, rooms - 1)
        # each source's rings: (room k up, room k down) for k = 1..reach; -1 past either end
        self._rings = [[(i + k if i + k < rooms else -1, i - k) for k in range(1, reach + 1)]
                       for i in range(rooms)]
        self._sources = range(rooms) if source_order == "up" else range(rooms - 1, -1, -1)

    def add_interval(self, import_wh: IntArray, export_wh: IntArray) -> None:
        """Route one metering interval: exporters' Wh to the nearest importers.

        Sources one at a time (in classroom order, or from the hallway's far end
        with ``source_order: down``), each offering its surplus ring by ring: first
        the two rooms at distance 1, then 2, up to ``max_hops``; a tie is shared by
        the tie rule. What no classroom within reach takes goes to the grid.
        """
        left = export_wh.tolist()
        need = import_wh.tolist()
        if not any(left) or not any(need):
            return
        moved = self.moved_wh
        share = self.share_ppm
        for i in self._sources:
            for up, down in self._rings[i]:
                if not left[i]:
                    break
                need_up = need[up] if up >= 0 else 0
                need_down = need[down] if down >= 0 else 0
                if not (need_up or need_down):
                    continue
                offer_up = left[i] * share // PPM
                offer_down = left[i] - offer_up
                first_up = min(offer_up, need_up)
                first_down = min(offer_down, need_down)
                # what one side cannot take is offered to the other
                to_up = first_up + min(need_up - first_up, offer_down - first_down)
                to_down = first_down + min(need_down - first_down, offer_up - first_up)
                if to_up:
                    moved[i, up] += to_up
                    need[up] -= to_up
                if to_down:
                    moved[i, down] += to_down
                    need[down] -= to_down
                left[i] -= to_up + to_down

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
