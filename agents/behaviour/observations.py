"""What a policy sees before it decides: one observation per decision, over a group of members.

Why arrays over a group: the built-in policies decide for thousands of members
at once (the fast path); a per-agent policy (``gridcoop.agents.behaviour.mesa_way``)
reads its own row of the same arrays. Row ``i`` of every array is member
``member_ids[i]``. Money is integer µ€ and prices integer µ€/kWh; energies that
are counted are integer Wh. Forecasts stay floats (they are estimates, never billed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
RECENT_PRICES = 24  # clearing prices an observation shows (a day of hourly auctions)


def _empty_int() -> IntArray:
    return np.zeros(0, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class Standing:
    """A group's standing in the community's mechanisms (zeros where a mechanism is absent).

    ``tokens`` and ``penalties`` are the members' running totals; ``rank`` is the
    last published rank (1 = best, 0 = not ranked, negative = on the "least
    sustainable" list, -1 its worst); ``newsletter`` is the last published
    newsletter's figures; ``published`` is the neighbours' behaviour a mechanism
    publishes (e.g. ``"switch_off_share"``, ``"kept_share"``), one value per member.
    """

    tokens: IntArray
    penalties: IntArray
    rank: IntArray
    newsletter: Mapping[str, float] = field(default_factory=dict)
    published: Mapping[str, FloatArray] = field(default_factory=dict)

    @staticmethod
    def none(n: int) -> Standing:
        """No mechanism publishes anything (the default)."""
        zeros = np.zeros(n, dtype=np.int64)
        return Standing(zeros, zeros, zeros)


@dataclass(frozen=True, slots=True)
class BidObservation:
    """Before a gate: what each member knows when it prices its order for ``interval``.

    ``forecast_kwh`` is the net import forecast for the delivery interval (> 0
    buys, < 0 sells). Tariffs are the grid's for that interval; ``price_cap_u``
    is the market's cap (a limit price above it is refused). ``recent_prices_u``
    are the last clearing prices, oldest first (empty before the first clearing).
    ``state`` holds other own state by name (``"battery_soc_wh"``, ``"pv_w"``).
    """

    interval: int
    member_ids: tuple[str, ...]
    nodes: IntArray
    forecast_kwh: FloatArray
    retail_u: int
    feed_in_u: int
    grid_fee_u: int
    price_cap_u: int
    recent_prices_u: IntArray = field(default_factory=_empty_int)
    standing: Standing | None = None
    state: Mapping[str, IntArray] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.member_ids)


@dataclass(frozen=True, slots=True)
class BidFeedback:
    """After clearing ``interval``: what each member of the group got.

    ``bought_wh``/``sold_wh`` were cleared (locally or centrally); ``price_u`` is
    the central clearing price (-1 when nothing cleared); ``payoff_u`` is each
    member's saving against the grid tariffs: bought × (retail − price) + sold ×
    (price − feed-in), in µ€, rounded down.
    """

    interval: int
    member_ids: tuple[str, ...]
    bid_wh: IntArray
    offer_wh: IntArray
    bought_wh: IntArray
    sold_wh: IntArray
    price_u: int
    payoff_u: IntArray


@dataclass(frozen=True, slots=True)
class EVObservation:
    """Each day, per EV owner: the day's chances and the owner's standing so far.

    ``change_draw``/``warn_draw`` are the owner's uniform draws of the day (its
    luck, from the seeded ``ev.trips`` streams) and ``base_change``/``base_warn``
    the scenario's rates; ``broken`` counts the owner's unannounced changes so
    far, ``warned`` its warned ones. ``standing.penalties`` is ``broken`` (what
    the mechanism penalises) and ``standing.tokens`` the run of days kept.
    """

    day: int
    member_ids: tuple[str, ...]
    change_draw: FloatArray
    warn_draw: FloatArray
    base_change: FloatArray
    base_warn: FloatArray
    broken: IntArray
    warned: IntArray
    standing: Standing | None = None


@dataclass(frozen=True, slots=True)
class DRObservation:
    """DR commands received: one row per command, ``member_ids`` its households.

    ``comfort_loss`` is what complying asks of the household, in kWh shifted
    (a command that would break a comfort limit is refused whatever the policy
    answers for its row); ``base_opt_out`` the household's own opt-out probability;
    ``standing.tokens`` the reward tokens it has earned so far and
    ``standing.penalties`` the penalty tokens it has been charged.
    """

    event: str
    member_ids: tuple[str, ...]
    comfort_loss: FloatArray
    base_opt_out: FloatArray
    standing: Standing | None = None


@dataclass(frozen=True, slots=True)
class LightingObservation:
    """Classes ending on ``day``: whether the last one out switches the lights off.

    One row per class session; ``member_ids`` are its teachers (whose habit it is),
    ``session_ids`` the sessions. ``base_switch_off`` is the habit's probability
    with no incentive; ``standing.rank`` is the teacher's last published rank and
    ``standing.published["switch_off_share"]`` the share of classes that switched
    off in the last published period.
    """

    day: int
    member_ids: tuple[str, ...]
    session_ids: IntArray
    base_switch_off: FloatArray
    standing: Standing | None = None


@dataclass(frozen=True, slots=True)
class BatteryObservation:
    """Each physics step, per home battery: the house's surplus, the battery, the prices.

    Energies are floats in kWh at the battery's terminals, the physics' own unit
    (the battery's state is physics, not a counted quantity; the meters count
    whole Wh of what the house then imports or exports). ``charge_limit_kwh`` and
    ``discharge_limit_kwh`` are the most that can go in or come out this step
    (power limit and room or charge left, efficiency applied). ``recent_prices_u``
    are the last clearing prices, oldest first (empty before the first one, and
    in worker processes, which do not see the central clearing); ``forecast`` is
    True when the step is a dry run for the next interval's order.
    """

    step: int
    member_ids: tuple[str, ...]
    surplus_kwh: FloatArray
    soc_kwh: FloatArray
    capacity_kwh: FloatArray
    charge_limit_kwh: FloatArray
    discharge_limit_kwh: FloatArray
    recent_prices_u: IntArray
    retail_u: int
    feed_in_u: int
    forecast: bool = False
