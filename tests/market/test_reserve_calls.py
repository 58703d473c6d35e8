"""Reserve calls: the seeded process, dispatch, delivery verification and settlement."""

from __future__ import annotations

import itertools
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcoop.market.reserve import ReserveAward
from gridcoop.market.reserve_calls import (
    MINUTES_PER_YEAR,
    CallInstruction,
    CallProcessConfig,
    InvalidCallProcessError,
    InvalidShortfallPolicyError,
    MissingMeterReadingError,
    ReserveCall,
    ReserveCallProcess,
    ShortfallPolicy,
    dispatch_call,
    settle_reserve,
    verify_delivery,
)

EUR = 1_000_000


def _award(
    offer_id: str, hour: int, accepted_w: int, owner: str = "ra-1", payment: int = 0
) -> ReserveAward:
    return ReserveAward(offer_id, owner, hour, accepted_w, accepted_w, 5 * EUR, payment)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.0, 200.0), st.integers(0, 30))
def test_call_process_respects_the_yearly_cap(seed: int, rate: float, cap: int) -> None:
    process = ReserveCallProcess(
        seed, CallProcessConfig(mean_calls_per_year=rate, max_calls_per_year=cap)
    )
    calls = process.calls(0, 3 * MINUTES_PER_YEAR)
    for year in range(3):
        in_year = [c for c in calls if c.start_min // MINUTES_PER_YEAR == year]
        assert len(in_year) <= cap
    for before, after in itertools.pairwise(calls):
        assert before.end_min <= after.start_min  # never overlapping
    for call in calls:
        assert call.start_min % 5 == 0 and call.duration_min % 5 == 0
        assert 5 <= call.duration_min <= 180


def test_defaults_give_at_most_20_calls_a_year_of_about_an_hour() -> None:
    process = ReserveCallProcess(seed=11)
    calls = process.calls(0, 40 * MINUTES_PER_YEAR)
    per_year = [sum(1 for c in calls if c.start_min // MINUTES_PER_YEAR == y) for y in range(40)]
    assert max(per_year) <= 20
    # Poisson(20) capped at 20 has mean 20 - E[(N-20)+] ≈ 17.6.
    assert 15.5 <= statistics.mean(per_year) <= 19.5
    # Exponential mean 60 min clipped to [5, 180]: mean ≈ 60 (1 - e^-3) ≈ 57 min.
    assert 50 <= statistics.mean(c.duration_min for c in calls) <= 65


def test_call_process_is_deterministic_and_window_independent() -> None:
    a = ReserveCallProcess(5).calls(0, 2 * MINUTES_PER_YEAR)
    b = ReserveCallProcess(5).calls(0, 2 * MINUTES_PER_YEAR)
    assert a == b
    ninety_days = ReserveCallProcess(5).calls(0, 90 * 1440)
    assert ninety_days == tuple(c for c in a if c.start_min < 90 * 1440)
    second_year = ReserveCallProcess(5).year_calls(1)
    assert second_year == tuple(c for c in a if c.start_min >= MINUTES_PER_YEAR)
    assert ReserveCallProcess(6).calls(0, 2 * MINUTES_PER_YEAR) != a
    assert ReserveCallProcess(5, CallProcessConfig(mean_calls_per_year=0)).calls(0, 10**7) == ()
    # A vanishing rate draws no call (and does not divide by zero).
    tiny = CallProcessConfig(mean_calls_per_year=5e-324)
    assert ReserveCallProcess(5, tiny).calls(0, 10**7) == ()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"mean_calls_per_year": -1.0},
        {"mean_calls_per_year": float("inf")},
        {"max_calls_per_year": -2},
        {"resolution_min": 7},
        {"mean_duration_min": 0.0},
        {"max_duration_min": 2},
        {"activation_ppm": 0},
    ],
)
def test_bad_call_process_configs_raise(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidCallProcessError):
        CallProcessConfig(**kwargs)  # type: ignore[arg-type]


def test_bad_call_windows_and_seeds_raise() -> None:
    with pytest.raises(InvalidCallProcessError, match="start_min <= end_min"):
        ReserveCallProcess(1).calls(10, 5)
    with pytest.raises(InvalidCallProcessError, match="seed"):
        ReserveCallProcess(-1)


def test_dispatch_splits_a_call_across_the_hours_it_overlaps() -> None:
    awards = [_award("h2", 2, 10_000), _award("h3", 3, 6_000), _award("h5", 5, 9_000)]
    call = ReserveCall("c1", start_min=150, duration_min=60)  # minutes 150..210
    ins = dispatch_call(call, awards)
    # Hour 2 is minutes 120..180: 30 min × 10,000 W = 5,000 Wh.
    # Hour 3 is minutes 180..240: 30 min × 6,000 W = 3,000 Wh. Hour 5 is untouched.
    assert ins == (
        CallInstruction("c1", "h2", "ra-1", 2, 150, 180, 10_000, 5_000),
        CallInstruction("c1", "h3", "ra-1", 3, 180, 210, 6_000, 3_000),
    )
    half = dispatch_call(ReserveCall("c2", 150, 60, activation_ppm=500_000), awards)
    assert [(i.power_w, i.energy_wh) for i in half] == [(5_000, 2_500), (3_000, 1_500)]
    # 7 min at 1,000 W = 116.67 Wh -> 117.
    odd = dispatch_call(ReserveCall("c3", 120, 7), [_award("h2", 2, 1_000)])
    assert odd[0].energy_wh == 117


def test_verification_tolerance_penalty_and_activation_payment() -> None:
    ins = dispatch_call(
        ReserveCall("c1", 150, 60), [_award("h2", 2, 10_000), _award("h3", 3, 6_000)]
    )
    policy = ShortfallPolicy(
        tolerance_ppm=50_000,
        penalty_ueur_per_mwh=200 * EUR,
        activation_price_ueur_per_mwh=100 * EUR,
    )
    verdicts = verify_delivery(ins, {("c1", "h2"): 4_800, ("c1", "h3"): 2_000}, policy)
    # h2: required 5,000 Wh, delivered 4,800: shortfall 200 <= 5 % of 5,000 = 250 -> no penalty.
    #     activation paid 4,800 Wh × 100 €/MWh = 0.48 € = 480,000 µEUR.
    # h3: required 3,000, delivered 2,000: shortfall 1,000 > 150 -> penalty on the whole
    #     shortfall, 1,000 Wh × 200 €/MWh = 0.2 € = 200,000 µEUR; activation 200,000 µEUR.
    assert [
        (v.shortfall_wh, v.within_tolerance, v.penalty_ueur, v.activation_payment_ueur)
        for v in verdicts
    ] == [(200, True, 0, 480_000), (1_000, False, 200_000, 200_000)]
    over = verify_delivery(ins, {("c1", "h2"): 6_000, ("c1", "h3"): 3_000}, policy)
    # Over-delivery is not paid beyond the requirement: 5,000 Wh -> 500,000 µEUR.
    assert [v.activation_payment_ueur for v in over] == [500_000, 300_000]
    assert all(v.penalty_ueur == 0 and v.shortfall_wh == 0 for v in over)


def test_missing_or_bad_meter_readings_raise() -> None:
    ins = dispatch_call(ReserveCall("c1", 120, 60), [_award("h2", 2, 1_000)])
    with pytest.raises(MissingMeterReadingError, match="0 if none"):
        verify_delivery(ins, {})
    with pytest.raises(MissingMeterReadingError, match="int >= 0"):
        verify_delivery(ins, {("c1", "h2"): -3})
    with pytest.raises(InvalidShortfallPolicyError):
        ShortfallPolicy(tolerance_ppm=2_000_000)


def test_settlement_nets_availability_activation_and_penalties_per_owner() -> None:
    awards = [
        _award("h2", 2, 10_000, "ra-1", 50_000),
        _award("h3", 3, 6_000, "ra-1", 30_000),
        _award("x3", 3, 4_000, "ra-2", 20_000),
    ]
    call = ReserveCall("c1", 150, 60)
    ins = dispatch_call(call, awards)
    # ra-1: h2 5,000 Wh, h3 3,000 Wh; ra-2: x3 30 min × 4,000 W = 2,000 Wh.
    metered = {("c1", "h2"): 5_000, ("c1", "h3"): 1_000, ("c1", "x3"): 2_000}
    verdicts = verify_delivery(ins, metered)  # default: 5 %, 200 €/MWh, no activation pay
    out = settle_reserve(awards, verdicts)
    # ra-1: availability 80,000; h3 short 2,000 Wh × 200 €/MWh = 400,000 µEUR penalty.
    assert out["ra-1"].availability_ueur == 80_000
    assert out["ra-1"].penalty_ueur == 400_000
    assert out["ra-1"].net_ueur == -320_000
    assert (out["ra-1"].calls_served, out["ra-1"].calls_short) == (0, 1)
    assert out["ra-2"].net_ueur == 20_000
    assert (out["ra-2"].calls_served, out["ra-2"].calls_short, out["ra-2"].hours_awarded) == (
        1,
        0,
        1,
    )
