"""Hierarchical markets: each community clears locally, the rest goes central.

A regional aggregator first matches its members' orders in a local book
(:func:`clear_local`); what is left (the unmatched remainders, with their ids,
limit prices and sequences) is forwarded to the central book
(:func:`clear_central`), where communities trade with each other. Priority in
the central book is the same price-time priority as everywhere: price, then
``sequence``, then position, where remainders are placed community by community
in the order given, each in its input order. The agent model runs the two steps
in different agents (and processes); :func:`clear_hierarchical` runs both at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gridcoop.market.batch import OrderBatch
from gridcoop.market.clearing import clear
from gridcoop.market.errors import DuplicateOrderError, InvalidOrderError, MixedIntervalsError
from gridcoop.market.registry import check_options
from gridcoop.market.results import ClearingResult
from gridcoop.units import IntArray


@dataclass(frozen=True, slots=True, eq=False)
class LocalClearing:
    """A community's clearing of ``batch``, its input; what is left goes to the central book."""

    result: ClearingResult
    batch: OrderBatch

    @property
    def forwarded_positions(self) -> IntArray:
        """Positions in ``batch`` of the forwarded orders, one each, in input order."""
        return self.result.unmatched.positions

    @property
    def forwarded(self) -> OrderBatch:
        """The remainder as a batch of its own, built when asked (the agents' book keeps
        columns of its own and needs only the positions and energies)."""
        left = self.result.unmatched
        return self.batch.take(left.positions, left.remaining_wh)


def clear_local(batch: OrderBatch, mechanism: str = "pay_as_clear",
                **options: Any) -> LocalClearing:
    """Clear one community's book; what is left of each order goes forward."""
    return LocalClearing(clear(batch, mechanism, **options), batch)


def clear_central(forwarded: Sequence[OrderBatch], interval: int,
                  mechanism: str = "pay_as_clear", **options: Any) -> ClearingResult:
    """Clear the communities' remainders in one book, community by community in the order
    given; trade positions index that concatenation."""
    for batch in forwarded:
        if len(batch) and batch.interval != interval:
            raise MixedIntervalsError(
                f"a remainder for interval {batch.interval} in the central book of interval "
                f"{interval}; clear one delivery interval at a time"
            )
    one = len(forwarded) == 1 and forwarded[0].interval == interval  # no copy to check again
    return clear(forwarded[0] if one else OrderBatch.concat(forwarded, interval), mechanism,
                 **options)


@dataclass(frozen=True, slots=True, eq=False)
class HierarchicalResult:
    """Per-community local clearings and the central result."""

    local: dict[str, LocalClearing]
    central: ClearingResult

    @property
    def local_volume_wh(self) -> int:
        return sum(local.result.volume_wh for local in self.local.values())

    @property
    def volume_wh(self) -> int:
        return self.local_volume_wh + self.central.volume_wh


def clear_hierarchical(
    books: Mapping[str, OrderBatch],
    mechanism: str = "pay_as_clear",
    central_mechanism: str | None = None,
    *,
    local_options: Mapping[str, Any] | None = None,
    central_options: Mapping[str, Any] | None = None,
) -> HierarchicalResult:
    """Clear each community's book with ``mechanism``, then the remainders centrally.

    ``central_mechanism`` defaults to ``mechanism``. Order ids must be unique
    across all communities, and all books must be for one delivery interval.
    """
    central_name = central_mechanism or mechanism
    local_opts = dict(local_options or {})
    central_opts = dict(central_options or {})
    check_options(mechanism, local_opts)
    check_options(central_name, central_opts)
    community_of: dict[str, str] = {}
    intervals = {batch.interval for batch in books.values() if len(batch)}
    if len(intervals) > 1:
        raise MixedIntervalsError(
            f"communities sent orders for intervals {sorted(intervals)}; clear one delivery "
            f"interval at a time"
        )
    for community, batch in books.items():
        if not isinstance(community, str) or not community:
            raise InvalidOrderError(f"community names must be non-empty strings, got {community!r}")
        for order_id in batch.order_ids:
            if order_id in community_of:
                raise DuplicateOrderError(
                    f"order_id {order_id!r} appears in community {community_of[order_id]!r} and "
                    f"in {community!r}; ids must be unique across communities because "
                    f"remainders meet in the central book"
                )
            community_of[order_id] = community
    local = {community: clear_local(batch, mechanism, **local_opts)
             for community, batch in books.items()}
    central = clear_central([clearing.forwarded for clearing in local.values()],
                            intervals.pop() if intervals else 0, central_name, **central_opts)
    return HierarchicalResult(local, central)
