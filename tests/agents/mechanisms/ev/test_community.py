"""The EV community inside the model: calls, metering, ledger records, scenario checks.

One 14-day pilot run (7 Leafs) with a high call rate, so several calls land in
two weeks, is shared by the tests of this module.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gridcoop.agents.mechanisms.ev.availability import critical_periods
from gridcoop.agents.mechanisms.ev.community import EVCommunityExtension
from gridcoop.agents.mechanisms.ev.fleet_physics import V2GPhysics
from gridcoop.agents.model.community import CommunityModel
from gridcoop.agents.scenario.registry import build_scenario
from gridcoop.agents.scenario.schema import ScenarioError
from gridcoop.ledger import Ledger
from gridcoop.ledger.transactions import Mint, Penalty, Reward, Transfer

CALLS = {"calls_per_year": 300, "max_calls_per_year": 300}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CommunityModel, Path]]:
    path = tmp_path_factory.mktemp("ev") / "ledger.sqlite"
    model = CommunityModel("ev-community", days=14, seed=3, ledger_path=str(path),
                           ev_community=CALLS)
    model.run()
    yield model, path
    model.close()


def _ext(model: CommunityModel) -> EVCommunityExtension:
    ext = model.extensions[0]
    assert isinstance(ext, EVCommunityExtension)
    return ext


def _txs(path: Path) -> list[Any]:
    with Ledger.open(path) as ledger:
        return [stx.tx for block in ledger.blocks(1) for stx in block.transactions()]


def test_pilot_fleet_is_five_24_and_two_30_kwh_leafs(run: tuple[CommunityModel, Path]) -> None:
    ext = _ext(run[0])
    assert sorted(ext.fleet.capacity_kwh.tolist()) == [24.0] * 5 + [30.0] * 2
    assert ext.fleet.profile.tolist() == [4, 4, 3, 3, 2, 4, 3]
    assert isinstance(run[0].population.physics, V2GPhysics)


def test_calls_never_touch_the_energy_for_the_next_trip(run: tuple[CommunityModel, Path]) -> None:
    model, _ = run
    ext = _ext(model)
    calls = ext.calls()
    served = [c for c in calls if c.rows.size]
    assert len(served) >= 5, "the high call rate should give several served calls"
    hist, core = ext.history, ext.core
    for c in served:
        steps = c.duration_s // (hist.step_min * 60)
        # every EV that gave energy was plugged in for the whole call
        assert hist.plugged[c.rows, c.first_step:c.first_step + steps].all()
        # its state of charge at the call's start (measured in the run) minus what it gave
        # still covers the next trip plus the owner's margin
        assert not np.isnan(c.soc_before_kwh).any()
        left = c.soc_before_kwh - c.energy_wh / 1000
        assert np.all(left >= c.need_kwh + c.margin_kwh - 1e-6)
        # and after the call's last step the battery really holds that much, as the run
        # measured it (the history's state of charge minus what V2G took)
        last = c.first_step + steps - 1
        after = np.array([core.soc_after[(last, int(r))] for r in c.rows])
        assert np.all(after >= c.need_kwh + c.margin_kwh - 1e-6)
        assert np.allclose(after, left, atol=1e-6)
    assert model.summary()["ev_v2g_min_headroom_over_next_trip_kwh"] >= 2.0 - 1e-6


def test_deliveries_are_verified_by_the_meters(run: tuple[CommunityModel, Path]) -> None:
    ext = _ext(run[0])
    calls = ext.calls()
    assert all(c.delivered_wh is not None for c in calls)
    for c in calls:
        assert c.delivered_wh is not None
        # V2G energy shows in the metered readings (baseline - metered); charging that
        # was suspended during the call comes on top, up to 1 Wh of meter rounding.
        assert c.delivered_wh >= c.allocated_wh - 2
        short = c.requested_wh - c.delivered_wh
        assert c.within_tolerance == (short * 1_000_000 <= 50_000 * c.requested_wh)
        assert (c.penalty_ueur == 0) == bool(c.within_tolerance)
    assert len(ext.desk.verdicts) == len(calls)


def test_revenue_split_on_the_ledger_sums_to_the_market_revenue(
        run: tuple[CommunityModel, Path]) -> None:
    model, path = run
    ext = _ext(model)
    ra = ext.aggregators[0]
    availability = sum(a.payment_ueur for a in ext.desk.market.awards(ra.name))
    penalties = sum(v.penalty_ueur for v in ext.desk.verdicts)
    assert availability > 0
    per_week: dict[str, int] = defaultdict(int)
    minted = charged = 0
    for tx in _txs(path):
        if isinstance(tx, Transfer) and tx.issuer == ra.account:
            assert tx.memo.startswith("reserve revenue week ")
            per_week[tx.memo] += tx.amount
        elif isinstance(tx, Mint) and tx.to == ra.account:
            minted += tx.amount
        elif isinstance(tx, Penalty) and tx.account == ra.account:
            charged += tx.amount
    assert minted == availability
    assert charged == penalties
    assert sum(per_week.values()) == availability - penalties
    for week in ext.weeks:
        _, ledger_week = week[0]
        label = f"reserve revenue week {ext.weeks.index(week) + 1}"
        assert per_week.get(label, 0) == (ledger_week.availability_ueur
                                          - ledger_week.penalty_applied_ueur)
        assert sum(ledger_week.shares_ueur.values()) == ledger_week.distributed_ueur
    with Ledger.open(path) as ledger:
        assert ledger.balance(ra.account, "eur_u") == 0  # the RA keeps nothing


def test_tokens_and_penalties_on_the_ledger_match_the_table(
        run: tuple[CommunityModel, Path]) -> None:
    model, path = run
    ext = _ext(model)
    ra = ext.aggregators[0]
    node_of = dict(zip(ra.member_ids, ra.nodes.tolist(), strict=True))
    account_of = {m: model.accounts.member_account(n) for m, n in node_of.items()}
    rewards: dict[str, int] = defaultdict(int)
    taken: dict[str, int] = defaultdict(int)
    for tx in _txs(path):
        if isinstance(tx, Reward):
            assert tx.issuer == ra.account
            rewards[tx.to] += tx.amount
        elif isinstance(tx, Penalty) and tx.asset == "token":
            taken[tx.account] += tx.amount
    table = {row["member"]: row for row in model.summary()["ev_members_table"]}
    with Ledger.open(path) as ledger:
        for member, account in account_of.items():
            row = table[member]
            assert rewards[account] == row["tokens"] + row["replacement_bonus"]
            assert taken[account] == row["penalty_tokens_taken"] <= row["penalty_tokens"]
            assert ledger.balance(account, "token") == rewards[account] - taken[account]
            assert ledger.balance(ra.account, "token") >= 0


def test_ledger_verifies_after_the_run(run: tuple[CommunityModel, Path]) -> None:
    model, path = run
    with Ledger.open(path) as ledger:
        report = ledger.verify()
    assert report.ok, report.reason
    assert report.head_hash == model.accounts.ledger.head_hash


def test_messages_flow_over_the_bus(run: tuple[CommunityModel, Path]) -> None:
    model, _ = run
    s = model.summary()
    messages = s["ev_messages"]
    assert messages["capacity_offers"] == len(_ext(model).aggregators[0].offered_w)
    assert messages["reserve_calls"] == len(_ext(model).calls())
    assert messages["rewards_penalties"] == messages["member_notices_received"] > 0
    assert s["ev_refused"] == 0 and s["bus_rejected"] == 0


def test_kpis_are_consistent(run: tuple[CommunityModel, Path]) -> None:
    s = run[0].summary()
    cap = s["ev_capacity_firm_kw"]
    assert 0 <= cap["min"] <= cap["critical_mean"] and cap["min"] <= cap["mean"]
    assert s["ev_calls_served"] + s["ev_calls_short"] == s["ev_calls_dispatched"]
    assert s["ev_replacements_found"] <= s["ev_replacements_needed"]
    assert s["ev_forecast"]["heldout_days"] == 14
    assert s["ev_forecast"]["brier"] < s["ev_forecast"]["brier_baseline"]
    assert len(s["ev_members_table"]) == 7
    total = sum(row["revenue_eur"] for row in s["ev_members_table"])
    assert total == pytest.approx(s["ev_revenue_distributed_eur"], abs=1e-6)
    assert s["ev_revenue_distributed_eur"] == pytest.approx(s["ev_reserve_net_revenue_eur"])


def test_bad_parameters_name_the_key() -> None:
    with pytest.raises(ScenarioError, match=r"ev_community\.warmup_day"):
        build_scenario("ev-community", {"ev_community": {"warmup_day": 3}})
    with pytest.raises(ScenarioError, match="critical_periods"):
        build_scenario("ev-community", {"ev_community": {"critical_periods": [[10, 8]]}})
    with pytest.raises(ScenarioError, match="EV owners"):
        build_scenario("ev-community", {"mix": {"prosumer": 1.0, "ev_owner": 0.0,
                                                "dr_household": 0.0}})
    with pytest.raises(ScenarioError, match="metering_minutes"):
        build_scenario("ev-community", {"metering_minutes": 1})


def test_large_kind_has_several_communities() -> None:
    scenario = build_scenario("ev-community-large", {"households": 40, "days": 1})
    model = CommunityModel("ev-community-large", households=40, regions=2, days=1, seed=2)
    try:
        model.run()
        s = model.summary()
    finally:
        model.close()
    assert str(scenario.kind) == "ev-community-large"
    assert s["ev_communities"] == 2 and s["ev_members"] == 30
    assert s["ev_reserve_availability_eur"] > 0


def test_critical_periods_found_from_the_warmup_drive_tokens_and_reports(
        run: tuple[CommunityModel, Path]) -> None:
    model, _ = run
    ext = _ext(model)
    found = critical_periods(ext.history, 0, ext.warmup)
    assert found and ext.rules.critical_periods == found
    s = model.summary()
    assert s["ev_critical_periods"] == [list(p) for p in found]
    capacity = ext.tables()["ev_capacity"]
    assert capacity["critical"].tolist() == [ext.rules.is_critical(h % 24)
                                             for h in capacity["hour"]]
    battery, v2g = s["ev_battery_plugged_kwh"], s["ev_v2g_plugged_kw"]
    assert 0 < battery["min"] <= battery["median"] <= 180.0
    assert 0 < v2g["min"] <= v2g["median"] <= float(ext.fleet.v2g_power_kw.sum()) + 1e-6


def test_explicit_critical_periods_are_kept() -> None:
    model = CommunityModel("ev-community", days=1, seed=1,
                           ev_community={"critical_periods": [[7, 10], [17, 20]]})
    try:
        assert _ext(model).rules.critical_periods == ((7, 10), (17, 20))
    finally:
        model.close()
