"""The DR fleet's fixed parameters: every household's devices flattened into one array each.

Why apart from the physics in ``fleet``: the parameters are read by every step
of the DR exchange (aggregation, OpenADR commands, responses) that never
advances a device, while ``fleet`` holds what changes and how.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.mechanisms.dr.devices import HouseholdSpec, check_unique
from gridcoop.catalogue import Template

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class FleetParams:
    """What does not change during a run (one entry per device)."""

    household: IntArray
    household_ids: tuple[str, ...]
    aggregator_ids: tuple[str, ...]  # per household
    device_ids: tuple[str, ...]
    kinds: tuple[str, ...]
    template: IntArray
    power_kw: FloatArray
    start_s: IntArray
    window_s: IntArray
    work_kwh: FloatArray
    flexible: BoolArray
    divisible: BoolArray
    interruptible: BoolArray
    p_used: FloatArray
    priority: IntArray  # 1 = served first within its household; 0 for inflexible devices
    off_rank: IntArray  # 1 = turned off first within its household; 0 for inflexible devices
    mode: FloatArray
    resistance: FloatArray
    capacitance: FloatArray
    cop: FloatArray
    ambient_c: FloatArray
    heat_draw_kw: FloatArray
    band_low_c: FloatArray
    band_high_c: FloatArray
    capacity_kwh: FloatArray
    target_kwh: FloatArray
    trip_kwh: FloatArray
    initial_c: FloatArray
    initial_kwh: FloatArray

    @property
    def size(self) -> int:
        return int(self.template.size)

    def is_template(self, template: Template) -> BoolArray:
        mask: BoolArray = self.template == int(template)
        return mask


def build_params(households: Sequence[HouseholdSpec]) -> FleetParams:
    """Flatten household descriptions into device arrays (devices in household order)."""
    check_unique(households)
    rows = [(h_index, hh, dev) for h_index, hh in enumerate(households) for dev in hh.devices]

    def col(values: list[float]) -> FloatArray:
        return np.array(values, dtype=np.float64).reshape(len(rows))

    def thermal(name: str, default: float) -> FloatArray:
        return col([getattr(d.thermal, name) if d.thermal else default for _, _, d in rows])

    def battery(name: str) -> FloatArray:
        return col([getattr(d.battery, name) if d.battery else 0.0 for _, _, d in rows])

    def rank(hh: HouseholdSpec, order: tuple[str, ...] | None, device_id: str) -> int:
        return order.index(device_id) + 1 if order and device_id in order else 0

    start_s = np.array([round(d.start_h * 3600) for _, _, d in rows], dtype=np.int64)
    window_s = np.array([round(d.window_h * 3600) for _, _, d in rows], dtype=np.int64)
    power = col([d.power_kw for _, _, d in rows])
    return FleetParams(
        household=np.array([h for h, _, _ in rows], dtype=np.int64),
        household_ids=tuple(h.household_id for h in households),
        aggregator_ids=tuple(h.aggregator_id for h in households),
        device_ids=tuple(d.device_id for _, _, d in rows),
        kinds=tuple(d.kind for _, _, d in rows),
        template=np.array([int(d.template) for _, _, d in rows], dtype=np.int64),
        power_kw=power,
        start_s=start_s,
        window_s=window_s,
        work_kwh=col([d.working_h * d.power_kw for _, _, d in rows]),
        flexible=np.array([d.flexible for _, _, d in rows], dtype=bool),
        divisible=np.array([d.divisible for _, _, d in rows], dtype=bool),
        interruptible=np.array([d.interruptible for _, _, d in rows], dtype=bool),
        p_used=col([d.p_used_daily for _, _, d in rows]),
        priority=np.array([rank(h, h.priority, d.device_id) for _, h, d in rows], dtype=np.int64),
        off_rank=np.array(
            [rank(h, h.off_sequence, d.device_id) for _, h, d in rows], dtype=np.int64
        ),
        mode=thermal("mode", 1.0),
        resistance=thermal("resistance_c_per_kw", 1.0),
        capacitance=thermal("capacitance_kwh_per_c", 1.0),
        cop=thermal("cop", 1.0),
        ambient_c=thermal("ambient_c", 20.0),
        heat_draw_kw=thermal("heat_draw_kw", 0.0),
        band_low_c=thermal("band_low_c", -np.inf),
        band_high_c=thermal("band_high_c", np.inf),
        capacity_kwh=battery("capacity_kwh"),
        target_kwh=battery("target_kwh"),
        trip_kwh=battery("trip_kwh"),
        initial_c=thermal("initial_c", 0.0),
        initial_kwh=battery("initial_kwh"),
    )


def per_household(params: FleetParams, device_values: FloatArray) -> FloatArray:
    """Sum a per-device quantity over each household's devices (household order)."""
    sums = np.bincount(params.household, weights=device_values, minlength=len(params.household_ids))
    return np.asarray(sums, dtype=np.float64)
