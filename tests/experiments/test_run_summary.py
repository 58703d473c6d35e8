"""``gridcoop run`` reports what each scenario kind produced, in € and kWh.

The inputs are the golden summaries (``tests/golden/run-*.json``), so the
expected lines are the pinned KPIs written out by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gridcoop.experiments.scenarios.summary import summary_lines

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def golden(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GOLDEN / f"run-{name}.json").read_text())
    return data


def text(name: str) -> str:
    return "\n".join(summary_lines(golden(name)))


def test_ev_community_reports_reserve_revenue_calls_and_capacity() -> None:
    out = text("ev-community")
    assert ("EV: 7 EVs; reserve revenue 1.19 € (availability 1.19 €, penalties 0.00 €); "
            "calls served 0 of 0 dispatched (0.0 kWh of 0.0 kWh); firm capacity mean "
            "21.0 kW, min 7.2 kW; plugged in: battery min 102.0 kWh (median 167.0), V2G min "
            "14.9 kW; tokens 3,435 (penalty tokens 57)") in out
    assert "market:" not in out  # no local trade happened: no market line
    assert "bills: 12.87 € against 12.87 € grid-only" in out


def test_dr_community_reports_events_compliance_and_excess() -> None:
    out = text("dr-community")
    assert ("DR: 22 events (2 simple, 20 dispatch), 111 commands; compliance 93.9%, opt-in "
            "89.2%; excess absorbed 48.5 kWh of 65.2 kWh offered (6.8 kWh into storage)") in out
    assert "tokens 48,357 rewarded, 6,474 penalised; penalties 0.06 €" in out
    assert ("market: 75.0 kWh traded locally in 45 trades (13.9% of imports) at "
            "0.0615 €/kWh") in out


def test_footprint_reports_people_tokens_and_transactions() -> None:
    out = text("campus-footprint")
    assert ("footprint: 1,024 people, 266,484 footprint tokens in 2,141 ledger transactions; "
            "272.3 kWh metered in 9 sessions (5.8 kWh unattributed)") in out


def test_lighting_reports_waste_per_classroom_year() -> None:
    out = text("campus-lighting")
    assert "lighting: waste 1,450.4 kWh = 137.79 € per classroom-year" in out


def test_market_figures_where_there_is_a_market() -> None:
    out = text("market-only")
    assert ("market: 75.5 kWh traded locally in 87 trades (45.8% of imports) at 0.0619 €/kWh "
            "(retail 0.0801 €/kWh, feed-in 0.0390 €/kWh); energy tokens minted 75,460") in out
    assert "self-sufficiency 48.6%, self-consumption 59.6%" in out
    for other in ("EV:", "DR:", "footprint:", "lighting:"):
        assert other not in out


@pytest.mark.parametrize("name", ["ev-community", "dr-community", "campus-footprint",
                                  "campus-lighting", "market-only", "campus-microgrid",
                                  "neighbourhood"])
def test_every_kind_names_itself_and_its_ledger(name: str) -> None:
    summary = {**golden(name), "name": f"my {name}"}
    lines = summary_lines(summary)
    assert lines[0].startswith(f"my {name} ({summary['scenario']}): ")
    assert lines[-1].startswith("  ledger: ")


def test_partial_run_says_so() -> None:
    summary = {**golden("market-only"), "partial": True, "steps_done": 5, "steps_total": 96}
    assert summary_lines(summary)[0].endswith("PARTIAL: stopped after 5 of 96 steps")
