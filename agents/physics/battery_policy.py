"""Home batteries decided by the scenario's battery policy, one region at a time.

Why here: the battery acts inside each physics step (between the house's
production and consumption and what the meter counts), so the policy is
asked there, for the region's homes that have a battery; its setpoints are
checked (``validate_battery``) before the battery moves. The default
``self_consumption`` gives exactly the dispatch from before policies existed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.behaviour.battery import MarketSignal, SelfConsumptionBattery
from gridcoop.agents.behaviour.observations import BatteryObservation
from gridcoop.agents.behaviour.protocols import Decision, Group
from gridcoop.agents.behaviour.validate import validate_battery
from gridcoop.agents.physics.battery import BatteryGroup, HomeBatteries

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class BatteryControl:
    """What a region's physics needs to ask its battery policy: the policy object (not yet
    set up), the region's member ids in node order, the shared prices and the group's stream."""

    policy: Any
    member_ids: tuple[str, ...]
    signal: MarketSignal
    rng: np.random.Generator
    name: str = "batteries"


class BatteryDispatch:
    """Asks the policy for each step's terminal energies and applies them to the batteries."""

    def __init__(self, batteries: HomeBatteries, control: BatteryControl | None) -> None:
        self.batteries = batteries
        self.nodes = np.flatnonzero(batteries.capacity_kwh > 0)
        n = batteries.capacity_kwh.size
        if control is None:
            control = BatteryControl(SelfConsumptionBattery(), tuple(map(str, range(n))),
                                     MarketSignal(), np.random.default_rng(0))
        self.signal = control.signal
        self.policy = control.policy
        self.policy_name = str(getattr(self.policy, "name", type(self.policy).__name__))
        self.member_ids = tuple(control.member_ids[i] for i in self.nodes)
        # the default rule is pure and within the limits by construction: applied directly,
        # without an observation to build or an answer to check (the same setpoints)
        self.direct = type(self.policy) is SelfConsumptionBattery
        self.group = BatteryGroup(batteries, self.nodes)
        self.capacity_kwh = batteries.capacity_kwh[self.nodes]  # the policies' own copy
        self.policy.setup(Group(Decision.BATTERY, control.name, self.member_ids, self.nodes,
                                control.rng))

    def step(self, step: int, want_kwh: FloatArray, step_h: float,
             forecast: bool = False) -> FloatArray:
        """Terminal energy per home this step (+ charged, - discharged), 0 without a battery."""
        group, nodes, signal = self.group, self.nodes, self.signal
        soc = group.soc_kwh()
        charge_limit, discharge_limit = group.limits_kwh(step_h, soc)
        if self.direct:
            charge = SelfConsumptionBattery.setpoints_kwh(want_kwh[nodes], charge_limit,
                                                          discharge_limit)
        else:
            observation = BatteryObservation(
                step, self.member_ids, want_kwh[nodes], soc.copy(), self.capacity_kwh,
                charge_limit, discharge_limit, np.fromiter(signal.recent_prices_u, np.int64),
                signal.retail_u, signal.feed_in_u, forecast)
            charge = validate_battery(self.policy_name, observation,
                                      self.policy.decide(observation))
        storage = np.zeros(want_kwh.size)
        storage[nodes] = group.apply(charge, soc)
        return storage
