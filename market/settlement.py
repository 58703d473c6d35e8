"""Settling a clearing against the grid: local trades, fees, and the fallback.

Each local trade moves ``kWh x price`` from buyer to seller and a grid fee of
``kWh x grid_fee`` to the grid operator, paid by the buyer by default
(``fee_payer="seller"`` or ``"shared"`` for half each). Demand left unmatched
buys from the grid at the retail price of the hour; surplus left unmatched is
fed in at the feed-in tariff. Amounts are floats in euros, signed from the
participant's side (+ receives, - pays); the ledger converts them to integers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from gridcoop.market.errors import InvalidTariffError
from gridcoop.market.hierarchical import HierarchicalResult
from gridcoop.market.orders import Order, Side
from gridcoop.market.results import ClearingResult, Trade
from gridcoop.market.tariffs import TimeOfUseTariff

FeePayer = Literal["buyer", "seller", "shared"]
FEE_PAYERS: tuple[FeePayer, ...] = ("buyer", "seller", "shared")


class LineKind(StrEnum):
    LOCAL_PURCHASE = "local_purchase"
    LOCAL_SALE = "local_sale"
    GRID_FEE = "grid_fee"
    GRID_IMPORT = "grid_import"
    GRID_EXPORT = "grid_export"


@dataclass(frozen=True, slots=True)
class SettlementLine:
    """One money movement for one participant and order (``amount_eur`` > 0: receives)."""

    participant: str
    order_id: str
    kind: LineKind
    energy_kwh: float
    amount_eur: float


@dataclass(frozen=True, slots=True)
class LocalMoneyFlows:
    """Totals of the local trades: what buyers pay, sellers receive, the grid collects."""

    buyers_pay_eur: float
    sellers_receive_eur: float
    grid_fees_eur: float

    @property
    def imbalance_eur(self) -> float:
        """Paid in minus paid out; zero up to rounding when the books balance."""
        return self.buyers_pay_eur - self.sellers_receive_eur - self.grid_fees_eur


def _fee_shares(fee_payer: FeePayer) -> tuple[float, float]:
    if fee_payer == "buyer":
        return 1.0, 0.0
    if fee_payer == "seller":
        return 0.0, 1.0
    if fee_payer == "shared":
        return 0.5, 0.5
    raise InvalidTariffError(f"fee_payer must be one of {', '.join(FEE_PAYERS)}, got {fee_payer!r}")


def local_money_flows(
    trades: Iterable[Trade], grid_fee_eur_per_kwh: float, fee_payer: FeePayer = "buyer"
) -> LocalMoneyFlows:
    """What buyers pay (energy + their fee share), sellers net (energy - their share), fees.

    ``buyers_pay_eur == sellers_receive_eur + grid_fees_eur`` up to rounding.
    """
    buyer_share, seller_share = _fee_shares(fee_payer)
    paid: list[float] = []
    received: list[float] = []
    fees: list[float] = []
    for trade in trades:
        value = trade.quantity_kwh * trade.price_eur_per_kwh
        fee = trade.quantity_kwh * grid_fee_eur_per_kwh
        paid.append(value + buyer_share * fee)
        received.append(value - seller_share * fee)
        fees.append(fee)
    return LocalMoneyFlows(math.fsum(paid), math.fsum(received), math.fsum(fees))


@dataclass(frozen=True, slots=True)
class GridSettlement:
    """All money movements of one cleared interval, including the grid fallback."""

    hour: int
    lines: tuple[SettlementLine, ...]

    def _total(self, kind: LineKind, attribute: str) -> float:
        return math.fsum(getattr(line, attribute) for line in self.lines if line.kind is kind)

    def net_eur_by_participant(self) -> dict[str, float]:
        """Each participant's net money (+ received, - paid) across all lines."""
        amounts: dict[str, list[float]] = {}
        for line in self.lines:
            amounts.setdefault(line.participant, []).append(line.amount_eur)
        return {who: math.fsum(values) for who, values in amounts.items()}

    @property
    def grid_fees_eur(self) -> float:
        """Fees collected by the grid operator (positive)."""
        return -self._total(LineKind.GRID_FEE, "amount_eur")

    @property
    def grid_import_kwh(self) -> float:
        return self._total(LineKind.GRID_IMPORT, "energy_kwh")

    @property
    def grid_import_cost_eur(self) -> float:
        return -self._total(LineKind.GRID_IMPORT, "amount_eur")

    @property
    def grid_export_kwh(self) -> float:
        return self._total(LineKind.GRID_EXPORT, "energy_kwh")

    @property
    def feed_in_revenue_eur(self) -> float:
        return self._total(LineKind.GRID_EXPORT, "amount_eur")

    @property
    def local_imbalance_eur(self) -> float:
        """What buyers paid for energy minus what sellers got: zero up to rounding."""
        local = (LineKind.LOCAL_PURCHASE, LineKind.LOCAL_SALE)
        return math.fsum(line.amount_eur for line in self.lines if line.kind in local)


def _trade_lines(trades: Iterable[Trade], fee_rate: float,
                 fee_payer: FeePayer) -> list[SettlementLine]:
    buyer_share, seller_share = _fee_shares(fee_payer)
    lines: list[SettlementLine] = []
    for trade in trades:
        value = trade.quantity_kwh * trade.price_eur_per_kwh
        fee = trade.quantity_kwh * fee_rate
        lines.append(SettlementLine(trade.buyer, trade.buy_order_id, LineKind.LOCAL_PURCHASE,
                                    trade.quantity_kwh, -value))
        lines.append(SettlementLine(trade.seller, trade.sell_order_id, LineKind.LOCAL_SALE,
                                    trade.quantity_kwh, value))
        if fee and buyer_share:
            lines.append(SettlementLine(trade.buyer, trade.buy_order_id, LineKind.GRID_FEE,
                                        trade.quantity_kwh, -buyer_share * fee))
        if fee and seller_share:
            lines.append(SettlementLine(trade.seller, trade.sell_order_id, LineKind.GRID_FEE,
                                        trade.quantity_kwh, -seller_share * fee))
    return lines


def _fallback_line(order: Order, tariff: TimeOfUseTariff, hour: int) -> SettlementLine:
    if order.side is Side.BUY:
        return SettlementLine(order.participant, order.order_id, LineKind.GRID_IMPORT,
                              order.quantity_kwh,
                              -order.quantity_kwh * tariff.retail_eur_per_kwh(hour))
    return SettlementLine(order.participant, order.order_id, LineKind.GRID_EXPORT,
                          order.quantity_kwh, order.quantity_kwh * tariff.feed_in_eur_per_kwh)


def settle_with_grid(
    result: ClearingResult,
    tariff: TimeOfUseTariff,
    hour: int,
    *,
    fee_payer: FeePayer = "buyer",
) -> GridSettlement:
    """Money lines for the local trades of ``result`` and the grid fallback at ``hour``.

    Purchase and sale lines carry the energy value only; each trade's grid fee
    is a separate ``GRID_FEE`` line (two when shared) on the payer, negative:
    money that goes to the grid operator.
    """
    tariff.retail_eur_per_kwh(hour)  # validates the hour even when nothing is left over
    lines = _trade_lines(result.trades, tariff.grid_fee_eur_per_kwh, fee_payer)
    lines.extend(_fallback_line(order, tariff, hour) for order in result.unmatched)
    return GridSettlement(hour, tuple(lines))


def settle_hierarchical(
    result: HierarchicalResult,
    tariff: TimeOfUseTariff,
    hour: int,
    *,
    community_tariffs: Mapping[str, TimeOfUseTariff] | None = None,
    fee_payer: FeePayer = "buyer",
) -> GridSettlement:
    """Settle a hierarchical clearing: local trades, central trades, then the grid.

    Only what the central book left over falls back to the grid (settling each
    local result with :func:`settle_with_grid` would charge the forwarded
    remainders twice). A community's local trades pay that community's grid fee
    (``community_tariffs[name]``, else ``tariff``); central trades pay
    ``tariff``'s fee; a remainder falls back at its own community's tariff.
    """
    tariff.retail_eur_per_kwh(hour)
    own = dict(community_tariffs or {})
    lines: list[SettlementLine] = []
    for community, local in result.local.items():
        fee_rate = own.get(community, tariff).grid_fee_eur_per_kwh
        lines.extend(_trade_lines(local.trades, fee_rate, fee_payer))
    lines.extend(_trade_lines(result.central.trades, tariff.grid_fee_eur_per_kwh, fee_payer))
    for order in result.unmatched:
        community = result.community_of[order.order_id]
        lines.append(_fallback_line(order, own.get(community, tariff), hour))
    return GridSettlement(hour, tuple(lines))
