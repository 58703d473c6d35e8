"""Households of every region stepped (and forecast) as one set of arrays give the regions'
own numbers."""

from __future__ import annotations

from typing import Any

import numpy as np

from gridcoop.agents.model.community import CommunityModel
from gridcoop.agents.physics.flows import Flows
from gridcoop.agents.physics.joint import JointHouseholds
from gridcoop.agents.physics.regional import RegionalPhysics

SMALL: dict[str, Any] = {"households": 48, "regions": 4, "days": 2, "seed": 7,
                         "mix": {"prosumer": 0.4, "ev_owner": 0.3, "dr_household": 0.3}}


def _physics(model: CommunityModel) -> RegionalPhysics:
    physics = model.population.physics
    assert isinstance(physics, RegionalPhysics)
    return physics


def test_joint_steps_are_the_regions_steps_bit_for_bit() -> None:
    joint_model = CommunityModel("neighbourhood", **SMALL)
    alone_model = CommunityModel("neighbourhood", **SMALL)
    try:
        joint, alone = _physics(joint_model), _physics(alone_model)
        clock = joint_model.clock
        for k in range(clock.total_steps):
            if k % clock.steps_per_market == 0 and k // clock.steps_per_market + 1 < \
                    clock.total_markets:  # forecasts read the state the joint step moves
                market = k // clock.steps_per_market + 1
                forecasts = np.concatenate([alone.forecast_region(market, r)
                                             for r in range(alone.regions)])
                assert np.array_equal(joint.forecast_import_kwh(market), forecasts)
            together = joint.step(k)
            parts = alone.step_regions(k, range(alone.regions))
            one_by_one = Flows(*(np.concatenate([f[i] for f in parts.values()])
                                 for i in range(len(Flows._fields))))
            for name, a, b in zip(Flows._fields, together, one_by_one, strict=True):
                assert np.array_equal(a, b), (k, name)
        assert isinstance(joint._joint, JointHouseholds)  # the joint path ran
        assert joint._joint.evs.size > 0 and joint._joint.dispatch is not None
        for r in range(joint.regions):  # each region's state is the joint state's view
            mine, theirs = joint.part(r), alone.part(r)
            assert np.array_equal(mine.evs.soc_kwh, theirs.evs.soc_kwh)  # type: ignore[attr-defined]
            assert np.array_equal(mine.evs.charged_away_kwh,  # type: ignore[attr-defined]
                                  theirs.evs.charged_away_kwh)  # type: ignore[attr-defined]
            assert np.array_equal(mine.batteries.soc_kwh,  # type: ignore[attr-defined]
                                  theirs.batteries.soc_kwh)  # type: ignore[attr-defined]
    finally:
        joint_model.close()
        alone_model.close()


def test_another_battery_policy_steps_region_by_region() -> None:
    model = CommunityModel("neighbourhood", **SMALL, policies={"battery": "price_aware"})
    try:
        physics = _physics(model)
        physics.step(0)
        assert physics._joint is False  # each region's policy is asked for its own homes
    finally:
        model.close()
