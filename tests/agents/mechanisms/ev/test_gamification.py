"""Tokens, penalties, replacement bonuses, rankings and the newsletter, worked by hand."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridcoop.agents.mechanisms.ev.commitments import CommitmentOutcome, CommitmentStatus
from gridcoop.agents.mechanisms.ev.gamification import (
    TokenRules,
    hour_weight,
    hour_weights,
    plugged_tokens,
    settle_commitments,
)
from gridcoop.agents.mechanisms.ev.newsletter import rank_members, render_newsletter, week_summary
from gridcoop.agents.mechanisms.ev.profiles import EVConfigError

# One day: the grid asks 15 kW at 09:00 (community has 10 kW) and 5 kW at 11:00 (20 kW).
REQUEST_W = [0] * 24
AVAILABLE_W = [10_000] * 24
REQUEST_W[9], REQUEST_W[11] = 15_000, 5_000
AVAILABLE_W[11] = 20_000


def _weights() -> np.ndarray:
    return hour_weights(0, REQUEST_W, AVAILABLE_W)


def test_hour_weights_worked_by_hand() -> None:
    # 09:00 is critical (08-10, ×3), scarcity 15/10 = 1.5: 10 × 3 × 2.5 = 75.
    assert hour_weight(9, 15_000, 10_000) == 75
    # 10:00 is not critical and nothing is asked: 10 × 1 × 1 = 10.
    assert hour_weight(10, 0, 10_000) == 10
    # 11:00: scarcity 5/20 = 0.25 -> 12.5, rounded half up to 13.
    assert hour_weight(11, 5_000, 20_000) == 13
    # 19:00 critical with nothing available but something asked: S_max = 3 -> 10 × 3 × 4.
    assert hour_weight(19, 1, 0) == 120
    # Scarcity is capped at S_max: 100 kW asked of 1 kW is still ×4.
    assert hour_weight(3, 100_000, 1_000) == 40
    # Hours of the run wrap to hours of the day: hour 24 + 9 is 09:00 on day 1.
    assert hour_weight(33, 15_000, 10_000) == 75
    w = _weights()
    assert (
        w[8] == 30
        and w[9] == 75
        and w[10] == 10
        and w[11] == 13
        and w[18:21].tolist() == [30, 30, 30]
    )
    assert int(w.sum()) == 8 * 10 + 30 + 75 + 10 + 13 + 6 * 10 + 3 * 30 + 3 * 10  # 388
    custom = TokenRules(
        base_tokens_per_hour=4,
        critical_periods=((0, 1),),
        critical_factor=2,
        max_scarcity=Fraction(1),
    )
    assert hour_weight(0, 30_000, 10_000, custom) == 16  # 4 × 2 × (1 + min(1, 3))
    with pytest.raises(EVConfigError, match="critical period"):
        TokenRules(critical_periods=((20, 18),))
    with pytest.raises(EVConfigError, match=">= 0"):
        hour_weight(1, -5, 3)


def test_plugged_tokens_worked_by_hand() -> None:
    minutes = np.full((2, 24), 60, dtype=np.int64)
    minutes[0, 9:12] = [60, 30, 0]
    minutes[1] = 0
    minutes[1, 9] = 45
    # A: full day is 388 × 60 token-minutes, minus 30 min at weight 10 and 60 min at 13:
    # (23,280 - 300 - 780) / 60 = 22,200 / 60 = 370.
    # B: 45 min at 75 = 3,375 token-minutes -> floor(56.25) = 56.
    assert plugged_tokens(minutes, _weights()) == [370, 56]
    with pytest.raises(EVConfigError, match="within 0"):
        plugged_tokens(np.full((1, 24), 61), _weights())


def _outcome(
    status: CommitmentStatus, replacement: str | None = None, replacement_min: tuple[int, ...] = ()
) -> CommitmentOutcome:
    return CommitmentOutcome(
        "A", 0, 0, (9, 10, 11), status, (60, 30, 0), 4.0, replacement, replacement_min
    )


# A's window 09:00-12:00 with plugged minutes 60, 30, 0: missing 0, 30, 60 at weights
# 75, 10, 13, so the missing value is V = (0 × 75 + 30 × 10 + 60 × 13) / 60 = 1,080 / 60 = 18.


def test_unannounced_break_is_heavy_and_forwarded() -> None:
    out = settle_commitments([_outcome(CommitmentStatus.UNANNOUNCED)], _weights())
    assert out.penalties == {"A": 54}  # max(30, 3 × 18)
    assert out.bonuses == {}
    assert len(out.forwarded) == 1
    failure = out.forwarded[0]
    assert (failure.member_id, failure.hours, failure.missing_min, failure.energy_kwh) == (
        "A",
        (9, 10, 11),
        (0, 30, 60),
        4.0,
    )
    assert out.broken == {"A": 1}


def test_warned_without_replacement_is_light_and_not_forwarded() -> None:
    out = settle_commitments([_outcome(CommitmentStatus.WARNED_UNREPLACED)], _weights())
    assert out.penalties == {"A": 5}  # ceil(18 / 4) = ceil(4.5)
    assert out.forwarded == []
    assert (out.replacements_needed, out.replacements_found) == (1, 0)


def test_warned_with_replacement_costs_nothing_and_the_replacement_earns_the_tokens() -> None:
    outcome = _outcome(CommitmentStatus.WARNED_REPLACED, "C", (60, 60, 45))
    out = settle_commitments([outcome], _weights())
    assert out.penalties == {"A": 0}
    # C covers min(60, 0), min(60, 30), min(45, 60) = 0, 30, 45 minutes of A's gap:
    # (30 × 10 + 45 × 13) / 60 = 885 / 60 -> 14 tokens.
    assert out.bonuses == {"C": 14}
    assert out.handed_over == {"A": 1} and out.broken == {}
    assert out.replacements_made == {"C": 1}
    assert (out.replacements_needed, out.replacements_found) == (1, 1)


def test_small_unannounced_gap_still_costs_the_minimum_and_kept_costs_nothing() -> None:
    small = CommitmentOutcome("A", 0, 0, (12, 13), CommitmentStatus.UNANNOUNCED, (60, 30), 4.0)
    kept = CommitmentOutcome("B", 1, 0, (12, 13), CommitmentStatus.KEPT, (60, 55), 4.0)
    out = settle_commitments([small, kept], _weights())
    # V = 30 × 10 / 60 = 5; 3 × 5 = 15 < 30: the minimum applies.
    assert out.penalties == {"A": 30}
    assert out.kept == {"B": 1}
    with pytest.raises(EVConfigError, match="weights cover"):
        settle_commitments([small], _weights()[:12])


def test_inconsistent_outcomes_are_refused() -> None:
    with pytest.raises(EVConfigError, match="replacement_id"):
        _outcome(CommitmentStatus.WARNED_REPLACED)
    with pytest.raises(EVConfigError, match="replacement_id"):
        _outcome(CommitmentStatus.UNANNOUNCED, "C", (1, 2, 3))
    with pytest.raises(EVConfigError, match="one plugged_min per hour"):
        CommitmentOutcome("A", 0, 0, (9, 10), CommitmentStatus.KEPT, (60,), 1.0)
    with pytest.raises(EVConfigError, match="must be within 0"):
        CommitmentOutcome("A", 0, 0, (9,), CommitmentStatus.KEPT, (75,), 1.0)


def test_ranking_ties_share_a_rank() -> None:
    net = {"a": 10, "b": 20, "c": 10, "d": 5}
    assert rank_members(net, {"a": 0, "c": 0}) == [(1, "b"), (2, "a"), (2, "c"), (4, "d")]
    # Equal net, fewer penalties ranks higher.
    assert rank_members({"a": 10, "c": 10}, {"a": 3, "c": 0}) == [(1, "c"), (2, "a")]


def test_week_summary_and_newsletter_worked_by_hand() -> None:
    minutes = np.full((3, 24), 60, dtype=np.int64)
    minutes[0, 9:12] = [60, 30, 0]
    minutes[2, 9:12] = [60, 60, 45]
    minutes[1, 18:21] = 0
    outcomes = [
        _outcome(CommitmentStatus.WARNED_UNREPLACED),
        CommitmentOutcome("B", 0, 0, (18, 19, 20), CommitmentStatus.UNANNOUNCED, (0, 0, 0), 3.0),
    ]
    summary = week_summary(
        "Campus EV",
        0,
        ["A", "B", "C"],
        minutes,
        _weights(),
        outcomes,
        revenue_ueur=1_000_001,
        first_hour=0,
        calls=1,
        calls_served=1,
        capacity_kw={"firm minimum": 7.25},
    )
    rows = {r.member_id: r for r in summary.rows}
    # Tokens: A 370 (above); B misses 18-21 at weight 30: 388 - 90 = 298;
    # C misses 15 min at 13: (23,280 - 195) / 60 = 384.75 -> 384.
    assert [rows[m].tokens for m in "ABC"] == [370, 298, 384]
    # Penalties: A warned, unreplaced: 5. B unannounced: V = 3 × 60 × 30 / 60 = 90 -> 270.
    assert [rows[m].penalty for m in "ABC"] == [5, 270, 0]
    assert [rows[m].net for m in "ABC"] == [365, 28, 384]
    assert [(r.rank, r.member_id) for r in summary.rows] == [(1, "C"), (2, "A"), (3, "B")]
    # Revenue 1,000,001 µEUR by 365 : 28 : 384 (total 777):
    # A 469,756.43, B 36,036.07, C 494,208.49 -> floors sum to 1,000,000; C has the largest
    # remainder and gets the last µEUR.
    assert [rows[m].revenue_ueur for m in "ABC"] == [469_756, 36_036, 494_209]
    assert sum(r.revenue_ueur for r in summary.rows) == 1_000_001
    assert (summary.forwarded_failures, summary.replacements_needed) == (1, 1)
    text = render_newsletter(summary)
    assert text.startswith("# Campus EV — week 1 newsletter")
    assert "| 1 | C | 384 | 0 | 0 | 384 | 0 | 0 | 0 | 0.49 € |" in text
    assert "Replacements found: 0 of 1 needed" in text
    assert "Available capacity, firm minimum: 7.2 kW" in text
    assert "08:00–10:00, 18:00–21:00" in text
    assert "To report abuse" in text
    assert render_newsletter(summary) == text  # deterministic


member_ids = st.lists(
    st.text("abcdef", min_size=1, max_size=3), min_size=1, max_size=8, unique=True
)


@given(member_ids, st.integers(0, 10**9), st.data())
def test_weekly_revenue_always_sums_to_the_market_revenue(
    members: list[str], revenue: int, data: st.DataObject
) -> None:
    minutes = np.array(
        data.draw(
            st.lists(
                st.lists(st.integers(0, 60), min_size=24, max_size=24),
                min_size=len(members),
                max_size=len(members),
            )
        )
    )
    outcomes = [
        CommitmentOutcome(
            m,
            0,
            0,
            (5, 6),
            CommitmentStatus.UNANNOUNCED,
            (int(minutes[i, 5]), int(minutes[i, 6])),
            1.0,
        )
        for i, m in enumerate(members)
        if data.draw(st.booleans())
    ]
    summary = week_summary("c", 0, members, minutes, _weights(), outcomes, revenue, first_hour=0)
    assert sum(r.revenue_ueur for r in summary.rows) == revenue
    assert sorted(r.member_id for r in summary.rows) == sorted(members)
    ranks = [r.rank for r in summary.rows]
    assert ranks == sorted(ranks) and ranks[0] == 1
