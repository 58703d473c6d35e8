"""The fleet's local control and physics, hand-checked."""

from __future__ import annotations

import numpy as np
import pytest

from gridcoop.agents.mechanisms.dr.devices import device, pilot_households
from gridcoop.agents.mechanisms.dr.fleet import MODE_ABSOLUTE, DRFleet
from tests.agents.mechanisms.dr.helpers import HOUR, fleet_at, leaf, single


def run(
    fleet: DRFleet, hours: float, mode: np.ndarray | None = None, value: np.ndarray | None = None
) -> np.ndarray:
    return np.array([fleet.step(mode, value) for _ in range(round(hours * 12))])


def test_ev_charges_to_its_target_then_stops() -> None:
    # 00:00, 12 kWh in a 24 kWh Leaf, target 21.6: 9.6 kWh at 3.65 kW = 2.630 h,
    # i.e. 31 full 5-minute steps (9.4292 kWh) and a last step of 0.1708 kWh.
    fleet = fleet_at([single(leaf())], 0)
    power = run(fleet, 6.0)
    assert fleet.state.energy_kwh[0] == pytest.approx(21.6)
    assert (power[:31, 0] == 3.65).all()
    assert power[31, 0] == pytest.approx(0.1708333 * 12, abs=1e-6)
    assert (power[32:, 0] == 0.0).all()
    assert fleet.state.missed_kwh[0] == 0.0


def test_ev_arrival_takes_the_trip_energy_and_departure_checks_the_target() -> None:
    # Start 18:00 with 21.6 kWh: at 19:00 it arrives having used 12 kWh (9.6 left),
    # then charges 12 kWh (3.288 h) back to 21.6 before 06:00.
    fleet = fleet_at([single(leaf(initial_kwh=21.6))], 18 * HOUR)
    run(fleet, 1.0)
    assert fleet.state.energy_kwh[0] == pytest.approx(21.6)  # away, not plugged
    fleet.step()
    assert fleet.state.energy_kwh[0] == pytest.approx(9.6 + 3.65 / 12)
    run(fleet, 11.0)
    assert fleet.state.energy_kwh[0] == pytest.approx(21.6)
    assert fleet.state.missed_kwh[0] == 0.0


def test_ev_kept_off_all_night_misses_its_target_at_departure() -> None:
    fleet = fleet_at([single(leaf())], 0)
    off = np.array([MODE_ABSOLUTE])
    run(fleet, 6.0, off, np.zeros(1))
    # 06:00 departure with 12 kWh of the 21.6 wanted: 9.6 kWh missed
    assert fleet.state.missed_kwh[0] == pytest.approx(9.6)


def test_scheduled_job_meets_its_deadline_after_being_held_off() -> None:
    # Outlet T1: 1 kW, 2 h in 09:00-18:00. Held off until 16:00 the deadline
    # guard starts it at once and it finishes at 18:00 with nothing missed.
    fleet = fleet_at([single(device("outlet"))], 9 * HOUR)
    run(fleet, 7.0, np.array([MODE_ABSOLUTE]), np.zeros(1))
    assert fleet.state.work_left_kwh[0] == pytest.approx(2.0)
    power = run(fleet, 2.0)
    assert (power[:, 0] == 1.0).all()
    fleet.step()
    assert fleet.state.missed_kwh[0] == 0.0


def test_scheduled_job_held_past_its_latest_start_misses_the_rest() -> None:
    # Held off until 16:30: 1.5 h left in the window for 2 h of work -> 0.5 kWh missed.
    fleet = fleet_at([single(device("outlet"))], 9 * HOUR)
    run(fleet, 7.5, np.array([MODE_ABSOLUTE]), np.zeros(1))
    run(fleet, 1.5)
    assert fleet.state.missed_kwh[0] == pytest.approx(0.5)
    assert fleet.state.work_left_kwh[0] == 0.0


def test_scheduled_job_runs_once_per_day_at_the_preferred_time() -> None:
    fleet = fleet_at([single(device("outlet"))], 0, seed=4)
    power = run(fleet, 48.0)
    day1, day2 = power[:288, 0], power[288:, 0]
    assert day1.sum() / 12 == pytest.approx(2.0) and day2.sum() / 12 == pytest.approx(2.0)
    on1 = np.flatnonzero(day1)
    assert on1[0] >= 9 * 12 and on1[-1] < 18 * 12  # inside 09:00-18:00
    assert len(on1) == 24  # one continuous 2 h run


def test_thermostat_keeps_the_pilot_houses_in_their_band() -> None:
    homes = pilot_households(rng=np.random.default_rng(1))
    fleet = DRFleet(homes, np.random.default_rng(2))
    hvac = np.array([k == "hvac house" for k in fleet.params.kinds])
    low, high = [], []
    for _ in range(288):
        fleet.step()
        low.append(fleet.state.temp_c[hvac].min())
        high.append(fleet.state.temp_c[hvac].max())
    assert min(low) >= 19.0 and max(high) <= 23.0
    # with ambient 12 °C a 3 kW unit runs (21-12)/(27-12) = 60 % of the time near 21 °C
    energy = fleet.household_power_kw(fleet.last_power_kw)
    assert energy.shape == (17,)


def test_on_off_devices_snap_and_windows_clamp() -> None:
    # the heater outlet (T4, 2 kW on/off, 08:00-20:00): asked for 0.7 kW it stays off,
    # asked for 1.2 kW it runs at 2 kW; at 21:00 (window closed) it never runs.
    fleet = fleet_at([single(device("heater outlet"))], 10 * HOUR, work_left_kwh=8.0)
    assert fleet.step(np.array([MODE_ABSOLUTE]), np.array([0.7]))[0] == 0.0
    assert fleet.step(np.array([MODE_ABSOLUTE]), np.array([1.2]))[0] == 2.0
    late = fleet_at([single(device("heater outlet"))], 21 * HOUR, work_left_kwh=8.0)
    assert late.step(np.array([MODE_ABSOLUTE]), np.array([2.0]))[0] == 0.0


def test_same_seed_same_run() -> None:
    def power() -> np.ndarray:
        homes = pilot_households(rng=np.random.default_rng(9))
        fleet = DRFleet(homes, np.random.default_rng(10))
        return run(fleet, 30.0)

    assert np.array_equal(power(), power())


def test_bad_fleet_arguments() -> None:
    with pytest.raises(ValueError, match="must divide a day"):
        DRFleet(pilot_households(), np.random.default_rng(0), step_s=7 * 60 + 1)
    fleet = DRFleet(pilot_households(), np.random.default_rng(0))
    assert fleet.device_index("ev-3", "ev") == 10
    with pytest.raises(KeyError, match="unknown household"):
        fleet.device_index("nobody", "ev")
