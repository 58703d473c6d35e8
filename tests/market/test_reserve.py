"""Spinning-reserve clearing and availability payment, worked by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridcoop.market.errors import MarketError
from gridcoop.market.reserve import (
    DuplicateReserveOfferError,
    InvalidPricingRuleError,
    InvalidQuantityError,
    InvalidReserveOfferError,
    InvalidReserveRequestError,
    ReserveHourClosedError,
    ReserveMarket,
    ReserveOffer,
    ReserveRequest,
    availability_payment_ueur,
    clear_reserve,
    div_round_half_even,
    eur_to_ueur,
    kw_to_w,
    price_per_mw_h_from_mw_day,
    ueur_to_eur,
)

EUR = 1_000_000  # µEUR per €


def _book(hour: int = 3) -> list[ReserveOffer]:
    # Arrival order A, B, C, D. B and C share a price: B arrived first.
    return [
        ReserveOffer("A", "ra-1", hour, 10_000, 6 * EUR),
        ReserveOffer("B", "ra-2", hour, 8_000, 4 * EUR),
        ReserveOffer("C", "ra-1", hour, 12_000, 4 * EUR),
        ReserveOffer("D", "ra-3", hour, 5_000, 9 * EUR),
    ]


def test_pay_as_bid_merit_order_fifo_and_partial_acceptance() -> None:
    result = clear_reserve(ReserveRequest(3, 25_000), _book())
    # Merit order B (4 €, first), C (4 €, later), A (6 €), D (9 €).
    # B 8,000 W -> 17,000 left; C 12,000 W -> 5,000 left; A 5,000 of 10,000 W -> 0; D rejected.
    assert [(a.offer_id, a.accepted_w) for a in result.awards] == [
        ("B", 8_000),
        ("C", 12_000),
        ("A", 5_000),
    ]
    assert result.rejected_offer_ids == ("D",)
    # Payments: 8,000 W × 4,000,000 µEUR/MW-h / 10^6 = 32,000 µEUR;
    # 12,000 × 4 = 48,000; 5,000 × 6 = 30,000; total 110,000 µEUR = 0.11 €.
    assert [a.payment_ueur for a in result.awards] == [32_000, 48_000, 30_000]
    assert result.total_payment_ueur == 110_000
    assert result.accepted_w == 25_000 and result.unfilled_w == 0
    assert result.clearing_price_ueur_per_mw_h == 6 * EUR
    assert [a.owner_id for a in result.awards_of("ra-1")] == ["ra-1", "ra-1"]


def test_pay_as_clear_pays_everyone_the_marginal_price() -> None:
    result = clear_reserve(ReserveRequest(3, 25_000), _book(), pricing="pay-as-clear")
    # Marginal price 6 €/MW-h: B 8,000 × 6 = 48,000; C 12,000 × 6 = 72,000; A 5,000 × 6 = 30,000.
    assert [a.payment_ueur for a in result.awards] == [48_000, 72_000, 30_000]
    assert result.total_payment_ueur == 150_000


def test_price_ceiling_rejects_dear_offers_and_leaves_request_unfilled() -> None:
    result = clear_reserve(ReserveRequest(3, 25_000, max_price_ueur_per_mw_h=5 * EUR), _book())
    assert [a.offer_id for a in result.awards] == ["B", "C"]
    assert set(result.rejected_offer_ids) == {"A", "D"}
    assert result.unfilled_w == 25_000 - 20_000


def test_indivisible_offer_that_does_not_fit_is_skipped() -> None:
    book = _book()
    book[0] = ReserveOffer("A", "ra-1", 3, 10_000, 6 * EUR, divisible=False)
    result = clear_reserve(ReserveRequest(3, 25_000), book)
    # After B and C, 5,000 W remain: A (10,000, all or nothing) is skipped; D fills 5,000 at 9 €.
    assert [(a.offer_id, a.accepted_w, a.payment_ueur) for a in result.awards] == [
        ("B", 8_000, 32_000),
        ("C", 12_000, 48_000),
        ("D", 5_000, 45_000),
    ]
    assert result.rejected_offer_ids == ("A",)


def test_more_capacity_requested_than_offered_accepts_everything() -> None:
    result = clear_reserve(ReserveRequest(3, 100_000), _book())
    assert result.accepted_w == 35_000 and result.unfilled_w == 65_000
    assert result.rejected_offer_ids == ()


def test_zero_request_accepts_nothing_and_empty_book_clears() -> None:
    assert clear_reserve(ReserveRequest(3, 0), _book()).awards == ()
    empty = clear_reserve(ReserveRequest(3, 1_000), [])
    assert empty.awards == () and empty.clearing_price_ueur_per_mw_h is None


def test_availability_payment_rounds_half_to_even_only_below_a_micro_euro() -> None:
    assert availability_payment_ueur(10_000, 5 * EUR) == 50_000  # 10 kW at 5 €/MW-h = 0.05 €
    assert availability_payment_ueur(10_000, 5 * EUR, hours=24) == 1_200_000
    assert availability_payment_ueur(1_500, 1_000) == 2  # 1.5 -> 2
    assert availability_payment_ueur(2_500, 1_000) == 2  # 2.5 -> 2
    assert availability_payment_ueur(1_234, 333) == 0  # 0.41 -> 0


@given(st.integers(-(10**12), 10**12), st.integers(1, 10**7))
def test_div_round_half_even_matches_round(n: int, d: int) -> None:
    from fractions import Fraction

    assert div_round_half_even(n, d) == round(Fraction(n, d))


def test_unit_conversions_are_exact() -> None:
    assert kw_to_w(3.6) == 3_600
    assert kw_to_w("0.0005") == 0  # half to even
    assert kw_to_w(Decimal("7.4")) == 7_400
    assert eur_to_ueur("5.25") == 5_250_000
    assert ueur_to_eur(5_250_000) == Decimal("5.25")
    # 120 €/MW-day is 5 €/MW-h.
    assert price_per_mw_h_from_mw_day(120 * EUR) == 5 * EUR
    with pytest.raises(InvalidQuantityError, match="float"):
        eur_to_ueur(1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidQuantityError, match="6 decimals"):
        eur_to_ueur("0.0000001")
    with pytest.raises(InvalidQuantityError, match="finite"):
        kw_to_w(float("nan"))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"capacity_w": 0}, "capacity_w must be >= 1"),
        ({"capacity_w": 2.5}, "must be an int"),
        ({"price_ueur_per_mw_h": -1}, "price_ueur_per_mw_h must be >= 0"),
        ({"hour": -1}, "hour must be >= 0"),
        ({"offer_id": ""}, "offer_id must be a non-empty string"),
        ({"owner_id": None}, "owner_id must be a non-empty string"),
        ({"capacity_w": True}, "must be an int"),
    ],
)
def test_bad_offers_raise_specific_errors(kwargs: dict[str, object], match: str) -> None:
    fields: dict[str, object] = {
        "offer_id": "x",
        "owner_id": "ra",
        "hour": 0,
        "capacity_w": 1_000,
        "price_ueur_per_mw_h": 1,
    }
    fields.update(kwargs)
    with pytest.raises(InvalidReserveOfferError, match=match):
        ReserveOffer(**fields)  # type: ignore[arg-type]


def test_numpy_integers_are_accepted_and_stored_as_int() -> None:
    import numpy as np

    offer = ReserveOffer("n", "ra", np.int64(2), np.int64(3_650), np.int32(5))  # type: ignore[arg-type]
    assert type(offer.capacity_w) is int and offer.capacity_w == 3_650
    assert type(offer.hour) is int


def test_bad_requests_and_mixed_books_raise() -> None:
    with pytest.raises(InvalidReserveRequestError, match="capacity_w"):
        ReserveRequest(0, -5)
    with pytest.raises(InvalidReserveRequestError, match="max_price"):
        ReserveRequest(0, 5, max_price_ueur_per_mw_h=-1)
    with pytest.raises(InvalidReserveOfferError, match="hour 4 but the request is for hour 3"):
        clear_reserve(ReserveRequest(3, 10), [*_book(), ReserveOffer("E", "r", 4, 1, 1)])
    with pytest.raises(DuplicateReserveOfferError, match="'A'"):
        clear_reserve(ReserveRequest(3, 10), [*_book(), ReserveOffer("A", "r", 3, 1, 1)])
    with pytest.raises(InvalidPricingRuleError, match="pay-as-bid"):
        clear_reserve(ReserveRequest(3, 10), _book(), pricing="average")
    # Every reserve error is a market error, so callers can catch the family.
    assert issubclass(InvalidPricingRuleError, MarketError)


def test_market_gate_clears_each_hour_once_and_refuses_late_offers() -> None:
    market = ReserveMarket()
    market.submit_all(_book())
    market.submit(ReserveOffer("late-hour", "ra-9", 4, 1_000, 1))
    result = market.clear(ReserveRequest(3, 25_000))
    assert result.total_payment_ueur == 110_000
    assert market.clearing(3) is result and market.clearing(4) is None
    with pytest.raises(ReserveHourClosedError, match="already cleared"):
        market.submit(ReserveOffer("E", "ra-1", 3, 1_000, 1))
    with pytest.raises(ReserveHourClosedError, match="clearing\\(3\\)"):
        market.clear(ReserveRequest(3, 1))
    with pytest.raises(DuplicateReserveOfferError):
        market.submit(ReserveOffer("A", "ra-1", 5, 1_000, 1))
    market.clear(ReserveRequest(4, 500))
    assert [a.offer_id for a in market.awards()] == ["B", "C", "A", "late-hour"]
    assert [a.offer_id for a in market.awards("ra-9")] == ["late-hour"]


def test_submit_all_is_all_or_nothing() -> None:
    market = ReserveMarket()
    market.submit(ReserveOffer("A", "ra-1", 3, 10_000, 1))
    batch = [ReserveOffer("N1", "ra-1", 3, 1, 1), ReserveOffer("A", "ra-2", 3, 1, 1)]
    with pytest.raises(DuplicateReserveOfferError):
        market.submit_all(batch)
    assert [o.offer_id for o in market.offers(3)] == ["A"]
    market.submit(ReserveOffer("N1", "ra-1", 3, 1, 1))  # N1 was rolled back, so it is free
    with pytest.raises(InvalidPricingRuleError):
        ReserveMarket(pricing="nope")


offer_strategy = st.lists(
    st.tuples(st.integers(1, 50_000), st.integers(0, 20 * EUR), st.booleans()),
    max_size=12,
)


@given(offer_strategy, st.integers(0, 300_000), st.sampled_from(["pay-as-bid", "pay-as-clear"]))
def test_clearing_invariants(
    raw: list[tuple[int, int, bool]], request_w: int, pricing: str
) -> None:
    offers = [
        ReserveOffer(f"o{i}", f"ra{i % 3}", 7, cap, price, divisible)
        for i, (cap, price, divisible) in enumerate(raw)
    ]
    result = clear_reserve(ReserveRequest(7, request_w), offers, pricing)
    assert result.accepted_w <= request_w
    assert all(0 < a.accepted_w <= a.offered_w for a in result.awards)
    ids = [a.offer_id for a in result.awards] + list(result.rejected_offer_ids)
    assert sorted(ids) == sorted(o.offer_id for o in offers)
    # Merit order: accepted prices never decrease (pay-as-bid keeps each offer's own price).
    own = {o.offer_id: o.price_ueur_per_mw_h for o in offers}
    accepted_prices = [own[a.offer_id] for a in result.awards]
    assert accepted_prices == sorted(accepted_prices)
    for award in result.awards:
        assert award.payment_ueur == availability_payment_ueur(
            award.accepted_w, award.price_ueur_per_mw_h
        )
    # If something was left unfilled, every divisible offer was taken in full.
    if result.unfilled_w > 0:
        for offer in offers:
            if offer.divisible:
                taken = {a.offer_id: a.accepted_w for a in result.awards}
                assert taken.get(offer.offer_id) == offer.capacity_w
