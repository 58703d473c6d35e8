"""Fleet construction, trip generation and the vectorised simulation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcoop.agents.mechanisms.ev.profiles import (
    LEAF_24,
    LEAF_30,
    BehaviourProfile,
    EVConfigError,
    make_fleet,
    pilot_fleet,
    random_fleet,
)
from gridcoop.agents.mechanisms.ev.simulate import (
    SimulationOptions,
    draw_plugged,
    simulate_fleet,
    simulate_trips,
)
from gridcoop.agents.mechanisms.ev.trips import TripTable, generate_trips


def _one_ev_trips(n_days: int = 2) -> TripTable:
    # Day 0: 08:00-09:00 (3 kWh) and 17:00-18:00 (4 kWh); day 1: 08:00-09:00 (5 kWh).
    # Plugs in on arrival each time (no delay).
    return TripTable(
        ev=np.array([0, 0, 0]),
        day=np.array([0, 0, 1]),
        start_min=np.array([480, 1020, 1920]),
        end_min=np.array([540, 1080, 1980]),
        km=np.zeros(3),
        energy_kwh=np.array([3.0, 4.0, 5.0]),
        plug_after=np.array([True, True, True]),
        plug_delay_min=np.zeros(3, dtype=np.int64),
        changed=np.zeros((1, n_days), dtype=bool),
        warned=np.zeros((1, n_days), dtype=bool),
    )


def test_hand_worked_day_with_unlimited_charger() -> None:
    fleet = make_fleet([BehaviourProfile.ROUTINE], [LEAF_24])
    hist = simulate_trips(
        fleet, _one_ev_trips(), days=1, options=SimulationOptions(step_min=60, initial_soc=0.5)
    )
    plugged = hist.plugged[0].tolist()
    # Plugged from midnight until the 08:00 trip, 09:00-17:00, and from 18:00 on.
    assert plugged == [True] * 8 + [False] + [True] * 8 + [False] + [True] * 6
    # SoC at step starts: 12 kWh (50 % of 24), full after the first plugged hour,
    # 24 - 3 = 21 after the morning trip, 24 - 4 = 20 after the evening trip.
    expected_soc = [12.0] + [24.0] * 8 + [21.0] + [24.0] * 8 + [20.0] + [24.0] * 5
    np.testing.assert_allclose(hist.soc_kwh[0], expected_soc)
    # Need = energy until next plugged in: 3 kWh before 09:00, 4 before 18:00,
    # and tomorrow morning's 5 kWh in the evening (the look-ahead day).
    expected_need = [3.0] * 9 + [4.0] * 9 + [5.0] * 6
    np.testing.assert_allclose(hist.need_kwh[0], expected_need)
    assert hist.plugged_minutes_by_hour()[0].tolist() == [60 if p else 0 for p in plugged]
    # Plug-in records: 00:00-08:00, 09:00-17:00, 18:00-24:00 (cut at the end of the run).
    rows, plug_in, plug_out = hist.plug_sessions()
    assert rows.tolist() == [0, 0, 0]
    assert plug_in.tolist() == [0, 540, 1080] and plug_out.tolist() == [480, 1020, 1440]
    assert hist.external_charge_kwh.tolist() == [[0.0]]
    assert hist.trips.size == 2  # the look-ahead day's trip is dropped


def test_hand_worked_day_with_a_3_65_kw_charger() -> None:
    fleet = make_fleet([BehaviourProfile.ROUTINE], [LEAF_24])
    hist = simulate_trips(
        fleet,
        _one_ev_trips(),
        days=1,
        options=SimulationOptions(step_min=60, initial_soc=0.5, unlimited_charger_power=False),
    )
    # 12 -> 15.65 -> 19.3 -> 22.95 -> 24 (capped); 24 - 3 = 21 -> 24 (21 + 3.65 capped).
    np.testing.assert_allclose(hist.soc_kwh[0, :5], [12.0, 15.65, 19.3, 22.95, 24.0], rtol=1e-6)
    np.testing.assert_allclose(hist.soc_kwh[0, 9:11], [21.0, 24.0], rtol=1e-6)
    np.testing.assert_allclose(hist.soc_kwh[0, 18:21], [20.0, 23.65, 24.0], rtol=1e-6)


def test_empty_battery_is_topped_up_away_from_home() -> None:
    fleet = make_fleet([BehaviourProfile.ROUTINE], [LEAF_24])
    trips = _one_ev_trips()
    trips = dataclasses.replace(trips, energy_kwh=np.array([30.0, 4.0, 5.0]))
    hist = simulate_trips(fleet, trips, days=1, options=SimulationOptions(step_min=60))
    # Plugged since midnight, the battery leaves full (24 kWh); the trip takes 30:
    # 6 kWh are bought away and the SoC stops at 0.
    assert hist.external_charge_kwh[0, 0] == pytest.approx(6.0)
    assert hist.soc_kwh[0, 9] == 0.0


def test_bad_trip_tables_are_refused() -> None:
    fleet = make_fleet([BehaviourProfile.ROUTINE], [LEAF_24])
    trips = _one_ev_trips()
    overlapping = dataclasses.replace(trips, start_min=np.array([480, 500, 1920]))
    with pytest.raises(EVConfigError, match="never overlap"):
        simulate_trips(fleet, overlapping, days=1)
    with pytest.raises(EVConfigError, match=">= 3 days"):
        simulate_trips(fleet, trips, days=3)
    with pytest.raises(EVConfigError, match="ev indices"):
        simulate_trips(fleet, dataclasses.replace(trips, ev=np.array([0, 0, 1])), days=1)


def test_pilot_fleet_is_five_24_and_two_30_kwh_leafs() -> None:
    fleet = pilot_fleet()
    assert sorted(fleet.capacity_kwh.tolist()) == [24.0] * 5 + [30.0] * 2
    assert fleet.ev_ids == tuple(f"leaf-{i}" for i in range(1, 8))
    assert fleet.offered.all()


def test_taxis_are_never_offered_and_get_fast_chargers() -> None:
    fleet = make_fleet([1, 4], [LEAF_24, LEAF_30])
    assert fleet.offered.tolist() == [False, True]
    assert fleet.charge_power_kw.tolist() == [50.0, 3.65]
    assert fleet.v2g_power_kw.tolist() == [0.0, 3.65]
    assert fleet.committed_kwh.tolist() == [0.0, 5.0]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: make_fleet([4, 4], [LEAF_24]), "profiles for 1 batteries"),
        (lambda: make_fleet([7], [LEAF_24]), "1..4"),
        (lambda: make_fleet([4, 4], [LEAF_24, LEAF_24], ev_ids=["a", "a"]), "unique"),
        (lambda: random_fleet(0, 1), "n must be >= 1"),
        (lambda: random_fleet(5, 1, profile_shares=(0.5, 0.5, 0.5, 0.0)), "summing to 1"),
        (lambda: generate_trips(pilot_fleet(), 0, 1), "days must be >= 1"),
        (lambda: generate_trips(pilot_fleet(), 3, 1, change_rate=1.5), "probability"),
        (lambda: SimulationOptions(step_min=7), "divide 60"),
    ],
)
def test_bad_settings_raise(call: object, match: str) -> None:
    with pytest.raises(EVConfigError, match=match):
        call()  # type: ignore[operator]


def test_same_seed_same_history_and_another_seed_differs() -> None:
    fleet = random_fleet(40, seed=3)
    a = simulate_fleet(fleet, 14, seed=9)
    b = simulate_fleet(fleet, 14, seed=9)
    c = simulate_fleet(fleet, 14, seed=10)
    for name in ("plugged", "soc_kwh", "need_kwh", "external_charge_kwh"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.plugged, c.plugged)
    assert random_fleet(40, seed=3).profile.tolist() == fleet.profile.tolist()


def test_simulated_fleet_is_physically_consistent() -> None:
    fleet = random_fleet(120, seed=5)
    hist = simulate_fleet(
        fleet, 28, seed=2, options=SimulationOptions(unlimited_charger_power=False)
    )
    trips = hist.trips
    # Trips are sorted per EV and never overlap.
    same = trips.ev[1:] == trips.ev[:-1]
    assert np.all(trips.end_min > trips.start_min)
    assert np.all(~same | (trips.start_min[1:] >= trips.end_min[:-1]))
    # An EV is never plugged in while driving.
    steps = hist.step_min
    for i in range(0, trips.size, 37):
        row, begin, end = trips.ev[i], trips.start_min[i] // steps, -(-trips.end_min[i] // steps)
        assert not hist.plugged[row, begin:end].any()
    assert hist.soc_kwh.min() >= 0.0
    assert np.all(hist.soc_kwh <= fleet.capacity_kwh[:, None] + 1e-4)
    assert hist.need_kwh.min() >= 0.0
    rows, plug_in, plug_out = hist.plug_sessions()
    assert np.all(plug_out > plug_in)
    minutes = np.bincount(rows, plug_out - plug_in, minlength=fleet.size)
    np.testing.assert_array_equal(minutes, hist.plugged.sum(axis=1) * hist.step_min)
    # Behaviour changes on about 15 % of days; warnings only on changed days.
    assert 0.12 <= hist.changed.mean() <= 0.18
    assert not np.any(hist.warned & ~hist.changed)
    # Routine owners are plugged in far more than taxis.
    rate = hist.plugged.mean(axis=1)
    assert rate[fleet.profile == 4].mean() > 0.7 > 0.3 > rate[fleet.profile == 1].mean()


def test_vectorised_unlimited_charging_matches_the_loop_with_a_huge_charger() -> None:
    fleet = random_fleet(60, seed=8)
    huge = dataclasses.replace(fleet, charge_power_kw=np.full(60, 1e6))
    fast = simulate_fleet(fleet, 10, seed=4)
    loop = simulate_fleet(
        huge, 10, seed=4, options=SimulationOptions(unlimited_charger_power=False, block_size=7)
    )
    np.testing.assert_allclose(fast.soc_kwh, loop.soc_kwh, atol=1e-4)
    np.testing.assert_allclose(fast.external_charge_kwh, loop.external_charge_kwh, atol=1e-6)
    np.testing.assert_array_equal(fast.need_kwh, loop.need_kwh)


def test_need_covers_the_next_trip_when_plugged() -> None:
    hist = simulate_fleet(random_fleet(50, seed=1), 10, seed=6)
    trips = hist.trips
    steps = hist.step_min
    # At the last plugged step before each trip, the need is at least that trip's energy.
    for i in range(trips.size):
        begin = trips.start_min[i] // steps
        row = trips.ev[i]
        if begin > 0 and hist.plugged[row, begin - 1]:
            assert hist.need_kwh[row, begin - 1] >= trips.energy_kwh[i] - 1e-4


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 150), fleet_seed=st.integers(0, 2**16), seed=st.integers(0, 2**32),
       days=st.integers(1, 3), step_min=st.sampled_from([5, 15, 60]),
       weekday=st.integers(0, 6), whenever=st.booleans())
def test_draw_plugged_is_simulate_fleets_mask_and_trips(
        n: int, fleet_seed: int, seed: int, days: int, step_min: int, weekday: int,
        whenever: bool) -> None:
    """The households' EVs take only the mask and trips: the same draws and the same mask
    as the full simulation, over more than one block of EVs (64) too."""
    fleet = random_fleet(n, fleet_seed)
    options = SimulationOptions(step_min=step_min, start_weekday=weekday,
                                plug_whenever_parked=whenever)
    plugged, trips = draw_plugged(fleet, days, seed, options)
    history = simulate_fleet(fleet, days, seed, options)
    np.testing.assert_array_equal(plugged, history.plugged)
    inside = trips.day < days
    for column in ("ev", "day", "start_min", "end_min", "energy_kwh", "plug_after"):
        np.testing.assert_array_equal(getattr(trips, column)[inside],
                                      getattr(history.trips, column))


def test_draw_plugged_refuses_shared_chargers() -> None:
    with pytest.raises(EVConfigError, match="simulate_fleet"):
        draw_plugged(pilot_fleet(), 1, 3, SimulationOptions(chargers=2))
