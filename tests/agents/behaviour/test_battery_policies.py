"""Batteries through policies: the default is the old rule exactly; price_aware moves."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gridcoop.agents.behaviour.actions import BatteryActions
from gridcoop.agents.behaviour.battery import (
    MarketSignal,
    PriceAwareBattery,
    SelfConsumptionBattery,
)
from gridcoop.agents.behaviour.errors import ActionError, PolicyError
from gridcoop.agents.behaviour.observations import BatteryObservation
from gridcoop.agents.model.community import CommunityModel
from gridcoop.agents.physics.battery import HomeBatteries
from gridcoop.agents.physics.battery_policy import BatteryControl, BatteryDispatch
from gridcoop.agents.scenario.schema import ScenarioError

SMALL: dict[str, Any] = {"households": 30, "regions": 3, "days": 1, "seed": 0}
FEED_IN_U, RETAIL_U = 39_000, 95_000


def _run(**kw: Any) -> dict[str, Any]:
    model = CommunityModel("neighbourhood", **{**SMALL, **kw})
    try:
        return model.run()
    finally:
        model.close()


def _observation(position: float | None) -> BatteryObservation:
    prices = [] if position is None else [round(FEED_IN_U + position * (RETAIL_U - FEED_IN_U))]
    return BatteryObservation(
        0, ("a", "b", "c"), np.array([1.0, -0.5, 0.2]), np.array([2.0, 2.0, 2.0]),
        np.array([4.0, 4.0, 4.0]), np.array([0.5, 0.5, 0.1]), np.array([0.5, 0.3, 0.5]),
        np.array(prices * 4, dtype=np.int64), RETAIL_U, FEED_IN_U)


@pytest.mark.parametrize(("position", "expected"), [
    (None, [0.5, -0.3, 0.1]),  # no price yet: self-consumption
    (0.2, [0.5, 0.5, 0.1]),  # cheap: charge at the limit, from the grid too
    (0.5, [0.5, -0.3, 0.1]),  # in between: self-consumption
    (0.8, [-0.5, -0.3, -0.5]),  # dear: discharge at the limit
])
def test_price_aware_by_hand(position: float | None, expected: list[float]) -> None:
    assert PriceAwareBattery().decide(_observation(position)).charge_kwh.tolist() == expected


def test_self_consumption_policy_is_the_old_rule_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    capacity, power = rng.uniform(0, 8, 50) * (rng.random(50) < 0.6), rng.uniform(1, 4, 50)
    old, new = HomeBatteries(capacity, power, 0.9), HomeBatteries(capacity, power, 0.9)
    dispatch = BatteryDispatch(new, BatteryControl(
        SelfConsumptionBattery(), tuple(f"m{i}" for i in range(50)), MarketSignal(), rng))
    for step in range(200):
        surplus_kw = rng.normal(0, 3, 50)
        assert (dispatch.step(step, surplus_kw * 0.25, 0.25)
                == old.dispatch(surplus_kw, 0.25)).all()
        assert (new.soc_kwh == old.soc_kwh).all()


def test_a_subclass_of_the_default_is_asked_and_checked() -> None:
    """The default rule is applied without its observation; a subclass still decides."""
    class Greedy(SelfConsumptionBattery):
        name = "greedy"

        def decide(self, observation: BatteryObservation) -> BatteryActions:
            seen.append(observation.step)
            return BatteryActions(observation.charge_limit_kwh + 1.0)  # beyond the limit

    seen: list[int] = []
    batteries = HomeBatteries(np.array([4.0, 0.0, 2.0]), np.array([2.0, 0.0, 2.0]), 1.0)
    dispatch = BatteryDispatch(batteries, BatteryControl(
        Greedy(), ("a", "b", "c"), MarketSignal(), np.random.default_rng(0)))
    with pytest.raises(ActionError, match="beyond the charge limit"):
        dispatch.step(7, np.array([1.0, 0.0, 1.0]), 0.25)
    assert seen == [7] and batteries.soc_kwh.tolist() == [2.0, 0.0, 1.0]  # nothing moved
    default = BatteryDispatch(batteries, BatteryControl(
        SelfConsumptionBattery(), ("a", "b", "c"), MarketSignal(), np.random.default_rng(0)))
    # 2 kW for 15 minutes: 0.5 kWh into home a (1 kWh offered), 0.3 kWh out of home c
    assert default.step(8, np.array([1.0, 0.0, -0.3]), 0.25).tolist() == [0.5, 0.0, -0.3]
    assert batteries.soc_kwh.tolist() == [2.5, 0.0, pytest.approx(0.7)]


def test_naming_the_default_changes_nothing_and_price_aware_moves_the_run() -> None:
    plain = _run()
    assert _run(policies={"battery": "self_consumption"}) == plain
    aware = _run(policies={"battery": "price_aware"})
    assert aware == _run(policies={"battery": "price_aware"})  # same seed, same run
    moved = {k: (plain[k], aware[k]) for k in ("community_grid_import_kwh", "local_traded_kwh",
                                               "peak_grid_import_kw")}
    assert moved == {"community_grid_import_kwh": (275.373, 273.463),  # evening discharge
                     "local_traded_kwh": (27.629, 27.021),
                     "peak_grid_import_kw": (24.776, 25.284)}  # cheap hours charge at full power
    assert aware["ledger_head_hash"] != plain["ledger_head_hash"]


@pytest.mark.parametrize(("fault", "problem"), [
    ("nan", "nan is not a number"),
    ("over", "beyond the charge limit"),
    ("under", "beyond the discharge limit"),
    ("shape", "expected ("),
    ("unknown", "'nobody'"),
    ("type", "expected BatteryActions"),
])
def test_malformed_battery_actions_are_refused_before_the_ledger(fault: str,
                                                                 problem: str) -> None:
    model = CommunityModel("neighbourhood", **SMALL, policies={"battery": {
        "policy": "tests.agents.behaviour.policies_for_tests:BrokenBattery",
        "params": {"fault": fault}}})
    try:
        height = model.accounts.ledger.height
        with pytest.raises(ActionError) as caught:
            model.step()
        message = str(caught.value)
        assert "policy 'broken_battery'" in message and problem in message
        assert "\n" not in message
        if fault in ("nan", "over", "under"):
            first = int(np.flatnonzero(model.population.battery_kwh > 0)[0])
            assert f"member {model.population.node_ids[first]!r}" in message
            assert "field 'charge_kwh'" in message
        assert model.accounts.ledger.height == height
    finally:
        model.close()


def test_bad_battery_choices_fail_validation_in_one_line() -> None:
    for choice, words in (("nonesuch", "not built in"),
                          ({"policy": "price_aware", "params": {"charge_below": 1.5}},
                           "charge_below must be in [0, 1]"),
                          ({"policy": "price_aware", "params": {"window": 0}}, "window")):
        with pytest.raises(ScenarioError) as caught:
            CommunityModel("neighbourhood", **SMALL, policies={"battery": choice})
        assert words in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(PolicyError, match="not an object"):
        CommunityModel("neighbourhood", **SMALL, policies={"battery": PriceAwareBattery()})
