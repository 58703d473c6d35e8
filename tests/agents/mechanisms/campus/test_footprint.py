"""Case 1: every interval's metered Wh written as tokens to the people present."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcoop.agents.mechanisms.campus.cardlog import (
    CampusConfig,
    presence_from_reads,
    simulate_term,
)
from gridcoop.agents.mechanisms.campus.footprint import footprint
from gridcoop.agents.mechanisms.campus.intervals import IntervalError
from gridcoop.agents.mechanisms.campus.metering import simulate_readings
from gridcoop.agents.mechanisms.campus.report import render_footprint_report
from tests.agents.mechanisms.campus.helpers import presence_frame, readings_frame


def test_split_by_seconds_present() -> None:
    # Interval 33 (08:15-08:30) metered 1000 Wh; A there all 900 s, B from 08:22:30 (450 s).
    # A: 1000 * 900 // 1350 = 666 rem 900; B: 1000 * 450 // 1350 = 333 rem 450;
    # the spare Wh goes to the larger remainder: A 667, B 333.
    readings = readings_frame("room-1", {}, {33: 1000, 34: 900, 50: 123})
    presence = presence_frame(
        [("A", "student", "room-1", 8.25, 8.5, 0), ("B", "teacher", "room-1", 8.375, 8.75, 0)]
    )
    result = footprint(readings, presence, 900)
    tokens = result.tokens.set_index(["interval", "person_id"])["tokens"].to_dict()
    # interval 34: only B (900 s) -> all 900 Wh
    assert tokens == {(33, "A"): 667, (33, "B"): 333, (34, "B"): 900}
    assert result.per_person[
        ["person_id", "role", "tokens", "intervals", "sessions"]
    ].values.tolist() == [["B", "teacher", 1233, 2, 1], ["A", "student", 667, 1, 1]]
    # interval 50 had 123 Wh and nobody in the room
    assert result.unattributed[["interval", "energy_wh"]].values.tolist() == [[50, 123]]
    assert (result.metered_wh, result.attributed_wh) == (2023, 1900)


def test_equal_shares_leave_the_spare_watt_hours_to_a_seeded_draw() -> None:
    # 1000 Wh among three people there all interval: 333 each + 1 spare.
    readings = readings_frame("room-1", {}, {32: 1000})
    presence = presence_frame([(p, "student", "room-1", 8.0, 8.25, 0) for p in ("x", "y", "z")])
    shares = footprint(readings, presence, 900).tokens["tokens"].tolist()
    assert sorted(shares) == [333, 333, 334]
    assert footprint(readings, presence, 900).tokens["tokens"].tolist() == shares
    # over many intervals the spare Wh land on everyone, not always on the same person
    many = readings_frame("room-1", {}, {k: 1000 for k in range(96)})
    day = presence_frame([(p, "student", "room-1", 0.0, 24.0, 0) for p in ("x", "y", "z")])
    per = footprint(many, day, 900).per_person.set_index("person_id")["tokens"]
    assert per.sum() == 96_000 and (per > 96 * 333).all()


def test_a_double_tap_counts_once() -> None:
    readings = readings_frame("room-1", {}, {32: 600})
    presence = presence_frame(
        [
            ("x", "student", "room-1", 8.0, 8.25, 0),
            ("x", "student", "room-1", 8.0, 8.25, 0),
            ("y", "student", "room-1", 8.0, 8.25, 0),
        ]
    )
    assert footprint(readings, presence, 900).tokens["tokens"].tolist() == [300, 300]


def test_bad_readings() -> None:
    presence = presence_frame([("x", "student", "room-1", 8.0, 8.25, 0)])
    bad = readings_frame("room-1", {}, {32: -5})
    with pytest.raises(IntervalError, match="energy_wh must be >= 0"):
        footprint(bad, presence, 900)
    twice = pd.concat([readings_frame("room-1", {}), readings_frame("room-1", {})])
    with pytest.raises(IntervalError, match="repeat a"):
        footprint(twice, presence, 900)
    with pytest.raises(IntervalError, match=r"lacks column\(s\) \['energy_wh'\]"):
        footprint(twice.drop(columns="energy_wh"), presence, 900)


spans = st.tuples(
    st.sampled_from(["p1", "p2", "p3", "p4", "p5"]),
    st.sampled_from(["room-1", "room-2"]),
    st.integers(0, 24 * 3600 - 1),
    st.integers(1, 4 * 3600),
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(spans, max_size=25),
    st.lists(st.integers(0, 50_000), min_size=192, max_size=192),
    st.integers(0, 1000),
)
def test_tokens_per_interval_equal_the_metered_wh(
    rows: list[tuple[str, str, int, int]], energy: list[int], seed: int
) -> None:
    presence = pd.DataFrame(
        {
            "person_id": [r[0] for r in rows],
            "role": "student",
            "classroom": [r[1] for r in rows],
            "start_s": [r[2] for r in rows],
            "end_s": [min(r[2] + r[3], 24 * 3600) for r in rows],
        }
    )
    readings = pd.concat(
        [
            readings_frame("room-1", {}, dict(enumerate(energy[:96]))),
            readings_frame("room-2", {}, dict(enumerate(energy[96:]))),
        ],
        ignore_index=True,
    )
    result = footprint(readings, presence, 900, seed=seed)
    written = result.tokens.groupby(["classroom", "interval"])["tokens"].sum()
    metered = readings.set_index(["classroom", "interval"])["energy_wh"]
    assert (written == metered.reindex(written.index)).all()
    assert (result.tokens["tokens"] >= 0).all()
    # everything metered is either written as tokens or reported unattributed
    assert result.attributed_wh + int(result.unattributed["energy_wh"].sum()) == sum(energy)
    # the input's row order changes nothing
    again = footprint(
        readings.sample(frac=1.0, random_state=1),
        presence.sample(frac=1.0, random_state=2),
        900,
        seed=seed,
    )
    key = ["classroom", "interval", "person_id"]
    pd.testing.assert_frame_equal(
        result.tokens.sort_values(key, ignore_index=True),
        again.tokens.sort_values(key, ignore_index=True),
    )


def test_same_seed_same_term_same_tokens() -> None:
    def run(seed: int) -> pd.DataFrame:
        config = CampusConfig(weeks=2)
        rng = np.random.default_rng(seed)
        sessions, reads = simulate_term(config, rng)
        presence = presence_from_reads(reads, sessions)
        readings, _ = simulate_readings(sessions, presence, config, rng)
        return footprint(readings, presence, config.interval_s, seed=seed).tokens

    pd.testing.assert_frame_equal(run(5), run(5))
    assert not run(5).equals(run(6))


def test_footprint_report_renders() -> None:
    readings = readings_frame("room-1", {}, {33: 1000, 34: 900, 50: 123})
    presence = presence_frame(
        [("A", "student", "room-1", 8.25, 8.5, 0), ("B", "teacher", "room-1", 8.375, 8.75, 0)]
    )
    text = render_footprint_report(footprint(readings, presence, 900))
    assert (
        "- metered: **2.0 kWh**; written as tokens to the people present: **1.9 kWh** (93.9%)"
        in text
    )
    assert "| teacher | 1 | 1,233 | 1.23 |" in text
    assert "| A | 0.67 | 1 |" in text
