"""Campus case 3: lights on in empty rooms, blamed on the class before, ranked.

Why "the previous class": the pilot's rule is that whoever leaves a room last
should switch the lights off; so the lighting energy of an empty room between
two classes goes to the class that left it: the whole of it to the teacher and
an equal share to each student who attended (largest remainder, exact), as
long as the meters show the lights on without a break since that class ended.
Lights that come on in an empty room (security's switch-on, 16:15 in the
pilot) and energy before the day's first class are waste nobody in a class
caused; they are counted, not attributed.

Exactly once: every interval's empty-room Wh (``gap_wh``, the interval's
lighting Wh times the share of the interval with no class in session, floored)
lands in exactly one place: one session, or the unattributed bucket.

Rankings: for each ISO week and calendar month, among the people of one role
who attended at least one class in it, the ten most sustainable (least waste)
and the ten least (most waste). The score is attributed Wh per class attended
(``metric="per_session"``, default) or in total (``"total"``); equal scores are
listed by classes attended (more first), then by person id, so the lists do
not depend on input order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from gridcoop.agents.mechanisms.campus.cardlog import DAY_S
from gridcoop.agents.mechanisms.campus.intervals import (
    IntervalError,
    expand_to_intervals,
    person_codes,
    split_groups,
    tie_keys,
)

Metric = Literal["per_session", "total"]


@dataclass(frozen=True, slots=True)
class LightingResult:
    """Where empty-room lighting went, who it is blamed on, rankings and the yearly bill.

    - ``gaps``: ``classroom, interval, lighting_wh, gap_wh, session_id, reason``
      (``session_id`` -1: unattributed)
    - ``per_session``: ``session_id, classroom, teacher_id, gap_wh, students``
    - ``per_person``: ``session_id, person_id, role, waste_wh``
    - ``rankings``: ``period_kind, period, list, rank, person_id, role, waste_wh, sessions, score``
    - ``waste_by_classroom``: ``classroom, waste_kwh, waste_kwh_per_year, waste_eur_per_year``
    """

    gaps: pd.DataFrame
    per_session: pd.DataFrame
    per_person: pd.DataFrame
    rankings: pd.DataFrame
    waste_by_classroom: pd.DataFrame
    unattributed_wh: int


def _lit_run_starts(lit: pd.DataFrame) -> np.ndarray:
    """Per lit reading, the first interval of its room's unbroken run of lit intervals."""
    rooms = lit["classroom"].to_numpy()
    interval = lit["interval"].to_numpy(dtype=np.int64)
    order = np.lexsort((interval, rooms.astype(str)))
    ordered = interval[order]
    new_run = np.ones(len(order), dtype=bool)
    new_run[1:] = (rooms[order][1:] != rooms[order][:-1]) | (np.diff(ordered) != 1)
    starts = np.empty(len(order), dtype=np.int64)
    starts[order] = ordered[np.maximum.accumulate(np.where(new_run, np.arange(len(order)), 0))]
    return starts


def _gap_table(
    readings: pd.DataFrame, sessions: pd.DataFrame, interval_s: int, after_last_class: bool
) -> pd.DataFrame:
    """Empty-room Wh per interval and the session each is attributed to."""
    lit = readings[readings["lighting_wh"] > 0]
    rooms = sorted(set(lit["classroom"]) | set(sessions["classroom"]))
    room_of = {room: i for i, room in enumerate(rooms)}
    width = (
        int(
            max(
                lit["interval"].to_numpy().max(initial=0),
                sessions["end_s"].to_numpy().max(initial=0) // interval_s,
            )
        )
        + 1
    )
    row, interval, seconds = expand_to_intervals(
        sessions["start_s"].to_numpy(dtype=np.int64),
        sessions["end_s"].to_numpy(dtype=np.int64),
        interval_s,
    )
    cell = sessions["classroom"].map(room_of).to_numpy(dtype=np.int64)[row] * width + interval
    occupied = np.bincount(cell, weights=seconds, minlength=len(rooms) * width)
    lit_cell = lit["classroom"].map(room_of).to_numpy(dtype=np.int64) * width + lit[
        "interval"
    ].to_numpy(dtype=np.int64)
    empty_s = np.clip(interval_s - occupied[lit_cell], 0, interval_s).astype(np.int64)
    lighting = lit["lighting_wh"].to_numpy(dtype=np.int64)
    gap = lighting * empty_s // interval_s
    interval_end = (lit["interval"].to_numpy(dtype=np.int64) + 1) * interval_s
    run_start_s = _lit_run_starts(lit) * interval_s
    session = np.full(len(lit), -1, dtype=np.int64)
    reason = np.full(len(lit), "before the first class", dtype=object)
    rooms_col = lit["classroom"].to_numpy()
    for room, mine in sessions.groupby("classroom"):
        ordered = mine.sort_values(["end_s", "session_id"])
        ends = ordered["end_s"].to_numpy(dtype=np.int64)
        here = np.flatnonzero(rooms_col == room)
        k = np.searchsorted(ends, interval_end[here], side="right") - 1
        found = k >= 0
        same_day = found & (
            (ends[np.maximum(k, 0)] - 1) // DAY_S == (interval_end[here] - 1) // DAY_S
        )
        previous = ordered["session_id"].to_numpy(dtype=np.int64)[np.maximum(k, 0)]
        left_on = ends[np.maximum(k, 0)] >= run_start_s[here]
        reason[here[same_day & ~left_on]] = "switched on in an empty room"
        same_day &= left_on
        if not after_last_class:
            starts = np.sort(mine["start_s"].to_numpy(dtype=np.int64))
            nxt = np.searchsorted(starts, interval_end[here] - interval_s, side="left")
            later_today = (nxt < starts.size) & (
                starts[np.minimum(nxt, starts.size - 1)] // DAY_S
                == (interval_end[here] - 1) // DAY_S
            )
            reason[here[same_day & ~later_today]] = "after the last class"
            same_day &= later_today
        session[here[same_day]] = previous[same_day]
        reason[here[same_day]] = "gap after class"
    table = pd.DataFrame(
        {
            "classroom": rooms_col,
            "interval": lit["interval"].to_numpy(dtype=np.int64),
            "lighting_wh": lighting,
            "gap_wh": gap,
            "session_id": session,
            "reason": reason,
        }
    )
    return table[table["gap_wh"] > 0].reset_index(drop=True)


def _rank(
    per_person: pd.DataFrame,
    attended: pd.DataFrame,
    role: str,
    start_date: str,
    metric: Metric,
    top: int,
) -> pd.DataFrame:
    """Weekly and monthly top lists for one role."""
    base = pd.Timestamp(start_date)
    people = attended[attended["role"] == role]
    waste = per_person[per_person["role"] == role][["session_id", "person_id", "waste_wh"]]
    rows = people.merge(waste, on=["session_id", "person_id"], how="left").fillna({"waste_wh": 0})
    when = base + pd.to_timedelta(rows["start_s"], unit="s")
    iso = when.dt.isocalendar()
    frames = []
    for kind, period in (
        ("week", iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)),
        ("month", when.dt.strftime("%Y-%m")),
    ):
        totals = (
            rows.assign(period=period.to_numpy())
            .groupby(["period", "person_id"])
            .agg(waste_wh=("waste_wh", "sum"), sessions=("session_id", "nunique"))
            .reset_index()
        )
        totals["waste_wh"] = totals["waste_wh"].astype(np.int64)
        totals["score"] = (
            totals["waste_wh"] / totals["sessions"]
            if metric == "per_session"
            else totals["waste_wh"].astype(float)
        )
        for name, ascending in (("most sustainable", True), ("least sustainable", False)):
            ordered = totals.sort_values(
                ["period", "score", "sessions", "person_id"],
                ascending=[True, ascending, False, True],
                kind="stable",
            )
            best = ordered.groupby("period", sort=True).head(top).copy()
            best["rank"] = best.groupby("period").cumcount() + 1
            best["list"] = name
            best["period_kind"] = kind
            best["role"] = role
            frames.append(best)
    columns = [
        "period_kind",
        "period",
        "list",
        "rank",
        "person_id",
        "role",
        "waste_wh",
        "sessions",
        "score",
    ]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def lighting_waste(
    readings: pd.DataFrame,
    sessions: pd.DataFrame,
    presence: pd.DataFrame,
    interval_s: int,
    start_date: str,
    price_eur_per_kwh: float = 0.095,
    metric: Metric = "per_session",
    top: int = 10,
    after_last_class: bool = True,
    seed: int = 0,
) -> LightingResult:
    """Attribute empty-room lighting to the previous class and rank people by it."""
    if metric not in ("per_session", "total"):
        raise IntervalError(f"metric must be 'per_session' or 'total'; got {metric!r}")
    for name, frame, columns in (
        ("readings", readings, {"classroom", "interval", "lighting_wh"}),
        ("sessions", sessions, {"session_id", "classroom", "teacher_id", "start_s", "end_s"}),
        ("presence", presence, {"person_id", "role", "session_id"}),
    ):
        missing = columns - set(frame.columns)
        if missing:
            raise IntervalError(f"{name} lacks column(s) {sorted(missing)}")
    gaps = _gap_table(readings, sessions, interval_s, after_last_class)
    attributed = gaps[gaps["session_id"] >= 0]
    per_session_wh = attributed.groupby("session_id")["gap_wh"].sum()
    students = presence[presence["role"] == "student"].drop_duplicates(["session_id", "person_id"])
    per_session = sessions[["session_id", "classroom", "teacher_id"]].copy()
    per_session["gap_wh"] = per_session["session_id"].map(per_session_wh).fillna(0).astype(np.int64)
    per_session["students"] = (
        per_session["session_id"]
        .map(students.groupby("session_id").size())
        .fillna(0)
        .astype(np.int64)
    )

    # students: equal shares of their session's gap, exact per session
    session_ids = per_session["session_id"].to_numpy(dtype=np.int64)
    group = np.searchsorted(np.sort(session_ids), students["session_id"].to_numpy(dtype=np.int64))
    totals = per_session.set_index("session_id")["gap_wh"].reindex(np.sort(session_ids))
    codes = person_codes(students["person_id"])
    shares = split_groups(
        group,
        np.ones(len(students), dtype=np.int64),
        totals.to_numpy(dtype=np.int64),
        tie_keys(students["session_id"].to_numpy(dtype=np.int64), codes, seed),
    )
    per_person = pd.concat(
        [
            pd.DataFrame(
                {
                    "session_id": students["session_id"].to_numpy(),
                    "person_id": students["person_id"].to_numpy(),
                    "role": "student",
                    "waste_wh": shares,
                }
            ),
            pd.DataFrame(
                {
                    "session_id": per_session["session_id"],
                    "person_id": per_session["teacher_id"],
                    "role": "teacher",
                    "waste_wh": per_session["gap_wh"],
                }
            ),
        ],
        ignore_index=True,
    )

    attended = pd.concat(
        [
            students[["session_id", "person_id", "role"]],
            per_session[["session_id", "teacher_id"]]
            .rename(columns={"teacher_id": "person_id"})
            .assign(role="teacher"),
        ],
        ignore_index=True,
    ).merge(sessions[["session_id", "start_s"]], on="session_id")
    rankings = pd.concat(
        [
            _rank(per_person, attended, role, start_date, metric, top)
            for role in ("student", "teacher")
        ],
        ignore_index=True,
    )

    days = max(readings["interval"].nunique() * interval_s / DAY_S, 1e-9)
    by_room = (
        gaps.groupby("classroom")["gap_wh"]
        .sum()
        .reindex(sorted(set(readings["classroom"])), fill_value=0)
    )
    waste = pd.DataFrame({"classroom": by_room.index, "waste_kwh": by_room.to_numpy() / 1000.0})
    waste["waste_kwh_per_year"] = waste["waste_kwh"] * 365.0 / days
    waste["waste_eur_per_year"] = waste["waste_kwh_per_year"] * price_eur_per_kwh
    return LightingResult(
        gaps,
        per_session,
        per_person,
        rankings,
        waste,
        int(gaps.loc[gaps["session_id"] < 0, "gap_wh"].sum()),
    )
