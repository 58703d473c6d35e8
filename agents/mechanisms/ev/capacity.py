"""The community's hourly available capacity, built by the aggregator from forecasts.

Why two figures: the *expected* capacity ``Σ p_i × power_i`` is right on
average, but a reserve offer must hold when called, so the aggregator also
computes a *firm* capacity: the largest power ``c`` with
``P(Σ X_i × power_i >= c) >= confidence`` when EV ``i`` is plugged in
(``X_i = 1``) independently with probability ``p_i``. That distribution is
computed exactly (a Poisson-binomial convolution over power rounded down to
``unit_kw``) while ``n_EVs × total units`` is small, and by a normal
approximation ``mean − z × sd`` for large communities (``method="auto"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from gridcoop.agents.mechanisms.ev.profiles import BoolArray, EVConfigError, FloatArray

EXACT_WORK_LIMIT = 50_000_000


@dataclass(frozen=True)
class HourlyCapacity:
    """Per hour: expected plugged EVs, expected and firm power (kW), expected energy (kWh)."""

    expected_evs: FloatArray
    expected_power_kw: FloatArray
    firm_power_kw: FloatArray
    expected_energy_kwh: FloatArray
    confidence: float

    def summary(self, critical_hours: BoolArray | None = None) -> dict[str, float]:
        """Minimum, mean and (if given) critical-period mean of the firm and expected power."""
        out = {
            "firm_min_kw": float(self.firm_power_kw.min()),
            "firm_mean_kw": float(self.firm_power_kw.mean()),
            "expected_min_kw": float(self.expected_power_kw.min()),
            "expected_mean_kw": float(self.expected_power_kw.mean()),
        }
        if critical_hours is not None and critical_hours.any():
            out["firm_critical_mean_kw"] = float(self.firm_power_kw[critical_hours].mean())
            out["expected_critical_mean_kw"] = float(self.expected_power_kw[critical_hours].mean())
        return out


def _exact_firm(prob: FloatArray, units: np.ndarray, confidence: float) -> FloatArray:
    """Largest total (in units) reached with probability >= confidence, per hour (rows)."""
    hours = prob.shape[0]
    total = int(units.sum())
    dist = np.zeros((hours, total + 1))
    dist[:, 0] = 1.0
    top = 0
    for i, u in enumerate(units):
        if u == 0:
            continue
        p = prob[:, i : i + 1]
        shifted = dist[:, : top + 1] * p
        dist[:, : top + 1] *= 1.0 - p
        dist[:, u : u + top + 1] += shifted
        top += int(u)
    # P(total >= c) for every c; the firm level is the largest c still >= confidence.
    at_least = np.cumsum(dist[:, ::-1], axis=1)[:, ::-1]
    ok = at_least >= confidence - 1e-12
    return np.where(ok.any(axis=1), total - np.argmax(ok[:, ::-1], axis=1), 0).astype(np.float64)


def firm_power_kw(
    prob_by_hour: FloatArray,
    power_kw: FloatArray,
    confidence: float = 0.9,
    unit_kw: float = 0.1,
    method: str = "auto",
) -> FloatArray:
    """Power (kW) available with probability >= ``confidence`` in each hour.

    ``prob_by_hour`` is (n_ev, hours). ``method``: ``exact``, ``normal`` or
    ``auto`` (exact when the convolution is small enough).
    """
    prob = np.clip(np.asarray(prob_by_hour, dtype=np.float64), 0.0, 1.0)
    power = np.asarray(power_kw, dtype=np.float64)
    if prob.ndim != 2 or power.shape != (prob.shape[0],):
        raise EVConfigError(
            f"prob_by_hour must be (n_ev, hours) and power_kw (n_ev,), got {prob.shape} "
            f"and {power.shape}"
        )
    if not 0.0 < confidence < 1.0:
        raise EVConfigError(f"confidence must be strictly between 0 and 1, got {confidence}")
    if unit_kw <= 0 or np.any(power < 0):
        raise EVConfigError("unit_kw must be > 0 and power_kw >= 0")
    units = np.floor(power / unit_kw + 1e-9).astype(np.int64)
    work = len(units) * int(units.sum()) * prob.shape[1]  # element updates of the convolution
    if method == "exact" or (method == "auto" and work <= EXACT_WORK_LIMIT):
        return _exact_firm(prob.T, units, confidence) * unit_kw
    if method not in ("auto", "normal"):
        raise EVConfigError(f"unknown method {method!r}; use exact, normal or auto")
    watts = units * unit_kw
    mean = prob.T @ watts
    sd = np.sqrt((prob * (1 - prob)).T @ (watts * watts))
    z = NormalDist().inv_cdf(confidence)
    return np.maximum(mean - z * sd, 0.0)


def community_capacity(
    prob_by_hour: FloatArray,
    power_kw: FloatArray,
    energy_kwh: FloatArray,
    members: BoolArray | None = None,
    confidence: float = 0.9,
    unit_kw: float = 0.1,
    method: str = "auto",
) -> HourlyCapacity:
    """The aggregator's view of its community, hour by hour.

    ``prob_by_hour`` (n_ev, hours) is each EV's probability of being plugged
    in for the hour (e.g. :func:`gridcoop.agents.mechanisms.ev.forecast.hourly` of the forecast);
    ``power_kw`` its V2G power and ``energy_kwh`` the energy it lets the
    community use; ``members`` masks the EVs offered (taxis are not).
    """
    prob = np.asarray(prob_by_hour, dtype=np.float64)
    mask = np.ones(prob.shape[0], dtype=bool) if members is None else np.asarray(members, bool)
    prob, power = prob[mask], np.asarray(power_kw, dtype=np.float64)[mask]
    energy = np.asarray(energy_kwh, dtype=np.float64)[mask]
    return HourlyCapacity(
        expected_evs=prob.sum(axis=0),
        expected_power_kw=power @ prob,
        firm_power_kw=firm_power_kw(prob, power, confidence, unit_kw, method),
        expected_energy_kwh=energy @ prob,
        confidence=confidence,
    )
