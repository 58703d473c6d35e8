"""The capacity measures and critical periods found from the data, on hand-worked fleets."""

from __future__ import annotations

import numpy as np

from gridcoop.agents.mechanisms.ev.availability import (
    critical_hours,
    critical_hours_found,
    critical_hours_of,
    critical_periods,
    criticality,
    grid_demand_day,
    hourly_capacity,
    merge_hours,
    typical_day,
)
from gridcoop.agents.mechanisms.ev.profiles import LEAF_24, LEAF_30, make_fleet
from gridcoop.agents.mechanisms.ev.simulate import SimulationOptions, simulate_fleet
from gridcoop.agents.physics.load import WEEKDAY_SHAPE, WEEKEND_SHAPE


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


def test_criticality_weighs_grid_demand_against_plugged_capacity() -> None:
    demand = np.ones(24)
    demand[[18, 19, 20]] = 3.0  # the evening peak
    capacity = np.full(24, 100.0)
    capacity[[7, 8, 17]] = 20.0  # the cars are away
    score = criticality(demand, capacity)
    # demand / its mean (21 + 9 = 30 over 24) less capacity / its mean (2,160 / 24 = 90)
    assert np.isclose(score[19], 3.0 / (30 / 24) - 100.0 / 90.0)
    assert np.isclose(score[7], 1.0 / (30 / 24) - 20.0 / 90.0)
    assert np.isclose(score[0], 1.0 / (30 / 24) - 100.0 / 90.0)
    # the top quarter (6 hours): both the cars' absence and the grid's peak
    assert critical_hours(-score) == frozenset({7, 8, 17, 18, 19, 20})
    # no capacity at all: demand alone decides
    assert critical_hours(-criticality(demand, np.zeros(24))) >= frozenset({18, 19, 20})


def test_grid_demand_day_weighs_weekdays_and_weekends_as_they_fall() -> None:
    fleet = make_fleet([1], [LEAF_24], ev_ids=["a"])
    monday = simulate_fleet(fleet, 7, seed=2, options=SimulationOptions(start_weekday=0))
    assert np.allclose(grid_demand_day(monday, 0, 7), (5 * WEEKDAY_SHAPE + 2 * WEEKEND_SHAPE) / 7)
    assert np.allclose(grid_demand_day(monday, 5, 2), WEEKEND_SHAPE)
    assert np.allclose(grid_demand_day(monday, 0, 5), WEEKDAY_SHAPE)


def test_critical_periods_are_the_hours_found_merged() -> None:
    fleet = make_fleet([1, 2, 3, 4], [LEAF_24] * 4, ev_ids=["a", "b", "c", "d"])
    options = SimulationOptions(plug_whenever_parked=True)
    history = simulate_fleet(fleet, 14, seed=3, options=options)
    hours = critical_hours_found(history, 0, 14)
    assert 6 <= len(hours) < 24
    assert critical_periods(history, 0, 14) == merge_hours(hours)
    battery, _ = hourly_capacity(history, 0, 14)
    score = criticality(grid_demand_day(history, 0, 14), typical_day(battery))
    assert min(score[h] for h in hours) >= max(score[h] for h in set(range(24)) - hours)
    assert critical_hours_of(battery, history, 0, 14) == hours  # from capacity worked out once
