"""Opt-in within comfort: hand-worked answers."""

from __future__ import annotations

import numpy as np
import pytest

from gridcoop.agents.bus.messages import DRResponse
from gridcoop.agents.mechanisms.dr.devices import HouseholdSpec, device
from gridcoop.agents.mechanisms.dr.openadr import ApplianceCommand, EventError
from gridcoop.agents.mechanisms.dr.response import (
    CommandResponse,
    accepted_commands,
    honoured_commands,
    respond,
)
from tests.agents.mechanisms.dr.helpers import HOUR, fleet_at, leaf, single


def answer(
    households: list[HouseholdSpec],
    now_s: int,
    command: ApplianceCommand,
    **state: object,
) -> CommandResponse:
    fleet = fleet_at(households, now_s, **state)
    rng = np.random.default_rng(0)
    run = respond(fleet.params, fleet.state, households, [command], 300, rng)
    return run.responses[0]


def off(device_id: str, start_s: int, duration_s: int, household: str = "h") -> ApplianceCommand:
    return ApplianceCommand("c", "e", household, device_id, "off", 0.0, start_s, duration_s)


def test_house_heating_may_pause_an_hour_but_not_two() -> None:
    # 21 °C, heating on (hysteresis). Off 1 h: 12 + 9 exp(-0.2) = 19.369 °C >= 19: accepted;
    # its baseline ran the full hour (it reaches 22.09 < 23): committed -3 kWh.
    house = [single(device("hvac house"))]
    yes = answer(house, 0, off("hvac", 0, HOUR), temp_c=21.0, thermo_on=True)
    assert yes.opt_in and yes.committed_wh == -3000
    assert yes.expected_shift_kw == (-3.0,) * 12
    # Off 2 h: 12 + 9 exp(-0.4) = 18.033 °C: 0.97 °C below the band -> refused.
    no = answer(house, 0, off("hvac", 0, 2 * HOUR), temp_c=21.0, thermo_on=True)
    assert not no.opt_in
    assert no.reason == "comfort: temperature would leave the band by 0.97 °C"
    assert no.committed_wh == 0 and no.expected_shift_kw == ()


def test_ev_may_pause_only_while_its_departure_charge_stays_reachable() -> None:
    ev = [single(leaf())]
    # 00:00 with 12 kWh: 9.6 kWh needed in 6 h; paused 2 h it still has 4 h (14.6 kWh).
    assert answer(ev, 0, off("ev", 0, 2 * HOUR)).opt_in
    # 03:30 with 12.6 kWh: 9.0 kWh in 2.5 h (9.125 possible); a 30-minute pause
    # leaves 2 h = 7.3 kWh: 1.7 kWh short -> refused.
    late = answer(ev, int(3.5 * HOUR), off("ev", int(3.5 * HOUR), 1800), energy_kwh=12.6)
    assert not late.opt_in
    assert late.reason == "comfort: EV would not be charged by departure by 1.700 kWh"


def test_scheduled_job_may_be_deferred_until_its_latest_start() -> None:
    outlet = [single(device("outlet"))]
    # 10:00, 2 kWh to do before 18:00, it would start now (offset 0):
    # deferring 6 h leaves exactly 2 h -> accepted; deferring 6.5 h -> refused.
    ok = answer(
        outlet, 10 * HOUR, off("outlet", 10 * HOUR, 6 * HOUR), work_left_kwh=2.0, offset_s=0.0
    )
    assert ok.opt_in and ok.committed_wh == -2000
    late = answer(
        outlet,
        10 * HOUR,
        off("outlet", 10 * HOUR, int(6.5 * HOUR)),
        work_left_kwh=2.0,
        offset_s=0.0,
    )
    assert late.reason == "comfort: job would miss its deadline by 0.500 kWh"


def test_refusals_that_need_no_simulation() -> None:
    fridge = [single(device("refrigerator"))]
    assert answer(fridge, 0, off("refrigerator", 0, 300), temp_c=5.95).reason.startswith(
        "not flexible"
    )
    heater = [single(device("heater outlet"))]
    up = ApplianceCommand("c", "e", "h", "heater", "increase", 1.0, 10 * HOUR, 300)
    assert answer(heater, 10 * HOUR, up, work_left_kwh=8.0).reason.startswith("on/off appliance")
    dryer = [single(device("clothes dryer", "dryer", flexible=True))]
    busy = answer(dryer, 10 * HOUR, off("dryer", 10 * HOUR, 300), work_left_kwh=1.0, started=True)
    assert busy.reason == "running cycle cannot be interrupted"
    # the heater has no work today: switching it off changes nothing
    idle = answer(heater, 10 * HOUR, off("heater", 10 * HOUR, HOUR), work_left_kwh=0.0)
    assert idle.reason == "no effect: the appliance would not change its consumption"


def test_full_flexibility_accepts_anything_unless_the_user_declines() -> None:
    heater = [single(device("heater outlet"))]
    command = off("heater", 10 * HOUR, HOUR)
    state = {"work_left_kwh": 8.0, "offset_s": 0.0}
    assert answer(heater, 10 * HOUR, command, **state).committed_wh == -2000
    shy = [single(device("heater outlet"), opt_out_probability=1.0)]
    assert answer(shy, 10 * HOUR, command, **state).reason == "declined by the user"


def test_responses_are_seeded_and_fit_the_bus_message() -> None:
    homes = [single(device("heater outlet"), f"h{i}", opt_out_probability=0.5) for i in range(40)]
    commands = [
        ApplianceCommand(f"c{i}", "e", f"h{i}", "heater", "off", 0.0, 10 * HOUR, HOUR)
        for i in range(40)
    ]

    def run(seed: int) -> list[bool]:
        fleet = fleet_at(homes, 10 * HOUR, work_left_kwh=8.0, offset_s=0.0)
        result = respond(
            fleet.params, fleet.state, homes, commands, 300, np.random.default_rng(seed)
        )
        return [r.opt_in for r in result.responses]

    assert run(1) == run(1)
    assert run(1) != run(2)
    assert 5 < sum(run(1)) < 35
    fleet = fleet_at(homes, 10 * HOUR, work_left_kwh=8.0, offset_s=0.0)
    result = respond(fleet.params, fleet.state, homes, commands, 300, np.random.default_rng(1))
    message = DRResponse(**result.responses[0].message_fields())
    assert message.response in ("opt_in", "opt_out")
    accepted = accepted_commands(commands, result)
    assert len(accepted) == sum(run(1))
    # override probability 1: every accepted command is not honoured
    stubborn = [
        HouseholdSpec(h.household_id, h.aggregator_id, h.devices, override_probability=1.0)
        for h in homes
    ]
    assert honoured_commands(commands, result, stubborn, np.random.default_rng(0)) == []
    assert honoured_commands(commands, result, homes, np.random.default_rng(0)) == accepted


def test_commands_in_the_past_or_off_grid_are_refused() -> None:
    fleet = fleet_at([single(leaf())], HOUR)
    rng = np.random.default_rng(0)
    with pytest.raises(EventError, match="must start at or after now"):
        respond(fleet.params, fleet.state, [single(leaf())], [off("ev", 0, 600)], 300, rng)
    with pytest.raises(EventError, match="last whole steps"):
        respond(fleet.params, fleet.state, [single(leaf())], [off("ev", HOUR, 100)], 300, rng)
