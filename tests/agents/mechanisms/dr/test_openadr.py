"""OpenADR-style events turned into appliance commands."""

from __future__ import annotations

import numpy as np
import pytest

from gridcoop.agents.bus.messages import DRCommand
from gridcoop.agents.mechanisms.dr.devices import HouseholdSpec, device
from gridcoop.agents.mechanisms.dr.fleet_params import FleetParams
from gridcoop.agents.mechanisms.dr.openadr import (
    LEVEL_MEANING,
    ApplianceCommand,
    EventError,
    EventTargets,
    OpenADREvent,
    SignalLevel,
    commands_for_dispatch,
    commands_for_level,
    validate_commands,
)
from gridcoop.catalogue import Template
from tests.agents.mechanisms.dr.helpers import HOUR, fleet_at, leaf


def homes() -> list[HouseholdSpec]:
    return [
        HouseholdSpec("h-a", "ra-1", (leaf(), device("heater outlet")), priority=("ev", "heater")),
        HouseholdSpec(
            "h-b", "ra-2", (device("hvac house"), device("outlet"), device("refrigerator"))
        ),
    ]


def actions(commands: list[ApplianceCommand]) -> list[tuple[str, str, str, float]]:
    return [(c.household_id, c.device_id, c.action, c.power_kw) for c in commands]


def params() -> FleetParams:
    return fleet_at(homes(), 10 * HOUR).params


def event(level: int, **kw: object) -> OpenADREvent:
    return OpenADREvent("evt-1", 10 * HOUR, HOUR, level=level, **kw)  # type: ignore[arg-type]


def test_simple_levels_map_to_commands() -> None:
    p = params()
    assert commands_for_level(event(0), p) == []
    assert actions(commands_for_level(event(1), p)) == [("h-a", "heater", "off", 0.0)]
    # level 2: T4 off, T1 deferred, EV charging halved (3.65 / 2 = 1.825 kW)
    assert actions(commands_for_level(event(2), p)) == [
        ("h-a", "ev", "decrease", 1.825),
        ("h-a", "heater", "off", 0.0),
        ("h-b", "outlet", "off", 0.0),
    ]
    # level 3 (emergency shed): every flexible device off; the fridge is never commanded
    assert actions(commands_for_level(event(3), p)) == [
        ("h-a", "ev", "off", 0.0),
        ("h-a", "heater", "off", 0.0),
        ("h-b", "hvac", "off", 0.0),
        ("h-b", "outlet", "off", 0.0),
    ]
    assert event(3).meaning == LEVEL_MEANING[SignalLevel.EMERGENCY_SHED]


def test_targets_and_expected_power_narrow_the_commands() -> None:
    p = params()
    only_b = event(3, targets=EventTargets(aggregator_ids=("ra-2",)))
    assert [c.device_id for c in commands_for_level(only_b, p)] == ["hvac", "outlet"]
    only_t2 = event(3, targets=EventTargets(templates=(Template.TEMPERATURE,)))
    assert [c.device_id for c in commands_for_level(only_t2, p)] == ["hvac"]
    only_a = event(3, targets=EventTargets(household_ids=("h-a",)))
    assert [c.device_id for c in commands_for_level(only_a, p)] == ["ev", "heater"]
    # devices expected to draw nothing during the event get no command
    expected = np.array([0.0, 2.0, 3.0, 0.0, 0.1])
    assert [c.device_id for c in commands_for_level(event(3), p, expected)] == ["heater", "hvac"]


def test_commands_fit_the_bus_message() -> None:
    command = commands_for_level(event(2), params())[0]
    assert command.command_id == "evt-1/h-a/ev"
    message = DRCommand(**command.message_fields())
    assert (message.action, message.power_kw, message.duration_s) == ("decrease", 1.825, 3600)


def test_load_dispatch_absorbs_excess_by_template_priority() -> None:
    # up flexibility (kW): ev 3.65 (T3, ra-1), heater 2 (T4, ra-1), hvac 3 (T2, ra-2),
    # outlet 1 (T1, ra-2), fridge 0.5 (not flexible: never claims).
    # 5 kW: T1 1000 fits (4000 left), T2 3000 fits (1000 left), T3 3650 does not:
    # ra-1 gets 1000 W, which h-a spends on its priority-1 EV.
    up = np.array([3.65, 2.0, 3.0, 1.0, 0.5])
    evt = OpenADREvent("x-1", 10 * HOUR, 300, signal_name="LOAD_DISPATCH", dispatch_kw=5.0)
    commands, result = commands_for_dispatch(evt, params(), up, np.zeros(5))
    assert result.aggregator_w() == {"ra-1": 1000, "ra-2": 4000}
    assert actions(commands) == [
        ("h-a", "ev", "increase", 1.0),
        ("h-b", "hvac", "increase", 3.0),
        ("h-b", "outlet", "on", 0.0),
    ]
    assert evt.meaning == "load dispatch: absorb 5 kW"


def test_load_dispatch_shed_follows_each_households_off_sequence() -> None:
    # down flexibility 3.65 + 2 + 3 + 1 = 9.65 kW; shed 4 kW -> keep 5650 W, shared
    # T1 first: outlet 1000, hvac 3000 (ra-2, h-b keeps 4000: nothing to shed);
    # 1650 W left for T3: h-a keeps 1650 W. h-a's off-sequence (heater, ev): the
    # heater goes off (3650 left), then the EV is turned down by 2000 W to 1650 W.
    down = np.array([3.65, 2.0, 3.0, 1.0, 0.5])
    evt = OpenADREvent("x-2", 10 * HOUR, 300, signal_name="LOAD_DISPATCH", dispatch_kw=-4.0)
    commands, _ = commands_for_dispatch(evt, params(), np.zeros(5), down)
    assert actions(commands) == [("h-a", "ev", "decrease", 2.0), ("h-a", "heater", "off", 0.0)]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: OpenADREvent("", 0, 60), "event_id"),
        (lambda: OpenADREvent("e", 0, 0), "duration_s > 0"),
        (lambda: OpenADREvent("e", 0, 60, level=4), "level must be 0..3"),  # type: ignore[arg-type]
        (lambda: OpenADREvent("e", 0, 60, signal_name="LOAD_DISPATCH"), "non-zero dispatch_kw"),
        (lambda: OpenADREvent("e", 0, 60, signal_name="PRICE"), "SIMPLE or LOAD_DISPATCH"),  # type: ignore[arg-type]
    ],
)
def test_bad_events(build: object, message: str) -> None:
    with pytest.raises(EventError, match=message):
        build()  # type: ignore[operator]


def test_wrong_signal_and_bad_commands_are_refused() -> None:
    p = params()
    dispatch = OpenADREvent("d", 0, 60, signal_name="LOAD_DISPATCH", dispatch_kw=1.0)
    with pytest.raises(EventError, match="not SIMPLE"):
        commands_for_level(dispatch, p)
    with pytest.raises(EventError, match="not LOAD_DISPATCH"):
        commands_for_dispatch(event(1), p, np.zeros(5), np.zeros(5))
    a = ApplianceCommand("c1", "e", "h-a", "ev", "off", 0.0, 0, 600)
    with pytest.raises(EventError, match="overlaps"):
        validate_commands([a, ApplianceCommand("c2", "e", "h-a", "ev", "on", 0.0, 300, 600)], p)
    validate_commands([a, ApplianceCommand("c2", "e", "h-a", "ev", "on", 0.0, 600, 600)], p)
    with pytest.raises(EventError, match="unknown device h-a/tv"):
        validate_commands([ApplianceCommand("c", "e", "h-a", "tv", "off", 0.0, 0, 60)], p)
