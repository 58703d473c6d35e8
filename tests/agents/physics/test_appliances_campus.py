"""The appliance catalogue, daily schedules, campus timetable and nearest-classroom routing."""

from __future__ import annotations

import numpy as np
import pytest

from gridcoop.agents.physics.appliances import (
    APPLIANCES,
    ApplianceFleet,
    ApplianceSchedule,
    Template,
    appliance_index,
)
from gridcoop.agents.physics.campus import (
    RandomOccupancy,
    Session,
    occupancy_day,
    random_timetable,
)
from gridcoop.agents.physics.clock import SimClock


def test_table_matches_domain() -> None:
    assert len(APPLIANCES) == 14
    ev = APPLIANCES[appliance_index("electric vehicle")]
    assert (ev.start_h, ev.end_h, ev.working_h, ev.power_kw, ev.flexible) == (19, 6, 6, 3.65, True)
    assert ev.window_h == 11.0 and ev.template is Template.BATTERY
    ac = APPLIANCES[appliance_index("air conditioner")]
    assert ac.window_h == 5.0 and ac.run_h == 5.0  # 7 working hours do not fit 19:00-24:00
    assert APPLIANCES[appliance_index("refrigerator")].window_h == 24.0
    with pytest.raises(KeyError, match="known"):
        appliance_index("toaster")


def test_schedule_power_covers_fractional_steps_exactly() -> None:
    specs = (APPLIANCES[appliance_index("hair dryer")],)  # 1 kW
    # start at step 1.0, run 0.5 h = 2 steps of 15 min, plus a second household at 1.5 steps
    sched = ApplianceSchedule(np.array([[1.0, 1.5]]), np.array([[2.0, 2.0]]),
                              np.array([[True, True]]))
    power = sched.power_kw(specs, 5)
    assert power[:, 0].tolist() == [0.0, 1.0, 1.0, 0.0, 0.0]
    assert power[:, 1].tolist() == [0.0, 0.5, 1.0, 0.5, 0.0]
    assert sched.power_kw(specs, 2, first=2)[:, 1].tolist() == [1.0, 0.5]


def test_schedule_power_over_any_steps_equals_every_step_rendered() -> None:
    """Power is rendered only on the steps some run touches; that is the same array as
    computing every step's covered fraction (zero elsewhere), to the last bit."""
    rng = np.random.default_rng(3)
    specs = APPLIANCES
    n = 25
    start = rng.uniform(-3.0, 200.0, (len(specs), n))  # before midnight to past tomorrow
    duration = rng.uniform(0.3, 30.0, (len(specs), n))
    on = rng.random((len(specs), n)) < 0.6
    sched = ApplianceSchedule(start, duration, on)
    power = np.array([spec.power_kw for spec in specs])
    for first, steps in ((0, 192), (0, 96), (37, 4), (150, 60), (300, 5)):
        index = np.arange(first, first + steps, dtype=np.float64)[:, None]
        expected = np.zeros((steps, n))
        for a in range(len(specs)):
            covered = np.clip(np.minimum(index + 1.0, start[a] + duration[a])
                              - np.maximum(index, start[a]), 0.0, 1.0)
            expected += covered * (power[a] * on[a])[None, :]
        assert sched.power_kw(specs, steps, first).tolist() == expected.tolist()


def test_daily_energy_is_power_times_running_hours() -> None:
    clock = SimClock(days=3)
    fleet = ApplianceFleet(np.random.default_rng(5), 300, clock)
    days = [fleet.day_power_kw(d) for d in range(3)]
    energy = sum(d.sum() for d in days) * clock.step_h
    expected = 0.0
    # what was scheduled on each day (energy that spills past midnight is in the next day)
    fleet2 = ApplianceFleet(np.random.default_rng(5), 300, clock)
    for d in range(3):
        sched = fleet2.plan_day(d)
        for a, spec in enumerate(APPLIANCES):
            expected += sched.on[a].sum() * spec.power_kw * spec.run_h
    spill = fleet._carry.sum() * clock.step_h  # the third day's overflow, not yet delivered
    assert energy + spill == pytest.approx(expected)


def test_windows_are_respected_and_the_ev_wraps_midnight() -> None:
    clock = SimClock(days=1)
    fleet = ApplianceFleet(np.random.default_rng(9), 200, clock)
    sched = fleet.plan_day(0)
    for a, spec in enumerate(APPLIANCES):
        start_h = sched.start_step[a] * clock.step_h
        end_h = start_h + sched.duration_steps[a] * clock.step_h
        assert (start_h >= spec.start_h - 1e-9).all()
        assert (end_h <= spec.start_h + spec.window_h + 1e-9).all()


def test_random_occupancy_is_drawn_per_block_and_day_in_order() -> None:
    clock = SimClock(days=2)
    source = RandomOccupancy(np.random.default_rng(3), 4, 0.5, 60, clock)
    day0 = source.day(0, 0)
    assert day0.shape == (96, 4)
    assert set(np.unique(day0)) <= {0.0, 1.0}
    assert (day0.reshape(24, 4, 4) == day0[::4][:, None, :]).all()  # constant within each hour
    expected = np.random.default_rng(3).random((24, 4)) < 0.5
    assert (day0[::4] == expected).all()
    with pytest.raises(ValueError, match="day by day"):
        source.day(5, 5)
    with pytest.raises(ValueError, match="multiple of"):
        RandomOccupancy(np.random.default_rng(0), 4, 0.5, 50, clock)


def test_occupancy_follows_the_timetable() -> None:
    clock = SimClock(days=1)
    sessions = [Session(0, 0, 8.0, 9.5), Session(1, 0, 9.25, 10.0), Session(1, 1, 8.0, 9.0)]
    occ = occupancy_day(sessions, 2, 0, clock)
    assert occ[:, 0].sum() * clock.step_h == pytest.approx(1.5)
    assert occ[32, 0] == 1.0 and occ[31, 0] == 0.0 and occ[38, 0] == 0.0
    assert occ[:, 1].sum() * clock.step_h == pytest.approx(0.75)  # Tuesday's session not today
    timetable = random_timetable(np.random.default_rng(0), 8, 0.5)
    assert {s.weekday for s in timetable} <= set(range(5))
    assert 0.3 < len(timetable) / (8 * 5 * 6) < 0.7


def test_households_flexible_power_per_gate_is_the_mean_over_the_gate() -> None:
    """The day's flexible power is rendered once; each gate's value is still exactly the mean
    of the appliances' power over the gate's steps, as rendering those steps alone gives."""
    from gridcoop.agents.model.community import CommunityModel
    from gridcoop.agents.physics.households import HouseholdPhysics
    from gridcoop.agents.physics.regional import RegionalPhysics

    model = CommunityModel("neighbourhood", households=60, regions=2, days=2,
                           mix={"prosumer": 0.2, "ev_owner": 0.2, "dr_household": 0.6})
    try:
        regional = model.population.physics
        assert isinstance(regional, RegionalPhysics)
        physics = regional.part(1)
        assert isinstance(physics, HouseholdPhysics)
        clock, dr = model.clock, physics.setup.dr_nodes
        seen = 0
        for market in range(clock.total_markets):
            day, s0 = divmod(market * clock.steps_per_market, clock.steps_per_day)
            schedule = physics._day(day).schedule
            assert schedule is not None
            expected = physics.appliances.flexible_kw(schedule, s0, clock.steps_per_market)
            got = physics.flexible_kw(market)
            for template, kw in expected.items():
                assert got[f"T{int(template)}"][dr].tolist() == kw.tolist()
                seen += int((kw > 0).sum())
        assert seen > 0  # some appliance ran in a gate
    finally:
        model.close()
