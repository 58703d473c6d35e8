"""Daily trips of many EVs over many days, drawn at once with numpy.

Why a flat trip table: everything downstream (plug-in masks, energy per step,
next-trip needs) is built from sorted ``(ev, start)`` rows with cumulative
sums, so no Python loop runs per EV or per day. The only loops are over a
profile's few trip slots.

Behaviour changes: on about ``change_rate`` of days (default 15 %, the pilot's
figure) an owner breaks routine. Half of those days the driver does not plug
in anywhere ("no plug"); the other half every anchored departure moves by up
to ±2 h and distances grow 1.5–3× ("shifted"). An owner who knows in advance
(``warn_probability`` of changed days) warns the aggregator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gridcoop.agents.mechanisms.ev.owners import decide_days
from gridcoop.agents.mechanisms.ev.profiles import (
    PROFILES,
    BehaviourProfile,
    BoolArray,
    EVConfigError,
    Fleet,
    FloatArray,
    IntArray,
    TripSlot,
)
from gridcoop.streams import streams

MINUTES_PER_DAY = 1440
#: Trips must be back by this minute of the day, so days never overlap.
LAST_ARRIVAL_MIN = 1430
MIN_TRIP_MIN = 5


@dataclass(frozen=True)
class TripTable:
    """All trips of a fleet, sorted by EV then start time (minutes from the run's start)."""

    ev: IntArray
    day: IntArray
    start_min: IntArray
    end_min: IntArray
    km: FloatArray
    energy_kwh: FloatArray
    plug_after: BoolArray  # the driver plugs in at the destination
    plug_delay_min: IntArray  # minutes from arrival to plugging in
    changed: BoolArray  # (n_ev, days): the owner broke routine that day
    warned: BoolArray  # (n_ev, days): ... and warned the aggregator in advance

    @property
    def size(self) -> int:
        return int(self.ev.size)


def _lognormal(
    rng: np.random.Generator, mean: float, cv: float, shape: tuple[int, ...]
) -> FloatArray:
    if cv <= 0:
        return np.full(shape, mean)
    sigma2 = np.log1p(cv * cv)
    return rng.lognormal(np.log(mean) - sigma2 / 2, np.sqrt(sigma2), shape)


def _day_trips(
    rng: np.random.Generator,
    slots: tuple[TripSlot, ...],
    speed_kmh: float,
    plug_delay_max_min: int,
    scale: FloatArray,
    offset: FloatArray,
    shift: FloatArray,
    stretch: FloatArray,
) -> dict[str, FloatArray]:
    """Trips of one day template for ``m`` EVs × ``nd`` days, as (m, nd, K) arrays."""
    m, nd = shift.shape
    k = len(slots)
    out = {name: np.zeros((m, nd, k)) for name in ("dep", "arr", "km", "plug", "delay", "ok")}
    last_arr = np.zeros((m, nd))
    any_prev = np.zeros((m, nd), dtype=bool)
    groups: dict[int, BoolArray] = {}
    for j, slot in enumerate(slots):
        if slot.group not in groups:
            groups[slot.group] = rng.random((m, nd)) < slot.prob
        happens = groups[slot.group].copy()
        low, high = slot.park_min
        park = rng.uniform(low, high, (m, nd)) if high > low else np.full((m, nd), low)
        if slot.depart_min is None:
            dep = last_arr + park
            happens &= any_prev
        else:
            dep = (
                slot.depart_min
                + offset[:, None]
                + shift
                + slot.depart_sd_min * rng.standard_normal((m, nd))
            )
            dep = np.where(any_prev, np.maximum(dep, last_arr + park), np.maximum(dep, 0.0))
        km = scale[:, None] * stretch * _lognormal(rng, slot.km, slot.km_cv, (m, nd))
        duration = np.maximum(MIN_TRIP_MIN, np.round(km / speed_kmh * 60.0))
        dep = np.round(dep)
        arr = dep + duration
        ok = happens & (arr <= LAST_ARRIVAL_MIN)
        out["dep"][:, :, j], out["arr"][:, :, j], out["km"][:, :, j] = dep, arr, km
        out["plug"][:, :, j] = rng.random((m, nd)) < slot.plug_prob
        out["delay"][:, :, j] = rng.integers(0, plug_delay_max_min + 1, (m, nd))
        out["ok"][:, :, j] = ok
        last_arr = np.where(ok, arr, last_arr)
        any_prev |= ok
    return out


def generate_trips(
    fleet: Fleet,
    days: int,
    seed: int,
    start_weekday: int = 0,
    change_rate: float = 0.15,
    warn_probability: float = 0.6,
    policy: Any = None,
) -> TripTable:
    """Draw every trip of ``fleet`` over ``days`` days (day 0 is weekday ``start_weekday``).

    Each profile draws from its own stream (``ev.trips`` split by profile), so the
    same seed gives the same trips. ``policy`` (an EV policy, default ``routine``)
    decides from each day's draws whether each owner changes its day and warns.
    """
    if days < 1:
        raise EVConfigError(f"days must be >= 1, got {days}")
    if not 0 <= start_weekday <= 6:
        raise EVConfigError(f"start_weekday must be 0 (Monday)..6, got {start_weekday}")
    for name, value in (("change_rate", change_rate), ("warn_probability", warn_probability)):
        if not 0.0 <= value <= 1.0:
            raise EVConfigError(f"{name} must be a probability in [0, 1], got {value}")
    n = fleet.size
    registry = streams(seed)
    weekend = (start_weekday + np.arange(days)) % 7 >= 5
    draws: dict[str, np.ndarray] = {k: np.zeros((n, days)) for k in (
        "change", "no_plug", "shift", "stretch", "warn")}
    owners: dict[BehaviourProfile, tuple[np.random.Generator, np.ndarray, np.ndarray]] = {}
    for profile in BehaviourProfile:
        members = np.flatnonzero(fleet.profile == profile)
        if members.size == 0:
            continue
        rng = registry.rng("ev.trips", int(profile))
        m = members.size
        scale = rng.uniform(0.6, 1.6, m)
        offset = PROFILES[profile].owner_offset_sd_min * rng.standard_normal(m)
        draws["change"][members] = rng.random((m, days))
        draws["no_plug"][members] = rng.random((m, days))
        draws["shift"][members] = rng.uniform(-120, 120, (m, days))
        draws["stretch"][members] = rng.uniform(1.5, 3.0, (m, days))
        draws["warn"][members] = rng.random((m, days))
        owners[profile] = (rng, scale, offset)
    changed, warned = decide_days(fleet, draws["change"], draws["warn"], change_rate,
                                  warn_probability, policy)
    parts: list[dict[str, np.ndarray]] = []
    for profile, (rng, scale, offset) in owners.items():
        members = np.flatnonzero(fleet.profile == profile)
        params = PROFILES[profile]
        change = changed[members]
        no_plug = change & (draws["no_plug"][members] < 0.5)
        shifted = change & ~no_plug
        shift = np.where(shifted, draws["shift"][members], 0.0)
        stretch = np.where(shifted, draws["stretch"][members], 1.0)
        for is_weekend, slots in ((False, params.weekday), (True, params.weekend)):
            day_idx = np.flatnonzero(weekend == is_weekend)
            if day_idx.size == 0 or not slots:
                continue
            t = _day_trips(
                rng,
                slots,
                params.speed_kmh,
                params.plug_delay_max_min,
                scale,
                offset,
                shift[:, day_idx],
                stretch[:, day_idx],
            )
            plug = t["plug"].astype(bool) & ~no_plug[:, day_idx, None]
            ok = t["ok"].astype(bool)
            ev_grid = np.broadcast_to(members[:, None, None], ok.shape)
            day_grid = np.broadcast_to(day_idx[None, :, None], ok.shape)
            parts.append(
                {
                    "ev": ev_grid[ok],
                    "day": day_grid[ok],
                    "start": (day_grid * MINUTES_PER_DAY + t["dep"])[ok].astype(np.int64),
                    "end": (day_grid * MINUTES_PER_DAY + t["arr"])[ok].astype(np.int64),
                    "km": t["km"][ok],
                    "plug": plug[ok],
                    "delay": t["delay"][ok].astype(np.int64),
                }
            )
    cols = {
        key: np.concatenate([p[key] for p in parts]) if parts else np.zeros(0)
        for key in ("ev", "day", "start", "end", "km", "plug", "delay")
    }
    order = np.lexsort((cols["start"], cols["ev"]))
    ev = cols["ev"][order].astype(np.int64)
    km = cols["km"][order].astype(np.float64)
    return TripTable(
        ev=ev,
        day=cols["day"][order].astype(np.int64),
        start_min=cols["start"][order].astype(np.int64),
        end_min=cols["end"][order].astype(np.int64),
        km=km,
        energy_kwh=km * fleet.consumption_kwh_per_km[ev],
        plug_after=cols["plug"][order].astype(bool),
        plug_delay_min=cols["delay"][order].astype(np.int64),
        changed=changed,
        warned=warned,
    )
