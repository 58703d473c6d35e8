"""The simulated time grid: metering steps, market hours, days.

Why a tiny class: every module agrees on one definition of "step k starts at
second t" and of which steps belong to which market interval.
"""

from __future__ import annotations

from dataclasses import dataclass


class ClockError(ValueError):
    """A metering/market interval combination that cannot tile a day."""


@dataclass(frozen=True, slots=True)
class SimClock:
    """Fixed-length metering steps grouped into market intervals and days.

    ``start_day_of_year`` (1..365) sets the season for the PV shape;
    ``start_weekday`` (0 = Monday) sets weekends for load and campus timetables.
    """

    days: int
    metering_minutes: int = 15
    market_minutes: int = 60
    start_day_of_year: int = 1
    start_weekday: int = 0

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ClockError(f"days must be >= 1, got {self.days}")
        if self.metering_minutes < 1 or 1440 % self.metering_minutes:
            raise ClockError(
                f"metering_minutes={self.metering_minutes} must divide 1440 (a day); "
                "use e.g. 5, 15 or 60"
            )
        if self.market_minutes % self.metering_minutes or 1440 % self.market_minutes:
            raise ClockError(
                f"market_minutes={self.market_minutes} must be a multiple of "
                f"metering_minutes={self.metering_minutes} and divide 1440; use e.g. 60"
            )
        if not 1 <= self.start_day_of_year <= 365:
            raise ClockError(f"start_day_of_year must be 1..365, got {self.start_day_of_year}")

    @property
    def step_s(self) -> int:
        return self.metering_minutes * 60

    @property
    def step_h(self) -> float:
        return self.metering_minutes / 60.0

    @property
    def steps_per_day(self) -> int:
        return 1440 // self.metering_minutes

    @property
    def steps_per_market(self) -> int:
        return self.market_minutes // self.metering_minutes

    @property
    def markets_per_day(self) -> int:
        return 1440 // self.market_minutes

    @property
    def total_steps(self) -> int:
        return self.days * self.steps_per_day

    @property
    def total_markets(self) -> int:
        return self.days * self.markets_per_day

    def start_s(self, step: int) -> int:
        """Simulated second at which ``step`` starts (0 = start of the run)."""
        return step * self.step_s

    def day_of(self, step: int) -> int:
        return step // self.steps_per_day

    def market_of(self, step: int) -> int:
        """Index of the market interval (delivery period) that contains ``step``."""
        return step // self.steps_per_market

    def market_steps(self, first: int) -> range:
        """The steps within its day of the market interval that starts at step ``first``."""
        s0 = first % self.steps_per_day
        return range(s0, s0 + self.steps_per_market)

    def day_of_year(self, day: int) -> int:
        """Calendar day of year (1..365) of run day ``day``, wrapping at year end."""
        return (self.start_day_of_year - 1 + day) % 365 + 1

    def weekday(self, day: int) -> int:
        return (self.start_weekday + day) % 7

    def hour_of_day(self, step: int) -> float:
        return (step % self.steps_per_day) * self.metering_minutes / 60.0
