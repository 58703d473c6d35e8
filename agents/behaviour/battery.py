"""Built-in battery policies: how much each home battery charges or discharges each step.

``self_consumption`` is the community's long-standing rule: store the
house's surplus, cover its deficit, within the power limit and the room or
charge left. Routing the batteries through it changes no result.

``price_aware`` follows the clearing prices: when the mean of the last
``window`` clearing prices sits in the lowest ``charge_below`` share of the
feed-in → retail spread, every battery charges at its limit (from the grid
if the house has no surplus: buying is cheap); in the highest
``1 - discharge_above`` share it discharges at its limit (selling is dear);
in between, and before any price is known, it keeps to self-consumption.
The three parameters are assumptions (the pilot gives none).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from gridcoop.agents.behaviour.actions import BatteryActions
from gridcoop.agents.behaviour.observations import RECENT_PRICES, BatteryObservation
from gridcoop.agents.behaviour.protocols import PolicyBase, check_shares
from gridcoop.agents.physics.battery import FloatArray, self_consumption_kwh

CHARGE_BELOW = 0.4  # assumption: share of the spread under which batteries charge
DISCHARGE_ABOVE = 0.6  # assumption: share of the spread over which they discharge
WINDOW = 4  # assumption: clearing prices averaged (one hour of 15-minute auctions)


@dataclass(slots=True)
class MarketSignal:
    """The prices batteries see: the last clearing prices and the tariff they cleared under.

    Why a shared object: the batteries step inside the physics, the prices come
    from the central clearing; the model notes each clearing here and every
    region's physics reads it.
    """

    recent_prices_u: deque[int] = field(default_factory=lambda: deque(maxlen=RECENT_PRICES))
    retail_u: int = 0
    feed_in_u: int = 0

    def note(self, price_u: int | None, retail_u: int, feed_in_u: int) -> None:
        if price_u is not None:
            self.recent_prices_u.append(int(price_u))
        self.retail_u, self.feed_in_u = int(retail_u), int(feed_in_u)


class SelfConsumptionBattery(PolicyBase):
    """Store the surplus, cover the deficit: the battery without a tariff optimiser."""

    name = "self_consumption"

    @staticmethod
    def setpoints_kwh(surplus_kwh: FloatArray, charge_limit_kwh: FloatArray,
                      discharge_limit_kwh: FloatArray) -> FloatArray:
        """The rule itself; the dispatcher applies it directly for this exact policy."""
        return self_consumption_kwh(surplus_kwh, charge_limit_kwh, discharge_limit_kwh)

    def decide(self, observation: BatteryObservation) -> BatteryActions:
        return BatteryActions(self.setpoints_kwh(
            observation.surplus_kwh, observation.charge_limit_kwh,
            observation.discharge_limit_kwh))


class PriceAwareBattery(SelfConsumptionBattery):
    """Charge at full power when recent clearing prices are low, discharge when high."""

    name = "price_aware"

    def __init__(self, charge_below: float = CHARGE_BELOW,
                 discharge_above: float = DISCHARGE_ABOVE, window: int = WINDOW) -> None:
        super().__init__()
        check_shares(self.name, charge_below=charge_below, discharge_above=discharge_above)
        if charge_below > discharge_above:
            raise ValueError(f"{self.name} policy: charge_below ({charge_below}) must not "
                             f"exceed discharge_above ({discharge_above})")
        if not 1 <= window <= RECENT_PRICES:
            raise ValueError(f"{self.name} policy: window must be in [1, {RECENT_PRICES}], "
                             f"got {window}")
        self.charge_below = charge_below
        self.discharge_above = discharge_above
        self.window = window

    def position(self, observation: BatteryObservation) -> float | None:
        """Where the recent mean price sits in the spread (0 feed-in, 1 retail), if known."""
        prices = observation.recent_prices_u[-self.window:]
        spread = observation.retail_u - observation.feed_in_u
        if not prices.size or spread <= 0:
            return None
        return float((prices.mean() - observation.feed_in_u) / spread)

    def decide(self, observation: BatteryObservation) -> BatteryActions:
        where = self.position(observation)
        if where is not None and where <= self.charge_below:
            return BatteryActions(observation.charge_limit_kwh.copy())
        if where is not None and where >= self.discharge_above:
            return BatteryActions(-observation.discharge_limit_kwh)
        return super().decide(observation)

