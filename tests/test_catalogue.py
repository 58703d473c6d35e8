"""One appliance catalogue and one Template enum, shared by the bridge, the model and the market."""

from __future__ import annotations

import numpy as np
import pytest

import gridcoop.agents.physics.appliances as model_appliances
import gridcoop.catalogue as catalogue
import gridcoop.hardware_bridge.households as live_households
import gridcoop.market.excess_sharing as excess_sharing
from gridcoop.agents.mechanisms.dr.devices import catalogue_names, device
from gridcoop.catalogue import APPLIANCES, Template, UnknownApplianceError, appliance_index
from gridcoop.hardware_bridge.households import HouseholdFleet


def test_bridge_and_model_expose_the_very_same_rows() -> None:
    assert live_households.APPLIANCES is catalogue.APPLIANCES
    assert model_appliances.APPLIANCES is catalogue.APPLIANCES
    assert model_appliances.ApplianceSpec is catalogue.ApplianceSpec
    assert live_households.N_APPLIANCES == len(APPLIANCES) == 14


def test_one_template_enum() -> None:
    assert model_appliances.Template is Template
    assert excess_sharing.Template is Template
    assert [(t.name, int(t)) for t in Template] == [
        ("SCHEDULED", 1), ("TEMPERATURE", 2), ("BATTERY", 3), ("FLEXIBLE", 4)]


def test_pilot_figures() -> None:
    ev = APPLIANCES[appliance_index("electric vehicle")]
    assert (ev.flexible, ev.start_h, ev.end_h, ev.working_h, ev.power_kw) == (
        True, 19.0, 6.0, 6.0, 3.65)
    assert ev.template is Template.BATTERY and ev.window_h == 11.0
    dish = APPLIANCES[appliance_index("dish washer")]
    assert (dish.flexible, dish.start_h, dish.end_h, dish.working_h, dish.power_kw) == (
        False, 22.0, 23.0, 1.5, 0.47)
    assert dish.run_h == 1.0  # 1.5 working hours cut to the 1 h window
    assert [a.name for a in APPLIANCES if a.flexible] == [
        "electric vehicle", "air conditioner", "pool pump", "water heater"]
    for spec in APPLIANCES:
        assert 0.0 <= spec.p_owned <= 1.0 and 0.0 <= spec.p_used_daily <= 1.0


def test_unknown_appliance_is_refused() -> None:
    with pytest.raises(UnknownApplianceError, match="unknown appliance 'toaster'; known: "):
        appliance_index("toaster")


def test_live_households_own_by_the_catalogue_shares() -> None:
    fleet = HouseholdFleet(4_000, seed=3)
    share = fleet.owned.mean(axis=0)
    expected = np.array([a.p_owned for a in APPLIANCES])
    assert share[appliance_index("refrigerator")] == 1.0
    assert share[appliance_index("electric vehicle")] == 0.0
    assert np.all(np.abs(share - expected) < 0.03)


def test_dr_catalogue_reads_the_same_rows() -> None:
    names = catalogue_names()
    assert names[:len(APPLIANCES)] == [a.name for a in APPLIANCES]
    for spec in APPLIANCES:
        dev = device(spec.name)
        assert (dev.power_kw, dev.template, dev.p_used_daily) == (
            spec.power_kw, spec.template, spec.p_used_daily)
