"""The pilot's lights: security switches them on at 16:15, and they burn until a class
switches them off; what is waste and whose it is, worked by hand (750 W: 187 Wh a
lit 15-minute interval, 187.5 floored)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from gridcoop.agents.mechanisms.campus.cardlog import DAY_S, CampusConfig, CardLogError
from gridcoop.agents.mechanisms.campus.lighting import lighting_waste
from gridcoop.agents.mechanisms.campus.metering import lighting_readings, lights_on_spans
from gridcoop.agents.mechanisms.campus.scenario import CampusLighting
from gridcoop.agents.scenario.registry import build_scenario
from gridcoop.agents.scenario.schema import ScenarioError
from gridcoop.experiments.cli import main
from tests.agents.mechanisms.campus.helpers import H, presence_frame, sessions_frame

PILOT = CampusConfig(lights_on_h=16.25, lights_off_h=None)
DAYTIME = CampusConfig(lights_on_h=7.0, lights_off_h=22.0)
ROOM = ["room-1"]

# room-1, Monday and Tuesday morning. Class 0 switches off, class 1 leaves the lights on,
# class 2 switches off, class 3 (Tuesday 08:00) switches off.
DAY = [(0, "room-1", "tA", 8.0, 9.5), (1, "room-1", "tB", 11.0, 12.5),
       (2, "room-1", "tA", 14.0, 15.5), (3, "room-1", "tB", 24 + 8.0, 24 + 9.5)]
SESSIONS = sessions_frame(DAY)
SWITCHED_OFF = np.array([True, False, True, True])
PRESENCE = presence_frame(
    [("s1", "student", "room-1", 8.0, 9.5, 0), ("s2", "student", "room-1", 8.0, 9.5, 0),
     ("s3", "student", "room-1", 11.0, 12.5, 1), ("s1", "student", "room-1", 14.0, 15.5, 2),
     ("s2", "student", "room-1", 32.0, 33.5, 3)]
    + [(t, "teacher", "room-1", a, b, i) for i, _, t, a, b in DAY])


def spans(sessions: pd.DataFrame, config: CampusConfig, off: list[bool] | np.ndarray,
          until_h: float | None = None) -> list[list[object]]:
    until = None if until_h is None else round(until_h * H)
    table = lights_on_spans(sessions, config, ROOM, switched_off=np.asarray(off, dtype=bool),
                            until_s=until)
    return [list(row) for row in table.itertuples(index=False)]


def test_security_switch_on_burns_through_the_night_until_a_class_switches_off() -> None:
    # 08:00-09:30 class 0; 11:00 class 1 on, left on, class 2 switches off at 15:30;
    # 16:15 security, in an empty room; on all night until class 3 switches off at 09:30
    assert spans(SESSIONS, PILOT, SWITCHED_OFF) == [
        ["room-1", 8 * H, int(9.5 * H)],
        ["room-1", 11 * H, int(15.5 * H)],
        ["room-1", int(16.25 * H), DAY_S + int(9.5 * H)],
        ["room-1", DAY_S + int(16.25 * H), 7 * DAY_S],  # Tuesday's switch-on: to the week's end
    ]


def test_the_daytime_habit_from_before_is_two_options_away() -> None:
    # security on at 07:00 (before the first class) and off at 22:00 each day
    assert spans(SESSIONS, DAYTIME, SWITCHED_OFF) == [
        ["room-1", 7 * H, int(9.5 * H)],
        ["room-1", 11 * H, int(15.5 * H)],
        ["room-1", DAY_S + 7 * H, DAY_S + int(9.5 * H)],
    ]


@pytest.mark.parametrize(("off", "expected"), [
    ([True], [["room-1", 16 * H, int(17.5 * H)]]),  # 16:15 finds them on; class 0 off at 17:30
    ([False], [["room-1", 16 * H, 24 * H]]),  # left on: until the end (midnight here)
])
def test_a_class_at_16_00_to_17_30(off: list[bool], expected: list[list[object]]) -> None:
    one = sessions_frame([(0, "room-1", "tA", 16.0, 17.5)])
    assert spans(one, PILOT, off, until_h=24) == expected


def test_switch_on_before_the_first_class_and_after_the_last() -> None:
    one = sessions_frame([(0, "room-1", "tA", 8.0, 9.5)])
    # after the last class: the class switched off, security on at 16:15
    assert spans(one, PILOT, [True], until_h=24) == [
        ["room-1", 8 * H, int(9.5 * H)], ["room-1", int(16.25 * H), 24 * H]]
    # before the first class: on at 06:00, the class leaves them on, nobody switches off
    early = CampusConfig(lights_on_h=6.0, lights_off_h=None)
    assert spans(one, early, [False], until_h=24) == [["room-1", 6 * H, 24 * H]]
    # security does not switch off an occupied room: off at 09:00 is skipped, 09:30 stays on
    busy = CampusConfig(lights_on_h=6.0, lights_off_h=9.0)
    assert spans(one, busy, [False], until_h=24) == [["room-1", 6 * H, 24 * H]]


def test_waste_of_the_pilot_day_by_hand() -> None:
    lit = lights_on_spans(SESSIONS, PILOT, ROOM, switched_off=SWITCHED_OFF,
                          until_s=DAY_S + 12 * H)
    result = lighting_waste(lighting_readings(lit, ROOM, PILOT), SESSIONS, PRESENCE, 900,
                            "2024-02-19")
    gaps = result.gaps
    by_reason = gaps.groupby("reason")["gap_wh"].sum().to_dict()
    assert by_reason == {
        "gap after class": 6 * 187,  # 12:30-14:00, left on by class 1
        "switched on in an empty room": 31 * 187,  # 16:15-24:00: security's, nobody's class
        "before the first class": 32 * 187,  # Tuesday 00:00-08:00
    }
    assert result.unattributed_wh == 31 * 187 + 32 * 187 == 11_781
    assert result.per_session.set_index("session_id")["gap_wh"].to_dict() == {
        0: 0, 1: 1122, 2: 0, 3: 0}
    per = result.per_person.set_index(["session_id", "person_id"])["waste_wh"].to_dict()
    assert per[(1, "s3")] == per[(1, "tB")] == 1122 and per[(2, "s1")] == 0
    # 11:00-15:30 lit while classes 1 and 2 are in session: no waste counted
    assert not gaps["interval"].between(44, 49).any() and not gaps["interval"].between(56, 61).any()


def test_a_class_leaving_the_lights_on_at_17_30_is_blamed_until_midnight() -> None:
    one = sessions_frame([(0, "room-1", "tA", 16.0, 17.5)])
    people = presence_frame([("tA", "teacher", "room-1", 16.0, 17.5, 0),
                             ("s1", "student", "room-1", 16.0, 17.5, 0)])
    lit = lights_on_spans(one, PILOT, ROOM, switched_off=np.array([False]), until_s=DAY_S)
    result = lighting_waste(lighting_readings(lit, ROOM, PILOT), one, people, 900, "2024-02-19")
    assert result.per_session["gap_wh"].tolist() == [26 * 187]  # 17:30-24:00
    assert result.unattributed_wh == 0


def test_hours_that_make_no_sense_are_refused() -> None:
    with pytest.raises(CardLogError, match="bad value for lights_off_h"):
        CampusConfig(lights_on_h=7.0, lights_off_h=7.0)
    with pytest.raises(CardLogError, match="bad value for lights_on_h"):
        CampusConfig(lights_on_h=24.0)
    with pytest.raises(ScenarioError, match="lights_on_h and lights_off_h are the same hour"):
        build_scenario("campus-lighting", {"lights_on_h": 0, "lights_off_h": 24})
    result = CliRunner().invoke(main, ["run", "campus-lighting", "--days", "1", "--quiet",
                                       "--set", "lights_on_h=7", "--set", "lights_off_h=7"])
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert errors == ["Error: invalid campus-lighting scenario: (scenario): Value error, "
                      "lights_on_h and lights_off_h are the same hour (7): security cannot "
                      "switch the lights on and off at once; set lights_off_h: null if nobody "
                      "switches them off"]
    assert "Traceback" not in result.output


def test_campus_lighting_runs_the_pilot_by_default() -> None:
    sc = build_scenario("campus-lighting", {})
    assert isinstance(sc, CampusLighting)
    assert (sc.days, sc.lights_on_h, sc.lights_off_h) == (91, 16.25, None)
