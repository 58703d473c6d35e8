"""Order books per delivery interval, with the pilot's gate life cycle.

``AUTHORIZE_OFFERS`` (gate open: submit, cancel, replace) -> ``BIDS_CLOSED``
(gate closed: nothing changes) -> ``CLEARED`` (the result is fixed). Every
rejected call raises a specific :class:`~gridcoop.market.errors.MarketError` and leaves
the book exactly as it was.

Time priority on replace: a replace that only lowers the quantity keeps the
order's sequence and its place; any other change (a new price, a larger
quantity) re-enters the order at the back with a fresh sequence, as on
exchanges, so nobody can jump the queue by amending a resting order.
"""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from typing import Any

from gridcoop.market.clearing import clear as clear_orders
from gridcoop.market.errors import (
    DuplicateOrderError,
    GateClosedError,
    GateStateError,
    InvalidOrderError,
    UnknownIntervalError,
    UnknownOrderError,
)
from gridcoop.market.orders import (
    DEFAULT_PRICE_CAP_EUR_PER_KWH,
    Order,
    check_price_cap,
    validate_price_cap,
)
from gridcoop.market.registry import check_options
from gridcoop.market.results import ClearingResult


class GateState(StrEnum):
    """Where a delivery interval's book is in its life cycle (the pilot's names)."""

    AUTHORIZE_OFFERS = "AUTHORIZE_OFFERS"
    BIDS_CLOSED = "BIDS_CLOSED"
    CLEARED = "CLEARED"


class OrderBook:
    """The orders of one delivery interval, from gate opening to clearing."""

    def __init__(
        self, interval: int, *, price_cap_eur_per_kwh: float = DEFAULT_PRICE_CAP_EUR_PER_KWH
    ) -> None:
        if isinstance(interval, bool) or not isinstance(interval, int) or interval < 0:
            raise InvalidOrderError(f"interval must be an integer >= 0, got {interval!r}")
        self.interval = interval
        self.price_cap_eur_per_kwh = validate_price_cap(price_cap_eur_per_kwh)
        self._orders: dict[str, Order] = {}
        self._state = GateState.AUTHORIZE_OFFERS
        self._next_sequence = 0
        self._result: ClearingResult | None = None

    @property
    def state(self) -> GateState:
        return self._state

    @property
    def result(self) -> ClearingResult | None:
        """The clearing result once ``CLEARED``, else ``None``."""
        return self._result

    @property
    def next_sequence(self) -> int:
        """A sequence number later than every order seen so far (for stamping new orders)."""
        return self._next_sequence

    def __len__(self) -> int:
        return len(self._orders)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._orders

    def get(self, order_id: str) -> Order:
        try:
            return self._orders[order_id]
        except KeyError:
            raise UnknownOrderError(
                f"no order {order_id!r} in the book of interval {self.interval}"
            ) from None

    def orders(self) -> tuple[Order, ...]:
        """The live orders, in the order they (re-)entered the book."""
        return tuple(self._orders.values())

    def _require_open(self, action: str) -> None:
        if self._state is not GateState.AUTHORIZE_OFFERS:
            raise GateClosedError(
                f"cannot {action}: the gate of interval {self.interval} is {self._state.value}; "
                f"orders are accepted only while it is AUTHORIZE_OFFERS"
            )

    def _admit(self, order: Order) -> None:
        if not isinstance(order, Order):
            raise InvalidOrderError(
                f"expected an Order, got a {type(order).__name__}; build it with market.Order"
            )
        if order.interval != self.interval:
            raise UnknownIntervalError(
                f"order {order.order_id!r} is for interval {order.interval}, but this book "
                f"delivers interval {self.interval}; send it to that interval's book"
            )
        check_price_cap(order, self.price_cap_eur_per_kwh)

    def submit(self, order: Order) -> Order:
        """Add an order while the gate is open; returns it."""
        self._require_open(f"submit order {getattr(order, 'order_id', order)!r}")
        self._admit(order)
        if order.order_id in self._orders:
            raise DuplicateOrderError(
                f"order {order.order_id!r} is already in the book of interval {self.interval}; "
                f"use replace() to change it or pick a new id"
            )
        self._orders[order.order_id] = order
        self._next_sequence = max(self._next_sequence, order.sequence + 1)
        return order

    def cancel(self, order_id: str) -> Order:
        """Withdraw an order while the gate is open; returns the withdrawn order."""
        self._require_open(f"cancel order {order_id!r}")
        order = self.get(order_id)
        del self._orders[order_id]
        return order

    def replace(
        self,
        order_id: str,
        *,
        quantity_kwh: float | None = None,
        price_eur_per_kwh: float | None = None,
    ) -> Order:
        """Amend an order's quantity and/or price; returns the new order.

        Keeps time priority only when the price is unchanged and the quantity
        does not grow; otherwise the order gets :attr:`next_sequence` and moves
        to the back.
        """
        self._require_open(f"replace order {order_id!r}")
        old = self.get(order_id)
        quantity = old.quantity_kwh if quantity_kwh is None else quantity_kwh
        price = old.price_eur_per_kwh if price_eur_per_kwh is None else price_eur_per_kwh
        new = Order(old.order_id, old.participant, old.side, quantity, price, old.interval,
                    old.sequence)  # validates before anything changes
        self._admit(new)
        keeps_priority = (new.price_eur_per_kwh == old.price_eur_per_kwh
                          and new.quantity_kwh <= old.quantity_kwh)
        if not keeps_priority:
            new = dataclasses.replace(new, sequence=self._next_sequence)
        if keeps_priority:
            self._orders[order_id] = new  # same key: keeps its place
        else:
            del self._orders[order_id]
            self._orders[order_id] = new
            self._next_sequence = new.sequence + 1
        return new

    def close_gate(self) -> None:
        """``AUTHORIZE_OFFERS`` -> ``BIDS_CLOSED``."""
        if self._state is not GateState.AUTHORIZE_OFFERS:
            raise GateStateError(
                f"cannot close the gate of interval {self.interval}: it is already "
                f"{self._state.value}"
            )
        self._state = GateState.BIDS_CLOSED

    def clear(self, mechanism: str = "pay_as_clear", **options: Any) -> ClearingResult:
        """``BIDS_CLOSED`` -> ``CLEARED``: clear the book and keep the result."""
        if self._state is not GateState.BIDS_CLOSED:
            hint = ("close the gate first" if self._state is GateState.AUTHORIZE_OFFERS
                    else "it was cleared already; read .result")
            raise GateStateError(
                f"cannot clear interval {self.interval} in state {self._state.value}: {hint}"
            )
        check_options(mechanism, options)
        result = clear_orders(list(self._orders.values()), mechanism,
                              price_cap_eur_per_kwh=self.price_cap_eur_per_kwh, **options)
        self._result = result
        self._state = GateState.CLEARED
        return result


class ClearingHouse:
    """The central market's books, one per delivery interval.

    Routes each order to its interval's book; an order for an interval with no
    open book raises :class:`UnknownIntervalError`, for a closed one
    :class:`GateClosedError`.
    """

    def __init__(
        self,
        mechanism: str = "pay_as_clear",
        *,
        price_cap_eur_per_kwh: float = DEFAULT_PRICE_CAP_EUR_PER_KWH,
        **options: Any,
    ) -> None:
        check_options(mechanism, options)
        self.mechanism = mechanism
        self.options = dict(options)
        self.price_cap_eur_per_kwh = validate_price_cap(price_cap_eur_per_kwh)
        self._books: dict[int, OrderBook] = {}

    def open_gate(self, interval: int) -> OrderBook:
        """Open the book of ``interval`` (the invitation to bid)."""
        if interval in self._books:
            raise GateStateError(
                f"interval {interval} already has a book in state "
                f"{self._books[interval].state.value}"
            )
        book = OrderBook(interval, price_cap_eur_per_kwh=self.price_cap_eur_per_kwh)
        self._books[interval] = book
        return book

    def book(self, interval: int) -> OrderBook:
        try:
            return self._books[interval]
        except KeyError:
            open_ = sorted(self._books)
            raise UnknownIntervalError(
                f"no book for interval {interval}; open it with open_gate({interval}) "
                f"(books exist for {open_})"
            ) from None

    @property
    def intervals(self) -> tuple[int, ...]:
        return tuple(sorted(self._books))

    def submit(self, order: Order) -> Order:
        if not isinstance(order, Order):
            raise InvalidOrderError(f"expected an Order, got a {type(order).__name__}")
        return self.book(order.interval).submit(order)

    def cancel(self, interval: int, order_id: str) -> Order:
        return self.book(interval).cancel(order_id)

    def replace(self, interval: int, order_id: str, *, quantity_kwh: float | None = None,
                price_eur_per_kwh: float | None = None) -> Order:
        return self.book(interval).replace(order_id, quantity_kwh=quantity_kwh,
                                           price_eur_per_kwh=price_eur_per_kwh)

    def close_gate(self, interval: int) -> None:
        self.book(interval).close_gate()

    def clear(self, interval: int, mechanism: str | None = None,
              **options: Any) -> ClearingResult:
        """Clear a closed interval with the house's mechanism (or the one given)."""
        chosen = mechanism or self.mechanism
        merged = options if mechanism else {**self.options, **options}
        return self.book(interval).clear(chosen, **merged)
