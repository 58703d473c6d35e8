"""Every DR period the validation accepts runs a day at every metering interval.

Once, a DR period equal to the metering interval crashed the run with a ledger
nonce error; this runs each accepted (metering, period) pair for one day. At
1-minute metering a day is 1,440 steps, so that row runs a spread of periods
(the shortest, the longest, odd divisors and the pilot's 5 and 15 minutes).
"""

from __future__ import annotations

import pytest

from gridcoop.agents.model.community import CommunityModel
from gridcoop.agents.scenario.schema import ScenarioError
from gridcoop.experiments.scenarios import load_scenario

METERING = (1, 5, 10, 15, 30, 60)


def accepted_periods(metering: int) -> list[int]:
    return [p for p in range(5, 241) if p % metering == 0 and 1440 % p == 0]


COMBINATIONS = [(m, p) for m in METERING if m > 1 for p in accepted_periods(m)] + [
    (1, p) for p in (5, 9, 15, 16, 45, 240)]


def test_the_validation_accepts_exactly_these_periods() -> None:
    assert accepted_periods(15) == [15, 30, 45, 60, 90, 120, 180, 240]
    assert len([(m, p) for m in METERING for p in accepted_periods(m)]) == 70
    with pytest.raises(ScenarioError, match="multiple of"):
        load_scenario("dr-community", (), metering_minutes=15, dr_period_minutes=20)


@pytest.mark.slow
@pytest.mark.parametrize(("metering", "period"), COMBINATIONS)
def test_a_day_runs_at_every_accepted_period(metering: int, period: int) -> None:
    kind, params = load_scenario("dr-community", (), days=1, metering_minutes=metering,
                                 dr_period_minutes=period)
    model = CommunityModel(kind, replicas="shared", ledger_workers=0, **params)
    try:
        summary = model.run()
    finally:
        model.close()
    assert summary["dr_events"] > 0
    assert summary["dr_commands"] >= summary["dr_commitments_verified"]
