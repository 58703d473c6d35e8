"""Small fleets for the DR tests."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from gridcoop.agents.mechanisms.dr.devices import BatteryParams, DeviceSpec, HouseholdSpec, device
from gridcoop.agents.mechanisms.dr.fleet import DRFleet

HOUR = 3600


def single(
    spec: DeviceSpec, household_id: str = "h", aggregator_id: str = "ra", **settings: object
) -> HouseholdSpec:
    return HouseholdSpec(household_id, aggregator_id, (spec,), **settings)  # type: ignore[arg-type]


def fleet_at(households: list[HouseholdSpec], now_s: int, **state: object) -> DRFleet:
    """A fleet started at ``now_s`` with some state fields set (arrays or scalars).

    ``seed`` (default 0) seeds the fleet's day plan.
    """
    seed = state.pop("seed", 0)
    assert isinstance(seed, int)
    fleet = DRFleet(households, np.random.default_rng(seed), step_s=300, start_s=now_s)
    changes = {
        k: np.broadcast_to(
            np.asarray(v, dtype=getattr(fleet.state, k).dtype), getattr(fleet.state, k).shape
        ).copy()
        for k, v in state.items()
    }
    fleet.state = replace(fleet.state, **changes)  # type: ignore[arg-type]
    return fleet


def leaf(initial_kwh: float = 12.0, target_kwh: float = 21.6) -> DeviceSpec:
    return device(
        "electric vehicle",
        "ev",
        battery=BatteryParams(
            capacity_kwh=24.0, initial_kwh=initial_kwh, target_kwh=target_kwh, trip_kwh=12.0
        ),
    )
