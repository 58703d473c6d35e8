"""The lighting case's rows: € per classroom-year under both readings of the lights, the
share of the term lit, and savings against the first month, by hand."""

from __future__ import annotations

import numpy as np
import pytest

from gridcoop.experiments.reproduce import campus_cases


def test_savings_against_the_first_month_by_hand() -> None:
    months = [2.0, 1.0, 1.5, 0.5]
    assert campus_cases.savings(months) == pytest.approx(1 - 1.0 / 2.0)  # mean of 1, 1.5, 0.5
    assert [campus_cases.savings(months, m) for m in (1, 2, 3)] == pytest.approx(
        [0.5, 0.25, 0.75])
    assert campus_cases.savings([0.0, 1.0]) == 0.0  # nothing to save from
    assert campus_cases.savings([1.0]) == 0.0  # a single month: no later month


def test_lit_share_counts_lighting_energy_against_always_on() -> None:
    # 750 W for 15 minutes is 187.5 Wh; two rooms, four intervals, 750 Wh lit in all
    lighting_wh = np.array([[187.5, 0], [187.5, 187.5], [187.5, 0], [0, 0]])
    assert campus_cases.lit_share(lighting_wh, 750.0, 900) == pytest.approx(0.5)


def test_lighting_rows_verdicts_and_month_labels() -> None:
    rows = campus_cases.lighting_rows(
        [{"lighting_waste_eur_per_classroom_year": 370.0}],
        with_rankings=[[2.0, 1.0, 1.0, 1.0]], without=[[2.0, 2.0, 2.4, 2.0]],
        daytime=[{"lighting_waste_eur_per_classroom_year": 110.0}], lit=[0.79], days=91)
    table = {r.result: (r.verdict, round(r.mean, 3)) for r in rows}
    assert table == {
        "waste per classroom-year, the habit alone": ("differs", 370.0),
        "the same with security's daytime round (on 07:00, off 22:00)": ("match", 110.0),
        "share of the term a classroom is lit, the habit alone": ("match", 0.79),
        "saving after the first month against the first, rankings published from day 28":
            ("match", 0.5),
        "the same without rankings (the habit alone)": ("not published", -0.067),
        "saving in month 2 (days 29-56), with rankings": ("match", 0.5),
        "saving in month 2 (days 29-56), the habit alone": ("not published", 0.0),
        "saving in month 3 (days 57-84), with rankings": ("match", 0.5),
        "saving in month 3 (days 57-84), the habit alone": ("not published", -0.2),
        "saving in month 4 (days 85-91), with rankings": ("match", 0.5),
        "saving in month 4 (days 85-91), the habit alone": ("not published", 0.0),
    }
    # waste that rose after the first month is no saving: the bound fails
    rose = campus_cases.lighting_rows([], with_rankings=[[1.0, 1.2]], without=[[1.0, 1.0]])
    assert [r.verdict for r in rose if "with rankings" in r.result or "rankings pub" in r.result
            ] == ["differs", "differs"]
    # a lit share below half is not "most of the time"
    lit = campus_cases.lighting_rows([{"lighting_waste_eur_per_classroom_year": 100.0}],
                                     lit=[0.4, 0.6])
    assert [r.verdict for r in lit] == ["match", "differs"]
