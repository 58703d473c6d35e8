"""Vehicle-to-grid discharge limits and how a reserve call is shared among plugged EVs.

Why the limit: the community may only use energy the owner does not need.
An EV gives at most

    limit = max(0, min(soc − need − margin, allowance, power × duration))

where ``need`` is the energy of the trip(s) until it is next plugged in
(:attr:`FleetHistory.need_kwh`), ``margin`` the owner's reserve on top,
``allowance`` the energy the owner declared the community may use, and
``power × duration`` what its V2G charger can push out during the call. An EV
not plugged in for the whole call gives nothing. Allocation is in integer
watt-hours (the meters' unit), proportional to each EV's limit, with the
largest-remainder method so the parts add up exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.mechanisms.ev.profiles import (
    AnyFloatArray,
    BoolArray,
    EVConfigError,
    FloatArray,
)
from gridcoop.agents.mechanisms.ev.revenue import apportion
from gridcoop.agents.mechanisms.ev.simulate import FleetHistory


def v2g_limit_kwh(
    soc_kwh: AnyFloatArray,
    need_kwh: AnyFloatArray,
    margin_kwh: FloatArray,
    plugged: BoolArray,
    power_kw: FloatArray,
    duration_h: float,
    allowance_kwh: FloatArray,
) -> FloatArray:
    """Energy each EV can give to a call without touching what its owner needs (kWh)."""
    if duration_h < 0:
        raise EVConfigError(f"duration_h must be >= 0, got {duration_h}")
    headroom = (np.asarray(soc_kwh, dtype=np.float64) - need_kwh) - margin_kwh
    limit = np.minimum(np.minimum(headroom, allowance_kwh), np.asarray(power_kw) * duration_h)
    return np.where(plugged, np.maximum(limit, 0.0), 0.0)


@dataclass(frozen=True)
class CallAllocation:
    """Energy asked of each EV for one call (integer Wh), and what could not be covered."""

    energy_wh: NDArray[np.int64]
    limit_wh: NDArray[np.int64]
    requested_wh: int

    @property
    def served_wh(self) -> int:
        return int(self.energy_wh.sum())

    @property
    def shortfall_wh(self) -> int:
        return self.requested_wh - self.served_wh


def allocate_call(
    requested_wh: int, limit_kwh: FloatArray, keys: tuple[str, ...] | None = None
) -> CallAllocation:
    """Share ``requested_wh`` among EVs in proportion to their limits (never above a limit).

    Limits are rounded down to whole Wh first, so an EV is never asked for
    more than it can safely give. If the limits add up to less than the
    request, every EV gives its full limit and the rest is a shortfall.
    """
    if not isinstance(requested_wh, int | np.integer) or requested_wh < 0:
        raise EVConfigError(f"requested_wh must be an int >= 0, got {requested_wh!r}")
    limit_wh = np.floor(np.maximum(np.asarray(limit_kwh, dtype=np.float64), 0.0) * 1000.0)
    limit_wh = limit_wh.astype(np.int64)
    total = int(limit_wh.sum())
    if total <= requested_wh:
        energy = limit_wh.copy()
    else:
        energy = np.array(
            apportion(int(requested_wh), [int(x) for x in limit_wh], keys), dtype=np.int64
        )
    return CallAllocation(energy_wh=energy, limit_wh=limit_wh, requested_wh=int(requested_wh))


def call_limits_kwh(
    history: FleetHistory,
    start_step: int,
    duration_steps: int,
    allowance_kwh: FloatArray | None = None,
    eligible: BoolArray | None = None,
) -> FloatArray:
    """Each EV's V2G limit for a call over steps ``[start_step, start_step + duration_steps)``.

    An EV counts only if plugged in for every step of the call; its state of
    charge and need are read at the call's first step. ``allowance_kwh``
    defaults to the fleet's declared ``committed_kwh``; ``eligible`` to the
    EVs offered to the aggregator (every profile but taxis).
    """
    end = start_step + duration_steps
    if duration_steps < 1 or start_step < 0 or end > history.n_steps:
        raise EVConfigError(
            f"call steps [{start_step}, {end}) must lie inside the history's "
            f"{history.n_steps} steps and last at least one step"
        )
    fleet = history.fleet
    plugged = history.plugged[:, start_step:end].all(axis=1)
    if eligible is not None:
        plugged &= eligible
    else:
        plugged &= fleet.offered
    return v2g_limit_kwh(
        history.soc_kwh[:, start_step],
        history.need_kwh[:, start_step],
        fleet.margin_kwh,
        plugged,
        fleet.v2g_power_kw,
        duration_steps * history.step_min / 60.0,
        fleet.committed_kwh if allowance_kwh is None else allowance_kwh,
    )
