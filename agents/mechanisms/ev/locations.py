"""Location communities: which community each connected hour of an EV belongs to.

Why hours stand for places: the pilot forms communities by location and says
a member "can belong to several communities, but during each connected
period only belongs to one of them". The trip model knows when a car is
parked and plugged in, not where; a location is therefore given by the hours
a car connected there is connected (the campus car park on weekday working
hours, the home neighbourhood the rest of the time). Every plugged hour of an
owner belongs to the one community holding that hour of the week, and the
owner is a member of each community where the car was connected at least
once. Everything here is integer or boolean, so the parts add up exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.mechanisms.ev.profiles import BoolArray, EVConfigError, IntArray

HOURS_PER_DAY = 24
DAYS_PER_WEEK = 7
#: The weekdays (0 = Monday) each ``days`` choice covers.
DAY_SETS: dict[str, tuple[int, ...]] = {
    "all": tuple(range(7)), "weekdays": tuple(range(5)), "weekend": (5, 6)}
NOBODY = -1
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True, slots=True)
class Location:
    """One location community: its name and the hours a car there is connected.

    ``periods`` are ``(start, end)`` hours of the day (end exclusive) on the
    ``days`` of the week; ``None`` means every hour of the week no other
    location holds (the home neighbourhood, typically).
    """

    name: str
    periods: tuple[tuple[int, int], ...] | None
    days: str = "all"


def week_table(locations: Sequence[Location]) -> NDArray[np.int64]:
    """(7, 24): the index of the location holding each hour of the week, or ``NOBODY``.

    Raises :class:`EVConfigError` (one line) when two locations claim the same
    hour, a period is out of range, or more than one location takes the rest.
    """
    table = np.full((DAYS_PER_WEEK, HOURS_PER_DAY), NOBODY, dtype=np.int64)
    rest = [i for i, loc in enumerate(locations) if loc.periods is None]
    if len(rest) > 1:
        raise EVConfigError(f"only one community may take the rest of the week, got "
                            f"{[locations[i].name for i in rest]}")
    for i, loc in enumerate(locations):
        if loc.days not in DAY_SETS:
            raise EVConfigError(f"community {loc.name}: days must be one of {sorted(DAY_SETS)}")
        for start, end in loc.periods or ():
            if not 0 <= start < end <= HOURS_PER_DAY:
                raise EVConfigError(f"community {loc.name}: period ({start}, {end}) must satisfy "
                                    "0 <= start < end <= 24")
            for day in DAY_SETS[loc.days]:
                taken = table[day, start:end]
                clash = taken[taken != NOBODY]
                if clash.size:
                    hour = start + int(np.argmax(taken != NOBODY))
                    raise EVConfigError(
                        f"communities {locations[int(clash[0])].name} and {loc.name} both hold "
                        f"{DAY_NAMES[day]} {hour:02d}:00; a car is in one community at a time")
                table[day, start:end] = i
    for i in rest:
        table[table == NOBODY] = i
    return table


def hour_owner(table: NDArray[np.int64], days: int, start_weekday: int) -> IntArray:
    """The location holding each hour of ``days`` days from ``start_weekday``: (days × 24,)."""
    weekdays = (start_weekday + np.arange(days)) % DAYS_PER_WEEK
    return np.asarray(table[weekdays].reshape(-1), dtype=np.int64)


def memberships(minutes_by_hour: NDArray[np.int64], owner: IntArray, n_locations: int
                ) -> BoolArray:
    """(EVs, locations): the EV was connected at least one minute in the location's hours."""
    plugged = np.asarray(minutes_by_hour) > 0
    return np.stack([(plugged & (owner == c)).any(axis=1) for c in range(n_locations)], axis=1)


def location_communities(locations: Sequence[Location], minutes_by_hour: NDArray[np.int64],
                         start_weekday: int, first_hour: int,
                         ) -> list[tuple[int, IntArray, BoolArray]]:
    """(location, member rows, held flags from hour ``first_hour`` on) of the EVs.

    ``minutes_by_hour`` (EVs × hours, from the history's first day, a
    ``start_weekday``) decides membership: connected at least once in the
    location's hours up to ``first_hour`` plus the run. The held flags run one
    day past the history given, for the look-ahead of the last day. Locations
    with no member are left out.
    """
    hours = minutes_by_hour.shape[1]
    owner = hour_owner(week_table(locations), -(-hours // HOURS_PER_DAY) + 1, start_weekday)
    member = memberships(minutes_by_hour, owner[:hours], len(locations))
    return [(c, rows, owner[first_hour:] == c) for c in range(len(locations))
            if (rows := np.flatnonzero(member[:, c])).size]
