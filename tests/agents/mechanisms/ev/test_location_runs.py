"""The pilot run as two location communities against the same run as one.

Campus holds weekdays 08:00-18:00, home the rest of the week: the periods
partition every day, so each hour's capacity, offers, awards and calls are
the one community's of that hour. What must then match the single community:
availability paid, calls served and penalties, plugged-in capacity per hour,
and each owner's plugged-in tokens (within one token a week, as each
community rounds its own down). What must differ: who the revenue goes to,
split by where the owner was connected; and the ledger names the community.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gridcoop.agents.mechanisms.ev.availability import hourly_capacity
from gridcoop.agents.mechanisms.ev.community import EVCommunityExtension
from gridcoop.agents.model.community import CommunityModel
from gridcoop.agents.scenario.registry import build_scenario
from gridcoop.agents.scenario.schema import ScenarioError
from gridcoop.experiments.scenarios.summary import summary_lines
from gridcoop.ledger import Ledger
from gridcoop.ledger.transactions import Mint, Reward, Transfer
from tests.cli_errors import one_error_line

CALLS: dict[str, Any] = {"calls_per_year": 300, "max_calls_per_year": 300}
TWO = ({"name": "campus", "periods": [[8, 18]], "days": "weekdays"},
       {"name": "home", "periods": "rest"})
DAYS = 14


def _model(path: Path, **ev: Any) -> CommunityModel:
    model = CommunityModel("ev-community", days=DAYS, seed=3, ledger_path=str(path),
                           ev_community={**CALLS, **ev})
    model.run()
    return model


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[tuple[CommunityModel, CommunityModel, Path]]:
    folder = tmp_path_factory.mktemp("ev-locations")
    one = _model(folder / "one.sqlite")
    two = _model(folder / "two.sqlite", communities=TWO)
    yield one, two, folder / "two.sqlite"
    one.close()
    two.close()


def _ext(model: CommunityModel) -> EVCommunityExtension:
    ext = model.extensions[0]
    assert isinstance(ext, EVCommunityExtension)
    return ext


def test_each_location_is_a_community_with_its_own_ra(runs: Any) -> None:
    _, two, _ = runs
    ext = _ext(two)
    assert [ra.label for ra in ext.aggregators] == ["r0-campus", "r0-home"]
    assert [ra.name for ra in ext.aggregators] == ["ev-ra-r0-campus", "ev-ra-r0-home"]
    campus, home = ext.aggregators
    assert campus.held is not None and home.held is not None
    assert not (campus.held & home.held).any() and (campus.held | home.held).all()
    assert int(campus.held[:DAYS * 24].sum()) == 10 * 10  # 10 weekdays × 10 hours


def test_partitioned_periods_sum_to_the_single_community(runs: Any) -> None:
    one, two, _ = runs
    a, b = _ext(one), _ext(two)
    assert b.payment_ueur.sum() == a.payment_ueur.sum() > 0
    assert np.array_equal(b.firm_kw.sum(axis=0), a.firm_kw[0])
    assert np.array_equal(b.awarded_w.sum(axis=0), a.awarded_w[0])
    s1, s2 = one.summary(), two.summary()
    for key in ("ev_calls_dispatched", "ev_calls_served", "ev_call_energy_delivered_kwh",
                "ev_reserve_penalty_eur", "ev_revenue_distributed_eur"):
        assert s2[key] == s1[key], key
    assert s1["ev_calls_dispatched"] > 0
    days = two.clock.days
    battery = np.zeros(days * 24)
    for ra in b.aggregators:
        assert ra.held is not None
        battery += hourly_capacity(b.history, b.warmup, days, ra.rows)[0] * ra.held[:days * 24]
    assert np.allclose(battery, hourly_capacity(a.history, a.warmup, days)[0])
    single = {r["member"]: r["tokens"] for r in s1["ev_members_table"]}
    split: dict[str, int] = defaultdict(int)
    for r in s2["ev_members_table"]:
        split[r["member"]] += r["tokens"]
    weeks = len(b.weeks)
    assert all(0 <= single[m] - split[m] <= weeks for m in single)


def test_owner_totals_are_the_sum_over_their_communities(runs: Any) -> None:
    _, two, _ = runs
    s = two.summary()
    by_member: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in s["ev_members_table"]:
        by_member[r["member"]].append(r)
    for owner in s["ev_owners_table"]:
        rows = by_member[owner["member"]]
        assert owner["communities"] == [r["community"] for r in rows]
        assert owner["revenue_eur"] == pytest.approx(sum(r["revenue_eur"] for r in rows))
    per = {c["community"]: c for c in s["ev_by_community"]}
    assert set(per) == {"r0-campus", "r0-home"}
    assert sum(c["revenue_distributed_eur"] for c in per.values()) == pytest.approx(
        s["ev_revenue_distributed_eur"])
    assert sum(c["tokens"] for c in per.values()) == s["ev_tokens_total"]
    assert per["r0-campus"]["hours_held"] + per["r0-home"]["hours_held"] == DAYS * 24


def test_the_ledger_names_the_community_of_every_reward_and_payment(runs: Any) -> None:
    _, two, path = runs
    ext = _ext(two)
    account = {ra.account: ra for ra in ext.aggregators}
    paid: dict[str, int] = defaultdict(int)
    minted: dict[str, int] = defaultdict(int)
    rewarded: dict[str, int] = defaultdict(int)
    with Ledger.open(path) as ledger:
        assert ledger.verify().ok
        txs = [stx.tx for block in ledger.blocks(1) for stx in block.transactions()]
        for ra in ext.aggregators:
            assert ledger.balance(ra.account, "eur_u") == 0
    for tx in txs:
        if isinstance(tx, Transfer) and tx.issuer in account:
            ra = account[tx.issuer]
            assert tx.memo.startswith(f"reserve revenue {ra.location} week ")
            paid[ra.label] += tx.amount
        elif isinstance(tx, Mint) and tx.to in account:
            minted[account[tx.to].label] += tx.amount
        elif isinstance(tx, Reward):
            ra = account[tx.issuer]
            assert f" {ra.location} week " in tx.reason
            rewarded[ra.label] += tx.amount
    for ra in ext.aggregators:
        weeks = [week[ra.index][1] for week in ext.weeks]
        assert minted[ra.label] == int(ext.payment_ueur[ra.index].sum())
        assert paid[ra.label] == sum(w.distributed_ueur for w in weeks)
        assert rewarded[ra.label] == sum(sum(w.tokens.values()) + sum(w.bonus.values())
                                         for w in weeks)


def test_same_seed_same_head_and_a_community_may_set_its_critical_periods(
        tmp_path: Path) -> None:
    own = ({**TWO[0], "critical_periods": [[9, 11]]}, TWO[1])
    heads = []
    for name in ("a", "b"):
        model = CommunityModel("ev-community", days=3, seed=5,
                               ledger_path=str(tmp_path / f"{name}.sqlite"),
                               ev_community={"communities": own})
        model.run()
        heads.append(model.accounts.ledger.head_hash)
        ext = _ext(model)
        campus, home = ext.aggregators
        assert campus.rules.critical_periods == ((9, 11),)
        assert home.rules.critical_periods == ext.rules.critical_periods != ((9, 11),)
        by = {c["community"]: c for c in model.summary()["ev_by_community"]}
        assert by["r0-campus"]["critical_periods"] == [[9, 11]]
        table = ext.tables()["ev_capacity"]
        for community, hours in (("r0-campus", {9, 10}),
                                 ("r0-home", {h for h in range(24) if ext.rules.is_critical(h)})):
            rows = table[table["community"] == community]
            assert set(rows.loc[rows["critical"], "hour"] % 24) == hours
        model.close()
    assert heads[0] == heads[1]


@pytest.mark.parametrize(("communities", "message"), [
    ([{"name": "campus", "periods": [[8, 18]]}, {"name": "home", "periods": [[17, 24]]}],
     "campus and home both hold Monday 17:00"),
    ([{"name": "a", "periods": "rest"}, {"name": "b", "periods": "rest"}],
     "only one community may take the rest"),
    ([{"name": "a", "periods": "rest"}, {"name": "a", "periods": [[1, 2]]}], "distinct names"),
    ([], "one or more communities"),
    ([{"name": "a", "periods": [[9, 8]]}], r"period \(9, 8\)"),
    ([{"name": "a", "periods": "rest", "critical_periods": [[3, 2]]}],
     r"communities\.a\.critical_periods"),
    ([{"name": "Campus", "periods": "rest"}], "name"),
    ([{"name": "a", "periods": "rest", "days": "monday"}], "days"),
])
def test_bad_communities_are_refused(communities: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        build_scenario("ev-community", {"ev_community": {"communities": communities}})


def test_cli_refuses_overlapping_communities_in_one_line(tmp_path: Path) -> None:
    bad = ("ev_community.communities=[{name: campus, periods: [[8, 18]]}, "
           "{name: home, periods: [[0, 9]]}]")
    error = one_error_line(["run", "ev-community", "--days", "1", "--set", bad,
                            "--out", str(tmp_path), "--quiet"])
    assert error == ("Error: invalid ev-community scenario: ev_community: Value error, "
                     "ev_community.communities: communities campus and home both hold "
                     "Monday 08:00; a car is in one community at a time")


def test_the_run_summary_has_a_line_per_community(runs: Any) -> None:
    one, two, _ = runs
    lines = [line for line in summary_lines(two.summary()) if "EV communities" in line]
    assert len(lines) == 1
    assert "r0-campus 7 members, 100 h, battery min" in lines[0]
    assert "; r0-home 7 members, 236 h" in lines[0]
    assert not [line for line in summary_lines(one.summary()) if "EV communities" in line]
    assert "ev_by_community" not in one.summary()  # the default keeps today's summary


def test_a_community_holding_no_hours_reports_no_capacity_figure(tmp_path: Path) -> None:
    from gridcoop.agents.mechanisms.ev.newsletter import render_newsletter

    weekend = ({"name": "weekend", "periods": [[0, 24]], "days": "weekend"},
               {"name": "week", "periods": "rest"})
    model = CommunityModel("ev-community", days=3, seed=5,  # Monday to Wednesday
                           ledger_path=str(tmp_path / "l.sqlite"),
                           ev_community={"communities": weekend})
    try:
        model.run()
        by = {c["community"]: c for c in model.summary()["ev_by_community"]}
        letters = {s.community: s for week in _ext(model).weeks for s, _ in week}
    finally:
        model.close()
    assert by["r0-weekend"]["hours_held"] == 0 and by["r0-week"]["hours_held"] == 72
    assert by["r0-weekend"]["capacity_firm_kw"] is None
    assert by["r0-week"]["capacity_firm_kw"] is not None
    empty, held = letters["EV community r0-weekend"], letters["EV community r0-week"]
    assert empty.capacity_kw == {} and "Available capacity" not in render_newsletter(empty)
    assert set(held.capacity_kw) == {"firm mean", "firm minimum"}
    assert "Available capacity, firm mean" in render_newsletter(held)
