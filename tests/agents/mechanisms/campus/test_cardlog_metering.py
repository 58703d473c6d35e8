"""Card reads to presence, the simulated term, and classroom meters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridcoop.agents.mechanisms.campus.cardlog import (
    CampusConfig,
    CardLogError,
    presence_from_reads,
    read_card_csv,
    simulate_term,
)
from gridcoop.agents.mechanisms.campus.metering import (
    lights_on_spans,
    read_meter_csv,
    simulate_readings,
)
from tests.agents.mechanisms.campus.helpers import H, presence_frame, sessions_frame


def reads(rows: list[tuple[str, str, str, float, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": [r[0] for r in rows],
            "role": [r[1] for r in rows],
            "classroom": [r[2] for r in rows],
            "time_s": [round(r[3] * H) for r in rows],
            "direction": [r[4] for r in rows],
        }
    )


SESSIONS = sessions_frame(
    [(0, "room-1", "t1", 8.0, 9.5), (1, "room-1", "t1", 9.5, 11.0), (2, "room-2", "t2", 8.0, 9.5)]
)


def test_taps_become_presence_in_their_session() -> None:
    log = reads(
        [
            ("s1", "student", "room-1", 7.9, "in"),  # early tap: counts from 08:00
            ("s1", "student", "room-1", 8.0, "in"),  # a second tap in the same class: ignored
            ("s2", "student", "room-1", 8.5, "in"),  # late
            ("s2", "student", "room-1", 9.0, "out"),  # leaves early
            ("s3", "student", "room-1", 9.5, "in"),  # the second class
            ("s4", "student", "room-1", 12.0, "in"),  # nobody's class: corridor traffic
            ("t2", "teacher", "room-2", 7.8, "in"),
            ("s5", "student", "room-2", 8.25, "in"),
            ("s5", "student", "room-2", 9.5, "out"),  # out at the end: nothing changes
        ]
    )
    presence = presence_from_reads(log, SESSIONS)
    assert presence.to_dict("records") == presence_frame(
        [
            ("s1", "student", "room-1", 8.0, 9.5, 0),
            ("s2", "student", "room-1", 8.5, 9.0, 0),
            ("s3", "student", "room-1", 9.5, 11.0, 1),
            ("s5", "student", "room-2", 8.25, 9.5, 2),
            ("t2", "teacher", "room-2", 8.0, 9.5, 2),
        ]
    ).to_dict("records")


def test_card_csv(tmp_path: Path) -> None:
    path = tmp_path / "reads.csv"
    path.write_text(
        "person_id,role,classroom,time,direction\n"
        "s1,student,room-1,2024-02-19T08:02:00,IN\n"
        "s1,student,room-1,2024-02-20T09:00:00,out\n"
    )
    frame = read_card_csv(str(path), "2024-02-19")
    assert frame["time_s"].tolist() == [8 * H + 120, 86_400 + 9 * H]
    assert frame["direction"].tolist() == ["in", "out"]
    path.write_text("person_id,classroom,time\ns1,room-1,2024-02-19T08:00\n")
    with pytest.raises(CardLogError, match=r"missing column\(s\) \['role'\]"):
        read_card_csv(str(path), "2024-02-19")
    path.write_text("person_id,role,classroom,time,direction\ns1,student,r,2024-02-19,sideways\n")
    with pytest.raises(CardLogError, match="direction must be 'in' or 'out' \\(row 2\\)"):
        read_card_csv(str(path), "2024-02-19")


def test_simulated_term_is_seeded_and_plausible() -> None:
    config = CampusConfig(weeks=2)
    a_sessions, a_reads = simulate_term(config, np.random.default_rng(3))
    b_sessions, b_reads = simulate_term(config, np.random.default_rng(3))
    pd.testing.assert_frame_equal(a_sessions, b_sessions)
    pd.testing.assert_frame_equal(a_reads, b_reads)
    presence = presence_from_reads(a_reads, a_sessions)
    per_session = presence[presence["role"] == "student"].groupby("session_id").size()
    # ~35 enrolled, ~20 % absent: about 28 a class
    assert 22 < per_session.mean() < 34
    assert (
        presence.groupby("session_id")["role"].apply(lambda r: (r == "teacher").sum()) == 1
    ).all()
    # 2 classrooms x 5 days x 6 slots x 80 % booked ~ 48 classes a week
    assert 30 < len(a_sessions) / 2 < 60
    assert set(presence["start_s"] % 86_400 // H) <= {8, 9, 10, 11, 12, 14, 15, 16, 17}


def test_bad_config() -> None:
    with pytest.raises(CardLogError, match="bad value for occupancy, p_switch_off"):
        CampusConfig(occupancy=1.5, p_switch_off=-1)
    with pytest.raises(CardLogError, match="not a date"):
        CampusConfig(start_date="someday")


def test_lights_habit_by_hand() -> None:
    # Every class switches off on leaving (p_switch_off = 1). room-1: security on at
    # 07:00, class 0 off at 09:30; class 1 on at 09:30, off at 11:00. room-2: 07:00-09:30.
    config = CampusConfig(p_switch_off=1.0)
    spans = lights_on_spans(SESSIONS, config, ["room-1", "room-2"], np.random.default_rng(0))
    assert spans.values.tolist() == [
        ["room-1", 7 * H, int(9.5 * H)],
        ["room-1", int(9.5 * H), 11 * H],
        ["room-2", 7 * H, int(9.5 * H)],
    ]
    # never switched off by the class: on from 07:00 until security's 22:00
    never = lights_on_spans(
        SESSIONS, CampusConfig(p_switch_off=0.0), ["room-1"], np.random.default_rng(0)
    )
    assert never.values.tolist() == [["room-1", 7 * H, 22 * H]]


def test_simulated_readings_by_hand() -> None:
    # room-2, class 08:00-09:30 with its teacher and one student from 08:15.
    # Interval 32 (08:00-08:15): lights 750 W, HVAC 15 kW, 1 person (100 W), standby 50 W:
    # (750 + 15000 + 100 + 50) / 4 = 3975 Wh. Interval 33: two people: 4000 Wh.
    # Interval 28 (07:00): lights and standby: (750 + 50) / 4 = 200 Wh.
    sessions = SESSIONS[SESSIONS["classroom"] == "room-2"]
    presence = presence_frame(
        [("t2", "teacher", "room-2", 8.0, 9.5, 2), ("s5", "student", "room-2", 8.25, 9.5, 2)]
    )
    config = CampusConfig(classrooms=1, weeks=1, p_switch_off=1.0)
    readings, _ = simulate_readings(sessions, presence, config, np.random.default_rng(0))
    room2 = readings[readings["classroom"] == "room-2"].set_index("interval")
    assert room2.loc[32, "energy_wh"] == 3975
    assert room2.loc[33, "energy_wh"] == 4000
    assert room2.loc[28, "energy_wh"] == 200
    assert room2.loc[28, "lighting_wh"] == 187  # 187.5 Wh floored
    assert room2.loc[40, "energy_wh"] == 12  # standby only: 50 / 4 = 12.5 -> 12
    assert len(readings) == 2 * 7 * 96  # room-1 (configured) and room-2, one week


def test_meter_csv(tmp_path: Path) -> None:
    path = tmp_path / "meters.csv"
    path.write_text(
        "classroom,interval_start,energy_wh,lighting_wh\nroom-1,2024-02-19T08:15:00,4000,187\n"
    )
    frame = read_meter_csv(str(path), "2024-02-19", 900)
    assert frame.iloc[0].to_dict() == {
        "classroom": "room-1",
        "interval": 33,
        "interval_start_s": 33 * 900,
        "energy_wh": 4000,
        "lighting_wh": 187,
    }
    path.write_text("classroom,interval_start,energy_wh\nroom-1,2024-02-19T08:10:00,4000\n")
    with pytest.raises(CardLogError, match="15-minute boundaries"):
        read_meter_csv(str(path), "2024-02-19", 900)
