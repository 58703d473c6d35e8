"""Photovoltaic production: a clear-sky shape with seasonal and weather noise.

Why this model: researchers need days that look like a real site (long summer
days, short winter days, cloudy spells) without a weather data set; a CSV
profile can replace it (see ``gridcoop.agents.physics.profiles``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.physics.clock import SimClock

LISBON_LATITUDE_DEG = 38.72
PERFORMANCE_RATIO = 0.8

FloatArray = NDArray[np.float64]


def clear_sky_ghi_w_per_m2(
    day_of_year: int, hours: FloatArray, latitude_deg: float = LISBON_LATITUDE_DEG
) -> FloatArray:
    """Global horizontal irradiance under a clear sky (Haurwitz model) at solar ``hours``."""
    declination = np.radians(23.44) * np.sin(2.0 * np.pi * (284 + day_of_year) / 365.0)
    latitude = np.radians(latitude_deg)
    hour_angle = np.radians(15.0 * (np.asarray(hours, dtype=np.float64) - 12.0))
    cos_zenith = np.sin(latitude) * np.sin(declination) + np.cos(latitude) * np.cos(
        declination
    ) * np.cos(hour_angle)
    ghi: FloatArray = np.zeros_like(cos_zenith)
    up = cos_zenith > 0.01
    ghi[up] = 1098.0 * cos_zenith[up] * np.exp(-0.057 / cos_zenith[up])
    return ghi


def step_mid_hours(clock: SimClock) -> FloatArray:
    """Solar hour at the middle of each metering step of a day."""
    return (np.arange(clock.steps_per_day, dtype=np.float64) + 0.5) * clock.step_h


def seasonal_clearness(day_of_year: int) -> float:
    """Mean daily clearness: about 0.55 in mid-January, 0.80 in mid-July (Lisbon-like)."""
    return 0.675 - 0.125 * float(np.cos(2.0 * np.pi * (day_of_year - 15) / 365.0))


class PVWeather:
    """Cloud factors (0..1.05) per step for each weather zone, drawn day by day.

    A day's clearness comes from a Beta distribution around the seasonal mean;
    within the day an AR(1) process moves clouds in and out, strongest on
    partly cloudy days.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        zones: int,
        clock: SimClock,
        concentration: float = 6.0,
        persistence: float = 0.9,
    ) -> None:
        self._rng = rng
        self.zones = zones
        self.clock = clock
        self.concentration = concentration
        self.persistence = persistence
        self._state = np.zeros(zones)

    def day_factors(self, day: int) -> FloatArray:
        """Cloud factors of shape (steps_per_day, zones) for run day ``day``."""
        mean = seasonal_clearness(self.clock.day_of_year(day))
        alpha, beta = mean * self.concentration, (1.0 - mean) * self.concentration
        clearness = self._rng.beta(alpha, beta, size=self.zones)
        sigma = 1.2 * clearness * (1.0 - clearness)
        steps = self.clock.steps_per_day
        shocks = self._rng.standard_normal((steps, self.zones))
        noise = np.empty((steps, self.zones))
        state = self._state
        innovation = np.sqrt(1.0 - self.persistence**2)
        for s in range(steps):
            state = self.persistence * state + innovation * shocks[s]
            noise[s] = state
        self._state = state
        return np.clip(clearness + sigma * noise, 0.03, 1.05)


def pv_power_kw(
    peak_kw: FloatArray, ghi_w_per_m2: FloatArray, cloud_factors: FloatArray
) -> FloatArray:
    """AC power of each array: peak × irradiance/1000 × clouds × performance ratio.

    ``ghi_w_per_m2`` has shape (steps,), ``cloud_factors`` (steps, nodes) and
    ``peak_kw`` (nodes,); the result has shape (steps, nodes).
    """
    power: FloatArray = ((ghi_w_per_m2[:, None] / 1000.0) * cloud_factors
                         * (PERFORMANCE_RATIO * peak_kw)[None, :])
    return power
