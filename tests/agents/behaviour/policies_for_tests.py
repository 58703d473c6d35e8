"""Policies the behaviour tests name by import path (as a researcher's package would)."""

from __future__ import annotations

import numpy as np

from gridcoop.agents.behaviour.actions import BatteryActions, BidActions
from gridcoop.agents.behaviour.observations import BatteryObservation, BidObservation
from gridcoop.agents.behaviour.protocols import PolicyBase


class Broken(PolicyBase):
    """Returns one malformed field, chosen by ``fault``."""

    name = "broken"

    def __init__(self, fault: str = "nan") -> None:
        super().__init__()
        self.fault = fault

    def decide(self, observation: BidObservation) -> BidActions:
        n = observation.size
        qty = np.full(n, 100, dtype=np.int64)
        price = np.full(n, observation.retail_u, dtype=np.int64)
        ids = None
        if self.fault == "nan":
            price = price.astype(float)
            price[2] = np.nan
        elif self.fault == "negative":
            qty[1] = -5
        elif self.fault == "cap":
            price[3] = observation.price_cap_u + 1
        elif self.fault == "shape":
            qty = qty[:-1]
        elif self.fault == "unknown":
            ids = (*observation.member_ids[:-1], "nobody")
        return BidActions(qty, price, np.zeros(n, dtype=np.int64), price, member_ids=ids)


class BrokenBattery(PolicyBase):
    """Battery setpoints with one malformed value, chosen by ``fault``, once batteries act."""

    name = "broken_battery"

    def __init__(self, fault: str = "nan") -> None:
        super().__init__()
        self.fault = fault

    def decide(self, observation: BatteryObservation) -> BatteryActions:
        charge = observation.charge_limit_kwh.copy()
        ids = None
        if not observation.member_ids:  # a region without batteries
            return BatteryActions(charge)
        if self.fault == "nan":
            charge[0] = np.nan
        elif self.fault == "over":
            charge[0] = observation.charge_limit_kwh[0] + 0.5
        elif self.fault == "under":
            charge[0] = -observation.discharge_limit_kwh[0] - 0.5
        elif self.fault == "shape":
            charge = charge[:-1]
        elif self.fault == "unknown":
            ids = (*observation.member_ids[:-1], "nobody")
        elif self.fault == "type":
            return charge  # type: ignore[return-value]  # an array, not BatteryActions
        return BatteryActions(charge, member_ids=ids)
