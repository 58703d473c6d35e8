"""Device catalogue, household settings and the thermal model."""

from __future__ import annotations

import numpy as np
import pytest

from gridcoop.agents.mechanisms.dr.devices import (
    BatteryParams,
    DeviceSpecError,
    HouseholdSpec,
    catalogue_names,
    device,
    pilot_households,
    random_households,
)
from gridcoop.agents.mechanisms.dr.thermal import (
    HOUSE_HVAC,
    ThermalParams,
    ThermalParamsError,
    next_temperature_c,
)
from gridcoop.catalogue import Template


def one(x: float) -> np.ndarray:
    return np.array([x])


def test_first_order_step_matches_the_closed_form() -> None:
    # HOUSE_HVAC: R 5 °C/kW, C 1 kWh/°C, ambient 12 °C, 3 kW heating, one hour:
    # decay = exp(-1/5) = 0.818731; full power settles at 12 + 5*3 = 27 °C:
    # 27 + (21 - 27) * 0.818731 = 22.087615; off it settles at 12: 12 + 9 * 0.818731 = 19.368577
    p = HOUSE_HVAC
    args = (
        one(p.mode),
        one(p.resistance_c_per_kw),
        one(p.capacitance_kwh_per_c),
        one(p.cop),
        one(p.ambient_c),
        one(p.heat_draw_kw),
    )
    assert next_temperature_c(one(21.0), one(3.0), 1.0, *args)[0] == pytest.approx(
        22.087615, abs=1e-6
    )
    assert next_temperature_c(one(21.0), one(0.0), 1.0, *args)[0] == pytest.approx(
        19.368577, abs=1e-6
    )
    # two half-hour steps equal one hour (exact discretisation)
    hour = next_temperature_c(one(21.0), one(3.0), 1.0, *args)
    half = next_temperature_c(one(21.0), one(3.0), 0.5, *args)
    assert next_temperature_c(half, one(3.0), 0.5, *args)[0] == pytest.approx(hour[0], abs=1e-12)


def test_catalogue_follows_the_domain_table() -> None:
    ev = device("electric vehicle")
    assert (ev.template, ev.power_kw, ev.start_h, ev.end_h, ev.divisible) == (
        Template.BATTERY,
        3.65,
        19.0,
        6.0,
        True,
    )
    assert ev.window_h == 11.0
    dish = device("dish washer")
    # 1.5 working hours in a 1 h window: cut to the window, like the physics does
    assert (dish.template, dish.working_h, dish.interruptible, dish.flexible) == (
        Template.SCHEDULED,
        1.0,
        False,
        False,
    )
    assert device("refrigerator").thermal is not None
    assert "hvac house" in catalogue_names() and "iron" in catalogue_names()
    with pytest.raises(DeviceSpecError, match="unknown appliance kind 'toaster'"):
        device("toaster")
    with pytest.raises(DeviceSpecError, match="bad device field"):
        device("iron", colour="red")


def test_pilot_matches_domain() -> None:
    homes = pilot_households()
    kinds = [d.kind for h in homes for d in h.devices]
    assert kinds.count("hvac house") == 8 and kinds.count("electric vehicle") == 7
    assert kinds.count("outlet") == 1 and kinds.count("heater outlet") == 1
    capacities = sorted(d.battery.capacity_kwh for h in homes for d in h.devices if d.battery)
    assert capacities == [24.0] * 5 + [30.0] * 2
    hvac = [d for h in homes for d in h.devices if d.kind == "hvac house"]
    assert all(d.power_kw == 3.0 and d.template == Template.TEMPERATURE for d in hvac)
    a = pilot_households(rng=np.random.default_rng(5))
    b = pilot_households(rng=np.random.default_rng(5))
    assert a == b and a != homes


def test_household_priority_and_off_sequence_defaults() -> None:
    hh = HouseholdSpec(
        "h",
        "ra",
        (device("electric vehicle", "ev"), device("pool pump", "pump"), device("television", "tv")),
    )
    assert hh.priority == ("ev", "pump")  # the TV is not flexible
    assert hh.off_sequence == ("pump", "ev")
    with pytest.raises(DeviceSpecError, match="priority must list each flexible device"):
        HouseholdSpec("h", "ra", hh.devices, priority=("ev",))
    with pytest.raises(DeviceSpecError, match="device ids repeat"):
        HouseholdSpec("h", "ra", (device("iron", "x"), device("light", "x")))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: BatteryParams(capacity_kwh=24, target_kwh=30), "target_kwh must be between"),
        (lambda: device("outlet", working_h=12.0), "must fit the 9.0 h window"),
        (lambda: device("outlet", power_kw=0.0), "power_kw must be > 0"),
        (lambda: device("outlet", template=9), "template must be 1..4"),
        (lambda: device("outlet", template=Template.TEMPERATURE), "needs thermal params"),
        (lambda: ThermalParams(2, 1, 1, 1, 0, 1, 2, 1), "mode must be"),
        (lambda: ThermalParams(1, 1, 1, 1, 0, 3, 2, 1), "band_low_c < band_high_c"),
    ],
)
def test_bad_specs_are_refused(build: object, message: str) -> None:
    with pytest.raises((DeviceSpecError, ThermalParamsError), match=message):
        build()  # type: ignore[operator]


def test_random_households_are_seeded() -> None:
    a = random_households(np.random.default_rng(3), 50, aggregators=4)
    b = random_households(np.random.default_rng(3), 50, aggregators=4)
    assert a == b
    assert {h.aggregator_id for h in a} == {"ra-1", "ra-2", "ra-3", "ra-4"}
    evs = sum(any(d.kind == "electric vehicle" for d in h.devices) for h in a)
    assert 0 < evs < 50
    # every household owns a refrigerator (owned by all in the table), never flexible
    assert all(any(d.kind == "refrigerator" and not d.flexible for d in h.devices) for h in a)
