"""The central market: clearing house for what regions leave over, ledger authority, validator.

Why it owns settlement: it is the only writer of the ledger. It opens each
listing, clears the regions' remainders with ``market.clear``, records every
trade (local and central) with its escrow, settles delivered intervals against
the meter readings the aggregators forward, bills the grid once per day, seals
one block per auction and publishes it for the aggregators' replicas.

Why estimated readings take the same settlement path: a run mode that can
have estimates (live mode) gives an ``EstimatePricing`` part; an estimated
member's trades of the interval deliver nothing (refunded like any shortfall)
and its estimated energy is billed at the grid tariffs in a batch of its own,
memo ``estimated a<interval>``. With ``MeteredPricing`` nothing is estimated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import mesa
import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.bus.messages import (
    ClearingResult,
    FlexibilityReport,
    GateClosed,
    GateOpen,
    LedgerBlock,
    Message,
    MeterReadingBatch,
    OrderBatch,
    OrderBookRecord,
    OrderColumns,
)
from gridcoop.agents.bus.transport import Endpoint
from gridcoop.agents.trading.attestation import Attestation, Verdict
from gridcoop.agents.trading.auction import AuctionId, AuctionIdError
from gridcoop.agents.trading.book import (
    Orders,
    Trades,
    clear_central_orders,
    orders_from_message,
    trades_from_message,
)
from gridcoop.agents.trading.handed import NodeIndex
from gridcoop.agents.trading.settled import SettledTrades
from gridcoop.ledger.transactions import Penalty
from gridcoop.market import settle_interval
from gridcoop.units import payment_ueur, released_ueur, sum_by

if TYPE_CHECKING:
    from gridcoop.agents.model.accounts import CommunityLedger
    from gridcoop.agents.model.community import CommunityModel
    from gridcoop.agents.model.parts import EstimatePricing

IntArray = NDArray[np.int64]


@dataclass(slots=True)
class Auction:
    """What the central market knows about one delivery interval."""

    auction_id: str
    interval: int
    local: list[Trades] = field(default_factory=list)
    remainders: list[Orders] = field(default_factory=list)
    books: list[Orders] = field(default_factory=list)
    flexibility: dict[str, FlexibilityReport] = field(default_factory=dict)
    trades: Trades = field(default_factory=Trades.empty)
    central_price_u: int | None = None


class CentralMarket(mesa.Agent):  # type: ignore[misc]
    """The clearing house agent and ledger authority."""

    model: CommunityModel

    def __init__(self, model: CommunityModel, endpoint: Endpoint, accounts: CommunityLedger,
                 estimates: EstimatePricing) -> None:
        super().__init__(model)
        self.endpoint = endpoint
        self.accounts = accounts
        self.estimates = estimates
        self.gates_published = 0  # gate messages (workers wait until they saw as many)
        n = model.population.size
        self.node_index = NodeIndex.of(model.population.node_ids)
        self.meter_node = {f"m-{node}": i for i, node in enumerate(model.population.node_ids)}
        self._meter_rows: dict[str, tuple[list[str], IntArray]] = {}
        """Per region, the meter ids of its last batch and their nodes: the same meters
        report every interval, so they are looked up once."""
        self.auctions: dict[int, Auction] = {}
        self._delivered: dict[int, tuple[IntArray, IntArray, set[str]]] = {}
        self._day = {name: np.zeros(n, dtype=np.int64) for name in (
            "import_wh", "import_u", "export_wh", "export_u", "fee_u", "tokens_wh")}
        self.trade_log: list[tuple[int, SettledTrades, IntArray]] = []
        self.refused: list[str] = []
        self.last_price_u: int | None = None
        self._posthoc: list[int] = []
        spec = model.scenario.consensus
        self.attestation = None if spec is None else Attestation(
            spec, model.population.node_ids, model.population.region_slices, model.scenario.seed)

    @property
    def name(self) -> str:
        return self.endpoint.name

    # --- gate -----------------------------------------------------------------------

    def open_gate(self, interval: int, sim_time_s: int) -> str:
        """Publish the invitation (AUTHORIZE_OFFERS) for delivery interval ``interval``."""
        clock = self.model.clock
        auction_id = str(AuctionId(interval))
        self.auctions[interval] = Auction(auction_id, interval)
        start = interval * clock.market_minutes * 60
        self.endpoint.publish("gate", GateOpen(
            sim_time_s=sim_time_s, auction_id=auction_id, delivery_start_s=start,
            delivery_end_s=start + clock.market_minutes * 60, gate_close_s=sim_time_s))
        self.gates_published += 1
        return auction_id

    def close_gate(self, interval: int, order_count: int, sim_time_s: int) -> None:
        self.endpoint.publish("gate", GateClosed(
            sim_time_s=sim_time_s, auction_id=self.auctions[interval].auction_id,
            order_count=order_count))
        self.gates_published += 1

    # --- inbox ----------------------------------------------------------------------

    def handle_inbox(self) -> None:
        for message in self.endpoint.drain():
            self._handle(message)


    def _handle(self, message: Message) -> None:
        if isinstance(message, MeterReadingBatch):
            self._on_readings(message)
            return
        if isinstance(message, (ClearingResult, OrderColumns, FlexibilityReport)):
            if isinstance(message, FlexibilityReport):
                interval = message.start_s // (self.model.clock.market_minutes * 60)
            else:
                try:
                    interval = AuctionId.parse(message.auction_id).interval
                except AuctionIdError as exc:
                    self.refused.append(f"{message.id}: {exc}")
                    return
            auction = self.auctions.get(interval)
            if auction is None and self.model.nearest and not isinstance(message,
                                                                         FlexibilityReport):
                auction = self.auctions[interval] = Auction(str(AuctionId(interval)), interval)
                self._posthoc.append(interval)
            if auction is None:
                self.refused.append(f"{message.id}: no open auction for {message.type}")
                return
            try:
                if isinstance(message, ClearingResult):
                    auction.local.append(trades_from_message(message, self.node_index))
                elif isinstance(message, OrderBookRecord):
                    auction.books.append(orders_from_message(message, self.node_index))
                elif isinstance(message, OrderBatch):
                    auction.remainders.append(orders_from_message(message, self.node_index))
                elif isinstance(message, FlexibilityReport):
                    auction.flexibility[message.aggregator_id] = message
            except KeyError as exc:
                self.refused.append(f"{message.id}: unknown member {exc.args[0]!r}")
            return
        self.refused.append(f"{message.id}: {message.type} is not for the central market")

    def _on_readings(self, batch: MeterReadingBatch) -> None:
        interval = batch.interval_start_s // batch.interval_s
        n = self.model.population.size
        imp, exp, regions = self._delivered.setdefault(
            interval, (np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64), set()))
        last = self._meter_rows.get(batch.region_id)
        if last is not None and last[0] == batch.meter_ids:
            index = last[1]
        else:
            try:
                index = np.array([self.meter_node[m] for m in batch.meter_ids], dtype=np.int64)
            except KeyError as exc:
                self.refused.append(f"{batch.id}: unknown meter {exc.args[0]!r}")
                return
            self._meter_rows[batch.region_id] = (list(batch.meter_ids), index)
        imp[index] = batch.import_wh
        exp[index] = batch.export_wh
        regions.add(batch.region_id)

    # --- clearing -------------------------------------------------------------------

    def clear_central(self, interval: int) -> None:
        """Clear the regions' remainders in one central book."""
        auction = self.auctions[interval]
        cleared = clear_central_orders(auction.remainders, self.model.mechanism, interval,
                                       f"{auction.auction_id}:central",
                                       self.model.scenario.mechanism_options)
        auction.central_price_u = cleared.price_u
        auction.trades = Trades.concat([*auction.local, cleared.trades])
        prices = [p for p in (cleared.price_u,) if p is not None]
        self.last_price_u = prices[0] if prices else None

    def record_posthoc(self) -> None:
        """Campus routing: record the delivered intervals' transfers (trades already known)."""
        for interval in self._posthoc:
            auction = self.auctions[interval]
            auction.trades = Trades.concat(auction.local)
            self.record_auction(interval)
        self._posthoc.clear()

    # --- the ledger -----------------------------------------------------------------

    def record_auction(self, interval: int) -> None:
        """Open, fill, close and clear the listing; lock every trade's payment in escrow."""
        auction = self.auctions[interval]
        trades = auction.trades
        if not len(trades):
            return
        book = Orders.concat(auction.books)
        traded = np.zeros(self.model.population.size, dtype=bool)
        traded[trades.buyer] = True
        traded[trades.seller] = True
        keep = traded[book.node]
        clock = self.model.clock
        start = interval * clock.market_minutes * 60
        batch = self.accounts.auction_txs(
            auction.auction_id, start, start + clock.market_minutes * 60, book.node[keep],
            book.is_buy[keep], book.energy_wh[keep], book.price_u[keep], trades.buyer,
            trades.seller, trades.energy_wh, trades.price_u)
        self.accounts.submit(batch)

    def settle_ready(self) -> list[int]:
        """Settle every delivered interval whose readings came in from all regions."""
        done = []
        regions = set(self.model.population.region_ids)
        for interval in sorted(self._delivered):
            imp, exp, seen = self._delivered[interval]
            if seen != regions:
                continue
            self._settle(interval, imp, exp)
            del self._delivered[interval]
            self.auctions.pop(interval, None)
            done.append(interval)
        return done

    def _settle(self, interval: int, import_wh: IntArray, export_wh: IntArray) -> None:
        """Settle ``interval``'s trades against the measured readings; estimated ones are
        billed at the grid tariffs (see module)."""
        estimated = self.estimates.estimated(interval, import_wh.size)
        if estimated is None or not estimated.any():
            self._settle_measured(interval, import_wh, export_wh)
            return
        self._settle_measured(interval, np.where(estimated, 0, import_wh),
                              np.where(estimated, 0, export_wh))
        imp = np.where(estimated, import_wh, 0).astype(np.int64)
        exp = np.where(estimated, export_wh, 0).astype(np.int64)
        retail_u, feed_in_u, _ = self.model.tariff_u(interval)
        imp_u, exp_u = payment_ueur(imp, retail_u), payment_ueur(exp, feed_in_u)
        zero = np.zeros_like(imp)
        self.accounts.submit(self.accounts.billing_txs(
            f"estimated {AuctionId(interval)}", imp, imp_u, exp, exp_u, zero, zero,
            low_water_u=self.accounts.initial_balance_u // 4))
        kpis = self.model.kpis
        kpis.bill_u += imp_u - exp_u
        kpis.add_baseline(imp, exp, retail_u, feed_in_u)
        kpis.retail_wh += int(imp.sum())
        kpis.retail_value_u += int(imp_u.sum())
        kpis.feed_in_wh += int(exp.sum())
        kpis.feed_in_value_u += int(exp_u.sum())
        self.estimates.settled(interval, np.flatnonzero(estimated).tolist())

    def _settle_measured(self, interval: int, import_wh: IntArray, export_wh: IntArray) -> None:
        model = self.model
        kpis = model.kpis
        auction = self.auctions.get(interval)
        trades = auction.trades if auction is not None else Trades.empty()
        retail_u, feed_in_u, fee_u_per_kwh = model.tariff_u(interval)
        fallback_wh = np.zeros_like(export_wh)
        if self.attestation is not None:
            verdict = self.attestation.check(interval, export_wh)
            export_wh, fallback_wh = verdict.trade_export_wh, verdict.fallback_wh
            self._penalise(interval, verdict, retail_u)
        delivery = settle_interval(trades.buyer, trades.seller, trades.energy_wh,
                                   import_wh, export_wh)
        residual_export_wh = delivery.residual_export_wh + fallback_wh
        short_import_u = payment_ueur(delivery.shortfall_import_wh, retail_u)
        if len(trades):
            self.accounts.submit(self.accounts.settlement_txs(
                str(AuctionId(interval)), trades.buyer, delivery.delivered_wh,
                delivery.shortfall_import_wh, retail_u, f"settlement {AuctionId(interval)}"))
        paid_u = trades.energy_wh * 0
        if len(trades):
            amount = payment_ueur(trades.energy_wh, trades.price_u)
            paid_u = released_ueur(amount, delivery.delivered_wh, trades.energy_wh)
            self.trade_log.append((interval, SettledTrades.keep(trades), delivery.delivered_wh))
        n = import_wh.size
        residual_import_u = payment_ueur(delivery.residual_import_wh, retail_u)
        export_u = payment_ueur(residual_export_wh, feed_in_u)
        fee_u = payment_ueur(delivery.received_wh, fee_u_per_kwh)
        day = self._day
        day["import_wh"] += delivery.residual_import_wh
        day["import_u"] += residual_import_u
        day["export_wh"] += residual_export_wh
        day["export_u"] += export_u
        day["fee_u"] += fee_u
        day["tokens_wh"] += delivery.delivered_by_wh
        bought_u = sum_by(trades.buyer, paid_u, n)
        sold_u = sum_by(trades.seller, paid_u, n)
        short_u = sum_by(trades.buyer, short_import_u, n)
        kpis.bill_u += bought_u - sold_u + short_u + residual_import_u - export_u + fee_u
        kpis.add_baseline(import_wh, export_wh + fallback_wh, retail_u, feed_in_u)
        kpis.node_bought_wh += delivery.received_wh
        kpis.node_sold_wh += delivery.delivered_by_wh
        delivered_total = int(delivery.delivered_wh.sum())
        kpis.local_wh += delivered_total
        kpis.local_value_u += int(paid_u.sum())
        kpis.contracted_wh += int(trades.energy_wh.sum())
        kpis.trades += len(trades)
        grid_wh = int(delivery.residual_import_wh.sum() + delivery.shortfall_import_wh.sum())
        kpis.retail_wh += grid_wh
        kpis.retail_value_u += int(residual_import_u.sum() + short_import_u.sum())
        kpis.feed_in_wh += int(residual_export_wh.sum())
        kpis.feed_in_value_u += int(export_u.sum())
        kpis.fees_u += int(fee_u.sum())

    def _penalise(self, interval: int, verdict: Verdict, retail_u: int) -> None:
        """Record each caught lie as a penalty worth the claimed excess at the retail tariff."""
        liars = np.flatnonzero(verdict.lie_wh)
        if not liars.size:
            return
        accounts = self.accounts
        amount_u = np.maximum(payment_ueur(verdict.lie_wh[liars], retail_u), 1)
        batch = accounts.top_ups(liars, amount_u, f"meter lie {AuctionId(interval)}")
        for node, lie_wh, fine_u in zip(liars.tolist(), verdict.lie_wh[liars].tolist(),
                                        amount_u.tolist(), strict=True):
            batch.append(accounts.tx(
                Penalty, accounts.authority, accounts.member_account(node), "eur_u", fine_u,
                f"meter lie {AuctionId(interval)}: claimed {lie_wh} Wh more than its "
                f"neighbours saw ({int(verdict.observed_wh[node])} Wh)"))
        accounts.submit(batch)
        self.model.kpis.bill_u[liars] += amount_u

    def bill_day(self, memo: str) -> None:
        """Post the day's grid import, feed-in, fees and energy tokens per member."""
        day = self._day
        batch = self.accounts.billing_txs(
            memo, day["import_wh"], day["import_u"], day["export_wh"], day["export_u"],
            day["fee_u"], day["tokens_wh"], low_water_u=self.accounts.initial_balance_u // 4)
        self.accounts.submit(batch)
        self.model.kpis.tokens_wh += int(day["tokens_wh"].sum())
        for array in day.values():
            array[:] = 0

    def seal_and_publish(self, sim_time_s: int) -> bool:
        """Seal the open transactions into a block and publish it to the replicas.

        Returns False when there was nothing to seal.
        """
        if not self.accounts.ledger.pending_count:
            return False
        block = self.accounts.seal(sim_time_s)
        self.endpoint.publish("blocks", LedgerBlock.built(
            sim_time_s=sim_time_s, height=block.height, block_hash=block.hash.hex(),
            block_bytes=block.to_bytes()))
        return True
