"""Spinning-reserve market: hourly capacity offers, merit-order clearing, availability payment.

Spinning reserve is capacity kept ready and paid for being available, whether
or not the grid calls it (docs/domain/communities.md). An aggregator offers, for one market hour,
a capacity and a price per MW-hour of availability; the grid asks for a
capacity; offers are accepted cheapest first, first-in-first-out at equal
price, the last one partially. Calls, delivery checks and penalties live in
:mod:`gridcoop.market.reserve_calls`.

Units — every quantity is an integer, so money stays exact end to end:

- capacity: watts (``*_w``); 1 MW = 1,000,000 W. :func:`kw_to_w` converts kW
  at the boundary.
- availability price: micro-euros per MW per hour (``price_ueur_per_mw_h``);
  5 €/MW-h is ``5_000_000``.
- money: micro-euros (``*_ueur``); 1 € = 1,000,000 µEUR.
- hours: integer market hours counted from the start of the run.

The availability payment of one hour is
``capacity_w × price_ueur_per_mw_h / 1,000,000`` µEUR, rounded half to even
(only fractions of a micro-euro are ever rounded).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

from gridcoop.market.errors import MarketError
from gridcoop.units import UEUR_PER_EUR

W_PER_MW = 1_000_000
PricingRule = Literal["pay-as-bid", "pay-as-clear"]
PRICING_RULES: tuple[PricingRule, ...] = ("pay-as-bid", "pay-as-clear")


class ReserveError(MarketError, ValueError):
    """Base class of the spinning-reserve market's errors."""


class InvalidReserveOfferError(ReserveError):
    """A capacity offer has a missing, negative or non-integer field."""


class InvalidReserveRequestError(ReserveError):
    """The grid's hourly request has a bad hour, capacity or price limit."""


class DuplicateReserveOfferError(ReserveError):
    """Two capacity offers share one ``offer_id``."""


class ReserveHourClosedError(ReserveError):
    """An offer or a clearing named an hour that has already been cleared."""


class InvalidPricingRuleError(ReserveError):
    """The pricing rule is not one of :data:`PRICING_RULES`."""


class InvalidQuantityError(ReserveError):
    """A kW or euro amount cannot be converted exactly to integer units."""


def div_round_half_even(numerator: int, denominator: int) -> int:
    """Exact integer division rounded half to even (banker's rounding), ``denominator > 0``."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


def _to_decimal(value: Decimal | int | float | str, what: str) -> Decimal:
    if isinstance(value, bool):
        raise InvalidQuantityError(f"{what} must be a number, got {value!r}")
    try:
        # str() of a float is its shortest repr: 3.6 becomes Decimal("3.6"), not 3.5999...
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise InvalidQuantityError(f"{what} must be a number, got {value!r}") from exc
    if not number.is_finite():
        raise InvalidQuantityError(f"{what} must be finite, got {value!r}")
    return number


def kw_to_w(power_kw: Decimal | int | float | str) -> int:
    """Convert kW to integer watts, rounding half to even to the watt."""
    watts = _to_decimal(power_kw, "power_kw") * 1000
    return int(watts.to_integral_value(rounding="ROUND_HALF_EVEN"))


def eur_to_ueur(amount_eur: Decimal | int | str) -> int:
    """Convert euros to micro-euros exactly; refuses floats and sub-micro-euro amounts."""
    if isinstance(amount_eur, float):
        raise InvalidQuantityError(
            f"euro amount {amount_eur!r} is a float; pass a Decimal or a string such as '5.25'"
        )
    micro = _to_decimal(amount_eur, "amount_eur") * UEUR_PER_EUR
    if micro != micro.to_integral_value():
        raise InvalidQuantityError(
            f"euro amount {amount_eur!r} has more than 6 decimals; round it to micro-euros"
        )
    return int(micro)


def ueur_to_eur(amount_ueur: int) -> Decimal:
    """Micro-euros as an exact Decimal number of euros (for reports)."""
    return Decimal(amount_ueur) / UEUR_PER_EUR


def price_per_mw_h_from_mw_day(price_ueur_per_mw_day: int) -> int:
    """A price per MW-day of availability as a price per MW-hour (/24, half to even)."""
    return div_round_half_even(price_ueur_per_mw_day, 24)


def availability_payment_ueur(capacity_w: int, price_ueur_per_mw_h: int, hours: int = 1) -> int:
    """What ``capacity_w`` kept available for ``hours`` earns at ``price_ueur_per_mw_h``.

    Example: 10 kW for one hour at 5 €/MW-h is
    10,000 W × 5,000,000 µEUR / 1,000,000 = 50,000 µEUR = 0.05 €.
    """
    return div_round_half_even(capacity_w * price_ueur_per_mw_h * hours, W_PER_MW)


def _check_int(
    error: type[ReserveError], owner: object, name: str, minimum: int, what: str
) -> None:
    """Require an integer field (numpy integers are accepted and stored as int)."""
    value = getattr(owner, name)
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        hint = "; convert kW with kw_to_w()" if name.endswith("_w") else ""
        raise error(f"{what} {name} must be an int, got {value!r}{hint}")
    if value < minimum:
        raise error(f"{what} {name} must be >= {minimum}, got {value}")
    object.__setattr__(owner, name, int(value))


def _check_id(error: type[ReserveError], what: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise error(f"{what} must be a non-empty string, got {value!r}")


@dataclass(frozen=True, slots=True)
class ReserveOffer:
    """Capacity an aggregator keeps ready for one hour, at a price per MW-hour.

    ``divisible=False`` means all or nothing: an offer that does not fit the
    remaining request is skipped and the next one in merit order is tried.
    """

    offer_id: str
    owner_id: str
    hour: int
    capacity_w: int
    price_ueur_per_mw_h: int
    divisible: bool = True

    def __post_init__(self) -> None:
        _check_id(InvalidReserveOfferError, "offer_id", self.offer_id)
        _check_id(InvalidReserveOfferError, "owner_id", self.owner_id)
        what = f"offer {self.offer_id}"
        _check_int(InvalidReserveOfferError, self, "hour", 0, what)
        _check_int(InvalidReserveOfferError, self, "capacity_w", 1, what)
        _check_int(InvalidReserveOfferError, self, "price_ueur_per_mw_h", 0, what)


@dataclass(frozen=True, slots=True)
class ReserveRequest:
    """The capacity the grid wants for one hour, with an optional price ceiling."""

    hour: int
    capacity_w: int
    max_price_ueur_per_mw_h: int | None = None

    def __post_init__(self) -> None:
        _check_int(InvalidReserveRequestError, self, "hour", 0, "request")
        _check_int(InvalidReserveRequestError, self, "capacity_w", 0, "request")
        if self.max_price_ueur_per_mw_h is not None:
            _check_int(InvalidReserveRequestError, self, "max_price_ueur_per_mw_h", 0, "request")


@dataclass(frozen=True, slots=True)
class ReserveAward:
    """The accepted part of one offer and what its availability earns."""

    offer_id: str
    owner_id: str
    hour: int
    offered_w: int
    accepted_w: int
    price_ueur_per_mw_h: int
    payment_ueur: int


@dataclass(frozen=True, slots=True)
class ReserveClearing:
    """The result of clearing one hour: awards in merit order, and what was left."""

    hour: int
    pricing: PricingRule
    requested_w: int
    awards: tuple[ReserveAward, ...]
    rejected_offer_ids: tuple[str, ...]
    clearing_price_ueur_per_mw_h: int | None

    @property
    def accepted_w(self) -> int:
        return sum(a.accepted_w for a in self.awards)

    @property
    def unfilled_w(self) -> int:
        return self.requested_w - self.accepted_w

    @property
    def total_payment_ueur(self) -> int:
        return sum(a.payment_ueur for a in self.awards)

    def awards_of(self, owner_id: str) -> tuple[ReserveAward, ...]:
        return tuple(a for a in self.awards if a.owner_id == owner_id)


def _check_pricing(pricing: str) -> PricingRule:
    for rule in PRICING_RULES:
        if pricing == rule:
            return rule
    raise InvalidPricingRuleError(
        f"unknown reserve pricing rule {pricing!r}; use one of {', '.join(PRICING_RULES)}"
    )


def _check_offers(request: ReserveRequest, offers: Sequence[ReserveOffer]) -> None:
    seen: set[str] = set()
    for offer in offers:
        if not isinstance(offer, ReserveOffer):
            raise InvalidReserveOfferError(f"expected a ReserveOffer, got {offer!r}")
        if offer.hour != request.hour:
            raise InvalidReserveOfferError(
                f"offer {offer.offer_id} is for hour {offer.hour} but the request is for hour "
                f"{request.hour}; clear each hour with its own offers"
            )
        if offer.offer_id in seen:
            raise DuplicateReserveOfferError(
                f"offer_id {offer.offer_id!r} appears twice; give every offer a unique id"
            )
        seen.add(offer.offer_id)


def clear_reserve(
    request: ReserveRequest, offers: Sequence[ReserveOffer], pricing: str = "pay-as-bid"
) -> ReserveClearing:
    """Accept capacity against the grid's request in merit order.

    Offers are taken cheapest first; at equal price, in the order given
    (first in, first out). Offers above the request's price ceiling are
    rejected. The last accepted divisible offer may be accepted in part; an
    indivisible one that does not fit is skipped. ``pay-as-bid`` pays each
    award its own price; ``pay-as-clear`` pays every award the highest
    accepted price (the marginal price).
    """
    rule = _check_pricing(pricing)
    if not isinstance(request, ReserveRequest):
        raise InvalidReserveRequestError(f"expected a ReserveRequest, got {request!r}")
    _check_offers(request, offers)
    ranked = sorted(enumerate(offers), key=lambda pair: (pair[1].price_ueur_per_mw_h, pair[0]))
    remaining = request.capacity_w
    accepted: list[tuple[ReserveOffer, int]] = []
    rejected: list[str] = []
    ceiling = request.max_price_ueur_per_mw_h
    for _, offer in ranked:
        too_dear = ceiling is not None and offer.price_ueur_per_mw_h > ceiling
        take = min(remaining, offer.capacity_w)
        if too_dear or take == 0 or (not offer.divisible and take < offer.capacity_w):
            rejected.append(offer.offer_id)
            continue
        accepted.append((offer, take))
        remaining -= take
    marginal = max((o.price_ueur_per_mw_h for o, _ in accepted), default=None)
    awards = []
    for offer, take in accepted:
        price = (
            marginal
            if rule == "pay-as-clear" and marginal is not None
            else offer.price_ueur_per_mw_h
        )
        awards.append(
            ReserveAward(
                offer_id=offer.offer_id,
                owner_id=offer.owner_id,
                hour=offer.hour,
                offered_w=offer.capacity_w,
                accepted_w=take,
                price_ueur_per_mw_h=price,
                payment_ueur=availability_payment_ueur(take, price),
            )
        )
    return ReserveClearing(
        hour=request.hour,
        pricing=rule,
        requested_w=request.capacity_w,
        awards=tuple(awards),
        rejected_offer_ids=tuple(rejected),
        clearing_price_ueur_per_mw_h=marginal,
    )


class ReserveMarket:
    """A gate per hour: collects offers in arrival order, clears each hour once.

    Every method either succeeds or raises with the market unchanged.
    """

    def __init__(self, pricing: str = "pay-as-bid") -> None:
        self.pricing: PricingRule = _check_pricing(pricing)
        self._offers: dict[int, list[ReserveOffer]] = {}
        self._offer_ids: set[str] = set()
        self._cleared: dict[int, ReserveClearing] = {}

    def submit(self, offer: ReserveOffer) -> None:
        """Queue an offer for its hour (arrival order is the FIFO tie-break)."""
        if not isinstance(offer, ReserveOffer):
            raise InvalidReserveOfferError(f"expected a ReserveOffer, got {offer!r}")
        if offer.hour in self._cleared:
            raise ReserveHourClosedError(
                f"hour {offer.hour} is already cleared; offer {offer.offer_id} came too late, "
                "offer for a later hour"
            )
        if offer.offer_id in self._offer_ids:
            raise DuplicateReserveOfferError(
                f"offer_id {offer.offer_id!r} was already submitted; use a new id"
            )
        self._offer_ids.add(offer.offer_id)
        self._offers.setdefault(offer.hour, []).append(offer)

    def submit_all(self, offers: Iterable[ReserveOffer]) -> None:
        """Submit several offers, all or none."""
        batch = list(offers)
        ids = [o.offer_id for o in batch if isinstance(o, ReserveOffer)]
        if len(set(ids)) != len(ids):
            raise DuplicateReserveOfferError("the batch repeats an offer_id; ids must be unique")
        done: list[ReserveOffer] = []
        try:
            for offer in batch:
                self.submit(offer)
                done.append(offer)
        except ReserveError:
            for offer in done:
                self._offer_ids.discard(offer.offer_id)
                self._offers[offer.hour].remove(offer)
                if not self._offers[offer.hour]:
                    del self._offers[offer.hour]
            raise

    def offers(self, hour: int) -> tuple[ReserveOffer, ...]:
        """The offers queued (or cleared) for ``hour``, in arrival order."""
        return tuple(self._offers.get(hour, ()))

    def clear(self, request: ReserveRequest) -> ReserveClearing:
        """Clear the request's hour with the offers received; the hour then closes."""
        if not isinstance(request, ReserveRequest):
            raise InvalidReserveRequestError(f"expected a ReserveRequest, got {request!r}")
        if request.hour in self._cleared:
            raise ReserveHourClosedError(
                f"hour {request.hour} was already cleared; read it with clearing({request.hour})"
            )
        result = clear_reserve(request, self.offers(request.hour), self.pricing)
        self._cleared[request.hour] = result
        return result

    def clearing(self, hour: int) -> ReserveClearing | None:
        """The clearing of ``hour``, or None if it has not been cleared."""
        return self._cleared.get(hour)

    def awards(self, owner_id: str | None = None) -> tuple[ReserveAward, ...]:
        """Every award so far (of one owner if given), by hour then merit order."""
        out: list[ReserveAward] = []
        for hour in sorted(self._cleared):
            out.extend(
                a for a in self._cleared[hour].awards if owner_id is None or a.owner_id == owner_id
            )
        return tuple(out)
