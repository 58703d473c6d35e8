"""The pilot's simplifying assumptions, each switched to its realistic alternative."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from gridcoop.agents.mechanisms.ev.chargers import share_chargers
from gridcoop.agents.mechanisms.ev.fleet_physics import V2GFleet
from gridcoop.agents.mechanisms.ev.profiles import LEAF_24, EVConfigError, make_fleet
from gridcoop.agents.mechanisms.ev.scenario import EVCommunity, EVCommunityParams
from gridcoop.agents.mechanisms.ev.simulate import SimulationOptions, simulate_fleet


def test_two_chargers_first_come_first_served_and_waiting_parked() -> None:
    wants = np.array([[1, 1, 1, 0, 0],
                      [0, 1, 1, 1, 0],
                      [0, 1, 1, 1, 1],   # arrives with EV 1, finds no charger, waits
                      [1, 1, 0, 0, 0]], dtype=bool)  # another community
    got = share_chargers(wants, np.array([0, 0, 0, 1]), 1)
    assert got.astype(int).tolist() == [[1, 1, 1, 0, 0],
                                        [0, 0, 0, 1, 0],  # takes EV 0's charger once freed
                                        [0, 0, 0, 0, 1],
                                        [1, 1, 0, 0, 0]]
    assert (share_chargers(wants, np.zeros(4, dtype=np.int64), 4) == wants).all()
    assert not share_chargers(wants, np.zeros(4, dtype=np.int64), 0).any()
    with pytest.raises(EVConfigError):
        share_chargers(wants, np.zeros(3, dtype=np.int64), 1)



def test_one_charger_for_four_evs_never_plugs_two_at_once() -> None:
    fleet = make_fleet([4, 3, 2, 4], [LEAF_24] * 4, ev_ids=["a", "b", "c", "d"])
    free = simulate_fleet(fleet, 5, seed=2, options=SimulationOptions(plug_whenever_parked=True))
    queued = simulate_fleet(fleet, 5, seed=2, options=SimulationOptions(
        plug_whenever_parked=True, chargers=1))
    assert queued.plugged.sum(axis=0).max() == 1
    assert (queued.plugged <= free.plugged).all()


def test_losses_slow_a_limited_charger_and_fade_lowers_the_ceiling() -> None:
    fleet = make_fleet([4, 3, 2, 4], [LEAF_24] * 4, ev_ids=["a", "b", "c", "d"])
    base = SimulationOptions(unlimited_charger_power=False)
    ideal = simulate_fleet(fleet, 5, seed=3, options=base)
    lossy = simulate_fleet(fleet, 5, seed=3, options=SimulationOptions(
        unlimited_charger_power=False, charge_efficiency=0.5))
    assert lossy.soc_kwh.sum() < ideal.soc_kwh.sum()
    full = simulate_fleet(fleet, 5, seed=3)
    faded = simulate_fleet(fleet, 5, seed=3, options=SimulationOptions(capacity_fade_per_year=0.5))
    assert full.soc_kwh.max() == pytest.approx(24.0)
    # 0.5 a year: filled at step t - 1, at most 24 × (1 − 0.5 × days(t - 1) / 365) at step t
    steps = np.maximum(np.arange(faded.n_steps) - 1, 0) * 5 / 1440
    assert (faded.soc_kwh <= 24.0 * (1 - 0.5 * steps / 365) + 1e-4).all()
    assert faded.soc_kwh[:, -1].max() < 24.0 - 0.1


def test_efficiency_on_the_grid_side_of_charging() -> None:
    fleet = make_fleet([4], [LEAF_24], ev_ids=["a"])
    history = simulate_fleet(fleet, 3, seed=1, options=SimulationOptions(
        unlimited_charger_power=False))
    rows = np.array([0])
    ideal, lossy = V2GFleet(history, 1, 15), V2GFleet(history, 1, 15, efficiency=0.8)
    drawn = [(ideal.step_rows(rows, k)[0], lossy.step_rows(rows, k)[0]) for k in range(96)]
    assert sum(d for d, _ in drawn) > 0
    assert all(b == pytest.approx(a / 0.8) for a, b in drawn)
    with pytest.raises(EVConfigError):
        V2GFleet(history, 1, 15, efficiency=0.0)


def test_scenario_defaults_are_the_pilots_and_each_switch_validates() -> None:
    p = EVCommunity().ev_community
    assert (p.unlimited_charger_power, p.plug_whenever_parked, p.efficiency,
            p.capacity_fade_per_year, p.chargers_per_community, p.critical_periods) == (
        True, True, 1.0, 0.0, None, "auto")
    assert EVCommunityParams(critical_periods=((7, 10),)).critical_periods == ((7, 10),)
    for bad in ({"efficiency": 0}, {"efficiency": 1.5}, {"capacity_fade_per_year": 1},
                {"chargers_per_community": -1}, {"critical_periods": "sometimes"},
                {"critical_periods": ((10, 7),)}):
        with pytest.raises(ValidationError):
            EVCommunityParams.model_validate(bad)
