"""The regional aggregator: its community's local book, meters and ledger replica.

Why it clears locally first: communities are hierarchical (docs/domain/market.md); an RA
matches its own members and forwards only what is left to the central
market, so most energy never leaves the feeder. Everything it learns comes in
over the bus (order and meter batches from its region, ledger blocks from the
central market); it answers the central market over the bus too.
"""

from __future__ import annotations

import itertools
import operator
from typing import TYPE_CHECKING, Any, Protocol

import mesa
import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.bus.messages import (
    FlexibilityReport,
    GateClosed,
    GateOpen,
    LedgerBlock,
    Message,
    MeterReadingBatch,
    OrderBatch,
)
from gridcoop.agents.bus.transport import Endpoint
from gridcoop.agents.mechanisms.campus.hallway import HallwayRouter
from gridcoop.agents.scenario.schema import CampusMicrogrid
from gridcoop.agents.trading.auction import AuctionId
from gridcoop.agents.trading.book import (
    Orders,
    book_to_message,
    clear_local_orders,
    orders_from_message,
    orders_to_message,
    trades_to_message,
)
from gridcoop.agents.trading.handed import NodeIndex
from gridcoop.units import ueur_from_eur

if TYPE_CHECKING:
    from gridcoop.agents.model.population import Population
    from gridcoop.agents.physics.clock import SimClock
    from gridcoop.agents.scenario.schema import Scenario

IntArray = NDArray[np.int64]


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class AggregatorHost(Protocol):
    """What an aggregator needs of the model hosting it: ``CommunityModel`` in one process,
    ``gridcoop.agents.runtime.worker.RegionHost`` in a worker process of a multi-process run."""

    @property
    def population(self) -> Population: ...
    @property
    def clock(self) -> SimClock: ...
    @property
    def scenario(self) -> Scenario: ...
    @property
    def mechanism(self) -> str: ...
    @property
    def nearest(self) -> bool: ...
    @property
    def central(self) -> _Named: ...
    @property
    def region_meter_ids(self) -> dict[str, list[str]]: ...

    def flexibility(self, interval: int, nodes: slice) -> tuple[float, dict[str, float]]: ...


class ProtocolError(RuntimeError):
    """A message that is valid on the wire but wrong here (wrong region, unknown meter)."""


class RegionalAggregator(mesa.Agent):  # type: ignore[misc]
    """One region's aggregator (RA)."""

    model: AggregatorHost

    def __init__(self, model: AggregatorHost, region_id: str, nodes: slice,
                 endpoint: Endpoint, replica: Any) -> None:
        super().__init__(model)
        self.region_id = region_id
        self.nodes = nodes
        self.endpoint = endpoint
        self.replica = replica
        size = nodes.stop - nodes.start
        ids = model.population.node_ids
        self.meter_index = {f"m-{ids[i]}": i - nodes.start for i in range(nodes.start, nodes.stop)}
        self.member_index = NodeIndex.of(ids, nodes)
        self._import_wh = np.zeros(size, dtype=np.int64)
        self._export_wh = np.zeros(size, dtype=np.int64)
        self._counters = np.zeros(size, dtype=np.int64)
        self._hour_import = np.zeros(size, dtype=np.int64)
        self._hour_export = np.zeros(size, dtype=np.int64)
        self._intervals = 0
        self._orders: dict[str, Orders] = {}
        self.open_auctions: set[str] = set()
        self.router: HallwayRouter | None = None
        if model.nearest:
            campus = model.scenario
            assert isinstance(campus, CampusMicrogrid)
            self.router = HallwayRouter(size, nodes.start,
                                        ueur_from_eur(campus.transfer_price_eur_per_kwh),
                                        campus.tie_break, campus.max_hops,
                                        campus.next_share, campus.source_order)
        self.blocks_verified = 0
        self.gates_seen = 0  # GateOpen and GateClosed received (a worker waits on this count)
        self.local_clearings = 0
        self.refused: list[str] = []
        self._held: list[tuple[str, Message]] | None = None  # outgoing, while holding

    # --- outgoing -------------------------------------------------------------------

    def hold(self) -> None:
        """Keep outgoing messages until :meth:`release` (a worker prepares a gate's
        forwarding and local clearing ahead of the market, which takes them in later)."""
        if self._held is None:
            self._held = []

    def release(self) -> int:
        """Send what was held, in the order it was made (same ids as sending at once);
        consecutive messages to one receiver travel as one bundle."""
        held, self._held = self._held or [], None
        for to, group in itertools.groupby(held, key=operator.itemgetter(0)):
            self.endpoint.send_many(to, [message for _, message in group])
        return len(held)

    def _send(self, to: str, *messages: Message) -> None:
        """Send (or hold) ``messages`` for ``to``, together as one bundle."""
        if self._held is not None:
            self._held.extend((to, message) for message in messages)
        else:
            self.endpoint.send_many(to, messages)

    # --- inbox ----------------------------------------------------------------------

    def handle_inbox(self) -> bool:
        """Act on everything the bus delivered, in the bus's deterministic order.

        Returns True when handling sent messages on (readings forwarded to the centre).
        """
        sent = self.endpoint.stats.sent
        for message in self.endpoint.drain():
            self._handle(message)
        return self.endpoint.stats.sent != sent

    def _handle(self, message: Message) -> None:
        if isinstance(message, MeterReadingBatch):
            self._on_readings(message)
        elif isinstance(message, OrderBatch):
            if message.auction_id not in self.open_auctions:
                self.refused.append(f"{message.id}: auction {message.auction_id} is not open")
                return
            try:
                self._orders[message.auction_id] = orders_from_message(message, self.member_index)
            except KeyError as exc:
                self.refused.append(f"{message.id}: {exc.args[0]!r} is not a member of "
                                    f"{self.region_id}")
        elif isinstance(message, GateOpen):
            self.open_auctions.add(message.auction_id)
            self.gates_seen += 1
        elif isinstance(message, GateClosed):
            self.open_auctions.discard(message.auction_id)
            self.gates_seen += 1
        elif isinstance(message, LedgerBlock):
            self.replica.receive(message.height, message.block_hash, message.block_bytes)
            self.blocks_verified += 1
        else:
            self.refused.append(f"{message.id}: {message.type} is not for an aggregator")

    def _on_readings(self, batch: MeterReadingBatch) -> None:
        if batch.region_id != self.region_id:
            self.refused.append(f"{batch.id}: readings of region {batch.region_id}")
            return
        if batch.meter_ids == self.model.region_meter_ids[self.region_id]:
            self._import_wh += np.asarray(batch.import_wh, dtype=np.int64)
            self._export_wh += np.asarray(batch.export_wh, dtype=np.int64)
            self._counters = np.asarray(batch.counters, dtype=np.int64)
        else:
            for meter, imp, exp, counter in zip(batch.meter_ids, batch.import_wh,
                                                batch.export_wh, batch.counters, strict=True):
                k = self.meter_index.get(meter)
                if k is None:
                    self.refused.append(f"{batch.id}: unknown meter {meter}")
                    continue
                self._import_wh[k] += imp
                self._export_wh[k] += exp
                self._counters[k] = counter
        self._intervals += 1
        clock = self.model.clock
        if self.router is not None:
            self.router.add_interval(self._import_wh - self._hour_import,
                                     self._export_wh - self._hour_export)
            self._hour_import, self._hour_export = self._import_wh.copy(), self._export_wh.copy()
        end_s = batch.interval_start_s + batch.interval_s
        if end_s % (clock.market_minutes * 60) == 0:
            start_s = end_s - clock.market_minutes * 60
            if self.router is not None:
                self._send_transfers(start_s, batch.sim_time_s)
            self._forward_interval(start_s, batch.sim_time_s)

    def _send_transfers(self, start_s: int, sim_time_s: int) -> None:
        """Campus: the hour's nearest-classroom transfers go to the centre as delivered trades."""
        assert self.router is not None
        model = self.model
        interval = start_s // (model.clock.market_minutes * 60)
        auction = str(AuctionId(interval))
        trades, book = self.router.flush(auction, model.population.node_ids)
        if not len(trades):
            return
        ids = model.population.node_ids
        central = model.central.name
        self._send(central, trades_to_message(
            trades, auction, "nearest", self.router.price_u, ids, sim_time_s),
            book_to_message(book, auction, self.region_id, ids, sim_time_s))

    def _forward_interval(self, start_s: int, sim_time_s: int) -> None:
        """Send the delivery interval's summed readings to the central market (acked)."""
        ids = list(self.model.region_meter_ids[self.region_id])
        self._send(self.model.central.name, MeterReadingBatch.built(
            sim_time_s=sim_time_s, region_id=self.region_id, interval_start_s=start_s,
            interval_s=self.model.clock.market_minutes * 60, meter_ids=ids,
            import_wh=self._import_wh.tolist(), export_wh=self._export_wh.tolist(),
            counters=self._counters.tolist()))
        self._import_wh[:] = 0
        self._export_wh[:] = 0
        self._hour_import[:] = 0
        self._hour_export[:] = 0
        self._intervals = 0

    # --- the auction ----------------------------------------------------------------

    def clear_local(self, auction: str, interval: int, sim_time_s: int) -> None:
        """Clear the region's book; send trades, the remainder and flexibility to the centre."""
        orders = self._orders.pop(auction, Orders.empty())
        model = self.model
        cleared = clear_local_orders(orders, model.mechanism, interval,
                                     f"{auction}:{self.region_id}",
                                     model.scenario.mechanism_options)
        self.local_clearings += 1
        ids = model.population.node_ids
        messages: list[Message] = [
            trades_to_message(cleared.trades, auction, model.mechanism, cleared.price_u, ids,
                              sim_time_s),
            orders_to_message(cleared.remainder, auction, self.region_id, ids, sim_time_s)]
        demand_kw, flexible = model.flexibility(interval, self.nodes)
        if len(orders):  # the full book, for the ledger's record of offers and bids
            messages.append(book_to_message(orders, auction, self.region_id, ids, sim_time_s))
        messages.append(FlexibilityReport.built(  # Python floats, as the schema's
            sim_time_s=sim_time_s, aggregator_id=self.name, start_s=interval * 60
            * model.clock.market_minutes, step_s=model.clock.market_minutes * 60,
            demand_kw=[demand_kw], flexible_kw={k: [v] for k, v in flexible.items()}))
        self._send(model.central.name, *messages)  # one bundle: one transport message

    def pending_orders(self, interval: int) -> Orders:
        """Orders received for the auction of ``interval`` and not yet cleared."""
        return self._orders.get(str(AuctionId(interval)), Orders.empty())

    @property
    def books_held(self) -> int:
        """Auctions whose orders are in this aggregator's book, not yet cleared."""
        return len(self._orders)

    @property
    def name(self) -> str:
        return self.endpoint.name
