"""The research report's statistics, by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcoop.experiments.research.stats import effect, hedges_g, t_interval


def test_effect_by_hand() -> None:
    off = np.array([10.0, 12.0, 14.0])
    on = np.array([9.0, 10.0, 12.0])  # differences -1, -2, -2: mean -5/3
    result = effect(off, on)
    assert result.pairs == 3
    assert result.mean_off == 12.0
    assert result.mean_on == pytest.approx(31 / 3)
    assert result.difference == pytest.approx(-5 / 3)
    assert result.relative == pytest.approx(-5 / 36)
    # sd of the differences = sqrt(1/3); t(0.975, 2) = 4.302653
    half = 4.302652729911275 * math.sqrt(1 / 3) / math.sqrt(3)
    assert (result.t_low, result.t_high) == pytest.approx((-5 / 3 - half, -5 / 3 + half))
    # every bootstrap mean lies between -2 and -1
    assert -2.0 <= result.boot_low <= result.boot_high <= -1.0
    # pooled sd: var(off) = 4, var(on) = 7/3 -> sqrt((8 + 14/3) / 4); J = 1 - 3/15
    pooled = math.sqrt((8 + 14 / 3) / 4)
    assert result.hedges_g == pytest.approx((-5 / 3) / pooled * 0.8)


def test_identical_differences_give_a_point_interval() -> None:
    result = effect(np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.5, 3.5]))
    assert (result.boot_low, result.boot_high) == pytest.approx((0.5, 0.5))
    assert (result.t_low, result.t_high) == pytest.approx((0.5, 0.5))


def test_failed_runs_drop_their_pair() -> None:
    result = effect(np.array([1.0, np.nan, 3.0]), np.array([2.0, 5.0, np.nan]))
    assert result.pairs == 1
    assert result.difference == 1.0
    assert math.isnan(result.t_low)  # one pair has no t interval
    assert math.isnan(result.hedges_g)


def test_no_pairs_is_not_measured() -> None:
    result = effect(np.array([np.nan]), np.array([1.0]))
    assert result.pairs == 0 and math.isnan(result.difference)


def test_mismatched_arms_are_refused() -> None:
    with pytest.raises(ValueError, match="one of each per seed"):
        effect(np.array([1.0, 2.0]), np.array([1.0]))


def test_hedges_g_constant_arms() -> None:
    assert hedges_g(np.array([1.0, 1.0]), np.array([1.0, 1.0])) == 0.0
    assert hedges_g(np.array([1.0, 1.0]), np.array([2.0, 2.0])) == math.inf
    assert all(math.isnan(v) for v in t_interval(np.array([2.0])))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)), min_size=2,
                max_size=12), st.integers(0, 1000))
def test_intervals_hold_the_estimate_and_repeat(pairs: list[tuple[float, float]],
                                                key: int) -> None:
    off = np.array([p[0] for p in pairs])
    on = np.array([p[1] for p in pairs])
    first = effect(off, on, key=key)
    scale = 1e-9 * (1.0 + float(np.abs(on - off).max()))
    assert first.t_low - scale <= first.difference <= first.t_high + scale
    d = on - off
    assert d.min() - scale <= first.boot_low <= first.boot_high <= d.max() + scale
    assert effect(off, on, key=key) == first
