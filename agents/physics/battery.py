"""Home batteries: limits, state of charge and the self-consumption rule, vectorised.

Why self-consumption: it is what a home battery without a tariff optimiser
does (store the surplus, cover the deficit), and it keeps the market's job
(trading what is left) visible. The rule is the default battery policy
(``gridcoop.agents.behaviour.battery``); other policies choose their own
setpoints within ``limits_kwh`` and the battery ``apply``-s them.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


class BatteryError(ValueError):
    """Battery parameters that cannot describe a real battery."""


class HomeBatteries:
    """State of charge and limits of ``n`` batteries (capacity 0 means no battery).

    Energies are measured at the battery's terminals on the house side:
    ``dispatch`` returns the energy that went in (positive) or came out
    (negative) in the step, which is the node's storage change; losses are
    applied inside the battery (one-way efficiency = sqrt(round trip)).
    """

    def __init__(
        self,
        capacity_kwh: FloatArray,
        power_kw: FloatArray,
        round_trip_efficiency: float = 0.9,
        initial_soc: float = 0.5,
    ) -> None:
        self.capacity_kwh = np.asarray(capacity_kwh, dtype=np.float64)
        self.power_kw = np.asarray(power_kw, dtype=np.float64)
        if self.capacity_kwh.shape != self.power_kw.shape:
            raise BatteryError("capacity_kwh and power_kw must have the same shape")
        if (self.capacity_kwh < 0).any() or (self.power_kw < 0).any():
            raise BatteryError("battery capacity and power must be >= 0")
        if not 0.0 < round_trip_efficiency <= 1.0:
            raise BatteryError(
                f"round_trip_efficiency must be in (0, 1], got {round_trip_efficiency}"
            )
        if not 0.0 <= initial_soc <= 1.0:
            raise BatteryError(f"initial_soc must be in [0, 1], got {initial_soc}")
        self.one_way_efficiency = float(np.sqrt(round_trip_efficiency))
        self.soc_kwh = self.capacity_kwh * initial_soc

    def limits_kwh(self, step_h: float,
                   nodes: IntArray | None = None) -> tuple[FloatArray, FloatArray]:
        """(most terminal energy that can go in, most that can come out) this step, kWh,
        for every battery or those at ``nodes``.

        The power limit, and the room (charge) left seen through the one-way efficiency.
        """
        eta = self.one_way_efficiency
        power, capacity, soc = self.power_kw, self.capacity_kwh, self.soc_kwh
        if nodes is not None:
            power, capacity, soc = power[nodes], capacity[nodes], soc[nodes]
        limit_kwh = power * step_h
        room_kwh = (capacity - soc) / eta
        return np.minimum(limit_kwh, room_kwh), np.minimum(limit_kwh, soc * eta)

    def apply(self, charge_kwh: FloatArray, nodes: IntArray | None = None) -> FloatArray:
        """Move the state of charge by checked terminal energies (+ in, - out) of every
        battery or those at ``nodes``; returns them."""
        eta = self.one_way_efficiency
        charge = np.maximum(charge_kwh, 0.0)
        discharge = np.maximum(-charge_kwh, 0.0)
        if nodes is None:
            self.soc_kwh = np.clip(
                self.soc_kwh + charge * eta - discharge / eta, 0.0, self.capacity_kwh
            )
        else:  # np.clip's bounds as two ufuncs: the same values, less overhead per step
            soc = self.soc_kwh[nodes] + charge * eta - discharge / eta
            self.soc_kwh[nodes] = np.minimum(np.maximum(soc, 0.0), self.capacity_kwh[nodes])
        return charge_kwh

    def dispatch(self, surplus_kw: FloatArray, step_h: float) -> FloatArray:
        """Charge from surplus (> 0) and discharge into deficit (< 0) for one step.

        Returns the terminal energy per battery in kWh (+ charged, - discharged),
        never more than the surplus/deficit, the power limit, or the room/charge left.
        """
        return self.apply(self_consumption_kwh(surplus_kw * step_h, *self.limits_kwh(step_h)))


def self_consumption_kwh(want_kwh: FloatArray, charge_limit_kwh: FloatArray,
                         discharge_limit_kwh: FloatArray) -> FloatArray:
    """Store the surplus (``want`` > 0), cover the deficit (< 0), within the limits."""
    charge = np.minimum(np.maximum(want_kwh, 0.0), charge_limit_kwh)
    discharge = np.minimum(np.maximum(-want_kwh, 0.0), discharge_limit_kwh)
    result: FloatArray = charge - discharge
    return result
