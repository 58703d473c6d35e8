"""Hand-worked clearings, one per mechanism and price rule (arithmetic in comments)."""

from __future__ import annotations

from typing import Any

import pytest

from gridcoop.market import ClearingResult, Order, Trade, clear, mechanism_names
from tests.market.helpers import bid, offer

PATHS = ["reference", "fast"]


def textbook() -> list[Order]:
    # Bids, best first: B1 4 kWh @0.30 (seq 1), B2 3 @0.25 (seq 2), B3 2 @0.25 (seq 3),
    # B4 5 @0.10. Offers, cheapest first: S1 3 @0.05, S2 4 @0.20, S3 4 @0.22, S4 2 @0.28.
    # Input order is shuffled on purpose: priority comes from price and sequence.
    return [
        offer("S3", 4, 0.22, 7, "grace"), bid("B3", 2, 0.25, 3, "carol"),
        bid("B1", 4, 0.30, 1, "alice"), offer("S1", 3, 0.05, 5, "erin"),
        bid("B4", 5, 0.10, 4, "dave"), offer("S4", 2, 0.28, 8, "heidi"),
        bid("B2", 3, 0.25, 2, "bob"), offer("S2", 4, 0.20, 6, "frank"),
    ]


# The merit-order walk of textbook():
#   B1 (0.30) x S1 (0.05): 3 kWh, S1 done, B1 has 1 left
#   B1 (0.30) x S2 (0.20): 1 kWh, B1 done, S2 has 3 left
#   B2 (0.25) x S2 (0.20): 3 kWh, both done (B2 before B3: same price, lower sequence)
#   B3 (0.25) x S3 (0.22): 2 kWh, B3 done, S3 has 2 left
#   B4 (0.10) <  S3 (0.22): stop.  Volume 3 + 1 + 3 + 2 = 9 kWh.
PAIRS = [("B1", "S1", 3.0), ("B1", "S2", 1.0), ("B2", "S2", 3.0), ("B3", "S3", 2.0)]
NAMES = {"B1": "alice", "B2": "bob", "B3": "carol", "S1": "erin", "S2": "frank", "S3": "grace"}


def expected_trades(prices: list[float]) -> list[Trade]:
    return [Trade(b, s, NAMES[b], NAMES[s], q, p, 0)
            for (b, s, q), p in zip(PAIRS, prices, strict=True)]


def remainders(result: ClearingResult) -> list[tuple[str, float]]:
    return [(o.order_id, o.quantity_kwh) for o in result.unmatched]


@pytest.mark.parametrize("path", PATHS)
def test_pay_as_clear_textbook(path: str) -> None:
    result = clear(textbook(), "pay_as_clear", path=path)
    # Margin: last bid B3 0.25, last offer S3 0.22 (partly filled, so it is also the best
    # offer left), best bid left B4 0.10.
    # Interval [max(0.22, 0.10), min(0.25, 0.22)] = [0.22, 0.22] -> 0.22.
    assert result.clearing_price_eur_per_kwh == 0.22
    assert result.volume_kwh == 9.0
    assert list(result.trades) == expected_trades([0.22] * 4)
    # Input order of what is left: S3 (4 - 2 = 2 kWh), B4 untouched, S4 untouched.
    assert remainders(result) == [("S3", 2.0), ("B4", 5.0), ("S4", 2.0)]
    assert result.path == path


@pytest.mark.parametrize("path", PATHS)
def test_pay_as_clear_midpoint_when_nothing_left_at_the_margin(path: str) -> None:
    # B1 5 @0.30 meets S1 5 @0.10 exactly; B2 2 @0.12 < S2 3 @0.20, so both stay out.
    # Interval [max(last offer 0.10, best bid left 0.12), min(last bid 0.30, best offer
    # left 0.20)] = [0.12, 0.20] -> (0.12 + 0.20) / 2 = 0.16: B2 would not buy at 0.16,
    # S2 would not sell at it.
    orders = [bid("B1", 5, 0.30, 0), bid("B2", 2, 0.12, 1), offer("S1", 5, 0.10, 2),
              offer("S2", 3, 0.20, 3)]
    result = clear(orders, "pay_as_clear", path=path)
    assert result.clearing_price_eur_per_kwh == pytest.approx(0.16, abs=1e-15)
    assert result.volume_kwh == 5.0


@pytest.mark.parametrize("path", PATHS)
def test_pay_as_clear_single_pair_and_excess_demand(path: str) -> None:
    # One bid 5 @0.30 and one offer 5 @0.10, nothing else: (0.10 + 0.30) / 2 = 0.20.
    one = clear([bid("B", 5, 0.30, 0), offer("S", 5, 0.10, 1)], path=path)
    assert one.clearing_price_eur_per_kwh == pytest.approx(0.20, abs=1e-15)
    # Bid 6 @0.30 against offer 4 @0.10: the bid is partly filled, so it is also the best
    # bid left: interval [max(0.10, 0.30), 0.30] = [0.30, 0.30] -> 0.30; 2 kWh left.
    short = clear([bid("B", 6, 0.30, 0), offer("S", 4, 0.10, 1)], path=path)
    assert short.clearing_price_eur_per_kwh == 0.30
    assert short.volume_kwh == 4.0
    assert remainders(short) == [("B", 2.0)]


@pytest.mark.parametrize("path", PATHS)
def test_average_bid_weighted_by_traded_kwh(path: str) -> None:
    result = clear(textbook(), "average_bid", path=path)
    # Accepted bids: B1 4 kWh @0.30, B2 3 @0.25, B3 2 @0.25.
    # (4 * 0.30 + 3 * 0.25 + 2 * 0.25) / 9 = (1.20 + 0.75 + 0.50) / 9 = 2.45 / 9 = 0.27222...
    price = 2.45 / 9
    assert result.clearing_price_eur_per_kwh == pytest.approx(price, abs=1e-15)
    assert result.volume_kwh == 9.0
    assert [(t.buy_order_id, t.sell_order_id, t.quantity_kwh) for t in result.trades] == PAIRS
    assert all(t.price_eur_per_kwh == result.clearing_price_eur_per_kwh for t in result.trades)


@pytest.mark.parametrize("path", PATHS)
def test_average_bid_unweighted(path: str) -> None:
    result = clear(textbook(), "average_bid", path=path, weighted=False)
    # (0.30 + 0.25 + 0.25) / 3 = 0.80 / 3 = 0.2666...
    assert result.clearing_price_eur_per_kwh == pytest.approx(0.80 / 3, abs=1e-15)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("rule", "prices"),
    [
        # Each pair at the bid's price: B1, B1, B2, B3 -> 0.30, 0.30, 0.25, 0.25.
        ("bid", [0.30, 0.30, 0.25, 0.25]),
        # At the offer's price: S1, S2, S2, S3 -> 0.05, 0.20, 0.20, 0.22.
        ("offer", [0.05, 0.20, 0.20, 0.22]),
        # Midpoints: (0.30+0.05)/2, (0.30+0.20)/2, (0.25+0.20)/2, (0.25+0.22)/2.
        ("midpoint", [0.175, 0.25, 0.225, 0.235]),
    ],
)
def test_pay_as_bid(path: str, rule: str, prices: list[float]) -> None:
    options: dict[str, Any] = {} if rule == "bid" else {"pair_price": rule}
    result = clear(textbook(), "pay_as_bid", path=path, **options)
    assert result.clearing_price_eur_per_kwh is None
    assert result.volume_kwh == 9.0
    got = [(t.buy_order_id, t.sell_order_id, t.quantity_kwh) for t in result.trades]
    assert got == PAIRS
    assert [t.price_eur_per_kwh for t in result.trades] == pytest.approx(prices, abs=1e-15)
    if rule == "bid":
        # Buyers pay 3*0.30 + 1*0.30 + 3*0.25 + 2*0.25 = 0.9 + 0.3 + 0.75 + 0.5 = 2.45 €.
        assert result.value_eur == pytest.approx(2.45, abs=1e-12)


@pytest.mark.parametrize("path", PATHS)
def test_continuous_matches_on_arrival(path: str) -> None:
    orders = [
        offer("S1", 3, 0.20, 1, "erin"),   # rests
        offer("S2", 2, 0.15, 2, "frank"),  # rests; best ask now S2 0.15
        bid("B1", 4, 0.22, 3, "alice"),    # takes S2 2 @0.15, then S1 2 @0.20; S1 1 left
        bid("B2", 2, 0.18, 4, "bob"),      # best ask S1 0.20 > 0.18: rests
        offer("S3", 3, 0.10, 5, "grace"),  # hits B2: 2 @0.18 (the resting bid's price)
        bid("B3", 1, 0.25, 6, "carol"),    # best ask S3 (1 left) 0.10: 1 @0.10
    ]
    result = clear(list(reversed(orders)), "continuous", path=path)  # input order irrelevant
    assert result.clearing_price_eur_per_kwh is None
    assert list(result.trades) == [
        Trade("B1", "S2", "alice", "frank", 2.0, 0.15, 0),
        Trade("B1", "S1", "alice", "erin", 2.0, 0.20, 0),
        Trade("B2", "S3", "bob", "grace", 2.0, 0.18, 0),
        Trade("B3", "S3", "carol", "grace", 1.0, 0.10, 0),
    ]
    assert result.volume_kwh == 7.0  # 2 + 2 + 2 + 1
    assert remainders(result) == [("S1", 1.0)]


@pytest.mark.parametrize("path", PATHS)
def test_continuous_fifo_among_resting_orders(path: str) -> None:
    # Two offers at 0.10; the one with the lower sequence (S-early) trades first even though
    # it comes later in the input list.
    orders = [offer("S-late", 2, 0.10, 5), offer("S-early", 2, 0.10, 1), bid("B", 3, 0.5, 9)]
    result = clear(orders, "continuous", path=path)
    assert [(t.sell_order_id, t.quantity_kwh, t.price_eur_per_kwh) for t in result.trades] == [
        ("S-early", 2.0, 0.10), ("S-late", 1.0, 0.10)]


@pytest.mark.parametrize("mechanism", ["pay_as_clear", "average_bid", "pay_as_bid",
                                       "continuous"])
@pytest.mark.parametrize("path", PATHS)
def test_fifo_at_equal_price(mechanism: str, path: str) -> None:
    # Three bids at 0.30 (sequences 2, 0, 1) for 2 kWh each and one offer of 3 kWh: the bid
    # with sequence 0 fills 2 kWh, sequence 1 fills 1 kWh, sequence 2 nothing.
    orders = [bid("seq2", 2, 0.30, 2), bid("seq0", 2, 0.30, 0), bid("seq1", 2, 0.30, 1),
              offer("S", 3, 0.10, 3)]
    result = clear(orders, mechanism, path=path)
    assert [(t.buy_order_id, t.quantity_kwh) for t in result.trades] == [("seq0", 2.0),
                                                                           ("seq1", 1.0)]
    assert remainders(result) == [("seq2", 2.0), ("seq1", 1.0)]


@pytest.mark.parametrize("path", PATHS)
def test_equal_price_and_sequence_fall_back_to_input_position(path: str) -> None:
    orders = [offer("first", 1, 0.1, 0), offer("second", 1, 0.1, 0), bid("B", 1, 0.2, 0)]
    result = clear(orders, "pay_as_clear", path=path)
    assert [t.sell_order_id for t in result.trades] == ["first"]


@pytest.mark.parametrize("mechanism", ["pay_as_clear", "average_bid", "pay_as_bid",
                                       "continuous"])
@pytest.mark.parametrize("path", PATHS)
def test_no_crossing_and_empty_books(mechanism: str, path: str) -> None:
    empty = clear([], mechanism, path=path)
    assert (empty.volume_kwh, list(empty.trades), list(empty.unmatched)) == (0.0, [], [])
    assert empty.clearing_price_eur_per_kwh is None and empty.interval is None
    # Bid 0.10 below offer 0.20: nothing trades, both are returned as they came.
    orders = [bid("B", 1, 0.10, 0), offer("S", 1, 0.20, 1)]
    result = clear(orders, mechanism, path=path)
    assert result.volume_kwh == 0.0 and result.clearing_price_eur_per_kwh is None
    assert list(result.unmatched) == orders
    assert all(a is b for a, b in zip(result.unmatched, orders, strict=True))
    one_sided = clear([bid("B", 1, 0.10, 0)], mechanism, path=path)
    assert list(one_sided.unmatched) == [bid("B", 1, 0.10, 0)]


def test_registry_holds_the_scenario_names() -> None:
    assert {"average_bid", "pay_as_clear", "pay_as_bid", "continuous"} <= set(mechanism_names())


def test_trades_carry_the_interval_and_decimal_quantities_add_up() -> None:
    # 0.1 + 0.2 != 0.3 in floating point, but quantities are matched in 1e-9 kWh units:
    # bids 0.1 and 0.2 fill one 0.3 offer exactly, with no sliver left on either side.
    orders = [bid("a", 0.1, 0.3, 0, interval=7), bid("b", 0.2, 0.3, 1, interval=7),
              offer("s", 0.3, 0.1, 2, interval=7), offer("t", 5, 0.2, 3, interval=7)]
    for path in PATHS:
        result = clear(orders, "pay_as_clear", path=path)
        assert [(t.buy_order_id, t.sell_order_id, t.quantity_kwh, t.interval)
                for t in result.trades] == [("a", "s", 0.1, 7), ("b", "s", 0.2, 7)]
        assert result.interval == 7
        assert remainders(result) == [("t", 5.0)]
