"""Commitments: windows, outcomes and the search for a replacement, worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from gridcoop.agents.mechanisms.ev.commitments import (
    WEEKDAYS,
    Commitment,
    CommitmentOutcome,
    CommitmentStatus,
    default_commitments,
    evaluate_commitments,
)
from gridcoop.agents.mechanisms.ev.profiles import EVConfigError

MEMBERS = ["A", "B", "C"]


def _minutes(days: int = 1) -> np.ndarray:
    minutes = np.full((3, 24 * days), 60, dtype=np.int64)
    minutes[0, 9:12] = [60, 30, 0]  # A leaves at 10:30 during its 09:00-12:00 window
    minutes[2, 9:12] = [60, 60, 45]
    return minutes


def _prob(b: float = 0.6, c: float = 0.8, days: int = 1) -> np.ndarray:
    return np.array([[0.9] * 24 * days, [b] * 24 * days, [c] * 24 * days])


def _evaluate(
    warned_a: bool,
    commitments: list[Commitment] | None = None,
    prob: np.ndarray | None = None,
    warned: np.ndarray | None = None,
) -> list[CommitmentOutcome]:
    flags = np.array([[warned_a], [False], [False]]) if warned is None else warned
    return evaluate_commitments(
        MEMBERS,
        commitments or [Commitment("A", 4.0, 9, 12), Commitment("B", 3.0, 18, 20)],
        _minutes(),
        flags,
        _prob() if prob is None else prob,
    )


def test_unannounced_break_and_kept_window() -> None:
    a, b = _evaluate(warned_a=False)
    # A was plugged 60 + 30 + 0 = 90 of 180 minutes: 50 % < 90 % and no warning.
    assert (a.member_id, a.status, a.hours, a.plugged_min) == (
        "A",
        CommitmentStatus.UNANNOUNCED,
        (9, 10, 11),
        (60, 30, 0),
    )
    assert a.missing_min == (0, 30, 60)
    assert b.status is CommitmentStatus.KEPT and b.hours == (18, 19)


def test_warned_with_a_replacement() -> None:
    a, _ = _evaluate(warned_a=True)
    # B is free but only 0.6 likely (< 0.7); C is free and 0.8 likely: C replaces A.
    assert a.status is CommitmentStatus.WARNED_REPLACED
    assert a.replacement_id == "C" and a.replacement_plugged_min == (60, 60, 45)


def test_warned_without_a_replacement() -> None:
    a, _ = _evaluate(warned_a=True, prob=_prob(c=0.5))
    assert a.status is CommitmentStatus.WARNED_UNREPLACED and a.replacement_id is None


def test_replacement_candidates_exclude_committed_warned_and_busy_members() -> None:
    # C has its own commitment 10:00-11:00: its capacity is already sold.
    committed_c = [Commitment("A", 4.0, 9, 12), Commitment("C", 1.0, 10, 11)]
    assert _evaluate(True, committed_c)[0].status is CommitmentStatus.WARNED_UNREPLACED
    # C warned too that day.
    both = np.array([[True], [False], [True]])
    assert _evaluate(True, warned=both)[0].status is CommitmentStatus.WARNED_UNREPLACED
    # Two warned windows at the same hours: C can only stand in for the first (A).
    two = [Commitment("A", 4.0, 9, 12), Commitment("B", 3.0, 9, 12)]
    flags = np.array([[True], [True], [False]])
    first, second = evaluate_commitments(MEMBERS, two, _minutes(), flags, _prob())
    assert (first.member_id, first.replacement_id) == ("A", "C")
    assert (second.member_id, second.status) == ("B", CommitmentStatus.WARNED_UNREPLACED)
    # Equally likely candidates: the member listed first is named.
    tie = _evaluate(True, prob=np.array([[0.9] * 24, [0.8] * 24, [0.8] * 24]))[0]
    assert tie.replacement_id == "B"
    # Ineligible members (e.g. taxis) are never named.
    only_a = evaluate_commitments(
        MEMBERS,
        [Commitment("A", 4.0, 9, 12)],
        _minutes(),
        np.array([[True], [False], [False]]),
        _prob(c=0.95),
        eligible=np.array([True, True, False]),
    )
    assert only_a[0].status is CommitmentStatus.WARNED_UNREPLACED


def test_overnight_windows_weekdays_and_horizon() -> None:
    c = Commitment("A", 5.0, 21, 7, WEEKDAYS)
    assert c.n_hours == 10
    minutes = np.full((3, 24 * 7), 60, dtype=np.int64)
    out = evaluate_commitments(
        MEMBERS,
        [c],
        minutes,
        np.zeros((3, 7), dtype=bool),
        np.full((3, 24 * 7), 0.5),
        start_weekday=0,
    )
    # Windows start Monday..Friday (days 0-4); each runs 21:00 -> 07:00 next day.
    assert [o.day for o in out] == [0, 1, 2, 3, 4]
    assert out[0].hours == tuple(range(21, 31))
    # Starting on a Wednesday, day 4 is Sunday (no window), day 5 Monday, and day 6's window
    # (Tuesday 21:00) would run past the end of the 7 days: dropped.
    later = evaluate_commitments(
        MEMBERS,
        [c],
        minutes,
        np.zeros((3, 7), dtype=bool),
        np.full((3, 24 * 7), 0.5),
        start_weekday=2,
    )
    assert [o.day for o in later] == [0, 1, 2, 5]
    assert Commitment("A", 1.0, 0, 24).n_hours == 24


def test_default_commitments_per_profile() -> None:
    out = default_commitments(["r", "k", "x", "t"], [4, 3, 2, 1], [5.0, 4.0, 3.0, 0.0])
    assert [(c.member_id, c.start_hour, c.end_hour) for c in out] == [
        ("r", 9, 17),
        ("k", 10, 16),
        ("k", 22, 6),
        ("x", 23, 6),
    ]


def test_bad_commitments_and_shapes_raise() -> None:
    with pytest.raises(EVConfigError, match="start_hour"):
        Commitment("A", 1.0, 24, 3)
    with pytest.raises(EVConfigError, match="energy_kwh"):
        Commitment("A", float("nan"), 1, 3)
    with pytest.raises(EVConfigError, match="weekdays"):
        Commitment("A", 1.0, 1, 3, frozenset({7}))
    with pytest.raises(EVConfigError, match="unknown members"):
        _evaluate(False, [Commitment("Z", 1.0, 1, 3)])
    with pytest.raises(EVConfigError, match="warned must be"):
        evaluate_commitments(MEMBERS, [], _minutes(), np.zeros((3, 2), dtype=bool), _prob())
    with pytest.raises(EVConfigError, match="plugged_min_by_hour"):
        evaluate_commitments(MEMBERS, [], _minutes()[:, :5], np.zeros((3, 1), dtype=bool), _prob())
