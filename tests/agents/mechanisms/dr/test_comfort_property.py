"""A command the household accepted never breaks its comfort limits (property test).

Random fleets of heaters, coolers, EVs and scheduled jobs, starting in a
comfortable state, get random commands; the accepted ones are then executed
through ``DRFleet.step`` (the model's path) for a whole day, and every comfort
measure is checked independently: each thermal zone inside its band at every
step until its comfort window first closes, no EV short of its target at
departure, no scheduled job unfinished at its window's end.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from gridcoop.agents.mechanisms.dr.devices import BatteryParams, DeviceSpec, HouseholdSpec, device
from gridcoop.agents.mechanisms.dr.fleet import DRFleet, window_position
from gridcoop.agents.mechanisms.dr.flexibility import simulate
from gridcoop.agents.mechanisms.dr.openadr import Action, ApplianceCommand
from gridcoop.agents.mechanisms.dr.response import accepted_commands, command_arrays, respond
from gridcoop.agents.mechanisms.dr.thermal import ThermalParams
from gridcoop.catalogue import Template

STEP = 300
DAY_STEPS = 288


@st.composite
def thermal_device(draw: st.DrawFn, i: int) -> DeviceSpec:
    mode = draw(st.sampled_from([1, -1]))
    low = draw(st.floats(15.0, 24.0))
    width = draw(st.floats(2.0, 6.0))
    params = ThermalParams(
        mode=mode,
        resistance_c_per_kw=draw(st.floats(2.0, 10.0)),
        capacitance_kwh_per_c=draw(st.floats(0.5, 3.0)),
        cop=draw(st.floats(1.0, 3.5)),
        ambient_c=low - mode * draw(st.floats(1.0, 8.0)) + (width if mode < 0 else 0.0),
        band_low_c=low,
        band_high_c=low + width,
        initial_c=low + width * draw(st.floats(0.2, 0.8)),
    )
    start = draw(st.sampled_from([0.0, 6.0, 18.0]))
    end = draw(st.sampled_from([0.0, 12.0, 23.0]))
    return device(
        "hvac house",
        f"zone{i}",
        thermal=params,
        power_kw=draw(st.floats(1.0, 4.0)),
        start_h=start,
        end_h=end if end != start else 24.0,
    )


@st.composite
def ev_device(draw: st.DrawFn, i: int) -> DeviceSpec:
    capacity = draw(st.sampled_from([24.0, 30.0]))
    target = capacity * draw(st.floats(0.5, 0.95))
    return device(
        "electric vehicle",
        f"ev{i}",
        battery=BatteryParams(
            capacity_kwh=capacity,
            initial_kwh=draw(st.floats(0.0, target)),
            target_kwh=target,
            trip_kwh=draw(st.floats(0.0, target)),
        ),
    )


@st.composite
def job_device(draw: st.DrawFn, i: int) -> DeviceSpec:
    kind = draw(st.sampled_from(["outlet", "pool pump", "water heater dummy"]))
    if kind == "water heater dummy":
        return device("heater outlet", f"t4-{i}")
    return device(
        kind,
        f"job{i}",
        template=Template.SCHEDULED,
        flexible=True,
        interruptible=draw(st.booleans()),
    )


@st.composite
def scenario(draw: st.DrawFn) -> tuple[list[HouseholdSpec], int, list[ApplianceCommand]]:
    households = []
    for i in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["thermal", "ev", "job"]))
        maker = {"thermal": thermal_device, "ev": ev_device, "job": job_device}[kind]
        households.append(HouseholdSpec(f"h{i}", "ra", (draw(maker(i)),)))
    now_s = draw(st.integers(0, DAY_STEPS - 1)) * STEP
    commands = []
    for i, household in enumerate(households):
        dev = household.devices[0]
        action: Action = draw(st.sampled_from(["on", "off", "increase", "decrease"]))
        commands.append(
            ApplianceCommand(
                f"c{i}",
                "e",
                household.household_id,
                dev.device_id,
                action,
                draw(st.floats(0.1, 4.0)) if action in ("increase", "decrease") else 0.0,
                now_s + draw(st.integers(0, 6)) * STEP,
                draw(st.integers(1, 36)) * STEP,
            )
        )
    return households, now_s, commands


def comfortable_baseline(fleet: DRFleet) -> bool:
    trajectory = simulate(fleet.params, fleet.state, DAY_STEPS, STEP)
    return bool(
        trajectory.comfort_c.max(initial=0.0) == 0.0
        and trajectory.missed_kwh.max(initial=0.0) == 0.0
    )


@settings(max_examples=150, deadline=None)
@given(scenario(), st.integers(0, 2**32 - 1))
def test_accepted_commands_never_violate_comfort(
    case: tuple[list[HouseholdSpec], int, list[ApplianceCommand]], seed: int
) -> None:
    households, now_s, commands = case
    fleet = DRFleet(households, np.random.default_rng(seed), step_s=STEP, start_s=now_s)
    # start comfortable: zones in band when their window opens; feasible EV and job needs
    assume(comfortable_baseline(fleet))
    run = respond(
        fleet.params, fleet.state, households, commands, STEP, np.random.default_rng(seed)
    )
    accepted = accepted_commands(commands, run)
    event(f"accepted {len(accepted)} of {len(commands)}")
    mode, value = command_arrays(fleet.params, accepted, now_s, DAY_STEPS, STEP)
    params = fleet.params
    t2 = params.template == int(Template.TEMPERATURE)
    # a band holds while its comfort window is open; once the window has closed
    # nobody keeps the zone warm or cool, so tomorrow's opening is not watched
    closed = np.zeros(params.size, dtype=bool)
    for k in range(DAY_STEPS):
        fleet.step(mode[k], value[k])
        inside, _ = window_position(params, fleet.now_s)
        closed |= ~inside
        temp = fleet.state.temp_c
        watched = t2 & inside & ~closed
        assert (temp[watched] >= params.band_low_c[watched] - 1e-9).all(), (k, temp)
        assert (temp[watched] <= params.band_high_c[watched] + 1e-9).all(), (k, temp)
    # EV departures and job deadlines during the day were all met
    assert fleet.state.missed_kwh.max(initial=0.0) < 1e-9, fleet.state.missed_kwh


def test_the_property_sees_refusals_too() -> None:
    # guard against a vacuous property: a long 'off' for a heated room is refused
    cold = ThermalParams(1, 5.0, 1.0, 1.0, 5.0, 19.0, 23.0, 20.0)
    house = [HouseholdSpec("h", "ra", (device("hvac house", "zone", thermal=cold),))]
    fleet = DRFleet(house, np.random.default_rng(0), step_s=STEP)
    fleet.state = replace(fleet.state, thermo_on=np.array([True]))
    command = ApplianceCommand("c", "e", "h", "zone", "off", 0.0, 0, 4 * 3600)
    run = respond(fleet.params, fleet.state, house, [command], STEP, np.random.default_rng(0))
    assert not run.responses[0].opt_in
