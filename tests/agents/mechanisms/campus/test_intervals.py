"""Interval cutting and exact integer splits."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridcoop.agents.mechanisms.campus.intervals import (
    IntervalError,
    expand_to_intervals,
    person_codes,
    split_groups,
    tie_keys,
)


def test_spans_are_cut_at_interval_boundaries() -> None:
    # [0, 900) is one whole interval; [800, 1900) is 100 s of interval 0, all of 1,
    # 100 s of 2; an empty span [1000, 1000) yields nothing; [5, 10) is 5 s of interval 0.
    row, interval, seconds = expand_to_intervals(
        np.array([0, 800, 1000, 5]), np.array([900, 1900, 1000, 10]), 900
    )
    assert row.tolist() == [0, 1, 1, 1, 3]
    assert interval.tolist() == [0, 0, 1, 2, 0]
    assert seconds.tolist() == [900, 100, 900, 100, 5]
    with pytest.raises(IntervalError, match="span 0 ends before it starts"):
        expand_to_intervals(np.array([10]), np.array([5]), 900)


def test_split_groups_by_hand() -> None:
    # group 0: 10 Wh among three equal weights -> 3 each + 1 spare to the smallest key (row 1);
    # group 1: 7 Wh with weights 2:1 -> quotas 4 (rem 2) and 2 (rem 1): the spare to row 3.
    shares = split_groups(
        np.array([0, 0, 0, 1, 1]),
        np.array([1, 1, 1, 2, 1]),
        np.array([10, 7]),
        np.array([3, 1, 2, 0, 0], dtype=np.uint64),
    )
    assert shares.tolist() == [3, 4, 3, 5, 2]


def test_zero_weight_groups_get_nothing() -> None:
    shares = split_groups(
        np.array([0, 0]), np.array([0, 0]), np.array([50]), np.zeros(2, dtype=np.uint64)
    )
    assert shares.tolist() == [0, 0]
    with pytest.raises(IntervalError, match=">= 0"):
        split_groups(np.array([0]), np.array([-1]), np.array([5]), np.zeros(1, dtype=np.uint64))


def test_tie_keys_are_stable() -> None:
    codes = person_codes(["s001", "s002"])
    assert codes.tolist() == person_codes(["s001", "s002"]).tolist()
    a = tie_keys(np.array([5, 5]), codes, seed=1)
    assert a.tolist() == tie_keys(np.array([5, 5]), codes, seed=1).tolist()
    assert a.tolist() != tie_keys(np.array([5, 5]), codes, seed=2).tolist()


@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 900)), min_size=1, max_size=40),
    st.lists(st.integers(0, 20_000), min_size=6, max_size=6),
    st.integers(0, 2**32),
)
def test_each_group_gets_exactly_its_total(
    rows: list[tuple[int, int]], totals: list[int], seed: int
) -> None:
    group = np.array([g for g, _ in rows])
    weight = np.array([w for _, w in rows])
    total = np.array(totals)
    keys = tie_keys(np.arange(len(rows)), np.zeros(len(rows), dtype=np.int64), seed)
    shares = split_groups(group, weight, total, keys)
    for g in range(6):
        mine = group == g
        if weight[mine].sum() > 0:
            assert shares[mine].sum() == total[g]
            quota = total[g] * weight[mine] / weight[mine].sum()
            assert (np.abs(shares[mine] - quota) < 1).all()
        else:
            assert shares[mine].sum() == 0
