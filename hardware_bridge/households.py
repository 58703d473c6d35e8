"""Household loads and rooftop PV for the device simulator, vectorised over meters.

Why the appliance catalogue (``gridcoop.catalogue``, the very rows the model's
households draw from): simulated uplinks should look like campus households (a
fridge always on, evening lights and stove), with per-household ownership and
per-day random start times inside each appliance's window, so demos and
end-to-end tests see plausible energy, and a live household and a model
household draw the same appliances.
Everything is drawn from the seed's named streams (``gridcoop.streams``): the
same seed gives the same households and the same days.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from gridcoop.catalogue import APPLIANCES
from gridcoop.streams import streams

__all__ = ["APPLIANCES", "N_APPLIANCES", "HouseholdFleet"]

MINUTES_PER_DAY = 1440
STANDBY_KW = 0.04
NOISE_SIGMA = 0.05
N_APPLIANCES = len(APPLIANCES)
_POWER = np.array([a.power_kw for a in APPLIANCES])
_START_MIN = np.array([a.start_h * 60 for a in APPLIANCES])
_WINDOW_MIN = np.array([a.window_h * 60 for a in APPLIANCES])
_RUN_MIN = np.array([a.run_h * 60 for a in APPLIANCES])


def _overlap(
    t0: NDArray[np.float64], t1: NDArray[np.float64], a: NDArray[np.float64], b: NDArray[np.float64]
) -> NDArray[np.float64]:
    out: NDArray[np.float64] = np.clip(np.minimum(t1, b) - np.maximum(t0, a), 0.0, None)
    return out


class HouseholdFleet:
    """``n`` households (and PV roofs for the meters marked ``pv``)."""

    def __init__(self, n: int, seed: int, pv: NDArray[np.bool_] | None = None) -> None:
        self.n = n
        self.seed = seed
        rng = streams(seed).rng("devices.households")
        shares = np.array([a.p_owned for a in APPLIANCES])
        self.owned = rng.random((n, N_APPLIANCES)) < shares
        # bigger and smaller homes; 0.6 brings the mean near 11 kWh/day (Portuguese homes)
        self.scale = 0.6 * rng.lognormal(0.0, 0.15, n)
        self.pv = np.zeros(n, dtype=bool) if pv is None else np.asarray(pv, dtype=bool)
        self.pv_kwp = rng.uniform(1.5, 4.0, n)
        self.pv_derate = 0.7  # irradiance below 1 kW/m2 and inverter losses: ~4.5 kWh/kWp/day
        self._day = -1
        self._start = np.zeros((n, N_APPLIANCES))
        self._runs = np.zeros((n, N_APPLIANCES), dtype=bool)
        self._cloud = np.ones(n)

    def _schedule(self, day: int) -> None:
        """Draw the day's start times (uniform inside each appliance's window)."""
        if day == self._day:
            return
        rng = streams(self.seed).rng("devices.day", day)
        slack = _WINDOW_MIN - _RUN_MIN
        self._start = _START_MIN + rng.random((self.n, N_APPLIANCES)) * slack
        daily = np.array([a.p_used_daily for a in APPLIANCES])
        self._runs = self.owned & (rng.random((self.n, N_APPLIANCES)) < daily)
        self._cloud = rng.uniform(0.35, 1.0, self.n)
        self._day = day

    def interval(
        self, t0_s: float, t1_s: float, levels: NDArray[np.float64] | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(energy kWh, peak kW) of every meter over [t0_s, t1_s); ``levels`` (n, 14) in 0..1.

        An interval crossing midnight is split so each part uses its own day's schedule.
        """
        if t1_s <= t0_s:
            raise ValueError(f"interval [{t0_s}, {t1_s}) is empty")
        midnight = (np.floor(t0_s / 86_400) + 1) * 86_400
        if t1_s > midnight:
            e1, p1 = self.interval(t0_s, midnight, levels)
            e2, p2 = self.interval(midnight, t1_s, levels)
            return e1 + e2, np.maximum(p1, p2)
        day = int(t0_s // 86_400)
        self._schedule(day)
        m0 = np.full(1, (t0_s - day * 86_400) / 60.0)
        m1 = np.full(1, (t1_s - day * 86_400) / 60.0)
        start, stop = self._start, self._start + _RUN_MIN
        minutes_on = _overlap(m0, m1, start, stop)  # today's run
        minutes_on += _overlap(m0, m1, start - MINUTES_PER_DAY, stop - MINUTES_PER_DAY)  # wrap
        minutes_on *= self._runs
        weights = _POWER if levels is None else _POWER * levels
        hours = (t1_s - t0_s) / 3600.0
        load_kwh = (minutes_on * weights).sum(axis=1) / 60.0 + STANDBY_KW * hours
        peak_kw = ((minutes_on > 0) * weights).sum(axis=1) + STANDBY_KW
        rng = streams(self.seed).rng("devices.noise", int(t0_s))
        noise = rng.lognormal(0.0, NOISE_SIGMA, self.n)
        load_kwh = load_kwh * self.scale * noise
        peak_kw = np.maximum(peak_kw * self.scale, load_kwh / hours)
        pv_kwh, pv_peak = self._pv(day, m0[0], m1[0])
        energy = np.where(self.pv, pv_kwh, load_kwh)
        peak = np.where(self.pv, pv_peak, peak_kw)
        return energy, peak

    def _pv(
        self, day: int, m0: float, m1: float
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """A clear-sky half-sine from 07:00 to 19:00, scaled by the day's cloudiness."""
        rise, length = 7 * 60.0, 12 * 60.0
        a, b = np.clip([m0 - rise, m1 - rise], 0.0, length)
        # integral of sin(pi x / L) dx from a to b = L/pi (cos(pi a/L) - cos(pi b/L))
        kwh_per_kwp = length / np.pi * (np.cos(np.pi * a / length) - np.cos(np.pi * b / length))
        kwp = self.pv_kwp * self.pv_derate * self._cloud
        kwh = kwp * kwh_per_kwp / 60.0
        peak = kwp * max(np.sin(np.pi * a / length), np.sin(np.pi * b / length))
        if a < length / 2 < b:
            peak = kwp
        return kwh, np.asarray(peak, dtype=np.float64)
