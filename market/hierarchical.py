"""Hierarchical markets: each community clears locally, the rest goes central.

A regional aggregator first matches its members' orders in a local book; what
is left (the unmatched remainders, with their ids, limit prices and
sequences) is forwarded to the central book, where communities trade with each
other. Priority in the central book is the same price-time priority as
everywhere: price, then ``sequence``, then position, where remainders are
placed community by community in the mapping's order, each in its input order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gridcoop.market.clearing import clear
from gridcoop.market.errors import DuplicateOrderError, InvalidOrderError, MixedIntervalsError
from gridcoop.market.orders import DEFAULT_PRICE_CAP_EUR_PER_KWH, Order
from gridcoop.market.registry import check_options
from gridcoop.market.results import ClearingResult, Trade


@dataclass(frozen=True, slots=True, eq=False)
class HierarchicalResult:
    """Per-community local results, the central result, and who came from where."""

    local: dict[str, ClearingResult]
    central: ClearingResult
    forwarded: tuple[Order, ...]
    community_of: dict[str, str]

    @property
    def trades(self) -> list[Trade]:
        """All trades: each community's local ones, then the central ones."""
        every: list[Trade] = []
        for result in self.local.values():
            every.extend(result.trades)
        every.extend(self.central.trades)
        return every

    @property
    def local_volume_kwh(self) -> float:
        return sum(result.volume_kwh for result in self.local.values())

    @property
    def volume_kwh(self) -> float:
        return self.local_volume_kwh + self.central.volume_kwh

    @property
    def unmatched(self) -> Sequence[Order]:
        """What neither the local nor the central book matched (goes to the grid)."""
        return self.central.unmatched


def clear_hierarchical(
    local_orders_by_community: Mapping[str, Sequence[Order]],
    mechanism: str = "pay_as_clear",
    central_mechanism: str | None = None,
    *,
    path: str = "auto",
    price_cap_eur_per_kwh: float = DEFAULT_PRICE_CAP_EUR_PER_KWH,
    local_options: Mapping[str, Any] | None = None,
    central_options: Mapping[str, Any] | None = None,
) -> HierarchicalResult:
    """Clear each community's book with ``mechanism``, then the remainders centrally.

    ``central_mechanism`` defaults to ``mechanism``. Order ids must be unique
    across all communities, and all orders must be for one delivery interval.
    """
    central_name = central_mechanism or mechanism
    local_opts = dict(local_options or {})
    central_opts = dict(central_options or {})
    check_options(mechanism, local_opts)
    check_options(central_name, central_opts)
    community_of: dict[str, str] = {}
    intervals: dict[int, str] = {}
    for community, orders in local_orders_by_community.items():
        if not isinstance(community, str) or not community:
            raise InvalidOrderError(f"community names must be non-empty strings, got {community!r}")
        for order in orders:
            if not isinstance(order, Order):
                raise InvalidOrderError(
                    f"community {community!r}: expected Order objects, got a "
                    f"{type(order).__name__}"
                )
            if order.order_id in community_of:
                raise DuplicateOrderError(
                    f"order_id {order.order_id!r} appears in community "
                    f"{community_of[order.order_id]!r} and in {community!r}; ids must be unique "
                    f"across communities because remainders meet in the central book"
                )
            community_of[order.order_id] = community
            intervals.setdefault(order.interval, community)
    if len(intervals) > 1:
        raise MixedIntervalsError(
            f"communities sent orders for intervals {sorted(intervals)}; clear one delivery "
            f"interval at a time"
        )
    local: dict[str, ClearingResult] = {}
    forwarded: list[Order] = []
    for community, orders in local_orders_by_community.items():
        result = clear(orders, mechanism, path=path, price_cap_eur_per_kwh=price_cap_eur_per_kwh,
                       **local_opts)
        local[community] = result
        forwarded.extend(result.unmatched)
    central = clear(forwarded, central_name, path=path,
                    price_cap_eur_per_kwh=price_cap_eur_per_kwh, **central_opts)
    return HierarchicalResult(local, central, tuple(forwarded), community_of)
