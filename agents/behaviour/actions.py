"""What a policy returns: one action type per decision, arrays over the observed group.

Why ``member_ids`` is optional: a vectorised policy returns rows in the
observation's order; a per-agent policy (or a learner acting for some members)
may name whom each row is for, and a name that is not in the group is refused
(``gridcoop.agents.behaviour.validate``).
"""

from __future__ import annotations

from dataclasses import dataclass

from gridcoop.agents.behaviour.observations import BoolArray, FloatArray, IntArray


@dataclass(frozen=True, slots=True)
class BidActions:
    """Each member's bid (buy) and offer (sell) for the interval: Wh and limit µ€/kWh.

    A zero quantity sends no order on that side; prices are ignored there.
    """

    bid_wh: IntArray
    bid_price_u: IntArray
    offer_wh: IntArray
    offer_price_u: IntArray
    member_ids: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class EVActions:
    """Per owner for the day: deviate from the usual pattern (``change``), warn ahead,
    name a replacement (row index in the group, -1: let the aggregator find one),
    and allow V2G discharge."""

    change: BoolArray
    warn: BoolArray
    replacement: IntArray
    allow_v2g: BoolArray
    member_ids: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class DRActions:
    """Per household: opt out of the command (True) or comply (False)."""

    opt_out: BoolArray
    member_ids: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class LightingActions:
    """Per class session: the last one out switches the lights off (True)."""

    switch_off: BoolArray
    member_ids: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class BatteryActions:
    """Per battery: terminal energy for the step, kWh (+ charge, - discharge).

    Why a float in kWh and not whole Wh like the other actions: the battery is
    physics, stepped in float kWh, and the built-in self-consumption rule must
    give exactly the results it gave before policies existed (whole Wh would
    round every step). Energy that is counted stays integer: the meters read
    whole Wh of what the house imports or exports after the battery acted.
    Each value must be finite and within ``[-discharge_limit_kwh,
    charge_limit_kwh]`` of the observation, else the step is refused.
    """

    charge_kwh: FloatArray
    member_ids: tuple[str, ...] | None = None
