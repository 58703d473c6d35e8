"""Case 3: empty-room lighting attributed once to the class before, and ranked."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcoop.agents.mechanisms.campus.intervals import IntervalError
from gridcoop.agents.mechanisms.campus.lighting import lighting_waste
from gridcoop.agents.mechanisms.campus.report import markdown_table, render_lighting_report
from tests.agents.mechanisms.campus.helpers import presence_frame, readings_frame, sessions_frame

# room-1, Monday 2024-02-19: lights 07:00-13:00 (intervals 28..51, 187 Wh each).
# Class 0 08:00-09:30 (tA; s1 s2 s3), class 1 11:00-12:40 (tB; s1 s4 s5).
SESSIONS = sessions_frame([(0, "room-1", "tA", 8.0, 9.5), (1, "room-1", "tB", 11.0, 12 + 40 / 60)])
PRESENCE = presence_frame(
    [(p, "student", "room-1", 8.0, 9.5, 0) for p in ("s1", "s2", "s3")]
    + [(p, "student", "room-1", 11.0, 12 + 40 / 60, 1) for p in ("s1", "s4", "s5")]
    + [("tA", "teacher", "room-1", 8.0, 9.5, 0), ("tB", "teacher", "room-1", 11.0, 12.5, 1)]
)
READINGS = readings_frame("room-1", {k: 187 for k in range(28, 52)})


def run(**options: object):  # type: ignore[no-untyped-def]
    return lighting_waste(READINGS, SESSIONS, PRESENCE, 900, "2024-02-19", **options)  # type: ignore[arg-type]


def test_gap_energy_goes_to_the_class_before() -> None:
    result = run()
    gaps = result.gaps.set_index("interval")
    # 07:00-08:00: 4 x 187 = 748 Wh before the first class: nobody's
    assert (gaps.loc[28:31, "session_id"] == -1).all()
    assert result.unattributed_wh == 748
    # 09:30-11:00: 6 x 187 = 1122 Wh -> class 0
    assert gaps.loc[38:43, "gap_wh"].sum() == 1122 and (gaps.loc[38:43, "session_id"] == 0).all()
    # 12:30-12:45 is in class until 12:40: 187 * 300 // 900 = 62 Wh; 12:45-13:00: 187 -> class 1
    assert gaps.loc[50, "gap_wh"] == 62 and gaps.loc[51, "gap_wh"] == 187
    assert result.per_session.set_index("session_id")["gap_wh"].to_dict() == {0: 1122, 1: 249}


def test_teacher_takes_the_whole_gap_and_students_share_it() -> None:
    per = run().per_person.set_index(["session_id", "person_id"])["waste_wh"].to_dict()
    # class 0: 1122 / 3 = 374 each; class 1: 249 / 3 = 83 each
    assert per == {
        (0, "s1"): 374,
        (0, "s2"): 374,
        (0, "s3"): 374,
        (0, "tA"): 1122,
        (1, "s1"): 83,
        (1, "s4"): 83,
        (1, "s5"): 83,
        (1, "tB"): 249,
    }


def test_energy_after_the_last_class_can_be_left_unattributed() -> None:
    result = run(after_last_class=False)
    gaps = result.gaps.set_index("interval")
    assert (gaps.loc[50:51, "reason"] == "after the last class").all()
    assert result.unattributed_wh == 748 + 62 + 187
    assert result.per_session.set_index("session_id")["gap_wh"].to_dict() == {0: 1122, 1: 0}


def test_rankings_by_hand_and_stable_under_ties() -> None:
    rankings = run().rankings
    week = rankings[(rankings["period"] == "2024-W08") & (rankings["role"] == "student")]
    most = week[week["list"] == "most sustainable"]
    # scores (Wh per class): s4 83, s5 83 (tie: by id), s1 (374 + 83) / 2 = 228.5, s2 374, s3 374
    assert most["person_id"].tolist() == ["s4", "s5", "s1", "s2", "s3"]
    assert most["score"].tolist() == [83.0, 83.0, 228.5, 374.0, 374.0]
    least = week[week["list"] == "least sustainable"]
    assert least["person_id"].tolist() == ["s2", "s3", "s1", "s4", "s5"]
    teachers = rankings[(rankings["period"] == "2024-02") & (rankings["role"] == "teacher")]
    assert teachers[teachers["list"] == "most sustainable"]["person_id"].tolist() == ["tB", "tA"]
    # top 3 only, and the same lists whatever the input order
    top3 = run(top=3).rankings
    assert top3[
        (top3["list"] == "most sustainable")
        & (top3["role"] == "student")
        & (top3["period_kind"] == "week")
    ]["person_id"].tolist() == ["s4", "s5", "s1"]
    shuffled = lighting_waste(
        READINGS.sample(frac=1.0, random_state=3),
        SESSIONS.sample(frac=1.0, random_state=4),
        PRESENCE.sample(frac=1.0, random_state=5),
        900,
        "2024-02-19",
    )
    pd.testing.assert_frame_equal(shuffled.rankings, run().rankings)


def test_ties_prefer_more_classes_then_the_smaller_id() -> None:
    # by total waste: s4 and s5 83 Wh (1 class each), s2/s3 374, s1 457 (2 classes)
    rankings = run(metric="total").rankings
    week = rankings[(rankings["period_kind"] == "week") & (rankings["role"] == "student")]
    assert week[week["list"] == "most sustainable"]["person_id"].tolist() == [
        "s4",
        "s5",
        "s2",
        "s3",
        "s1",
    ]
    with pytest.raises(IntervalError, match="metric must be"):
        run(metric="average")


def test_waste_per_classroom_per_year() -> None:
    waste = run().waste_by_classroom.iloc[0]
    # 748 + 1122 + 249 = 2119 Wh in one day of readings -> 2.119 * 365 = 773.435 kWh a year,
    # at 0.095 EUR/kWh: 73.476325 EUR
    assert waste["waste_kwh"] == pytest.approx(2.119)
    assert waste["waste_kwh_per_year"] == pytest.approx(773.435)
    assert waste["waste_eur_per_year"] == pytest.approx(73.476325)


def test_report_renders() -> None:
    text = render_lighting_report(run(), roles=("student", "teacher"))
    assert "| room-1 | 2.12 | 773.44 | 73.48 |" in text
    assert "### 2024-W08: most sustainable (students)" in text
    assert "### 2024-02: least sustainable (teachers)" in text
    table = markdown_table(pd.DataFrame({"a": ["x|y"], "b": [1234]}), ["a", "b"], ["A", "B"])
    assert table.splitlines() == ["| A | B |", "|---|---|", "| x\\|y | 1,234 |"]


@st.composite
def day(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    sessions, presence, readings = [], [], []
    sid = 0
    for room in ("room-1", "room-2"):
        cuts = sorted(
            draw(st.lists(st.integers(6 * 12, 22 * 12), min_size=0, max_size=8, unique=True))
        )
        for start, end in zip(cuts[::2], cuts[1::2], strict=False):
            sessions.append((sid, room, f"t-{room}", start / 12, end / 12))
            for p in draw(st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), unique=True)):
                presence.append((p, "student", room, start / 12, end / 12, sid))
            sid += 1
        lit = draw(st.lists(st.integers(0, 750), min_size=96, max_size=96))
        readings.append(readings_frame(room, dict(enumerate(lit))))
    return (
        sessions_frame(sessions),
        presence_frame(presence),
        pd.concat(readings, ignore_index=True),
    )


@settings(max_examples=100, deadline=None)
@given(day(), st.booleans())
def test_gap_energy_is_attributed_exactly_once(
    case: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame], after_last: bool
) -> None:
    sessions, presence, readings = case
    result = lighting_waste(
        readings, sessions, presence, 900, "2024-02-19", after_last_class=after_last
    )
    gaps = result.gaps
    assert not gaps.duplicated(["classroom", "interval"]).any()
    # recompute each interval's empty-room Wh second by second
    found = {
        (r, k): (wh, sid)
        for r, k, wh, sid in gaps[["classroom", "interval", "gap_wh", "session_id"]].itertuples(
            index=False
        )
    }
    for room, k, wh in readings[["classroom", "interval", "lighting_wh"]].itertuples(index=False):
        mine = sessions[sessions["classroom"] == room]
        spans = list(zip(mine["start_s"], mine["end_s"], mine["session_id"], strict=True))
        busy = sum(max(0, min(e, (k + 1) * 900) - max(s, k * 900)) for s, e, _ in spans)
        got, session = found.get((room, k), (0, -1))
        assert got == wh * (900 - busy) // 900
        if session >= 0:
            # the class before: the latest one in this room ended by the interval's end
            ended = sorted((e, sid) for _, e, sid in spans if e <= (k + 1) * 900)
            assert session == ended[-1][1]
    # every attributed Wh is in exactly one session; the rest is unattributed
    assert result.per_session["gap_wh"].sum() + result.unattributed_wh == gaps["gap_wh"].sum()
    per = result.per_person
    for sid, gap in result.per_session.set_index("session_id")["gap_wh"].items():
        students = per[(per["session_id"] == sid) & (per["role"] == "student")]["waste_wh"]
        if len(students):
            assert students.sum() == gap
        assert per[(per["session_id"] == sid) & (per["role"] == "teacher")]["waste_wh"].sum() == gap
