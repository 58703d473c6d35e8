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

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gridcoop.agents.mechanisms.campus.intervals import (
    IntervalError,
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

    rooms = sorted(set(readings["classroom"]) | set(presence["classroom"]))
    room_of = {room: i for i, room in enumerate(rooms)}
    last_reading = readings["interval"].to_numpy(dtype=np.int64).max(initial=-1)
    last_presence = (presence["end_s"].to_numpy(dtype=np.int64).max(initial=0) - 1) // interval_s
    n_intervals = int(max(last_reading, last_presence)) + 1
    cell_of_reading = readings["classroom"].map(room_of).to_numpy(
        dtype=np.int64
    ) * n_intervals + readings["interval"].to_numpy(dtype=np.int64)

    spans = merge_overlaps(presence)
    row, interval, seconds = expand_to_intervals(
        spans["start_s"].to_numpy(dtype=np.int64),
        spans["end_s"].to_numpy(dtype=np.int64),
        interval_s,
    )
    people, person_index = np.unique(spans["person_id"].to_numpy(dtype=str), return_inverse=True)
    room_index = spans["classroom"].map(room_of).to_numpy(dtype=np.int64)
    cell = room_index[row] * n_intervals + interval
    # one row per (cell, person): a person who left and came back within an interval
    key = cell * len(people) + person_index[row]
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    weight = np.bincount(inverse, weights=seconds).astype(np.int64)
    u_cell = cell[first]
    u_person = person_index[row[first]]

    groups, group_of_row = np.unique(u_cell, return_inverse=True)
    totals = np.zeros(groups.size, dtype=np.int64)
    match = np.searchsorted(groups, cell_of_reading)
    found = (match < groups.size) & (
        groups[np.minimum(match, max(groups.size - 1, 0))] == cell_of_reading
        if groups.size
        else np.zeros(match.size, dtype=bool)
    )
    totals[match[found]] = energy[found]
    codes = person_codes(people)
    shares = split_groups(
        group_of_row, weight, totals, tie_keys(u_cell % n_intervals, codes[u_person], seed)
    )

    role_of = presence.drop_duplicates("person_id").set_index("person_id")["role"]
    names = people.astype(object)
    roles = role_of.reindex(names).to_numpy(dtype=object)
    interval_col = u_cell % n_intervals
    tokens = pd.DataFrame(
        {
            "interval": interval_col,
            "interval_start_s": interval_col * interval_s,
            "classroom": np.array(rooms, dtype=object)[u_cell // n_intervals],
            "person_id": names[u_person],
            "role": roles[u_person],
            "seconds": weight,
            "tokens": shares,
        }
    )
    per_person = _per_person(tokens, presence)
    empty = ~found
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
