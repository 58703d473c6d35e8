"""Shedding a household's running load in its off-sequence until it fits a limit.

Why apart from excess sharing: sharing decides how much each load may draw;
this applies a household's explicit off-sequence to what is already running
(the fridge, never named, is never touched), with the same integer watts and
the same error type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gridcoop.market.excess_sharing import ExcessSharingError, check_id, check_int

__all__ = ["RunningLoad", "ShedResult", "turn_off_in_order"]


@dataclass(frozen=True, slots=True)
class RunningLoad:
    """An appliance that is running now, for :func:`turn_off_in_order`."""

    appliance_id: str
    power_w: int
    divisible: bool = False

    def __post_init__(self) -> None:
        check_id("appliance_id", self.appliance_id)
        check_int(f"appliance {self.appliance_id!r} power_w", self.power_w)


@dataclass(frozen=True, slots=True)
class ShedResult:
    """Which appliances stay at what power after shedding, and what is still too much."""

    power_w: dict[str, int]
    turned_off: tuple[str, ...]
    turned_down: tuple[str, ...]
    total_w: int
    excess_over_limit_w: int


def turn_off_in_order(
    running: Sequence[RunningLoad], off_sequence: Sequence[str], limit_w: int
) -> ShedResult:
    """Turn appliances off in the household's ``off_sequence`` until the load fits ``limit_w``.

    Appliances not named in ``off_sequence`` are never touched (the fridge).
    A divisible appliance is only turned down as far as needed, so nothing is
    shed beyond the limit. If everything in the sequence is off and the load
    still exceeds the limit, ``excess_over_limit_w`` says by how much.
    """
    check_int("limit_w", limit_w)
    power: dict[str, int] = {}
    for load in running:
        if load.appliance_id in power:
            raise ExcessSharingError(f"appliance id {load.appliance_id!r} is listed twice")
        power[load.appliance_id] = load.power_w
    by_id = {load.appliance_id: load for load in running}
    if len(set(off_sequence)) != len(off_sequence):
        raise ExcessSharingError(f"off_sequence names an appliance twice: {list(off_sequence)!r}")
    turned_off: list[str] = []
    turned_down: list[str] = []
    total = sum(power.values())
    for appliance_id in off_sequence:
        if total <= limit_w:
            break
        target = by_id.get(appliance_id)
        if target is None or power[appliance_id] == 0:
            continue
        over = total - limit_w
        if target.divisible and power[appliance_id] > over:
            power[appliance_id] -= over
            total -= over
            turned_down.append(appliance_id)
        else:
            total -= power[appliance_id]
            power[appliance_id] = 0
            turned_off.append(appliance_id)
    return ShedResult(power, tuple(turned_off), tuple(turned_down), total, max(0, total - limit_w))
