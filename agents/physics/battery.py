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

    @staticmethod
    def joined(parts: list[HomeBatteries], round_trip_efficiency: float) -> HomeBatteries:
        """All ``parts``' batteries in order; each part's state of charge becomes a view of
        the joint one, so moving the joint batteries moves them (every update is in place).
        Every operation is per battery: each moves exactly as in its own part."""
        joint = HomeBatteries(np.concatenate([b.capacity_kwh for b in parts]),
                              np.concatenate([b.power_kw for b in parts]), round_trip_efficiency)
        if any(b.one_way_efficiency != joint.one_way_efficiency for b in parts):
            raise BatteryError("batteries moved together must share their efficiency")
        joint.soc_kwh = np.concatenate([b.soc_kwh for b in parts])
        start = 0
        for part in parts:
            part.soc_kwh = joint.soc_kwh[start:start + part.capacity_kwh.size]
            start += part.capacity_kwh.size
        return joint

    def limits_kwh(self, step_h: float,
                   nodes: IntArray | None = None) -> tuple[FloatArray, FloatArray]:
        """(most terminal energy that can go in, most that can come out) this step, kWh,
        for every battery or those at ``nodes``.

        The power limit, and the room (charge) left seen through the one-way efficiency.
        """
        if nodes is None:
            return _limits_kwh(self.power_kw, self.capacity_kwh, self.soc_kwh,
                               self.one_way_efficiency, step_h)
        return _limits_kwh(self.power_kw[nodes], self.capacity_kwh[nodes], self.soc_kwh[nodes],
                           self.one_way_efficiency, step_h)

    def apply(self, charge_kwh: FloatArray, nodes: IntArray | None = None) -> FloatArray:
        """Move the state of charge by checked terminal energies (+ in, - out) of every
        battery or those at ``nodes``; returns them."""
        if nodes is None:
            self.soc_kwh[:] = _moved_soc_kwh(self.soc_kwh, charge_kwh, self.one_way_efficiency,
                                             self.capacity_kwh)
        else:
            self.soc_kwh[nodes] = _moved_soc_kwh(self.soc_kwh[nodes], charge_kwh,
                                                 self.one_way_efficiency, self.capacity_kwh[nodes])
        return charge_kwh

    def dispatch(self, surplus_kw: FloatArray, step_h: float) -> FloatArray:
        """Charge from surplus (> 0) and discharge into deficit (< 0) for one step.

        Returns the terminal energy per battery in kWh (+ charged, - discharged),
        never more than the surplus/deficit, the power limit, or the room/charge left.
        """
        return self.apply(self_consumption_kwh(surplus_kw * step_h, *self.limits_kwh(step_h)))


class BatteryGroup:
    """The batteries at ``nodes`` of a ``HomeBatteries``, stepped together every interval.

    Why: their power and capacity never change, so they are gathered once here
    instead of at every step; the state of charge stays the batteries' own.
    """

    def __init__(self, batteries: HomeBatteries, nodes: IntArray) -> None:
        self.batteries = batteries
        self.nodes = nodes
        self.power_kw = batteries.power_kw[nodes]
        self.capacity_kwh = batteries.capacity_kwh[nodes]

    def soc_kwh(self) -> FloatArray:
        """The group's state of charge now (a copy)."""
        soc: FloatArray = self.batteries.soc_kwh[self.nodes]
        return soc

    def limits_kwh(self, step_h: float, soc_kwh: FloatArray) -> tuple[FloatArray, FloatArray]:
        """``HomeBatteries.limits_kwh`` of the group, at its state of charge ``soc_kwh``."""
        return _limits_kwh(self.power_kw, self.capacity_kwh, soc_kwh,
                           self.batteries.one_way_efficiency, step_h)

    def apply(self, charge_kwh: FloatArray, soc_kwh: FloatArray) -> FloatArray:
        """``HomeBatteries.apply`` of the group, from its state of charge ``soc_kwh``."""
        batteries = self.batteries
        batteries.soc_kwh[self.nodes] = _moved_soc_kwh(
            soc_kwh, charge_kwh, batteries.one_way_efficiency, self.capacity_kwh)
        return charge_kwh


def _limits_kwh(power_kw: FloatArray, capacity_kwh: FloatArray, soc_kwh: FloatArray,
                eta: float, step_h: float) -> tuple[FloatArray, FloatArray]:
    """The power limit, and the room (charge) left seen through the one-way efficiency."""
    limit_kwh = power_kw * step_h
    room_kwh = (capacity_kwh - soc_kwh) / eta
    return np.minimum(limit_kwh, room_kwh), np.minimum(limit_kwh, soc_kwh * eta)


def _moved_soc_kwh(soc_kwh: FloatArray, charge_kwh: FloatArray, eta: float,
                   capacity_kwh: FloatArray) -> FloatArray:
    """The state of charge after terminal energies ``charge_kwh``, within [0, capacity]
    (np.clip's bounds as two ufuncs: the same values, less overhead per step)."""
    charge = np.maximum(charge_kwh, 0.0)
    discharge = np.maximum(-charge_kwh, 0.0)
    soc: FloatArray = np.minimum(np.maximum(soc_kwh + charge * eta - discharge / eta, 0.0),
                                 capacity_kwh)
    return soc


def self_consumption_kwh(want_kwh: FloatArray, charge_limit_kwh: FloatArray,
                         discharge_limit_kwh: FloatArray) -> FloatArray:
    """Store the surplus (``want`` > 0), cover the deficit (< 0), within the limits."""
    charge = np.minimum(np.maximum(want_kwh, 0.0), charge_limit_kwh)
    discharge = np.minimum(np.maximum(-want_kwh, 0.0), discharge_limit_kwh)
    result: FloatArray = charge - discharge
    return result
