"""Grid tariffs: a time-of-use retail table, a feed-in tariff, a local grid fee.

Defaults are the pilot's: buy from the grid at 0.095 €/kWh from 13:00 to 23:00,
sell to it at 0.039 €/kWh. The pilot gives no off-peak retail price; the default
0.065 €/kWh is an assumption (between feed-in and peak, so local trade still
pays at night) and should be set per scenario. The pilot gives no grid fee for
local trades either: the default is 0.0 €/kWh, set it per community.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gridcoop.market.errors import InvalidTariffError

PILOT_PEAK_EUR_PER_KWH = 0.095
PILOT_FEED_IN_EUR_PER_KWH = 0.039
PILOT_PEAK_HOURS = (13, 23)  # [start, end): 13:00 up to 23:00
DEFAULT_OFF_PEAK_EUR_PER_KWH = 0.065
HOURS_PER_DAY = 24


def _price(name: str, value: object) -> float:
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or not math.isfinite(value) or value < 0):
        raise InvalidTariffError(f"{name} must be a finite price >= 0 €/kWh, got {value!r}")
    return float(value)


def _hour(hour: object) -> int:
    if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour < HOURS_PER_DAY:
        raise InvalidTariffError(
            f"hour must be an integer hour of the day 0..23, got {hour!r}; "
            f"pass hour % 24 for a running hour count"
        )
    return hour


def _two_period_table(peak: float, off_peak: float, start: int, end: int) -> tuple[float, ...]:
    start, end = _hour(start), _hour(end % HOURS_PER_DAY)
    if start <= end:
        return tuple(peak if start <= h < end else off_peak for h in range(HOURS_PER_DAY))
    return tuple(peak if h >= start or h < end else off_peak for h in range(HOURS_PER_DAY))


@dataclass(frozen=True, slots=True)
class TimeOfUseTariff:
    """Retail price per hour of day (24 entries), feed-in price, local grid fee.

    ``grid_fee_eur_per_kwh`` is charged on every locally traded kWh; who pays it
    is chosen at settlement (the buyer, by default).
    """

    retail_eur_per_kwh_by_hour: tuple[float, ...] = field(
        default=_two_period_table(PILOT_PEAK_EUR_PER_KWH, DEFAULT_OFF_PEAK_EUR_PER_KWH,
                                  *PILOT_PEAK_HOURS)
    )
    feed_in_eur_per_kwh: float = PILOT_FEED_IN_EUR_PER_KWH
    grid_fee_eur_per_kwh: float = 0.0

    def __post_init__(self) -> None:
        table = tuple(self.retail_eur_per_kwh_by_hour)
        if len(table) != HOURS_PER_DAY:
            raise InvalidTariffError(
                f"the retail table needs one price per hour (24), got {len(table)}"
            )
        table = tuple(_price(f"retail price at hour {h}", p) for h, p in enumerate(table))
        object.__setattr__(self, "retail_eur_per_kwh_by_hour", table)
        object.__setattr__(self, "feed_in_eur_per_kwh",
                           _price("feed_in_eur_per_kwh", self.feed_in_eur_per_kwh))
        object.__setattr__(self, "grid_fee_eur_per_kwh",
                           _price("grid_fee_eur_per_kwh", self.grid_fee_eur_per_kwh))

    @classmethod
    def two_period(
        cls,
        *,
        peak_eur_per_kwh: float = PILOT_PEAK_EUR_PER_KWH,
        off_peak_eur_per_kwh: float = DEFAULT_OFF_PEAK_EUR_PER_KWH,
        peak_start_hour: int = PILOT_PEAK_HOURS[0],
        peak_end_hour: int = PILOT_PEAK_HOURS[1],
        feed_in_eur_per_kwh: float = PILOT_FEED_IN_EUR_PER_KWH,
        grid_fee_eur_per_kwh: float = 0.0,
    ) -> TimeOfUseTariff:
        """Peak price in ``[peak_start_hour, peak_end_hour)`` (may wrap midnight), off-peak else."""
        peak = _price("peak_eur_per_kwh", peak_eur_per_kwh)
        off_peak = _price("off_peak_eur_per_kwh", off_peak_eur_per_kwh)
        if peak_start_hour == peak_end_hour % HOURS_PER_DAY:
            raise InvalidTariffError(
                "peak_start_hour equals peak_end_hour; use flat() for a single price"
            )
        return cls(_two_period_table(peak, off_peak, peak_start_hour, peak_end_hour),
                   feed_in_eur_per_kwh, grid_fee_eur_per_kwh)

    @classmethod
    def flat(cls, retail_eur_per_kwh: float, *,
             feed_in_eur_per_kwh: float = PILOT_FEED_IN_EUR_PER_KWH,
             grid_fee_eur_per_kwh: float = 0.0) -> TimeOfUseTariff:
        """One retail price for every hour."""
        return cls((retail_eur_per_kwh,) * HOURS_PER_DAY, feed_in_eur_per_kwh,
                   grid_fee_eur_per_kwh)

    @classmethod
    def from_table(cls, retail_eur_per_kwh: Mapping[int, float] | Sequence[float], *,
                   feed_in_eur_per_kwh: float = PILOT_FEED_IN_EUR_PER_KWH,
                   grid_fee_eur_per_kwh: float = 0.0) -> TimeOfUseTariff:
        """From 24 prices, or a mapping ``{hour: price}`` that names all 24 hours."""
        if isinstance(retail_eur_per_kwh, Mapping):
            missing = [h for h in range(HOURS_PER_DAY) if h not in retail_eur_per_kwh]
            extra = [h for h in retail_eur_per_kwh if h not in range(HOURS_PER_DAY)]
            if missing or extra:
                raise InvalidTariffError(
                    f"the retail table must name hours 0..23 exactly; missing {missing}, "
                    f"unknown {extra}"
                )
            table = tuple(retail_eur_per_kwh[h] for h in range(HOURS_PER_DAY))
        else:
            table = tuple(retail_eur_per_kwh)
        return cls(table, feed_in_eur_per_kwh, grid_fee_eur_per_kwh)

    def retail_eur_per_kwh(self, hour: int) -> float:
        """What grid energy costs in ``hour`` (0..23)."""
        return self.retail_eur_per_kwh_by_hour[_hour(hour)]


#: The pilot's tariff under a shorter name.
Tariff = TimeOfUseTariff
