"""Whole runs of CommunityModel: determinism, energy conservation, ledger balances, replicas."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gridcoop.agents import CommunityModel
from gridcoop.agents.model.members import DRHousehold, EVOwner, Prosumer
from gridcoop.agents.physics.flows import Flows
from gridcoop.ledger import GRID_ACCOUNT, Ledger

SMALL: dict[str, Any] = {"households": 30, "regions": 3, "days": 1, "replicas": "shared"}


def run(**kwargs: Any) -> tuple[CommunityModel, dict[str, Any]]:
    model = CommunityModel("neighbourhood", **{**SMALL, **kwargs})
    summary = model.run()
    return model, summary


def test_same_seed_gives_identical_kpis_and_head_hash_twice() -> None:
    first, a = run(seed=11)
    second, b = run(seed=11)
    assert a == b
    assert a["trades"] > 0 and a["ledger_height"] > 2
    third, c = run(seed=12)
    assert c["ledger_head_hash"] != a["ledger_head_hash"]
    for m in (first, second, third):
        m.close()


def record_flows(model: CommunityModel) -> list[Flows]:
    physics = model.population.physics
    seen: list[Flows] = []
    original = physics.step

    def step(k: int) -> Flows:
        flows = original(k)
        seen.append(flows)
        return flows

    physics.step = step  # type: ignore[method-assign,assignment]
    return seen


def test_energy_is_conserved_every_interval_per_node_and_community() -> None:
    model = CommunityModel("neighbourhood", **SMALL, seed=3)
    flows = record_flows(model)
    model.run()
    assert len(flows) == model.clock.total_steps
    for f in flows:
        node = f.production_kwh + f.import_kwh - f.consumption_kwh - f.export_kwh - f.storage_kwh
        assert np.abs(node).max() < 1e-9
        community = (f.production_kwh.sum() + f.import_kwh.sum()
                     - f.consumption_kwh.sum() - f.export_kwh.sum() - f.storage_kwh.sum())
        assert abs(community) < 1e-9
        assert (f.import_kwh >= 0).all() and (f.export_kwh >= 0).all()
        assert not ((f.import_kwh > 0) & (f.export_kwh > 0)).any()
    # the meters reported exactly what the physics did, to the Wh (cumulative rounding)
    imported_wh = sum(f.import_kwh for f in flows) * 1000
    exported_wh = sum(f.export_kwh for f in flows) * 1000
    assert np.abs(model.kpis.node_import_wh - imported_wh).max() <= 0.5 + 1e-6
    assert np.abs(model.kpis.node_export_wh - exported_wh).max() <= 0.5 + 1e-6
    k = model.kpis
    assert k.production_kwh + k.grid_import_kwh == pytest.approx(
        k.consumption_kwh + k.grid_export_kwh + k.storage_kwh)
    model.close()


def test_ledger_balances_equal_settled_trades_fees_and_tariffs(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    model = CommunityModel("neighbourhood", **{**SMALL, "days": 2}, seed=5, ledger_path=str(path),
                           tariffs={"grid_fee_eur_per_kwh": 0.005}, initial_balance_eur=2.0)
    summary = model.run()
    accounts, kpis = model.accounts, model.kpis
    book = accounts.ledger
    opening = accounts.initial_balance_u
    for i, account in enumerate(accounts.accounts):
        # opening balance + deposits - (local purchases + grid import + fees - sales - feed-in)
        assert (book.balance(account, "eur_u")
                == opening + accounts.deposits_ueur[i] - kpis.bill_u[i])
        assert book.balance(account, "wh") == kpis.node_sold_wh[i]
    assert accounts.deposits_ueur.sum() > 0  # the small opening balance forced top-ups
    assert book.balance(book.authority, "eur_u") == kpis.fees_u > 0
    assert book.balance(GRID_ACCOUNT, "eur_u") == kpis.retail_value_u - kpis.feed_in_value_u
    assert not book.state.escrows and not book.state.shortfalls  # everything settled
    total_tokens = sum(v for (acc, asset), v in book.balances().items() if asset == "wh")
    assert total_tokens == summary["tokens_minted"] == kpis.local_wh
    model.close()
    with Ledger.open(path) as reopened:
        report = reopened.verify(workers=0)
        assert report.ok, str(report)
        assert reopened.head_hash == summary["ledger_head_hash"]


@pytest.mark.parametrize("mode", ["per_aggregator", "process"])
def test_every_replica_mode_verifies_to_the_same_head(mode: str) -> None:
    model, summary = run(seed=4, replicas=mode)
    for ra in model.aggregators:
        assert ra.replica.head_hash == summary["ledger_head_hash"]
        assert ra.replica.received == model.accounts.ledger.height
    model.close()
    _, shared = run(seed=4, replicas="shared")
    assert shared == summary


def test_members_are_mesa_agents_with_views_of_their_state() -> None:
    model, summary = run(seed=2)
    kinds = {type(m) for m in model.members}
    assert kinds == {Prosumer, EVOwner, DRHousehold}
    assert len(model.agents) == 2 * 30 + 3 + 1  # members, meters, aggregators, central
    prosumer = next(m for m in model.members if isinstance(m, Prosumer))
    assert prosumer.pv_kwp > 0 and prosumer.account == model.accounts.accounts[prosumer.node]
    ev = next(m for m in model.members if isinstance(m, EVOwner))
    assert 0 < ev.ev_soc_kwh <= ev.ev_capacity_kwh
    dr = next(m for m in model.members if isinstance(m, DRHousehold))
    assert "refrigerator" in dr.appliances
    total = sum(m.bill_eur for m in model.members)
    assert total == pytest.approx(summary["bills_eur_total"])
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == model.clock.total_steps
    assert {"production_kw", "grid_import_kw", "clearing_price_eur_per_kwh"} <= set(frame.columns)
    model.close()


def test_feeder_capacity_counts_overloaded_region_intervals() -> None:
    _, unlimited = run(seed=6)
    assert unlimited["feeder_overload_intervals"] == 0
    assert 0 < unlimited["peak_region_import_kw"] <= unlimited["peak_grid_import_kw"] + 1e-9
    _, tight = run(seed=6, feeder_capacity_kw=unlimited["peak_region_import_kw"] / 2)
    assert tight["feeder_overload_intervals"] > 0
    assert {k: v for k, v in tight.items() if k != "feeder_overload_intervals"} == {
        k: v for k, v in unlimited.items() if k != "feeder_overload_intervals"}


def test_a_member_who_cannot_pay_gets_a_recorded_deposit_first() -> None:
    # an opening balance of 1 µ€ cannot cover any escrow: every buyer is topped up before
    # its first trade, and the run still settles everything
    model, summary = run(seed=7, initial_balance_eur=0.000001)
    assert summary["trades"] > 0
    accounts = model.accounts
    assert (accounts.deposits_ueur > 0).sum() >= 1
    for i, account in enumerate(accounts.accounts):
        assert accounts.ledger.balance(account, "eur_u") == (
            accounts.initial_balance_u + accounts.deposits_ueur[i] - model.kpis.bill_u[i])
    model.close()


def test_datacollector_holds_the_kpis_and_daily_bills() -> None:
    model, summary = run(seed=9, days=2)
    series = model.datacollector.get_model_vars_dataframe()
    last = series.iloc[-1]
    for name in ("self_sufficiency", "self_consumption", "share_traded_locally",
                 "mean_local_price_eur_per_kwh", "peak_grid_import_kw", "tokens_minted"):
        assert last[name] == pytest.approx(summary[name], abs=1e-3), name  # summary rounds
    assert last["bills_eur"] == pytest.approx(summary["bills_eur_total"])
    assert last["baseline_bills_eur"] == pytest.approx(summary["baseline_bills_eur_total"])
    bills = model.datacollector.get_table_dataframe("bills")
    assert len(bills) == 2 * 30 and set(bills["day"]) == {0, 1}
    final = bills[bills["day"] == 1].set_index("member")
    for member in model.members:
        assert final.loc[member.member_id, "bill_eur"] == pytest.approx(member.bill_eur)
    model.close()


@pytest.mark.parametrize("replicas", ["shared", "process"])
def test_close_from_another_thread_waits_for_the_step_in_progress(replicas: str) -> None:
    """The page's play thread steps while a session's end closes the model: the close
    waits for that step (closing under it crashed the page server), and the closed
    model steps no more."""
    model = CommunityModel("neighbourhood", **{**SMALL, "replicas": replicas})
    model.step()
    in_step, release = threading.Event(), threading.Event()
    collect = model.collect

    def held_collect() -> None:  # the step's last phase, after the bus and the ledger
        in_step.set()
        release.wait(10)
        collect()

    model.collect = held_collect  # type: ignore[method-assign]
    errors: list[BaseException] = []

    def stepping() -> None:
        try:
            model.step()
        except BaseException as exc:  # the test reports it
            errors.append(exc)

    stepper = threading.Thread(target=stepping)
    stepper.start()
    assert in_step.wait(10)
    closer = threading.Thread(target=model.close)
    closer.start()
    closer.join(0.3)
    assert closer.is_alive() and not model.closed  # waiting for the step
    release.set()
    stepper.join(10)
    closer.join(10)
    assert errors == [] and model.closed and not model.running
    steps = model.steps
    model.step()  # a play thread's next step on the closed model: nothing, no error
    assert model.steps == steps + 1 and not model.running  # Mesa counts it; nothing ran
    model.close()  # twice: nothing
