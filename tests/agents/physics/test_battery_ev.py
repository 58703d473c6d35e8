"""Home batteries and electric vehicles."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcoop.agents.mechanisms.ev.profiles import LEAF_24, BehaviourProfile
from gridcoop.agents.physics.battery import BatteryError, BatteryGroup, HomeBatteries
from gridcoop.agents.physics.clock import SimClock
from gridcoop.agents.physics.ev import EVFleet


def test_battery_dispatch_hand_worked() -> None:
    # 10 kWh, 2 kW, round trip 0.81 -> 0.9 each way, starts at 5 kWh.
    bat = HomeBatteries(np.array([10.0]), np.array([2.0]), round_trip_efficiency=0.81)
    # 3 kW surplus for 1 h: the 2 kW limit takes 2 kWh at the terminals, 1.8 kWh are stored.
    assert bat.dispatch(np.array([3.0]), 1.0).tolist() == [pytest.approx(2.0)]
    assert bat.soc_kwh[0] == pytest.approx(6.8)
    # 1 kW deficit for 0.5 h: 0.5 kWh out at the terminals, 0.5 / 0.9 = 0.5556 kWh from the cells.
    assert bat.dispatch(np.array([-1.0]), 0.5).tolist() == [pytest.approx(-0.5)]
    assert bat.soc_kwh[0] == pytest.approx(6.8 - 0.5 / 0.9)


def test_battery_stops_when_full_or_empty() -> None:
    bat = HomeBatteries(np.array([1.0, 1.0]), np.array([5.0, 5.0]), round_trip_efficiency=1.0,
                        initial_soc=0.0)
    assert bat.dispatch(np.array([-2.0, 2.0]), 1.0).tolist() == [0.0, 1.0]  # empty / fills to 1
    assert bat.dispatch(np.array([2.0, 2.0]), 1.0).tolist() == [1.0, 0.0]  # fills / already full


def test_battery_group_steps_its_homes_as_the_batteries_do() -> None:
    # Homes 0 and 2 have 10 kWh / 2 kW and 4 kWh / 1 kW at half charge; round trip 0.81.
    capacity, power = np.array([10.0, 0.0, 4.0]), np.array([2.0, 0.0, 1.0])
    whole, grouped = HomeBatteries(capacity, power, 0.81), HomeBatteries(capacity, power, 0.81)
    nodes = np.array([0, 2])
    group = BatteryGroup(grouped, nodes)
    soc = group.soc_kwh()
    assert soc.tolist() == [5.0, 2.0]
    # half an hour: the power limits (1 and 0.5 kWh) bind both ways
    limits = group.limits_kwh(0.5, soc)
    assert [a.tolist() for a in limits] == [[1.0, 0.5], [1.0, 0.5]]
    assert [a.tolist() for a in limits] == [a.tolist() for a in whole.limits_kwh(0.5, nodes)]
    charge = np.array([1.0, -0.5])  # 0.9 kWh into home 0's cells, 0.5 / 0.9 out of home 2's
    assert group.apply(charge, soc) is charge
    whole.apply(charge, nodes)
    assert grouped.soc_kwh.tolist() == whole.soc_kwh.tolist()
    assert grouped.soc_kwh.tolist() == [pytest.approx(5.9), 0.0, pytest.approx(2.0 - 0.5 / 0.9)]
    # a setpoint beyond the room or the charge left stops at full and at empty
    group.apply(np.array([10.0, -10.0]), group.soc_kwh())
    assert grouped.soc_kwh.tolist() == [10.0, 0.0, 0.0]


@pytest.mark.parametrize("kwargs", [
    {"capacity_kwh": np.array([-1.0]), "power_kw": np.array([1.0])},
    {"capacity_kwh": np.array([1.0]), "power_kw": np.array([1.0]), "round_trip_efficiency": 0.0},
    {"capacity_kwh": np.array([1.0]), "power_kw": np.array([1.0, 2.0])},
])
def test_battery_refuses_impossible_parameters(kwargs: dict[str, object]) -> None:
    with pytest.raises(BatteryError):
        HomeBatteries(**kwargs)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-20, 20), min_size=1, max_size=30),
       st.floats(0.5, 1.0), st.floats(0.0, 1.0))
def test_battery_state_stays_physical(surpluses: list[float], eff: float, soc: float) -> None:
    bat = HomeBatteries(np.array([6.0]), np.array([3.0]), eff, soc)
    for surplus in surpluses:
        before = bat.soc_kwh.copy()
        energy = bat.dispatch(np.array([surplus]), 0.25)[0]
        assert 0.0 <= bat.soc_kwh[0] <= 6.0 + 1e-12
        assert abs(energy) <= 3.0 * 0.25 + 1e-12
        assert energy * surplus >= 0  # never charges from a deficit or discharges into a surplus
        assert abs(energy) <= abs(surplus) * 0.25 + 1e-12
        # stored change = eta * in - out / eta
        eta = np.sqrt(eff)
        change = bat.soc_kwh[0] - before[0]
        assert change == pytest.approx(energy * eta if energy > 0 else energy / eta, abs=1e-9)


def test_ev_day_plan_and_charging() -> None:
    clock = SimClock(days=1)
    fleet = EVFleet(np.random.default_rng(2), np.array([24.0] * 50),
                    np.full(50, BehaviourProfile.ROUTINE), clock)
    plan = fleet.plan_day(0)  # a Monday: routine drivers all commute
    steps = np.arange(96)[:, None]
    assert (plan.depart_step < 96).all()
    assert plan.departures == set(plan.depart_step.tolist())  # where a step looks for leavers
    assert not plan.plugged[plan.depart_step, np.arange(50)].any()  # unplugged to leave
    outside = (steps < plan.depart_step) | (steps >= plan.return_step)
    assert plan.plugged[outside].all()  # plugged before the first trip and after the last
    assert not plan.plugged[plan.return_step - 1, np.arange(50)].any()
    assert plan.plugged[: plan.depart_step.min()].all()  # plugged overnight at the start
    # ~07:45 out, ~17:30 back (the routine profile), never before 05:00 or after 24:00
    assert (plan.depart_step >= 20).all() and (plan.return_step <= 96).all()
    # 2 x 15 km commute plus a quarter of the evenings 2 x 5 km, x 0.17 kWh/km ~ 5.5 kWh
    # (each owner drives 0.6 .. 1.6 times the template; changed days drive more)
    template_kwh = (2 * 15 + 0.25 * 2 * 5) * LEAF_24.consumption_kwh_per_km
    assert 0.8 * template_kwh < plan.trip_kwh.mean() < 1.6 * template_kwh
    soc_before = fleet.soc_kwh.copy()
    preview = fleet.preview(plan, range(96), clock.step_h)
    assert np.array_equal(fleet.soc_kwh, soc_before)  # preview changes nothing
    total = sum(fleet.step(plan, s, clock.step_h) for s in range(96))
    assert np.allclose(total, preview)
    assert bool(np.all(total <= 3.65 * 24 + 1e-9)) and (fleet.soc_kwh <= 24.0 + 1e-9).all()
    # every kWh is accounted for: charged = driven + change of state of charge
    assert np.allclose(total + fleet.charged_away_kwh,
                       plan.trip_kwh + (fleet.soc_kwh - soc_before))
    # cars plugged in from 21:00 to midnight end the day full again
    home_evening = plan.plugged[84:].all(axis=0)
    assert home_evening.sum() > 40 and np.allclose(fleet.soc_kwh[home_evening], 24.0)


def test_ev_days_are_reproducible_and_weekends_differ() -> None:
    clock = SimClock(days=7)
    def week() -> list[float]:
        fleet = EVFleet(np.random.default_rng(5), np.array([24.0] * 200),
                        np.full(200, BehaviourProfile.ROUTINE), clock)
        return [float(fleet.plan_day(d).trip_kwh.mean()) for d in range(7)]
    first = week()
    assert first == week()
    # routine weekends: half the owners make one 2 x 25 km outing (~4.7 kWh on average)
    assert first[5] < first[0] and first[6] < first[0]


def test_ev_tops_up_away_when_a_trip_needs_more_than_the_battery() -> None:
    clock = SimClock(days=1)
    fleet = EVFleet(np.random.default_rng(0), np.array([24.0]),
                    np.array([BehaviourProfile.TAXI]), clock, initial_soc=0.2)
    plan = fleet.plan_day(0)
    fleet.step(plan, int(plan.depart_step[0]), clock.step_h)
    assert fleet.soc_kwh[0] == pytest.approx(24.0 * 0.1)  # never below min_soc
    assert fleet.charged_away_kwh[0] > 0
