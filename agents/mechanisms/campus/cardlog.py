"""Who was in which classroom when: a simulated card-reader log, or real card reads.

Why a log and not a presence table straight away: in the pilot attendance
comes from card readers at the classroom doors, so the simulation produces the
same thing a real deployment would (one row per tap), and both go through the
same :func:`presence_from_reads`.

Tables (pandas DataFrames; times are integer seconds since the first
midnight of the calendar, see :class:`CampusConfig.start_date`):

- sessions: ``session_id, classroom, course, teacher_id, start_s, end_s``
  (one row per class actually held);
- card reads: ``person_id, role, classroom, time_s, direction`` (``in``/``out``);
- presence: ``person_id, role, classroom, start_s, end_s, session_id``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gridcoop.agents.physics.campus import DEFAULT_SLOTS

DAY_S = 86_400


class CardLogError(ValueError):
    """A campus configuration or a card-read file that cannot be used."""


@dataclass(frozen=True, slots=True)
class CampusConfig:
    """A campus term (defaults: the pilot's 2 classrooms, ~1,000 students, ~35 a class, 3 months).

    Meter and lighting parameters: a large classroom draws about 20 kW with 40
    students (HVAC 15 kW + 100 W a person + 750 W of lights), lights 750 W as
    in campus case 2; security switches the lights on at ``lights_on_h`` and
    off at ``lights_off_h`` (``None``: nobody does); after a class the last
    one out switches them off with ``p_switch_off``.
    """

    classrooms: int = 2
    students: int = 1000
    teachers: int = 24
    start_date: str = "2024-02-19"  # a Monday
    weeks: int = 13
    occupancy: float = 0.8
    class_size_mean: float = 35.0
    class_size_sd: float = 8.0
    absence_mean: float = 0.2
    absence_concentration: float = 8.0
    teacher_absence: float = 0.02
    early_leave: float = 0.05
    slots: tuple[tuple[float, float], ...] = DEFAULT_SLOTS
    interval_min: int = 15
    lights_w: float = 750.0
    hvac_w: float = 15_000.0
    person_w: float = 100.0
    standby_w: float = 50.0
    lights_on_h: float = 7.0
    lights_off_h: float | None = 22.0
    p_switch_off: float = 0.3
    price_eur_per_kwh: float = 0.095

    def __post_init__(self) -> None:
        checks = {
            "classrooms": self.classrooms >= 1,
            "students": self.students >= 1,
            "teachers": self.teachers >= 1,
            "weeks": self.weeks >= 1,
            "occupancy": 0.0 <= self.occupancy <= 1.0,
            "absence_mean": 0.0 < self.absence_mean < 1.0,
            "teacher_absence": 0.0 <= self.teacher_absence <= 1.0,
            "early_leave": 0.0 <= self.early_leave <= 1.0,
            "p_switch_off": 0.0 <= self.p_switch_off <= 1.0,
            "interval_min": self.interval_min > 0 and 1440 % self.interval_min == 0,
            "lights_on_h": 0.0 <= self.lights_on_h < 24.0,
            "lights_off_h": self.lights_off_h is None
            or (0.0 <= self.lights_off_h <= 24.0 and self.lights_off_h % 24 != self.lights_on_h),
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise CardLogError(f"campus config: bad value for {', '.join(bad)}; see CampusConfig")
        try:
            pd.Timestamp(self.start_date)
        except ValueError:
            raise CardLogError(
                f"start_date {self.start_date!r} is not a date (YYYY-MM-DD)"
            ) from None

    @property
    def interval_s(self) -> int:
        return self.interval_min * 60

    @property
    def days(self) -> int:
        return self.weeks * 7


def person_ids(prefix: str, n: int) -> np.ndarray:
    width = len(str(n))
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def simulate_term(
    config: CampusConfig, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A term's sessions and card reads, drawn from ``rng`` (same seed, same term).

    Each booked weekly slot is a class with its own teacher and ~35 enrolled
    students; each week it is held unless its teacher is absent; each enrolled
    student comes unless absent (a per-student absence rate, Beta-distributed
    around ``absence_mean``), taps in a few minutes before the start and taps
    out at the end (or earlier, with ``early_leave``).
    """
    students = person_ids("s", config.students)
    teachers = person_ids("t", config.teachers)
    n_slots = len(config.slots)
    booked = rng.random((config.classrooms, 5, n_slots)) < config.occupancy
    rooms, weekdays, slots = np.nonzero(booked)
    n_classes = rooms.size
    sizes = np.clip(
        np.round(rng.normal(config.class_size_mean, config.class_size_sd, n_classes)),
        1,
        config.students,
    ).astype(np.int64)
    enrolled = [rng.choice(config.students, size=int(k), replace=False) for k in sizes]
    teacher_of = rng.integers(0, config.teachers, size=n_classes)
    a = config.absence_mean * config.absence_concentration
    absence = rng.beta(a, config.absence_concentration - a, size=config.students)

    week = np.repeat(np.arange(config.weeks), n_classes)
    cls = np.tile(np.arange(n_classes), config.weeks)
    held = rng.random(cls.size) >= config.teacher_absence
    week, cls = week[held], cls[held]
    slot_start = np.array([s[0] for s in config.slots]) * 3600
    slot_end = np.array([s[1] for s in config.slots]) * 3600
    day = week * 7 + weekdays[cls]
    start = (day * DAY_S + slot_start[slots[cls]]).round().astype(np.int64)
    end = (day * DAY_S + slot_end[slots[cls]]).round().astype(np.int64)
    sessions = pd.DataFrame(
        {
            "session_id": np.arange(cls.size, dtype=np.int64),
            "classroom": [f"room-{r + 1}" for r in rooms[cls]],
            "course": [f"class-{c + 1}" for c in cls],
            "teacher_id": teachers[teacher_of[cls]],
            "start_s": start,
            "end_s": end,
        }
    )

    counts = sizes[cls]
    pair_session = np.repeat(np.arange(cls.size), counts)
    pair_student = np.concatenate([enrolled[c] for c in cls]) if cls.size else np.zeros(0, int)
    came = rng.random(pair_student.size) >= absence[pair_student]
    pair_session, pair_student = pair_session[came], pair_student[came]
    s_start, s_end = start[pair_session], end[pair_session]
    tap_in = s_start + np.clip(np.round(rng.normal(-240, 240, pair_session.size)), -900, 1800)
    leaves = rng.random(pair_session.size) < config.early_leave
    early = s_start + (s_end - s_start) // 2 + rng.integers(0, (s_end - s_start) // 2 + 1)
    tap_out = np.where(leaves, np.minimum(early, s_end), s_end).astype(np.int64)
    tap_in = np.minimum(tap_in.astype(np.int64), tap_out)
    room_names = sessions["classroom"].to_numpy()
    reads = pd.concat(
        [
            pd.DataFrame(
                {
                    "person_id": students[pair_student],
                    "role": "student",
                    "classroom": room_names[pair_session],
                    "time_s": tap_in,
                    "direction": "in",
                }
            ),
            pd.DataFrame(
                {
                    "person_id": students[pair_student],
                    "role": "student",
                    "classroom": room_names[pair_session],
                    "time_s": tap_out,
                    "direction": "out",
                }
            ),
            pd.DataFrame(
                {
                    "person_id": sessions["teacher_id"],
                    "role": "teacher",
                    "classroom": room_names,
                    "time_s": start - 600,
                    "direction": "in",
                }
            ),
            pd.DataFrame(
                {
                    "person_id": sessions["teacher_id"],
                    "role": "teacher",
                    "classroom": room_names,
                    "time_s": end + 300,
                    "direction": "out",
                }
            ),
        ],
        ignore_index=True,
    )
    reads = reads.sort_values(
        ["time_s", "direction", "person_id"], kind="stable", ignore_index=True
    )
    return sessions, reads


def read_card_csv(path: str, start_date: str) -> pd.DataFrame:
    """Real card reads from CSV: ``person_id, role, classroom, time`` [, ``direction``].

    ``time`` is a local date-time (ISO 8601); it becomes seconds since
    ``start_date``'s midnight. Without ``direction`` every read counts as "in".
    """
    frame = pd.read_csv(path, dtype={"person_id": str, "role": str, "classroom": str})
    missing = {"person_id", "role", "classroom", "time"} - set(frame.columns)
    if missing:
        raise CardLogError(
            f"{path}: missing column(s) {sorted(missing)}; expected "
            "person_id, role, classroom, time[, direction]"
        )
    try:
        times = pd.to_datetime(frame["time"])
    except (ValueError, TypeError) as error:
        raise CardLogError(f"{path}: column 'time' must be ISO date-times ({error})") from None
    seconds = (times - pd.Timestamp(start_date)).dt.total_seconds().astype(np.int64)
    direction = frame["direction"].str.lower() if "direction" in frame else "in"
    out = pd.DataFrame(
        {
            "person_id": frame["person_id"],
            "role": frame["role"],
            "classroom": frame["classroom"],
            "time_s": seconds,
            "direction": direction,
        }
    )
    bad = ~out["direction"].isin(["in", "out"])
    if bad.any():
        raise CardLogError(f"{path}: direction must be 'in' or 'out' (row {int(bad.idxmax()) + 2})")
    return out


def presence_from_reads(
    reads: pd.DataFrame, sessions: pd.DataFrame, grace_s: int = 900
) -> pd.DataFrame:
    """Turn taps into presence spans, each tied to the session it falls in.

    An "in" tap belongs to the session of its classroom with
    ``start - grace_s <= time < end``; taps outside any session are dropped
    (corridor traffic). A person is present from the tap (or the session start,
    if later) until their next "out" tap in that session, else the session end.
    """
    spans = []
    for room, room_sessions in sessions.groupby("classroom", sort=True):
        ordered = room_sessions.sort_values("start_s")
        starts = ordered["start_s"].to_numpy()
        ends = ordered["end_s"].to_numpy()
        ids = ordered["session_id"].to_numpy()
        room_reads = reads[reads["classroom"] == room]
        t = room_reads["time_s"].to_numpy()
        is_in = (room_reads["direction"] == "in").to_numpy()
        # "in" taps may come up to grace_s early; "out" taps count strictly inside
        k = (
            np.where(
                is_in,
                np.searchsorted(starts - grace_s, t, side="right"),
                np.searchsorted(starts, t, side="right"),
            )
            - 1
        )
        ok = (k >= 0) & (t < ends[np.maximum(k, 0)])
        ok &= is_in | (t > starts[np.maximum(k, 0)])
        taps = pd.DataFrame(
            {
                "person_id": room_reads["person_id"].to_numpy()[ok],
                "role": room_reads["role"].to_numpy()[ok],
                "is_in": is_in[ok],
                "time_s": t[ok],
                "session_id": ids[k[ok]],
                "start": starts[k[ok]],
                "end": ends[k[ok]],
            }
        )
        ins = taps[taps["is_in"]].drop_duplicates(["person_id", "session_id"], keep="first")
        out_at = taps[~taps["is_in"]].groupby(["person_id", "session_id"])["time_s"].min()
        span = ins.join(out_at.rename("out_s"), on=["person_id", "session_id"])
        begin = np.maximum(span["time_s"].to_numpy(), span["start"].to_numpy())
        finish = span["out_s"].fillna(span["end"]).to_numpy().astype(np.int64)
        spans.append(
            pd.DataFrame(
                {
                    "person_id": span["person_id"].to_numpy(),
                    "role": span["role"].to_numpy(),
                    "classroom": room,
                    "start_s": begin,
                    "end_s": np.maximum(finish, begin),
                    "session_id": span["session_id"].to_numpy(),
                }
            )
        )
    columns = ["person_id", "role", "classroom", "start_s", "end_s", "session_id"]
    if not spans:
        return pd.DataFrame(columns=columns)
    presence = pd.concat(spans, ignore_index=True)
    return presence.sort_values(["session_id", "person_id"], ignore_index=True)[columns]
