"""Behaviour profiles, batteries and fleets of EV owners.

Why declarative day templates: the pilot sorts drivers into four behaviour
profiles (docs/domain/communities.md) that differ in *when* they drive, *how far*, and *where
they plug in*. Each profile is a list of :class:`TripSlot` rows for weekdays
and for weekends; :mod:`gridcoop.agents.mechanisms.ev.trips` turns them into trips for many EVs
and days at once with numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gridcoop.streams import streams

FloatArray = NDArray[np.float64]
AnyFloatArray = NDArray[np.floating[Any]]  # float32 or float64
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


class EVConfigError(ValueError):
    """An EV, battery, profile or simulation setting is impossible."""


class BehaviourProfile(IntEnum):
    """The pilot's four behaviour profiles (see docs/domain/communities.md)."""

    TAXI = 1  # always travelling, fast charging: never offered to the aggregator
    RANDOM = 2  # slow charging at random places: unpredictable
    KNOWN_PLACES = 3  # known places and times, variable trip lengths: variable SoC
    ROUTINE = 4  # known station, routine trips: the most reliable


@dataclass(frozen=True, slots=True)
class BatterySpec:
    """A vehicle model: usable battery, consumption and charger powers."""

    name: str
    capacity_kwh: float
    consumption_kwh_per_km: float = 0.17
    charge_power_kw: float = 3.65
    v2g_power_kw: float = 3.65


LEAF_24 = BatterySpec("leaf24", 24.0)
LEAF_30 = BatterySpec("leaf30", 30.0)
FAST_CHARGE_KW = 50.0


@dataclass(frozen=True, slots=True)
class TripSlot:
    """One possible trip of a day template.

    ``depart_min`` anchors the departure at a minute of the day (plus normal
    noise ``depart_sd_min``); ``None`` departs after the previous trip that
    happened plus a park drawn uniformly from ``park_min``. Slots sharing a
    ``group`` happen together (an outbound trip and its return) with
    probability ``prob``. ``plug_prob`` is the chance the driver plugs in at
    the destination. Distance is log-normal with mean ``km`` and coefficient
    of variation ``km_cv``.
    """

    group: int
    prob: float
    depart_min: float | None
    depart_sd_min: float
    park_min: tuple[float, float]
    km: float
    km_cv: float
    plug_prob: float


@dataclass(frozen=True, slots=True)
class ProfileParams:
    """Day templates and driving habits of one behaviour profile."""

    weekday: tuple[TripSlot, ...]
    weekend: tuple[TripSlot, ...]
    speed_kmh: float
    owner_offset_sd_min: float  # per-owner shift of anchored departures (habit)
    plug_delay_max_min: int  # minutes between arriving and plugging in, uniform 0..max
    plugged_at_start: bool
    offered: bool  # whether the aggregator may use this EV at all


def _commute(
    depart: float, back: float, sd: float, km: float, cv: float, plug_work: float
) -> tuple[TripSlot, TripSlot]:
    return (
        TripSlot(0, 1.0, depart, sd, (5, 5), km, cv, plug_work),
        TripSlot(0, 1.0, back, sd, (5, 5), km, cv, 1.0),
    )


def _round_trip(
    group: int,
    prob: float,
    depart: float,
    sd: float,
    park: tuple[float, float],
    km: float,
    cv: float,
) -> tuple[TripSlot, TripSlot]:
    return (
        TripSlot(group, prob, depart, sd, (5, 5), km, cv, 0.0),
        TripSlot(group, prob, None, 0.0, park, km, cv, 1.0),
    )


# Known places: to work at ~08:00 and home at ~17:45, with a midday trip in between.
_KNOWN_COMMUTE = _commute(480, 1065, 20, 20, 0.6, 1.0)

PROFILES: dict[BehaviourProfile, ProfileParams] = {
    BehaviourProfile.ROUTINE: ProfileParams(
        weekday=(
            *_commute(465, 1050, 10, 15, 0.05, 1.0),
            *_round_trip(1, 0.25, 1170, 30, (30, 75), 5, 0.3),
        ),
        weekend=_round_trip(0, 0.5, 630, 60, (60, 240), 25, 0.4),
        speed_kmh=35,
        owner_offset_sd_min=15,
        plug_delay_max_min=10,
        plugged_at_start=True,
        offered=True,
    ),
    BehaviourProfile.KNOWN_PLACES: ProfileParams(
        weekday=(
            _KNOWN_COMMUTE[0],
            *_round_trip(1, 0.3, 750, 30, (30, 90), 10, 0.8),
            _KNOWN_COMMUTE[1],
            *_round_trip(2, 0.4, 1170, 40, (30, 90), 8, 0.8),
        ),
        weekend=_round_trip(0, 0.6, 630, 60, (60, 300), 40, 0.8),
        speed_kmh=40,
        owner_offset_sd_min=30,
        plug_delay_max_min=20,
        plugged_at_start=True,
        offered=True,
    ),
    BehaviourProfile.RANDOM: ProfileParams(
        weekday=(
            TripSlot(0, 0.9, 540, 90, (5, 5), 15, 0.7, 0.5),
            TripSlot(1, 0.7, None, 0, (30, 240), 15, 0.7, 0.5),
            TripSlot(2, 0.6, None, 0, (30, 240), 15, 0.7, 0.5),
            TripSlot(3, 0.6, None, 0, (30, 180), 15, 0.7, 0.6),
        ),
        weekend=(
            TripSlot(0, 0.8, 600, 120, (5, 5), 20, 0.7, 0.5),
            TripSlot(1, 0.6, None, 0, (30, 240), 20, 0.7, 0.5),
            TripSlot(2, 0.5, None, 0, (30, 240), 15, 0.7, 0.6),
        ),
        speed_kmh=30,
        owner_offset_sd_min=60,
        plug_delay_max_min=30,
        plugged_at_start=True,
        offered=True,
    ),
    BehaviourProfile.TAXI: ProfileParams(
        weekday=(
            TripSlot(0, 1.0, 390, 30, (5, 5), 20, 0.5, 0.0),
            *(TripSlot(0, 1.0, None, 0, (5, 30), 20, 0.5, 0.25) for _ in range(7)),
        ),
        weekend=(
            TripSlot(0, 0.7, 420, 30, (5, 5), 20, 0.5, 0.0),
            *(TripSlot(0, 0.7, None, 0, (5, 30), 20, 0.5, 0.25) for _ in range(5)),
        ),
        speed_kmh=25,
        owner_offset_sd_min=20,
        plug_delay_max_min=5,
        plugged_at_start=False,
        offered=False,
    ),
}


@dataclass(frozen=True)
class Fleet:
    """Many EVs described column-wise (one entry per EV, numpy arrays).

    ``margin_kwh`` is the energy kept on top of the next trip's needs when the
    community discharges the battery (V2G); ``committed_kwh`` is the energy
    each owner lets the community use per committed window.
    """

    ev_ids: tuple[str, ...]
    profile: IntArray
    capacity_kwh: FloatArray
    consumption_kwh_per_km: FloatArray
    charge_power_kw: FloatArray
    v2g_power_kw: FloatArray
    margin_kwh: FloatArray
    committed_kwh: FloatArray

    def __post_init__(self) -> None:
        n = len(self.ev_ids)
        if n == 0:
            raise EVConfigError("a fleet needs at least one EV")
        if len(set(self.ev_ids)) != n:
            raise EVConfigError("ev_ids must be unique")
        for name in (
            "profile",
            "capacity_kwh",
            "consumption_kwh_per_km",
            "charge_power_kw",
            "v2g_power_kw",
            "margin_kwh",
            "committed_kwh",
        ):
            column = getattr(self, name)
            if column.shape != (n,):
                raise EVConfigError(f"{name} must have one value per EV ({n}), got {column.shape}")
            if not np.all(np.isfinite(column)) or np.any(column < 0):
                raise EVConfigError(f"{name} must be finite and >= 0")
        if np.any(self.capacity_kwh <= 0) or np.any(self.consumption_kwh_per_km <= 0):
            raise EVConfigError("capacity_kwh and consumption_kwh_per_km must be > 0")
        if not np.all(np.isin(self.profile, [int(p) for p in BehaviourProfile])):
            raise EVConfigError("profile values must be 1..4 (see BehaviourProfile)")

    @property
    def size(self) -> int:
        return len(self.ev_ids)

    @property
    def offered(self) -> BoolArray:
        """EVs the aggregator may use (every profile but taxis)."""
        return np.array([PROFILES[BehaviourProfile(p)].offered for p in self.profile], dtype=bool)


def make_fleet(
    profiles: Sequence[int],
    batteries: Sequence[BatterySpec],
    ev_ids: Sequence[str] | None = None,
    margin_kwh: float = 2.0,
    committed_kwh: float | Sequence[float] = 5.0,
) -> Fleet:
    """A fleet from one profile and one battery per EV (taxis get fast chargers)."""
    if len(profiles) != len(batteries):
        raise EVConfigError(
            f"got {len(profiles)} profiles for {len(batteries)} batteries; give one of each per EV"
        )
    n = len(profiles)
    ids = tuple(ev_ids) if ev_ids is not None else tuple(f"ev-{i:04d}" for i in range(n))
    if len(ids) != n:
        raise EVConfigError(f"got {len(ids)} ev_ids for {n} EVs")
    profile = np.array([int(p) for p in profiles], dtype=np.int64)
    taxi = profile == BehaviourProfile.TAXI
    charge = np.array([b.charge_power_kw for b in batteries], dtype=np.float64)
    committed = np.broadcast_to(np.asarray(committed_kwh, dtype=np.float64), (n,)).copy()
    return Fleet(
        ev_ids=ids,
        profile=profile,
        capacity_kwh=np.array([b.capacity_kwh for b in batteries], dtype=np.float64),
        consumption_kwh_per_km=np.array([b.consumption_kwh_per_km for b in batteries]),
        charge_power_kw=np.where(taxi, FAST_CHARGE_KW, charge),
        v2g_power_kw=np.where(taxi, 0.0, [b.v2g_power_kw for b in batteries]),
        margin_kwh=np.full(n, float(margin_kwh)),
        committed_kwh=np.where(taxi, 0.0, committed),
    )


#: Profiles of the pilot's seven owners (an assumption: the paper reports the
#: profiles, not who had which); five 24 kWh and two 30 kWh Leafs.
PILOT_PROFILES = (4, 4, 3, 3, 2, 4, 3)
PILOT_BATTERIES = (LEAF_24, LEAF_24, LEAF_24, LEAF_24, LEAF_24, LEAF_30, LEAF_30)


def pilot_fleet(margin_kwh: float = 2.0, committed_kwh: float = 5.0) -> Fleet:
    """The pilot's 7 Nissan Leafs (five 24 kWh, two 30 kWh)."""
    return make_fleet(
        PILOT_PROFILES,
        PILOT_BATTERIES,
        ev_ids=tuple(f"leaf-{i + 1}" for i in range(7)),
        margin_kwh=margin_kwh,
        committed_kwh=committed_kwh,
    )


def random_fleet(
    n: int,
    seed: int,
    profile_shares: Sequence[float] = (0.1, 0.2, 0.3, 0.4),
    share_30kwh: float = 2 / 7,
    margin_kwh: float = 2.0,
    committed_kwh: float = 5.0,
) -> Fleet:
    """``n`` EVs with profiles 1..4 drawn in ``profile_shares`` and 24/30 kWh Leafs."""
    if n < 1:
        raise EVConfigError(f"n must be >= 1, got {n}")
    shares = np.asarray(profile_shares, dtype=np.float64)
    if shares.shape != (4,) or np.any(shares < 0) or not np.isclose(shares.sum(), 1.0):
        raise EVConfigError("profile_shares must be 4 non-negative numbers summing to 1")
    rng = streams(seed).rng("ev.random_fleet")
    profiles = rng.choice(np.arange(1, 5), size=n, p=shares)
    batteries = [LEAF_30 if big else LEAF_24 for big in rng.random(n) < share_30kwh]
    return make_fleet(
        [int(p) for p in profiles], batteries, margin_kwh=margin_kwh, committed_kwh=committed_kwh
    )
