"""Largest-remainder apportionment: integer parts that add up exactly."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridcoop.agents.mechanisms.ev.revenue import ApportionError, apportion, split_revenue


def test_hand_worked_splits() -> None:
    assert apportion(100, [1, 1, 1]) == [34, 33, 33]  # tie: the first key wins
    # 10 by 3:3:1 -> 4.29, 4.29, 1.43 -> floors 4, 4, 1 (9); remainders 2/7, 2/7, 3/7 -> third.
    assert apportion(10, [3, 3, 1]) == [4, 4, 2]
    # Equal remainders: the larger weight first, then the key.
    assert apportion(1, [1, 1], keys=["b", "a"]) == [0, 1]
    assert apportion(5, [0, 0]) == [3, 2]  # all-zero weights split equally
    assert apportion(0, [4, 1]) == [0, 0]


def test_split_revenue_by_behaviour_worked_by_hand() -> None:
    # 1.00 € = 1,000,000 µEUR among scores 50, 30, 20 and a negative score (treated as 0).
    shares = split_revenue(1_000_000, {"ana": 50, "bo": 30, "cy": 20, "dee": -15})
    assert shares == {"ana": 500_000, "bo": 300_000, "cy": 200_000, "dee": 0}
    # 100 µEUR by 1:1:1 -> 34, 33, 33 with the extra unit to the first member id.
    assert split_revenue(100, {"z": 7, "y": 7, "x": 7}) == {"x": 34, "y": 33, "z": 33}


def test_bad_inputs_raise() -> None:
    with pytest.raises(ApportionError, match="total"):
        apportion(-1, [1])
    with pytest.raises(ApportionError, match="weights"):
        apportion(1, [1, -1])
    with pytest.raises(ApportionError, match="keys"):
        apportion(1, [1, 1], keys=["a"])
    with pytest.raises(ApportionError, match="nobody"):
        apportion(3, [])
    assert apportion(0, []) == []


@given(st.integers(0, 10**12), st.lists(st.integers(0, 10**6), min_size=1, max_size=40))
def test_revenue_split_sums_exactly_and_is_fair(total: int, weights: list[int]) -> None:
    parts = apportion(total, weights)
    assert sum(parts) == total
    effective = weights if sum(weights) else [1] * len(weights)
    for part, w in zip(parts, effective, strict=True):
        exact = Fraction(total * w, sum(effective))
        assert exact - 1 < part < exact + 1  # within one unit of the exact share


@given(
    st.integers(0, 10**9),
    st.dictionaries(st.text(min_size=1, max_size=5), st.integers(-100, 10**5), min_size=1),
)
def test_split_revenue_sums_exactly_and_ignores_order(revenue: int, scores: dict[str, int]) -> None:
    shares = split_revenue(revenue, scores)
    assert sum(shares.values()) == revenue
    reversed_scores = dict(reversed(list(scores.items())))
    assert split_revenue(revenue, reversed_scores) == shares
    if any(s > 0 for s in scores.values()):
        assert all(shares[m] == 0 for m, s in scores.items() if s <= 0)
