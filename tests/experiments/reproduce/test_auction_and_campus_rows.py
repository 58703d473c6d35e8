"""The hourly-auction and campus rows on hand-made tables."""

from __future__ import annotations

import pandas as pd
import pytest

from gridcoop.experiments.reproduce import auction, campus_cases


def test_mean_price_is_weighted_by_contracted_energy_and_the_band_is_inclusive() -> None:
    trades = pd.DataFrame({"contracted_wh": [1_000, 3_000, 1_000],
                           "price_eur_per_kwh": [0.039, 0.095, 0.030]})
    # (0.039 x 1 + 0.095 x 3 + 0.030 x 1) / 5 = 0.354 / 5 = 0.0708
    assert auction.mean_price_eur_per_kwh(trades) == pytest.approx(0.0708)
    assert auction.share_within_tariffs(trades) == pytest.approx(2 / 3)
    assert auction.share_within_tariffs(trades.iloc[:0]) == 1.0
    rows = auction.rows({"all buyers, plain mean": [trades]})
    assert [r.verdict for r in rows] == ["not published", "differs"]
    assert "below a seller's limit" in rows[1].why


def test_footprint_rows_read_350_transactions_per_student() -> None:
    stats = {"transactions": 350_000.0, "transactions_per_student": 350.0,
             "present_per_interval": 35.0, "wh_per_student_hour": 500.0,
             "max_simultaneous": 180.0}
    rows = campus_cases.footprint_rows([stats])
    assert all(r.verdict == "match" for r in rows)
    lighting = campus_cases.lighting_rows([{"lighting_waste_eur_per_classroom_year": 84.0}])
    assert lighting[0].verdict == "differs"  # 84 is more than 15 % below the pilot's 100


def test_footprint_burst_rows_need_every_request_minted_once() -> None:
    stats = {"transactions": 350_000.0, "transactions_per_student": 350.0,
             "present_per_interval": 35.0, "wh_per_student_hour": 500.0,
             "max_simultaneous": 180.0}
    burst = {"requests": 222, "senders": 4, "minted": 222, "lost": 0, "duplicated": 0,
             "accept_p50_ms": 80.0, "accept_p95_ms": 200.0, "accept_max_ms": 210.0,
             "seal_max_ms": 300.0, "requests_per_s": 900}
    rows = campus_cases.footprint_rows([stats], [], [burst])
    by_result = {r.result: r for r in rows if r.case == "Footprint burst"}
    assert by_result["requests sent at once by 4 card-reader processes"].verdict == "match"
    assert by_result["share of the requests performed (minted and sealed)"].mean == 1.0
    assert by_result["latency to acceptance, 95th percentile"].verdict == "not published"
    short = campus_cases.footprint_rows([stats], [], [{**burst, "minted": 221, "lost": 1}])
    verdicts = {r.result: r.verdict for r in short if r.case == "Footprint burst"}
    assert verdicts["share of the requests performed (minted and sealed)"] == "differs"
    assert verdicts["requests lost or minted twice"] == "differs"


def test_waste_by_four_week_month() -> None:
    # 96 steps a day; gaps on day 0 (2 kWh), day 27 (1 kWh) and day 28 (0.5 kWh); 30 days.
    gaps = pd.DataFrame({"interval": [5, 27 * 96 + 3, 28 * 96], "gap_wh": [2_000, 1_000, 500]})
    months = campus_cases.waste_kwh_per_day_by_month(gaps, 96, 30)
    assert months == pytest.approx([3 / 28, 0.5 / 2])
    rows = campus_cases.lighting_rows([{"lighting_waste_eur_per_classroom_year": 100.0}],
                                      [[1.0, 0.5, 0.5]], [[1.0, 1.0, 1.0]])
    # savings against the first month: pooled, then month by month
    assert [r.mean for r in rows[1:]] == pytest.approx([0.5, 0.0, 0.5, 0.0, 0.5, 0.0])
