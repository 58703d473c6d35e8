"""Campus case 1: each metered interval's energy split among the people present, as tokens.

Why weights in seconds: a student who arrives ten minutes into a 15-minute
interval was there a third of it; splitting by person-seconds is the
fair reading of "split among the people present", and equals an equal split
whenever everyone stayed the whole interval.

Exactness: each interval's Wh (an integer from the meter) is split with the
largest-remainder method, so **per interval the tokens written (1 token =
1 Wh) sum to the metered Wh**. Equal remainders are broken by a keyed hash of
(interval, person) (:func:`gridcoop.agents.mechanisms.campus.intervals.tie_keys`): the same
data and seed give the same tokens, and the spare Wh do not always land on the
same people. Intervals with nobody present are reported as unattributed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gridcoop.agents.mechanisms.campus.intervals import (
    IntArray,
    IntervalError,
    UIntArray,
    expand_to_intervals,
    person_codes,
    split_groups,
    tie_keys,
)


@dataclass(frozen=True, slots=True)
class FootprintResult:
    """Tokens per (interval, classroom, person), per-person totals, and what nobody was there for.

    - ``tokens``: ``interval, interval_start_s, classroom, person_id, role, seconds, tokens``
    - ``per_person``: ``person_id, role, tokens, intervals, sessions`` (most tokens first)
    - ``unattributed``: ``interval, interval_start_s, classroom, energy_wh`` (empty rooms)
    """

    tokens: pd.DataFrame
    per_person: pd.DataFrame
    unattributed: pd.DataFrame
    metered_wh: int
    attributed_wh: int


@dataclass(frozen=True, slots=True)
class Attendance:
    """Person-seconds per (interval, classroom, person), sorted by interval.

    Why apart from the split: who was present is known before the meters
    read, so a campus can prepare the rows once and split each interval's
    reading the moment it arrives (:meth:`split`), minting that interval's
    tokens then rather than at the end of the day. One row per (interval,
    classroom, person): a person who left and came back within an interval
    counts once, with all their seconds.
    """

    rooms: tuple[str, ...]
    people: NDArray[np.object_]
    roles: NDArray[np.object_]
    interval: IntArray
    room: IntArray
    person: IntArray
    seconds: IntArray
    tie: UIntArray

    @classmethod
    def of(cls, presence: pd.DataFrame, interval_s: int, rooms: Sequence[str] = (),
           seed: int = 0) -> Attendance:
        """The rows of ``presence`` (``person_id, role, classroom, start_s, end_s``)."""
        missing = {"person_id", "role", "classroom", "start_s", "end_s"} - set(presence.columns)
        if missing:
            raise IntervalError(f"presence lacks column(s) {sorted(missing)}")
        names = tuple(sorted(set(rooms) | set(presence["classroom"])))
        room_of = {room: i for i, room in enumerate(names)}
        spans = merge_overlaps(presence)
        row, interval, seconds = expand_to_intervals(
            spans["start_s"].to_numpy(dtype=np.int64),
            spans["end_s"].to_numpy(dtype=np.int64),
            interval_s,
        )
        people, person_index = np.unique(spans["person_id"].to_numpy(dtype=str),
                                         return_inverse=True)
        room_index = spans["classroom"].map(room_of).to_numpy(dtype=np.int64)
        n_rooms, n_people = max(len(names), 1), max(len(people), 1)
        key = (interval * n_rooms + room_index[row]) * n_people + person_index[row]
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        weight = np.bincount(inverse, weights=seconds).astype(np.int64)
        u_interval = interval[first]
        u_person = person_index[row[first]].astype(np.int64)
        role_of = presence.drop_duplicates("person_id").set_index("person_id")["role"]
        names_obj = people.astype(object)
        return cls(names, names_obj, role_of.reindex(names_obj).to_numpy(dtype=object),
                   u_interval, room_index[row[first]], u_person, weight,
                   tie_keys(u_interval, person_codes(people)[u_person], seed))

    def rows_of(self, interval: int) -> slice:
        """The rows of one interval (the table is sorted by interval)."""
        return slice(int(np.searchsorted(self.interval, interval, side="left")),
                     int(np.searchsorted(self.interval, interval, side="right")))

    def split(self, rows: slice, row_wh: IntArray) -> IntArray:
        """Tokens of ``rows`` (one interval or many), splitting exactly the Wh metered in
        each row's room and interval (``row_wh``, one value per row)."""
        cell = self.interval[rows] * len(self.rooms) + self.room[rows]
        groups, group_of_row = np.unique(cell, return_inverse=True)
        totals = np.zeros(groups.size, dtype=np.int64)
        totals[group_of_row] = np.asarray(row_wh, dtype=np.int64)
        return split_groups(group_of_row, self.seconds[rows], totals, self.tie[rows])


def footprint(
    readings: pd.DataFrame, presence: pd.DataFrame, interval_s: int, seed: int = 0
) -> FootprintResult:
    """Split every classroom interval's ``energy_wh`` among the people in it (exact, integer)."""
    for name, frame, columns in (
        ("readings", readings, {"classroom", "interval", "energy_wh"}),
        ("presence", presence, {"person_id", "role", "classroom", "start_s", "end_s"}),
    ):
        missing = columns - set(frame.columns)
        if missing:
            raise IntervalError(f"{name} lacks column(s) {sorted(missing)}")
    energy = readings["energy_wh"].to_numpy(dtype=np.int64)
    if (energy < 0).any():
        raise IntervalError("energy_wh must be >= 0 in every reading")
    if readings.duplicated(["classroom", "interval"]).any():
        raise IntervalError("readings repeat a (classroom, interval); give one reading each")

    att = Attendance.of(presence, interval_s, sorted(set(readings["classroom"])), seed)
    n_rooms = len(att.rooms)
    room_of = {room: i for i, room in enumerate(att.rooms)}
    cell_of_reading = readings["interval"].to_numpy(dtype=np.int64) * n_rooms + readings[
        "classroom"].map(room_of).to_numpy(dtype=np.int64)
    cell = att.interval * n_rooms + att.room
    # one reading per cell (checked above): each row's Wh, 0 where its cell was not read
    row_wh = pd.Series(energy, index=cell_of_reading).reindex(cell, fill_value=0).to_numpy(
        dtype=np.int64)
    everything = slice(0, cell.size)
    shares = att.split(everything, row_wh) if cell.size else np.zeros(0, dtype=np.int64)
    tokens = pd.DataFrame(
        {
            "interval": att.interval,
            "interval_start_s": att.interval * interval_s,
            "classroom": np.array(att.rooms, dtype=object)[att.room],
            "person_id": att.people[att.person],
            "role": att.roles[att.person],
            "seconds": att.seconds,
            "tokens": shares,
        }
    )
    per_person = _per_person(tokens, presence)
    empty = ~np.isin(cell_of_reading, cell)
    unattributed = readings.loc[empty & (energy > 0), ["interval", "classroom", "energy_wh"]].copy()
    unattributed.insert(1, "interval_start_s", unattributed["interval"] * interval_s)
    return FootprintResult(
        tokens,
        per_person,
        unattributed.reset_index(drop=True),
        int(energy.sum()),
        int(shares.sum()),
    )


def merge_overlaps(presence: pd.DataFrame) -> pd.DataFrame:
    """Join one person's overlapping spans in one classroom, so no second is counted twice."""
    if presence.empty:
        return presence
    ordered = presence.sort_values(
        ["person_id", "classroom", "start_s", "end_s"], ignore_index=True
    )
    same = ordered["person_id"].eq(ordered["person_id"].shift()) & ordered["classroom"].eq(
        ordered["classroom"].shift()
    )
    reach = ordered.groupby(["person_id", "classroom"], sort=False)["end_s"].cummax()
    new_block = ~same | (ordered["start_s"] >= reach.shift())  # touching spans stay apart
    block = new_block.cumsum()
    merged = ordered.groupby(block, sort=False).agg(
        {
            **{c: "first" for c in ordered.columns if c not in ("start_s", "end_s")},
            "start_s": "min",
            "end_s": "max",
        }
    )
    return merged.reset_index(drop=True)[list(presence.columns)]


def _per_person(tokens: pd.DataFrame, presence: pd.DataFrame) -> pd.DataFrame:
    totals = (
        tokens.groupby(["person_id", "role"], sort=True)
        .agg(tokens=("tokens", "sum"), intervals=("interval", "size"))
        .reset_index()
    )
    if "session_id" in presence:
        sessions = presence.groupby("person_id")["session_id"].nunique()
        totals["sessions"] = totals["person_id"].map(sessions).fillna(0).astype(np.int64)
    return totals.sort_values(["tokens", "person_id"], ascending=[False, True], ignore_index=True)
