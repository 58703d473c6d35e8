"""Household base load: a typical daily shape scaled per household, with noise.

Why a parametric shape: it gives realistic morning and evening peaks, weekends
and a winter surplus from a seed alone; a CSV profile can replace it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.physics.clock import SimClock
from gridcoop.agents.physics.profiles import Profile

FloatArray = NDArray[np.float64]

# Relative hourly demand of a household (mean 1.0 over the day), hour 0..23.
WEEKDAY_SHAPE = np.array(
    [
        0.55,
        0.45,
        0.40,
        0.38,
        0.38,
        0.45,
        0.75,
        1.25,
        1.30,
        0.95,
        0.80,
        0.80,
        0.90,
        0.90,
        0.80,
        0.78,
        0.90,
        1.15,
        1.55,
        1.85,
        1.90,
        1.70,
        1.30,
        0.85,
    ]
)
WEEKEND_SHAPE = np.array(
    [
        0.65,
        0.50,
        0.42,
        0.38,
        0.38,
        0.40,
        0.50,
        0.70,
        0.95,
        1.20,
        1.25,
        1.25,
        1.30,
        1.20,
        1.05,
        0.95,
        1.00,
        1.15,
        1.45,
        1.70,
        1.75,
        1.55,
        1.20,
        0.90,
    ]
)
WEEKDAY_SHAPE = WEEKDAY_SHAPE / WEEKDAY_SHAPE.mean()
WEEKEND_SHAPE = WEEKEND_SHAPE / WEEKEND_SHAPE.mean()


def seasonal_load_factor(day_of_year: int) -> float:
    """About +15 % in mid-January and -15 % in mid-July."""
    return 1.0 + 0.15 * float(np.cos(2.0 * np.pi * (day_of_year - 15) / 365.0))


def shape_per_step(clock: SimClock, weekend: bool) -> FloatArray:
    """The hourly shape interpolated to the metering steps of one day (mean ≈ 1)."""
    hours = (np.arange(clock.steps_per_day) + 0.5) * clock.step_h
    shape = WEEKEND_SHAPE if weekend else WEEKDAY_SHAPE
    cyclic = np.append(shape, shape[0])
    values: FloatArray = np.interp(hours - 0.5, np.arange(25.0), cyclic, period=24.0)
    return values


class BaseLoad:
    """Base load of ``n`` households, in kW per step, generated a day at a time.

    ``annual_kwh`` is each household's yearly base consumption; per-step noise is
    log-normal (``noise_sigma``), each household's timing is shifted by up to ±1 h.
    A measured ``profile`` replaces the built-in daily shape and seasonal factor.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        annual_kwh: FloatArray,
        clock: SimClock,
        noise_sigma: float = 0.35,
        profile: Profile | None = None,
    ) -> None:
        self._rng = rng
        self.annual_kwh = np.asarray(annual_kwh, dtype=np.float64)
        self.clock = clock
        self.noise_sigma = noise_sigma
        self.profile = profile
        steps_per_hour = max(1, 60 // clock.metering_minutes)
        self.shift_steps = rng.integers(
            -steps_per_hour, steps_per_hour + 1, size=self.annual_kwh.size
        )

    def day_power_kw(self, day: int) -> FloatArray:
        """Base load of shape (steps_per_day, n) for run day ``day``."""
        clock = self.clock
        steps = clock.steps_per_day
        if self.profile is None:
            shape = shape_per_step(clock, clock.weekday(day) >= 5)
            season = seasonal_load_factor(clock.day_of_year(day))
        else:  # a measured profile already holds its weekdays and seasons
            shape = self.profile.day(clock, day) / max(self.profile.mean, 1e-12)
            season = 1.0
        index = (np.arange(steps)[:, None] - self.shift_steps[None, :]) % steps
        mean_kw = self.annual_kwh / 8760.0 * season
        noise = self._rng.lognormal(
            -0.5 * self.noise_sigma**2, self.noise_sigma, size=(steps, mean_kw.size)
        )
        power: FloatArray = shape[index] * mean_kw[None, :] * noise
        return power
