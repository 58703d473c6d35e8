"""PV shape, weather factors and household load profiles."""

from __future__ import annotations

import numpy as np
import pytest

from gridcoop.agents.physics.clock import ClockError, SimClock
from gridcoop.agents.physics.load import BaseLoad, shape_per_step
from gridcoop.agents.physics.pv import (
    PVWeather,
    clear_sky_ghi_w_per_m2,
    pv_power_kw,
    seasonal_clearness,
    step_mid_hours,
)


def test_clear_sky_is_dark_at_night_and_peaks_at_noon() -> None:
    hours = np.arange(0.0, 24.0, 0.25)
    ghi = clear_sky_ghi_w_per_m2(172, hours)
    assert ghi[hours < 4].max() == 0.0 and ghi[hours > 21].max() == 0.0
    assert hours[np.argmax(ghi)] == 12.0
    # Haurwitz at the June solstice noon in Lisbon: zenith = 38.72 - 23.44 = 15.28 deg,
    # 1098 * cos(15.28°) * exp(-0.057 / cos(15.28°)) = 1098 * 0.96465 * 0.94262 = 998.4
    assert ghi[48] == pytest.approx(998.4, abs=1.0)


def test_summer_days_are_longer_and_brighter_than_winter() -> None:
    hours = np.arange(0.0, 24.0, 0.25)
    summer, winter = clear_sky_ghi_w_per_m2(172, hours), clear_sky_ghi_w_per_m2(355, hours)
    assert summer.sum() > 2 * winter.sum()
    assert (summer > 0).sum() > (winter > 0).sum()


def test_pv_power_hand_worked() -> None:
    # 2 kWp at 500 W/m², clear (factor 1): 2 * 0.5 * 1 * 0.8 (performance ratio) = 0.8 kW
    power = pv_power_kw(np.array([2.0, 0.0]), np.array([500.0]), np.array([[1.0, 1.0]]))
    assert power.tolist() == [[pytest.approx(0.8), 0.0]]


def test_weather_is_seeded_bounded_and_seasonal() -> None:
    clock = SimClock(days=3)
    a = PVWeather(np.random.default_rng(1), 4, clock).day_factors(0)
    b = PVWeather(np.random.default_rng(1), 4, clock).day_factors(0)
    assert np.array_equal(a, b)
    assert a.shape == (96, 4) and a.min() >= 0.03 and a.max() <= 1.05
    assert seasonal_clearness(196) > seasonal_clearness(15)
    assert step_mid_hours(clock)[0] == pytest.approx(0.125)


def test_load_shape_averages_one_and_profile_matches_annual_energy() -> None:
    clock = SimClock(days=1, metering_minutes=15, start_day_of_year=105)  # mid-April: factor ~1
    assert shape_per_step(clock, weekend=False).mean() == pytest.approx(1.0, abs=0.01)
    load = BaseLoad(np.random.default_rng(3), np.full(2000, 3650.0), clock, noise_sigma=0.3)
    day_kwh = load.day_power_kw(0).sum(axis=0) * clock.step_h
    # 3650 kWh a year = 10 kWh a day; the seasonal factor on day 105 is 1 + 0.15*cos(2π·90/365)
    expected = 10.0 * (1 + 0.15 * np.cos(2 * np.pi * 90 / 365))
    assert day_kwh.mean() == pytest.approx(expected, rel=0.02)
    assert (day_kwh > 0).all()


@pytest.mark.parametrize(("metering", "market"), [(7, 60), (15, 50), (0, 60)])
def test_clock_refuses_intervals_that_do_not_tile_a_day(metering: int, market: int) -> None:
    with pytest.raises(ClockError):
        SimClock(days=1, metering_minutes=metering, market_minutes=market)


def test_clock_arithmetic() -> None:
    clock = SimClock(days=2, metering_minutes=15, market_minutes=60, start_day_of_year=365)
    assert (clock.steps_per_day, clock.steps_per_market, clock.total_steps) == (96, 4, 192)
    assert clock.market_of(7) == 1 and clock.day_of(100) == 1 and clock.start_s(4) == 3600
    assert clock.day_of_year(1) == 1  # wraps at the year's end
