"""Hand-worked clearings, one per mechanism and price rule (arithmetic in comments).

Energy in Wh, prices in µ€/kWh (300,000 µ€/kWh = 0.30 €/kWh); every test runs on the
market's numpy path and on the plain-Python oracle.
"""

from __future__ import annotations

from typing import Any

import pytest

from gridcoop.market import Order, Trade, mechanism_names
from gridcoop.market.errors import InvalidOptionError
from gridcoop.units import UEurPerKwh, Wh
from tests.market.helpers import CLEARERS, Clearer, bid, offer, remainders

PATHS = sorted(CLEARERS)


@pytest.fixture(params=PATHS)
def clear(request: pytest.FixtureRequest) -> Clearer:
    return CLEARERS[request.param]


def textbook() -> list[Order]:
    # Bids, best first: B1 4 kWh @0.30 (seq 1), B2 3 @0.25 (seq 2), B3 2 @0.25 (seq 3),
    # B4 5 @0.10. Offers, cheapest first: S1 3 @0.05, S2 4 @0.20, S3 4 @0.22, S4 2 @0.28.
    # Input order is shuffled on purpose: priority comes from price and sequence.
    return [
        offer("S3", 4_000, 220_000, 7, "grace"), bid("B3", 2_000, 250_000, 3, "carol"),
        bid("B1", 4_000, 300_000, 1, "alice"), offer("S1", 3_000, 50_000, 5, "erin"),
        bid("B4", 5_000, 100_000, 4, "dave"), offer("S4", 2_000, 280_000, 8, "heidi"),
        bid("B2", 3_000, 250_000, 2, "bob"), offer("S2", 4_000, 200_000, 6, "frank"),
    ]


# The merit-order walk of textbook():
#   B1 (0.30) x S1 (0.05): 3 kWh, S1 done, B1 has 1 left
#   B1 (0.30) x S2 (0.20): 1 kWh, B1 done, S2 has 3 left
#   B2 (0.25) x S2 (0.20): 3 kWh, both done (B2 before B3: same price, lower sequence)
#   B3 (0.25) x S3 (0.22): 2 kWh, B3 done, S3 has 2 left
#   B4 (0.10) <  S3 (0.22): stop.  Volume 3 + 1 + 3 + 2 = 9 kWh.
PAIRS = [("B1", "S1", 3_000), ("B1", "S2", 1_000), ("B2", "S2", 3_000), ("B3", "S3", 2_000)]
NAMES = {"B1": "alice", "B2": "bob", "B3": "carol", "S1": "erin", "S2": "frank", "S3": "grace"}


def expected_trades(prices: list[int]) -> list[Trade]:
    return [Trade(b, s, NAMES[b], NAMES[s], Wh(wh), UEurPerKwh(p), 0)
            for (b, s, wh), p in zip(PAIRS, prices, strict=True)]


def test_pay_as_clear_textbook(clear: Clearer) -> None:
    result = clear(textbook(), "pay_as_clear")
    # Margin: last bid B3 0.25, last offer S3 0.22 (partly filled, so it is also the best
    # offer left), best bid left B4 0.10.
    # Interval [max(0.22, 0.10), min(0.25, 0.22)] = [0.22, 0.22] -> 0.22.
    assert result.clearing_price_ueur_per_kwh == 220_000
    assert result.volume_wh == 9_000
    assert list(result.trades) == expected_trades([220_000] * 4)
    # Input order of what is left: S3 (4 - 2 = 2 kWh), B4 untouched, S4 untouched.
    assert remainders(result) == [("S3", 2_000), ("B4", 5_000), ("S4", 2_000)]


def test_pay_as_clear_midpoint_when_nothing_left_at_the_margin(clear: Clearer) -> None:
    # B1 5 @0.30 meets S1 5 @0.10 exactly; B2 2 @0.12 < S2 3 @0.20, so both stay out.
    # Interval [max(last offer 0.10, best bid left 0.12), min(last bid 0.30, best offer
    # left 0.20)] = [0.12, 0.20] -> (120,000 + 200,000) // 2 = 160,000: B2 would not buy
    # at 0.16, S2 would not sell at it.
    orders = [bid("B1", 5_000, 300_000, 0), bid("B2", 2_000, 120_000, 1),
              offer("S1", 5_000, 100_000, 2), offer("S2", 3_000, 200_000, 3)]
    result = clear(orders, "pay_as_clear")
    assert result.clearing_price_ueur_per_kwh == 160_000
    assert result.volume_wh == 5_000


def test_pay_as_clear_single_pair_and_excess_demand(clear: Clearer) -> None:
    # One bid 5 @0.30 and one offer 5 @0.10, nothing else: (100,000 + 300,000) // 2.
    one = clear([bid("B", 5_000, 300_000, 0), offer("S", 5_000, 100_000, 1)])
    assert one.clearing_price_ueur_per_kwh == 200_000
    # Bid 6 @0.30 against offer 4 @0.10: the bid is partly filled, so it is also the best
    # bid left: interval [max(0.10, 0.30), 0.30] = [0.30, 0.30] -> 0.30; 2 kWh left.
    short = clear([bid("B", 6_000, 300_000, 0), offer("S", 4_000, 100_000, 1)])
    assert short.clearing_price_ueur_per_kwh == 300_000
    assert short.volume_wh == 4_000
    assert remainders(short) == [("B", 2_000)]


def test_pay_as_clear_midpoint_is_rounded_down(clear: Clearer) -> None:
    # Bid 80,001 and offer 40,000 µ€/kWh, 1 kWh each: (80,001 + 40,000) / 2 = 60,000.5,
    # rounded down to 60,000 (whatever binary floats would have made of 0.0600005 €/kWh).
    result = clear([bid("B", 1_000, 80_001, 0), offer("S", 1_000, 40_000, 1)], "pay_as_clear")
    assert result.clearing_price_ueur_per_kwh == 60_000
    assert [t.price_ueur_per_kwh for t in result.trades] == [60_000]
    # The buyer pays 1,000 Wh x 60,000 µ€/kWh // 1,000 = 60,000 µ€.
    assert result.value_ueur == 60_000


def test_average_bid_weighted_by_traded_kwh(clear: Clearer) -> None:
    result = clear(textbook(), "average_bid")
    # Accepted bids: B1 4 kWh @0.30, B2 3 @0.25, B3 2 @0.25.
    # (4,000 x 300,000 + 3,000 x 250,000 + 2,000 x 250,000) // 9,000
    # = 2,450,000,000 // 9,000 = 272,222 (272,222.2 rounded down).
    assert result.clearing_price_ueur_per_kwh == 272_222
    assert result.volume_wh == 9_000
    assert [(t.buy_order_id, t.sell_order_id, t.energy_wh) for t in result.trades] == PAIRS
    assert all(t.price_ueur_per_kwh == 272_222 for t in result.trades)


def test_average_bid_unweighted(clear: Clearer) -> None:
    result = clear(textbook(), "average_bid", weighted=False)
    # (300,000 + 250,000 + 250,000) // 3 = 800,000 // 3 = 266,666 (266,666.7 down).
    assert result.clearing_price_ueur_per_kwh == 266_666


def test_average_bid_over_all_buyers(clear: Clearer) -> None:
    # Every bid, traded or not: B1 4 kWh @0.30, B2 3 @0.25, B3 2 @0.25, B4 5 @0.10.
    # Plain (the review's "average bid price offered by all buyers"):
    # (300,000 + 250,000 + 250,000 + 100,000) // 4 = 225,000.
    plain = clear(textbook(), "average_bid", bids="all", weighted=False)
    assert plain.clearing_price_ueur_per_kwh == 225_000
    assert plain.volume_wh == 9_000  # the same match; only the price differs
    # Weighted by kWh bid: (1,200,000,000 + 750,000,000 + 500,000,000 + 500,000,000) // 14,000
    # = 2,950,000,000 // 14,000 = 210,714 (210,714.3 down): below S2's and S3's limits.
    weighted = clear(textbook(), "average_bid", bids="all")
    assert weighted.clearing_price_ueur_per_kwh == 210_714
    assert all(t.price_ueur_per_kwh == 210_714 for t in weighted.trades)


def test_average_bid_refuses_an_unknown_basis(clear: Clearer) -> None:
    with pytest.raises(InvalidOptionError, match="bids must be one of accepted, all"):
        clear(textbook(), "average_bid", bids="some")


def test_average_bid_without_a_trade_has_no_price(clear: Clearer) -> None:
    orders = [bid("B", 1_000, 50_000, 0), offer("S", 1_000, 90_000, 1)]
    result = clear(orders, "average_bid", bids="all")
    assert result.clearing_price_ueur_per_kwh is None and result.volume_wh == 0


def test_average_bid_means_are_rounded_down(clear: Clearer) -> None:
    # Bids 1 kWh @100,001 and 2 kWh @100,000 take a 3 kWh offer @0.
    # Weighted: (1,000 x 100,001 + 2,000 x 100,000) // 3,000 = 300,001,000 // 3,000
    # = 100,000 (100,000.33 down). Unweighted: (100,001 + 100,000) // 2 = 100,000 (.5 down).
    orders = [bid("B1", 1_000, 100_001, 0), bid("B2", 2_000, 100_000, 1),
              offer("S", 3_000, 0, 2)]
    assert clear(orders, "average_bid").clearing_price_ueur_per_kwh == 100_000
    assert clear(orders, "average_bid", weighted=False).clearing_price_ueur_per_kwh == 100_000


@pytest.mark.parametrize(
    ("rule", "prices"),
    [
        # Each pair at the bid's price: B1, B1, B2, B3 -> 0.30, 0.30, 0.25, 0.25.
        ("bid", [300_000, 300_000, 250_000, 250_000]),
        # At the offer's price: S1, S2, S2, S3 -> 0.05, 0.20, 0.20, 0.22.
        ("offer", [50_000, 200_000, 200_000, 220_000]),
        # Midpoints: (0.30+0.05)/2, (0.30+0.20)/2, (0.25+0.20)/2, (0.25+0.22)/2.
        ("midpoint", [175_000, 250_000, 225_000, 235_000]),
    ],
)
def test_pay_as_bid(clear: Clearer, rule: str, prices: list[int]) -> None:
    options: dict[str, Any] = {} if rule == "bid" else {"pair_price": rule}
    result = clear(textbook(), "pay_as_bid", **options)
    assert result.clearing_price_ueur_per_kwh is None
    assert result.volume_wh == 9_000
    assert [(t.buy_order_id, t.sell_order_id, t.energy_wh) for t in result.trades] == PAIRS
    assert [t.price_ueur_per_kwh for t in result.trades] == prices
    if rule == "bid":
        # Buyers pay 3 x 0.30 + 1 x 0.30 + 3 x 0.25 + 2 x 0.25 = 0.9 + 0.3 + 0.75 + 0.5
        # = 2.45 € = 2,450,000 µ€.
        assert result.value_ueur == 2_450_000


def test_pay_as_bid_pair_midpoint_is_rounded_down(clear: Clearer) -> None:
    # (80,001 + 40,000) // 2 = 60,000; the bid's and the offer's prices stay exact.
    orders = [bid("B", 1_000, 80_001, 0), offer("S", 1_000, 40_000, 1)]
    got = {rule: [t.price_ueur_per_kwh for t in clear(orders, "pay_as_bid",
                                                      pair_price=rule).trades]
           for rule in ("bid", "offer", "midpoint")}
    assert got == {"bid": [80_001], "offer": [40_000], "midpoint": [60_000]}


def test_continuous_matches_on_arrival(clear: Clearer) -> None:
    orders = [
        offer("S1", 3_000, 200_000, 1, "erin"),   # rests
        offer("S2", 2_000, 150_000, 2, "frank"),  # rests; best ask now S2 0.15
        bid("B1", 4_000, 220_000, 3, "alice"),    # takes S2 2 @0.15, then S1 2 @0.20
        bid("B2", 2_000, 180_000, 4, "bob"),      # best ask S1 0.20 > 0.18: rests
        offer("S3", 3_000, 100_000, 5, "grace"),  # hits B2: 2 @0.18 (the resting bid's price)
        bid("B3", 1_000, 250_000, 6, "carol"),    # best ask S3 (1 left) 0.10: 1 @0.10
    ]
    result = clear(list(reversed(orders)), "continuous")  # input order irrelevant
    assert result.clearing_price_ueur_per_kwh is None
    assert list(result.trades) == [
        Trade("B1", "S2", "alice", "frank", Wh(2_000), UEurPerKwh(150_000), 0),
        Trade("B1", "S1", "alice", "erin", Wh(2_000), UEurPerKwh(200_000), 0),
        Trade("B2", "S3", "bob", "grace", Wh(2_000), UEurPerKwh(180_000), 0),
        Trade("B3", "S3", "carol", "grace", Wh(1_000), UEurPerKwh(100_000), 0),
    ]
    assert result.volume_wh == 7_000  # 2 + 2 + 2 + 1 kWh
    assert remainders(result) == [("S1", 1_000)]


def test_continuous_fifo_among_resting_orders(clear: Clearer) -> None:
    # Two offers at 0.10; the one with the lower sequence (S-early) trades first even though
    # it comes later in the input list.
    orders = [offer("S-late", 2_000, 100_000, 5), offer("S-early", 2_000, 100_000, 1),
              bid("B", 3_000, 500_000, 9)]
    result = clear(orders, "continuous")
    assert [(t.sell_order_id, t.energy_wh, t.price_ueur_per_kwh) for t in result.trades] == [
        ("S-early", 2_000, 100_000), ("S-late", 1_000, 100_000)]


@pytest.mark.parametrize("mechanism", ["pay_as_clear", "average_bid", "pay_as_bid",
                                       "continuous"])
def test_fifo_at_equal_price(mechanism: str, clear: Clearer) -> None:
    # Three bids at 0.30 (sequences 2, 0, 1) for 2 kWh each and one offer of 3 kWh: the bid
    # with sequence 0 fills 2 kWh, sequence 1 fills 1 kWh, sequence 2 nothing.
    orders = [bid("seq2", 2_000, 300_000, 2), bid("seq0", 2_000, 300_000, 0),
              bid("seq1", 2_000, 300_000, 1), offer("S", 3_000, 100_000, 3)]
    result = clear(orders, mechanism)
    assert [(t.buy_order_id, t.energy_wh) for t in result.trades] == [("seq0", 2_000),
                                                                        ("seq1", 1_000)]
    assert remainders(result) == [("seq2", 2_000), ("seq1", 1_000)]


def test_equal_price_and_sequence_fall_back_to_input_position(clear: Clearer) -> None:
    orders = [offer("first", 1, 100_000, 0), offer("second", 1, 100_000, 0),
              bid("B", 1, 200_000, 0)]
    result = clear(orders, "pay_as_clear")
    assert [t.sell_order_id for t in result.trades] == ["first"]


@pytest.mark.parametrize("mechanism", ["pay_as_clear", "average_bid", "pay_as_bid",
                                       "continuous"])
def test_no_crossing_and_empty_books(mechanism: str, clear: Clearer) -> None:
    empty = clear([], mechanism)
    assert (empty.volume_wh, list(empty.trades), list(empty.unmatched)) == (0, [], [])
    assert empty.clearing_price_ueur_per_kwh is None and empty.interval is None
    # Bid 0.10 below offer 0.20: nothing trades, both are returned as they came.
    orders = [bid("B", 1_000, 100_000, 0), offer("S", 1_000, 200_000, 1)]
    result = clear(orders, mechanism)
    assert result.volume_wh == 0 and result.clearing_price_ueur_per_kwh is None
    assert list(result.unmatched) == orders
    assert all(a is b for a, b in zip(result.unmatched, orders, strict=True))
    one_sided = clear([bid("B", 1_000, 100_000, 0)], mechanism)
    assert list(one_sided.unmatched) == [bid("B", 1_000, 100_000, 0)]


def test_registry_holds_the_scenario_names() -> None:
    assert {"average_bid", "pay_as_clear", "pay_as_bid", "continuous"} <= set(mechanism_names())


def test_trades_carry_the_interval_and_single_wh_add_up(clear: Clearer) -> None:
    # Bids of 1 Wh and 2 Wh fill one 3 Wh offer exactly, with no sliver left on either side.
    orders = [bid("a", 1, 300_000, 0, interval=7), bid("b", 2, 300_000, 1, interval=7),
              offer("s", 3, 100_000, 2, interval=7), offer("t", 5_000, 200_000, 3, interval=7)]
    result = clear(orders, "pay_as_clear")
    assert [(t.buy_order_id, t.sell_order_id, t.energy_wh, t.interval)
            for t in result.trades] == [("a", "s", 1, 7), ("b", "s", 2, 7)]
    assert result.interval == 7
    assert remainders(result) == [("t", 5_000)]
