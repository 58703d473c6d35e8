"""Orders: the one validated input of every clearing.

An :class:`Order` is a frozen, slotted dataclass validated in ``__post_init__``:
light enough that a clearing of 200,000 of them is dominated by numpy, not by
attribute access. Energy is integer Wh and the limit price integer µ€/kWh, the
units of the ledger, so what the market matches is what the ledger records:
no float enters a clearing and none comes out of one.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Final

from gridcoop.market.errors import InvalidOrderError, PriceCapExceededError

#: Largest energy one order may carry (1 GWh in one delivery interval is absurd for a
#: community market; the bound keeps every integer sum far from int64 overflow).
MAX_ENERGY_WH: Final = 1_000_000_000
#: Default price cap of a market in µ€/kWh (10 €/kWh: about a hundred times retail).
DEFAULT_PRICE_CAP_UEUR_PER_KWH: Final = 10_000_000
#: Bound on (one side's energy in Wh) × (price cap in µ€/kWh): keeps the kWh-weighted
#: price sums of ``average_bid`` exact in int64.
MAX_BOOK_PRODUCT: Final = 2**62


class Side(StrEnum):
    """Which way an order trades: a bid buys, an offer sells."""

    BUY = "buy"
    SELL = "sell"


def _non_empty_text(name: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidOrderError(
            f"order {name} must be a non-empty string, got {value!r}; "
            f"give every order a {name}"
        )


def _integer(name: str, value: object, order_id: object) -> int:
    """An int (or numpy integer) >= 0; floats are refused, not rounded."""
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


@dataclass(frozen=True, slots=True)
class Order:
    """A bid (``Side.BUY``) or offer (``Side.SELL``) for one delivery interval.

    ``price_ueur_per_kwh`` is the limit: the most a buyer pays, the least a seller
    accepts. ``sequence`` is the arrival order: at equal price the lower sequence
    is served first; equal sequences fall back to position in the input.
    """

    order_id: str
    participant: str
    side: Side
    energy_wh: int
    price_ueur_per_kwh: int
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
        energy = _integer("energy_wh", self.energy_wh, oid)
        if not 1 <= energy <= MAX_ENERGY_WH:
            raise InvalidOrderError(
                f"order {oid!r}: energy_wh must be between 1 and {MAX_ENERGY_WH} Wh, got "
                f"{energy}; drop empty orders, split huge ones"
            )
        for name in ("energy_wh", "price_ueur_per_kwh", "interval", "sequence"):
            value = _integer(name, getattr(self, name), oid)
            if type(getattr(self, name)) is not int:
                object.__setattr__(self, name, value)

    @property
    def is_buy(self) -> bool:
        return self.side is Side.BUY

    def with_energy(self, energy_wh: int) -> Order:
        """The same order (id, price, sequence) with a new energy: a remainder."""
        return replace(self, energy_wh=energy_wh)


def check_price_cap(order_id: str, price_ueur_per_kwh: int, cap_ueur_per_kwh: int) -> None:
    """Raise :class:`PriceCapExceededError` when an order's limit is above the cap."""
    if price_ueur_per_kwh > cap_ueur_per_kwh:
        raise PriceCapExceededError(
            f"order {order_id!r}: price {price_ueur_per_kwh} µ€/kWh is above the market's "
            f"cap of {cap_ueur_per_kwh} µ€/kWh; check the unit (µ€/kWh) or raise "
            f"price_cap_ueur_per_kwh"
        )


def validate_price_cap(price_cap_ueur_per_kwh: object) -> int:
    """Check a configured price cap is a positive integer µ€/kWh."""
    if (isinstance(price_cap_ueur_per_kwh, bool) or not isinstance(price_cap_ueur_per_kwh, int)
            or price_cap_ueur_per_kwh <= 0):
        raise InvalidOrderError(
            f"price_cap_ueur_per_kwh must be a positive integer, got {price_cap_ueur_per_kwh!r}"
        )
    return price_cap_ueur_per_kwh
