"""The Naive Bayes availability forecaster and the community's hourly capacity."""

from __future__ import annotations

import numpy as np
import pytest

from gridcoop.agents.mechanisms.ev.capacity import community_capacity, firm_power_kw
from gridcoop.agents.mechanisms.ev.forecast import (
    NaiveBayesAvailability,
    evaluate_holdout,
    hourly,
    tolerant_labels,
)
from gridcoop.agents.mechanisms.ev.profiles import EVConfigError, pilot_fleet, random_fleet
from gridcoop.agents.mechanisms.ev.simulate import simulate_fleet


def test_tolerant_labels_count_plugged_within_five_minutes() -> None:
    plugged = np.array([[0, 0, 1, 0, 0, 0, 0, 1]], dtype=bool)
    assert tolerant_labels(plugged, 5, 5).astype(int).tolist() == [[0, 1, 1, 1, 0, 0, 1, 1]]
    assert tolerant_labels(plugged, 5, 0).tolist() == plugged.tolist()
    assert tolerant_labels(plugged, 5, 10).astype(int).tolist() == [[1, 1, 1, 1, 1, 1, 1, 1]]


def test_naive_bayes_worked_by_hand() -> None:
    # Two 12-hour steps a day, Monday to Sunday: plugged in the morning on weekdays,
    # all day at weekends. One feature (slot x day type, 4 categories), alpha = 1.
    week = [[1, 0]] * 5 + [[1, 1]] * 2
    plugged = np.array([[x for day in week for x in day]], dtype=bool)
    nb = NaiveBayesAvailability(
        slot_min=720, alpha=1.0, tolerance_min=0, features=("slot_daytype",)
    ).fit(plugged, step_min=720)
    p = nb.predict_proba(0, 7)[0]
    # 9 plugged steps of 14: prior odds (9 + 1) / (5 + 1) = 10/6.
    # Weekday morning: P(x | plugged) = (5 + 1)/(9 + 4), P(x | not) = (0 + 1)/(5 + 4):
    #   odds 10/6 × (6/13) / (1/9) = 90/13 -> p = 90/103.
    # Weekday evening: (0 + 1)/13 over (5 + 1)/9: odds 10/6 × 3/26 = 5/26 -> p = 5/31.
    # Weekend slots: (2 + 1)/13 over (0 + 1)/9: odds 10/6 × 27/13 = 45/13 -> p = 45/58.
    np.testing.assert_allclose(p[:2], [90 / 103, 5 / 31], rtol=1e-6)
    np.testing.assert_allclose(p[10:14], [45 / 58] * 4, rtol=1e-6)
    # Day 7 is a Monday again.
    np.testing.assert_allclose(nb.predict_proba(7, 1)[0], [90 / 103, 5 / 31], rtol=1e-6)


def test_a_warning_lowers_the_forecast() -> None:
    hist = simulate_fleet(pilot_fleet(), 60, seed=4)
    nb = NaiveBayesAvailability().fit(hist.plugged, hist.step_min, warned=hist.warned)
    calm = nb.predict_proba(60, 1, warned=np.zeros((7, 1), dtype=bool))
    warned = nb.predict_proba(60, 1, warned=np.ones((7, 1), dtype=bool))
    assert np.all(warned <= calm)
    assert warned.mean() < calm.mean() - 0.05


@pytest.mark.parametrize("seed", range(6))
def test_forecaster_beats_a_constant_rate_on_held_out_days_for_the_pilot(seed: int) -> None:
    # 7 Leafs, 90 days: train on the first 9 weeks, score on the last 27 days.
    hist = simulate_fleet(pilot_fleet(), 90, seed=seed)
    score = evaluate_holdout(hist.plugged, hist.step_min, train_days=63, warned=hist.warned)
    assert score.brier < score.brier_baseline
    assert score.log_loss < score.log_loss_baseline
    assert score.skill > 0.03


def test_forecaster_beats_a_constant_rate_for_a_mixed_fleet_per_ev_and_per_profile() -> None:
    fleet = random_fleet(150, seed=7)
    hist = simulate_fleet(fleet, 70, seed=2)
    per_ev = evaluate_holdout(hist.plugged, hist.step_min, 49, warned=hist.warned)
    per_profile = evaluate_holdout(
        hist.plugged, hist.step_min, 49, warned=hist.warned, groups=fleet.profile - 1
    )
    for score in (per_ev, per_profile):
        assert score.brier < score.brier_baseline
        assert score.accuracy > score.accuracy_baseline


def test_forecast_is_deterministic_and_validated() -> None:
    hist = simulate_fleet(pilot_fleet(), 21, seed=2)
    a = NaiveBayesAvailability().fit(hist.plugged, 5).table
    b = NaiveBayesAvailability().fit(hist.plugged, 5).table
    np.testing.assert_array_equal(a, b)
    assert a.shape == (7, 14, 288) and np.all((a > 0) & (a < 1))
    with pytest.raises(EVConfigError, match="not trained"):
        NaiveBayesAvailability().predict_proba(0, 1)
    with pytest.raises(EVConfigError, match="whole days"):
        NaiveBayesAvailability().fit(hist.plugged[:, :100], 5)
    with pytest.raises(EVConfigError, match="unknown feature"):
        NaiveBayesAvailability(features=("moon",))
    with pytest.raises(EVConfigError, match="alpha"):
        NaiveBayesAvailability(alpha=0)
    with pytest.raises(EVConfigError, match="train_days"):
        evaluate_holdout(hist.plugged, 5, 21)
    with pytest.raises(EVConfigError, match="warned must be"):
        NaiveBayesAvailability().fit(hist.plugged, 5, warned=np.zeros((7, 3), dtype=bool))


def test_hourly_aggregation() -> None:
    steps = np.array([[0.2, 0.4, 0.9, 1.0]])
    assert hourly(steps, 2).tolist() == [[0.2, 0.9]]
    np.testing.assert_allclose(hourly(steps, 2, "mean"), [[0.3, 0.95]])
    with pytest.raises(EVConfigError, match="hours of 3"):
        hourly(steps, 3)


def test_firm_capacity_worked_by_hand() -> None:
    prob = np.array([[0.9], [0.8]])
    power = np.array([3.6, 3.6])
    # P(both) = 0.72, P(at least one) = 1 - 0.1 × 0.2 = 0.98.
    assert firm_power_kw(prob, power, confidence=0.7).tolist() == pytest.approx([7.2])
    assert firm_power_kw(prob, power, confidence=0.75).tolist() == pytest.approx([3.6])
    assert firm_power_kw(prob, power, confidence=0.99).tolist() == pytest.approx([0.0])
    # Different powers: 3.6 (p 0.9) and 7.2 (p 0.5). P(>= 10.8) = 0.45, P(>= 7.2) = 0.5,
    # P(>= 3.6) = 1 - 0.1 × 0.5 = 0.95.
    mixed = firm_power_kw(np.array([[0.9], [0.5]]), np.array([3.6, 7.2]), confidence=0.5)
    assert mixed.tolist() == pytest.approx([7.2])
    with pytest.raises(EVConfigError, match="confidence"):
        firm_power_kw(prob, power, confidence=1.0)


def test_normal_approximation_is_close_to_the_exact_convolution() -> None:
    rng = np.random.default_rng(3)
    prob = rng.uniform(0.3, 0.95, (80, 6))
    power = np.full(80, 3.65)
    exact = firm_power_kw(prob, power, 0.9, method="exact")
    normal = firm_power_kw(prob, power, 0.9, method="normal")
    np.testing.assert_allclose(normal, exact, atol=2 * 3.6)


def test_community_capacity_excludes_unoffered_evs() -> None:
    prob = np.array([[1.0, 0.5], [1.0, 1.0], [0.5, 0.5]])
    cap = community_capacity(
        prob,
        np.array([3.6, 3.6, 50.0]),
        np.array([5.0, 5.0, 9.0]),
        members=np.array([True, True, False]),
        confidence=0.9,
    )
    np.testing.assert_allclose(cap.expected_evs, [2.0, 1.5])
    np.testing.assert_allclose(cap.expected_power_kw, [7.2, 5.4])
    np.testing.assert_allclose(cap.expected_energy_kwh, [10.0, 7.5])
    np.testing.assert_allclose(cap.firm_power_kw, [7.2, 3.6])
    summary = cap.summary(critical_hours=np.array([False, True]))
    assert summary["firm_min_kw"] == pytest.approx(3.6)
    assert summary["firm_critical_mean_kw"] == pytest.approx(3.6)
