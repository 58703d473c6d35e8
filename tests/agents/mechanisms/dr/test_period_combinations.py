"""Every DR period the validation accepts runs a day at every metering interval.

Once, a DR period equal to the metering interval crashed the run with a ledger
nonce error; this runs each of the 70 accepted (metering, period) pairs for one
day, the 27 periods of 1-minute metering included (a day of 1,440 steps, about
2 s of CPU each; the whole file about 80 s, hence ``slow``).
"""

from __future__ import annotations

from typing import Any

import pytest

from gridcoop.agents.model.community import CommunityModel
from gridcoop.agents.scenario.schema import ScenarioError
from gridcoop.experiments.scenarios import load_scenario

METERING = (1, 5, 10, 15, 30, 60)


def accepted_periods(metering: int) -> list[int]:
    return [p for p in range(5, 241) if p % metering == 0 and 1440 % p == 0]


COMBINATIONS = [(m, p) for m in METERING for p in accepted_periods(m)]


def test_the_validation_accepts_exactly_these_periods() -> None:
    assert accepted_periods(15) == [15, 30, 45, 60, 90, 120, 180, 240]
    assert len(accepted_periods(1)) == 27
    assert len(COMBINATIONS) == 70
    with pytest.raises(ScenarioError, match="multiple of"):
        load_scenario("dr-community", (), metering_minutes=15, dr_period_minutes=20)


def _run(days: int, metering: int, period: int) -> tuple[dict[str, Any], int]:
    """A ``dr-community`` run's summary and ledger height."""
    kind, params = load_scenario("dr-community", (), days=days, metering_minutes=metering,
                                 dr_period_minutes=period)
    model = CommunityModel(kind, replicas="shared", ledger_workers=0, **params)
    try:
        return model.run(), model.accounts.ledger.height
    finally:
        model.close()


@pytest.mark.slow
@pytest.mark.parametrize(("metering", "period"), COMBINATIONS)
def test_a_day_runs_at_every_accepted_period(metering: int, period: int) -> None:
    summary, _ = _run(days=1, metering=metering, period=period)
    assert summary["dr_events"] > 0
    assert summary["dr_commands"] >= summary["dr_commitments_verified"]


@pytest.mark.slow
@pytest.mark.parametrize("minutes", [m for m in METERING if m >= 5])
def test_the_reported_crash_a_period_equal_to_metering_over_two_days(minutes: int) -> None:
    """The case the crash was reported on, across a midnight (the day's bill and seal)."""
    summary, height = _run(days=2, metering=minutes, period=minutes)
    assert summary["dr_events"] > 0
    assert height > 0
