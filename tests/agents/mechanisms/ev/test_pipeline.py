"""The phase-1 pieces chained the way the model will chain them: seeded end to end."""

from __future__ import annotations

import numpy as np

from gridcoop.agents.mechanisms.ev import (
    CommitmentStatus,
    NaiveBayesAvailability,
    community_capacity,
    default_commitments,
    evaluate_commitments,
    hour_weights,
    hourly,
    pilot_fleet,
    render_newsletter,
    simulate_fleet,
    week_summary,
)

TRAIN_DAYS = 28


def _pilot_week_newsletter(seed: int, week: int = 5) -> tuple[str, list[CommitmentStatus]]:
    fleet = pilot_fleet()
    hist = simulate_fleet(fleet, 90, seed=seed)
    spd = hist.steps_per_day
    nb = NaiveBayesAvailability().fit(
        hist.plugged[:, : TRAIN_DAYS * spd], hist.step_min, warned=hist.warned[:, :TRAIN_DAYS]
    )
    prob = hourly(nb.predict_proba(0, hist.days, warned=hist.warned), hist.steps_per_hour)
    capacity = community_capacity(prob, fleet.v2g_power_kw, fleet.committed_kwh, fleet.offered)
    available_w = np.round(capacity.firm_power_kw * 1000).astype(int)
    request_w = np.full(hist.days * 24, 10_000)
    weights = hour_weights(0, request_w.tolist(), available_w.tolist())
    outcomes = evaluate_commitments(
        fleet.ev_ids,
        default_commitments(fleet.ev_ids, fleet.profile, fleet.committed_kwh),
        hist.plugged_minutes_by_hour(),
        hist.warned,
        prob,
        eligible=fleet.offered,
    )
    first, last = week * 168, (week + 1) * 168
    in_week = [o for o in outcomes if first <= o.hours[0] < last]
    # Windows starting late on Sunday run into the next week: settle with weights up to +1 day.
    summary = week_summary(
        "Pilot",
        week,
        fleet.ev_ids,
        hist.plugged_minutes_by_hour()[:, first : last + 24],
        weights[first : last + 24],
        in_week,
        revenue_ueur=2_345_678,
        first_hour=first,
    )
    assert sum(r.revenue_ueur for r in summary.rows) == 2_345_678
    return render_newsletter(summary), [o.status for o in outcomes]


def test_same_seed_same_newsletter_and_other_seed_differs() -> None:
    text_a, statuses_a = _pilot_week_newsletter(seed=3)
    text_b, statuses_b = _pilot_week_newsletter(seed=3)
    text_c, _ = _pilot_week_newsletter(seed=4)
    assert text_a == text_b and statuses_a == statuses_b
    assert text_a != text_c
    assert "| 1 | leaf-" in text_a


def test_with_seven_members_a_replacement_is_found_only_sometimes() -> None:
    _, statuses = _pilot_week_newsletter(seed=1)
    replaced = statuses.count(CommitmentStatus.WARNED_REPLACED)
    unreplaced = statuses.count(CommitmentStatus.WARNED_UNREPLACED)
    assert replaced > 0 and unreplaced > 0
    # Most windows are kept; behaviour changed on about 15 % of days.
    assert statuses.count(CommitmentStatus.KEPT) > 0.6 * len(statuses)
