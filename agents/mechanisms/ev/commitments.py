"""Owners' commitments to the community, whether they kept them, and replacements.

Why windows of whole hours: the reserve market sells capacity per hour, so an
owner commits "my EV is plugged in, and the community may use ``energy_kwh``
of it, from ``start_hour`` to ``end_hour`` on these weekdays". Each occurrence
of a commitment on a day is a *window*; a window is judged on the minutes the
EV was actually plugged in during its hours.

Outcomes of a window:

- ``kept``: plugged in at least ``break_threshold`` (default 90 %) of it;
- ``warned-replaced``: the owner warned in advance (a behaviour change known
  ahead) and another member took the window over;
- ``warned-unreplaced``: warned, but nobody could take it over;
- ``unannounced``: not kept and not warned.

A replacement is sought, in advance, for every warned window. A candidate is
another offered member who did not warn that day, has no commitment of its
own overlapping the window (that capacity is already sold), is not already
replacing someone in those hours, and whom the aggregator's forecast gives at
least ``min_replacement_probability`` (default 0.7) of being plugged in over
the window (mean of the hourly probabilities). The most likely candidate is
named; ties go to the member listed first. With few members a replacement is
often not found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.mechanisms.ev.profiles import (
    BehaviourProfile,
    BoolArray,
    EVConfigError,
    FloatArray,
)

HOURS_PER_DAY = 24
ALL_DAYS = frozenset(range(7))
WEEKDAYS = frozenset(range(5))


class CommitmentStatus(StrEnum):
    KEPT = "kept"
    WARNED_REPLACED = "warned-replaced"
    WARNED_UNREPLACED = "warned-unreplaced"
    UNANNOUNCED = "unannounced"


@dataclass(frozen=True, slots=True)
class Commitment:
    """What one owner declares: energy the community may use, and when.

    ``end_hour <= start_hour`` means the window runs past midnight (20 → 7 is
    eleven hours from 20:00 to 07:00 next morning); ``weekdays`` are the days
    (0 = Monday) on which the window *starts*.
    """

    member_id: str
    energy_kwh: float
    start_hour: int
    end_hour: int
    weekdays: frozenset[int] = ALL_DAYS

    def __post_init__(self) -> None:
        if not self.member_id:
            raise EVConfigError("a commitment needs a member_id")
        if not 0 <= self.start_hour <= 23 or not 1 <= self.end_hour <= 24:
            raise EVConfigError(
                f"commitment of {self.member_id}: start_hour must be 0..23 and end_hour 1..24, "
                f"got {self.start_hour} and {self.end_hour}"
            )
        if not self.energy_kwh >= 0:
            raise EVConfigError(f"commitment of {self.member_id}: energy_kwh must be >= 0")
        if not self.weekdays or not self.weekdays <= ALL_DAYS:
            raise EVConfigError(f"commitment of {self.member_id}: weekdays must be within 0..6")

    @property
    def n_hours(self) -> int:
        return (self.end_hour - self.start_hour) % HOURS_PER_DAY or HOURS_PER_DAY


#: Declared windows per profile (start, end, weekdays); taxis declare nothing.
#: Routine owners commit their working day at the station and keep their nights
#: free, so they can stand in for night-time commitments of others.
DEFAULT_WINDOWS: dict[BehaviourProfile, tuple[tuple[int, int, frozenset[int]], ...]] = {
    BehaviourProfile.ROUTINE: ((9, 17, WEEKDAYS),),
    BehaviourProfile.KNOWN_PLACES: ((10, 16, WEEKDAYS), (22, 6, ALL_DAYS)),
    BehaviourProfile.RANDOM: ((23, 6, ALL_DAYS),),
    BehaviourProfile.TAXI: (),
}


def default_commitments(
    member_ids: Sequence[str],
    profiles: Sequence[int] | NDArray[np.int64],
    energy_kwh: Sequence[float] | FloatArray,
) -> list[Commitment]:
    """The windows each profile typically declares (see :data:`DEFAULT_WINDOWS`)."""
    out: list[Commitment] = []
    for member, profile, energy in zip(member_ids, profiles, energy_kwh, strict=True):
        for start, end, days in DEFAULT_WINDOWS[BehaviourProfile(int(profile))]:
            out.append(Commitment(member, float(energy), start, end, days))
    return out


@dataclass(frozen=True, slots=True)
class CommitmentOutcome:
    """How one window of one commitment went. Hours are absolute hours of the run."""

    member_id: str
    commitment_index: int
    day: int
    hours: tuple[int, ...]
    status: CommitmentStatus
    plugged_min: tuple[int, ...]
    energy_kwh: float
    replacement_id: str | None = None
    replacement_plugged_min: tuple[int, ...] = field(default=())

    def __post_init__(self) -> None:
        where = f"window of {self.member_id} on day {self.day}"
        if not self.hours or len(self.plugged_min) != len(self.hours):
            raise EVConfigError(f"{where}: give one plugged_min per hour (and at least one hour)")
        if any(not 0 <= m <= 60 for m in (*self.plugged_min, *self.replacement_plugged_min)):
            raise EVConfigError(f"{where}: plugged minutes per hour must be within 0..60")
        replaced = self.status is CommitmentStatus.WARNED_REPLACED
        if replaced != (self.replacement_id is not None) or (
            replaced and len(self.replacement_plugged_min) != len(self.hours)
        ):
            raise EVConfigError(
                f"{where}: a warned-replaced window needs a replacement_id and one "
                "replacement_plugged_min per hour; other outcomes have no replacement"
            )

    @property
    def missing_min(self) -> tuple[int, ...]:
        return tuple(60 - m for m in self.plugged_min)

    @property
    def warned(self) -> bool:
        return self.status in (CommitmentStatus.WARNED_REPLACED, CommitmentStatus.WARNED_UNREPLACED)


def _windows(
    commitments: Sequence[Commitment], index: dict[str, int], days: int, start_weekday: int
) -> list[tuple[int, int, int, int]]:
    """(first absolute hour, member row, commitment index, day) of every whole window."""
    out = []
    for ci, c in enumerate(commitments):
        for day in range(days):
            first = day * HOURS_PER_DAY + c.start_hour
            if (start_weekday + day) % 7 in c.weekdays and first + c.n_hours <= days * 24:
                out.append((first, index[c.member_id], ci, day))
    out.sort()
    return out


def evaluate_commitments(
    member_ids: Sequence[str],
    commitments: Sequence[Commitment],
    plugged_min_by_hour: NDArray[np.int64],
    warned: BoolArray,
    plug_probability_by_hour: FloatArray,
    start_weekday: int = 0,
    eligible: BoolArray | None = None,
    break_threshold: float = 0.9,
    min_replacement_probability: float = 0.7,
    hours_held: BoolArray | None = None,
) -> list[CommitmentOutcome]:
    """Judge every window of every commitment over the run, in time order.

    ``plugged_min_by_hour`` (members × hours, ints 0..60) is what happened;
    ``warned`` (members × days) says who warned in advance; and
    ``plug_probability_by_hour`` (members × hours) is the aggregator's forecast
    used to pick replacements before the fact. ``hours_held`` (hours) keeps
    only the hours a location community holds: a window is judged on its
    hours there, and a window with none is not this community's.
    """
    members = list(member_ids)
    n = len(members)
    index = {m: i for i, m in enumerate(members)}
    minutes = np.asarray(plugged_min_by_hour)
    if minutes.ndim != 2 or minutes.shape[0] != n or minutes.shape[1] % HOURS_PER_DAY:
        raise EVConfigError(
            f"plugged_min_by_hour must be (members={n}, 24 × days), got {minutes.shape}"
        )
    days = minutes.shape[1] // HOURS_PER_DAY
    if warned.shape != (n, days) or plug_probability_by_hour.shape != minutes.shape:
        raise EVConfigError(
            f"warned must be ({n}, {days}) and plug_probability_by_hour {minutes.shape}; "
            f"got {warned.shape} and {plug_probability_by_hour.shape}"
        )
    if hours_held is not None and hours_held.shape != (minutes.shape[1],):
        raise EVConfigError(f"hours_held must have one flag per hour ({minutes.shape[1]}), "
                            f"got {hours_held.shape}")
    unknown = sorted({c.member_id for c in commitments} - set(index))
    if unknown:
        raise EVConfigError(f"commitments name unknown members {unknown}; add them to member_ids")
    offered = np.ones(n, dtype=bool) if eligible is None else np.asarray(eligible, dtype=bool)
    held = np.ones(minutes.shape[1], dtype=bool) if hours_held is None else hours_held
    windows = [(first, row, ci, day, span)
               for first, row, ci, day in _windows(commitments, index, days, start_weekday)
               if (span := np.flatnonzero(held[first:first + commitments[ci].n_hours]) + first
                   ).size]
    committed = np.zeros(minutes.shape, dtype=bool)
    for _, row, _, _, hours in windows:
        committed[row, hours] = True
    replacing = np.zeros(minutes.shape, dtype=bool)
    out: list[CommitmentOutcome] = []
    for _, row, ci, day, hours in windows:
        c = commitments[ci]
        plugged = tuple(int(m) for m in minutes[row, hours])
        status = CommitmentStatus.KEPT
        replacement: str | None = None
        replacement_min: tuple[int, ...] = ()
        if warned[row, day]:
            free = (
                offered
                & ~warned[:, day]
                & ~committed[:, hours].any(axis=1)
                & ~replacing[:, hours].any(axis=1)
            )
            free[row] = False
            chance = np.where(free, plug_probability_by_hour[:, hours].mean(axis=1), -1.0)
            best = int(np.argmax(chance))
            if chance[best] >= min_replacement_probability:
                replacement = members[best]
                replacing[best, hours] = True
                replacement_min = tuple(int(m) for m in minutes[best, hours])
                status = CommitmentStatus.WARNED_REPLACED
            else:
                status = CommitmentStatus.WARNED_UNREPLACED
        elif sum(plugged) < break_threshold * 60 * hours.size:
            status = CommitmentStatus.UNANNOUNCED
        out.append(
            CommitmentOutcome(
                c.member_id,
                ci,
                day,
                tuple(int(h) for h in hours),
                status,
                plugged,
                c.energy_kwh,
                replacement,
                replacement_min,
            )
        )
    return out
