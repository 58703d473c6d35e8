"""The comparison rows' verdicts and Table 1's statistics, on hand-worked values."""

from __future__ import annotations

import pytest

from gridcoop.experiments.reproduce import ev_pilot, table1
from gridcoop.experiments.reproduce.report import markdown
from gridcoop.experiments.reproduce.rows import make_row


def test_verdict_within_the_seeds_range_widened_by_the_tolerance() -> None:
    row = make_row("c", "r", "kWh", 100.0, [80.0, 90.0], tolerance=0.1)
    assert row.verdict == "match"  # 90 + 10 reaches 100
    assert make_row("c", "r", "kWh", 100.0, [80.0, 89.0], tolerance=0.1).verdict == "differs"
    assert make_row("c", "r", "kWh", 100.0, [101.0, 120.0], tolerance=0.0).verdict == "differs"
    assert make_row("c", "r", "kWh", None, [1.0]).verdict == "not published"
    bound = make_row("c", "r", "kWh", 35.0, [35.0, 40.0], tolerance=0.0, compare="at_least")
    assert bound.verdict == "match"
    low = make_row("c", "r", "kWh", 35.0, [34.0, 99.0], tolerance=0.0, compare="at_least")
    assert low.verdict == "differs"
    assert (row.mean, row.low, row.high) == (85.0, 80.0, 90.0)


def test_table1_statistics_of_the_published_matrix() -> None:
    paper = table1.statistics(table1.published_matrix_kwh())
    assert paper["total_kwh"] == 490
    assert paper["next_room_kwh"] == 186 and paper["previous_room_kwh"] == 149
    assert paper["share_distance_1"] == pytest.approx(335 / 490)
    assert paper["share_distance_2"] == pytest.approx(125 / 490)
    assert paper["share_distance_3"] == pytest.approx(27 / 490)
    assert paper["share_distance_4"] == pytest.approx(3 / 490)
    assert paper["share_beyond_4"] == 0
    assert paper["farthest_distance"] == 4
    assert paper["cr1_to_cr2_kwh"] == 31
    assert paper["rows_led_by_a_neighbour"] == 1.0


def test_table1_rows_match_themselves() -> None:
    rows = table1.rows([table1.published_matrix_kwh()])
    assert {r.verdict for r in rows} == {"match"}
    text = markdown(rows, [0], [])
    assert "| total transferred | 490 kWh | 490 (490 to 490) kWh | match |" in text
    assert text.rstrip().endswith("11 of 11 published results match.")


def test_jaccard_of_hour_sets() -> None:
    assert ev_pilot.jaccard(frozenset({8, 9}), frozenset({8, 9, 18})) == pytest.approx(2 / 3)
    assert ev_pilot.jaccard(frozenset(), frozenset()) == 1.0
