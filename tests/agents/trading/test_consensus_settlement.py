"""Measurement consensus through the community model: one hand-worked hour of market-only.

Three sellers (s-a, s-b, s-c) each sell 1,000 Wh to one buyer (b-a) in hour 1 (the first auction);
their meters read exactly what was traded, so with consensus off every trade
is delivered in full. The cases switch the consensus option on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from gridcoop.agents import CommunityModel
from gridcoop.agents.scenario.schema import ScenarioError
from gridcoop.agents.trading.attestation import nearest_neighbours
from gridcoop.experiments.cli import main
from gridcoop.experiments.scenarios import load_scenario
from gridcoop.experiments.scenarios.summary import summary_lines
from gridcoop.ledger.transactions import Penalty
from gridcoop.units import payment_ueur

HONEST = {"quorum": 2, "neighbours": 3, "tolerance_wh": 0, "tolerance_ppm": 0, "noise_ppm": 0}


def _run(tmp_path: Path, consensus: dict[str, Any] | None,
         sellers: int = 3) -> tuple[CommunityModel, dict[str, Any]]:
    (tmp_path / "buyers.csv").write_text(
        "hour,participant,quantity_kwh,price_eur_per_kwh\n" f"1,b-a,{sellers},0.2\n")
    (tmp_path / "sellers.csv").write_text(
        "hour,participant,quantity_kwh,price_eur_per_kwh\n"
        + "".join(f"1,s-{'abc'[i]},1,0.05\n" for i in range(sellers)))
    scenario = tmp_path / "one-hour.yaml"
    scenario.write_text("kind: market-only\ndays: 1\nbuyers_csv: buyers.csv\n"
                        "sellers_csv: sellers.csv\nsigning: block\n")
    kind, params = load_scenario(str(scenario))
    if consensus is not None:
        params["consensus"] = consensus
    model = CommunityModel(kind, **params)
    summary = model.run()
    return model, summary


def _bills(model: CommunityModel) -> dict[str, int]:
    return dict(zip(model.population.node_ids, model.kpis.bill_u.tolist(), strict=True))


def _penalties(model: CommunityModel) -> list[Penalty]:
    ledger = model.accounts.ledger
    return [stx.tx for block in ledger.blocks() for stx in block.transactions()
            if isinstance(stx.tx, Penalty)]


def test_nearest_neighbours_by_number_ties_to_the_next() -> None:
    got = nearest_neighbours((slice(0, 4), slice(4, 6)), 3)
    assert got.tolist() == [[1, 2, 3], [2, 0, 3], [3, 1, 0], [2, 1, 0],
                            [5, -1, -1], [4, -1, -1]]


def test_honest_community_bills_the_same_with_consensus_on(tmp_path: Path) -> None:
    off, _ = _run(tmp_path, None)
    on, summary = _run(tmp_path, HONEST)
    assert _bills(on) == _bills(off)
    assert on.kpis.local_wh == off.kpis.local_wh == 3000
    assert summary["consensus_claims_final"] == 3
    assert summary["consensus_claims_waiting"] == summary["consensus_claims_disputed"] == 0
    assert summary["consensus_lies_caught"] == 0 and not _penalties(on)


def test_a_liars_extra_wh_is_not_paid_and_the_lie_is_on_the_ledger(tmp_path: Path) -> None:
    off, _ = _run(tmp_path, None)
    on, summary = _run(tmp_path, {**HONEST, "liars": ["s-a"], "over_report_ppm": 500_000})
    retail_u = on.tariff_u(1)[0]
    fine_u = payment_ueur(np.array([500]), retail_u)[0]
    bills_off, bills_on = _bills(off), _bills(on)
    # s-a claimed 1,500 Wh; its three neighbours saw 1,000: disputed, 1,000 accepted
    assert bills_on["s-a"] == bills_off["s-a"] + fine_u
    assert {k: v for k, v in bills_on.items() if k != "s-a"} == {
        k: v for k, v in bills_off.items() if k != "s-a"}
    assert on.kpis.local_wh == 3000 and on.kpis.feed_in_wh == off.kpis.feed_in_wh == 0
    assert summary["consensus_claims_disputed"] == 1 and summary["consensus_lies_caught"] == 1
    assert summary["consensus_refused_kwh"] == 0.5
    (penalty,) = _penalties(on)
    assert penalty.account == on.accounts.member_account(on.population.node_ids.index("s-a"))
    assert penalty.amount == fine_u
    assert penalty.reason == ("meter lie a000001: claimed 500 Wh more than its neighbours "
                              "saw (1000 Wh)")
    assert on.accounts.ledger.verify().ok
    assert ("  consensus: claims 2 final, 0 waiting (fed in, 0.0 kWh), 1 disputed; "
            "1 lies caught, 0.5 kWh refused") in summary_lines(summary)


def test_too_few_neighbours_falls_back_to_the_grid_tariffs(tmp_path: Path) -> None:
    model, summary = _run(tmp_path, {**HONEST, "neighbours": 1})
    retail_u, feed_in_u, _ = model.tariff_u(1)
    bills = _bills(model)
    sold_u = int(payment_ueur(np.array([1000]), feed_in_u)[0])
    bought_u = int(payment_ueur(np.array([3000]), retail_u)[0])
    assert bills == {"b-a": bought_u, "s-a": -sold_u, "s-b": -sold_u, "s-c": -sold_u}
    assert model.kpis.local_wh == 0 and model.kpis.feed_in_wh == 3000
    assert summary["consensus_claims_waiting"] == 3
    assert summary["consensus_fallback_kwh"] == 3.0


def test_same_seed_same_head_with_noise_and_random_liars() -> None:
    consensus = {"quorum": 2, "neighbours": 4, "noise_ppm": 20_000, "tolerance_ppm": 30_000,
                 "liar_share": 0.3, "over_report_ppm": 200_000}
    heads = []
    for _ in range(2):
        model = CommunityModel("neighbourhood", seed=3, days=1, households=20, signing="block",
                               consensus=consensus)
        summary = model.run()
        heads.append((summary["ledger_head_hash"], summary["consensus_lies_caught"],
                      summary["consensus_claims_final"]))
        model.close()
    assert heads[0] == heads[1]
    assert heads[0][1] > 0 and heads[0][2] > 0


def test_an_unknown_liar_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no member named 'nobody'"):
        _run(tmp_path, {**HONEST, "liars": ["nobody"]})


def test_a_misspelt_consensus_key_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["run", "neighbourhood", "--quiet", "--out",
                                       str(tmp_path / "out"), "--set", "consensus.quorm=2"])
    assert result.exit_code == 2
    assert "consensus.quorm: Extra inputs are not permitted" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()
