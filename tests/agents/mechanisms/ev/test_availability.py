"""The capacity measures and critical periods found from the data, on hand-worked fleets."""

from __future__ import annotations

import numpy as np

from gridcoop.agents.mechanisms.ev.availability import (
    critical_hours,
    critical_periods,
    hourly_capacity,
    merge_hours,
    typical_day,
)
from gridcoop.agents.mechanisms.ev.profiles import LEAF_24, LEAF_30, make_fleet
from gridcoop.agents.mechanisms.ev.simulate import SimulationOptions, simulate_fleet


def test_critical_hours_are_the_typical_days_lowest_quarter() -> None:
    day = np.full(24, 100.0)
    day[[8, 9, 18, 19, 20]] = 10.0
    day[[7, 17]] = 50.0
    # the lowest quarter's bound is 50 (the 6th and 7th lowest of 24 hours)
    assert critical_hours(day) == frozenset({7, 8, 9, 17, 18, 19, 20})
    assert merge_hours(critical_hours(day)) == ((7, 10), (17, 21))
    assert typical_day(np.tile(np.arange(24.0), 3)).tolist() == list(np.arange(24.0))


def test_merge_hours_edges() -> None:
    assert merge_hours(frozenset()) == ()
    assert merge_hours(frozenset({0, 23})) == ((0, 1), (23, 24))
    assert merge_hours(frozenset(range(24))) == ((0, 24),)


def test_hourly_capacity_counts_battery_kwh_and_v2g_kw_plugged_in() -> None:
    fleet = make_fleet([1, 2], [LEAF_24, LEAF_30], ev_ids=["a", "b"])
    history = simulate_fleet(fleet, 3, seed=4)
    battery, v2g = hourly_capacity(history, 1, 2)
    assert battery.shape == v2g.shape == (48,)
    share = history.plugged[:, 288:].reshape(2, 48, 12).mean(axis=2)
    assert np.allclose(battery, 24.0 * share[0] + 30.0 * share[1])
    assert np.allclose(v2g, (share * fleet.v2g_power_kw[:, None]).sum(axis=0))
    assert battery.max() <= 54.0 and battery.min() >= 0.0


def test_plugged_whenever_parked_never_less_plugged_and_finds_periods() -> None:
    fleet = make_fleet([1, 2, 3, 4], [LEAF_24] * 4, ev_ids=["a", "b", "c", "d"])
    habit = simulate_fleet(fleet, 7, seed=1)
    always = simulate_fleet(fleet, 7, seed=1, options=SimulationOptions(plug_whenever_parked=True))
    assert (always.plugged >= habit.plugged).all()
    assert always.plugged.sum() > habit.plugged.sum()  # the taxi plugs wherever it stops
    periods = critical_periods(always, 0, 7)
    assert periods and all(0 <= a < b <= 24 for a, b in periods)
