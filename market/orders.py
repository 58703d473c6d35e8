"""Orders: the one validated input of every clearing.

An :class:`Order` is a frozen, slotted dataclass validated in ``__post_init__``:
light enough that a clearing of 200,000 of them is dominated by numpy, not by
attribute access (a pydantic model costs several times more per order).

Quantities are matched in integer units of :data:`QUANTITY_RESOLUTION_KWH`
(1e-9 kWh = 1 µWh): each order's ``quantity_kwh`` is rounded to that grid once,
and everything after is exact integer arithmetic, so the numpy path and the
pure-Python path agree bit for bit and no order is over-filled by rounding.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from gridcoop.market.errors import InvalidOrderError, PriceCapExceededError

#: Integer quantity units per kWh used inside matching.
UNITS_PER_KWH = 1_000_000_000
#: Smallest quantity an order may carry, and the tolerance for comparing kWh sums.
QUANTITY_RESOLUTION_KWH = 1.0 / UNITS_PER_KWH
QUANTITY_TOLERANCE_KWH = QUANTITY_RESOLUTION_KWH
#: Largest quantity one order may carry (1 GWh in one delivery interval is absurd
#: for a community market; the bound also keeps integer sums far from overflow).
MAX_QUANTITY_KWH = 1_000_000.0
#: Largest total quantity per side in one clearing (int64 sums stay exact below this).
MAX_BOOK_QUANTITY_KWH = 9.0e9
#: Default price cap of a market (€/kWh): about a hundred times retail. Books and
#: ``clear`` take ``price_cap_eur_per_kwh`` to change it.
DEFAULT_PRICE_CAP_EUR_PER_KWH = 10.0


class Side(StrEnum):
    """Which way an order trades: a bid buys, an offer sells."""

    BUY = "buy"
    SELL = "sell"


def to_units(quantity_kwh: float) -> int:
    """Round a kWh quantity to integer matching units (round half to even, like numpy)."""
    return round(quantity_kwh * UNITS_PER_KWH)


def to_kwh(units: int) -> float:
    """Convert integer matching units back to kWh (the same division numpy does)."""
    return units / UNITS_PER_KWH


def _non_empty_text(name: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidOrderError(
            f"order {name} must be a non-empty string, got {value!r}; "
            f"give every order a {name}"
        )


def _integer(name: str, value: object, order_id: object) -> int:
    if isinstance(value, bool):
        raise InvalidOrderError(f"order {order_id!r}: {name} must be an integer, got a bool")
    try:
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise InvalidOrderError(
            f"order {order_id!r}: {name} must be an integer, got {value!r}"
        ) from None
    if number < 0:
        raise InvalidOrderError(f"order {order_id!r}: {name} must be >= 0, got {number}")
    return int(number)


def _real(name: str, value: object, order_id: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidOrderError(
            f"order {order_id!r}: {name} must be a number, got {value!r}"
        )
    number = float(value)
    if not math.isfinite(number):
        raise InvalidOrderError(
            f"order {order_id!r}: {name} must be finite, got {number!r}"
        )
    return number


@dataclass(frozen=True, slots=True)
class Order:
    """A bid (``Side.BUY``) or offer (``Side.SELL``) for one delivery interval.

    ``price_eur_per_kwh`` is the limit: the most a buyer pays, the least a seller
    accepts. ``sequence`` is the arrival order: at equal price the lower sequence
    is served first; equal sequences fall back to position in the input.
    """

    order_id: str
    participant: str
    side: Side
    quantity_kwh: float
    price_eur_per_kwh: float
    interval: int = 0
    sequence: int = 0

    def __post_init__(self) -> None:
        _non_empty_text("order_id", self.order_id)
        _non_empty_text("participant", self.participant)
        oid = self.order_id
        side: Any = self.side
        if type(side) is not Side:
            try:
                side = Side(side)
            except ValueError:
                raise InvalidOrderError(
                    f"order {oid!r}: side must be 'buy' or 'sell', got {side!r}"
                ) from None
            object.__setattr__(self, "side", side)
        quantity = _real("quantity_kwh", self.quantity_kwh, oid)
        if quantity < QUANTITY_RESOLUTION_KWH:
            raise InvalidOrderError(
                f"order {oid!r}: quantity_kwh must be at least {QUANTITY_RESOLUTION_KWH:g} kWh "
                f"(positive), got {quantity!r}; drop empty orders instead of sending them"
            )
        if quantity > MAX_QUANTITY_KWH:
            raise InvalidOrderError(
                f"order {oid!r}: quantity_kwh {quantity!r} is above the per-order limit of "
                f"{MAX_QUANTITY_KWH:g} kWh; split it or check its unit"
            )
        price = _real("price_eur_per_kwh", self.price_eur_per_kwh, oid)
        if price < 0.0:
            raise InvalidOrderError(
                f"order {oid!r}: price_eur_per_kwh must be >= 0, got {price!r}"
            )
        if type(self.quantity_kwh) is not float:
            object.__setattr__(self, "quantity_kwh", quantity)
        if type(self.price_eur_per_kwh) is not float or price == 0.0:
            object.__setattr__(self, "price_eur_per_kwh", price + 0.0)  # -0.0 -> 0.0
        interval = _integer("interval", self.interval, oid)
        if type(self.interval) is not int:
            object.__setattr__(self, "interval", interval)
        sequence = _integer("sequence", self.sequence, oid)
        if type(self.sequence) is not int:
            object.__setattr__(self, "sequence", sequence)

    @property
    def is_buy(self) -> bool:
        return self.side is Side.BUY

    def with_quantity(self, quantity_kwh: float) -> Order:
        """The same order (id, price, sequence) with a new quantity: a remainder."""
        return replace(self, quantity_kwh=quantity_kwh)


def check_price_cap(order: Order, price_cap_eur_per_kwh: float) -> None:
    """Raise :class:`PriceCapExceededError` when the order's limit is above the cap."""
    if order.price_eur_per_kwh > price_cap_eur_per_kwh:
        raise PriceCapExceededError(
            f"order {order.order_id!r}: price {order.price_eur_per_kwh!r} €/kWh is above the "
            f"market's cap of {price_cap_eur_per_kwh!r} €/kWh; check the unit (€/kWh, not "
            f"€/MWh) or raise price_cap_eur_per_kwh"
        )


def validate_price_cap(price_cap_eur_per_kwh: float) -> float:
    """Check a configured price cap is a finite positive number."""
    if (
        isinstance(price_cap_eur_per_kwh, bool)
        or not isinstance(price_cap_eur_per_kwh, (int, float))
        or not math.isfinite(price_cap_eur_per_kwh)
        or price_cap_eur_per_kwh <= 0
    ):
        raise InvalidOrderError(
            f"price_cap_eur_per_kwh must be a finite positive number, got "
            f"{price_cap_eur_per_kwh!r}"
        )
    return float(price_cap_eur_per_kwh)
