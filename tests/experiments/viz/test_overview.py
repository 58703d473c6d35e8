"""Token kinds and their filter, transaction amounts in € and kWh, KPI tiles, the member view,
the CSV of a panel, tooltips: with hand-built rows, then against a real DR pilot run."""

from __future__ import annotations

import csv
import io

import pytest

from gridcoop.agents.model.community import CommunityModel
from gridcoop.experiments.scenarios import load_scenario
from gridcoop.experiments.viz.figures import new_figure, to_svg
from gridcoop.experiments.viz.gamification import draw_tokens, holdings, leaderboard_view
from gridcoop.experiments.viz.ledger_panel import ChainVerifier, format_amount
from gridcoop.experiments.viz.overview import kpi_tiles, member_panel
from gridcoop.experiments.viz.render import PageState, leaderboard_panel, ledger_panel
from gridcoop.experiments.viz.source import as_page_source
from tests.experiments.viz.fakes import Block, FakeLedger, FakeSource, Member, TokenPoint, Tx


def test_amounts_in_euros_and_kwh() -> None:
    assert format_amount(200_000_000, "µ€") == "200.00 €"
    assert format_amount(42_500, "µ€") == "0.0425 €"
    assert format_amount(1_500, "Wh") == "1.500 kWh"
    assert format_amount(400, "Wh delivered") == "0.400 kWh delivered"
    assert format_amount(7, "tokens") == "7 tokens"
    assert format_amount(0, "completed via meter") == "completed via meter"
    assert format_amount(2_700, "W") == "2,700 W"


def community() -> FakeSource:
    return FakeSource(
        member_rows=[Member("a", "prosumer", "r"), Member("b", "dr_household", "r")],
        token_balances={"a": 5, "b": 0},
        other_tokens={"DR": {"a": 1, "b": 9}},
        token_points=[TokenPoint(0, 0, {"energy": 0, "DR": 0}),
                      TokenPoint(3600, 15, {"energy": 5, "DR": 10})],
        kpi_values={"self_sufficiency": 0.25, "self_consumption": None, "savings_eur": 1.5,
                    "peak_import_kw": 12.0},
        facts={"b": [("bill so far", "3.00 € against 4.50 € grid-only")]},
        ledger_source=FakeLedger([Block(0, "ab" * 32, 0, 1)], [
            Tx("t1", "reward", "market", "b", 9, "tokens"),
            Tx("t2", "trade", "a", "b", 500, "Wh"),
            Tx("t3", "mint", "market", "a", 200_000_000, "µ€")]),
    )


def test_every_token_kind_ranks_and_the_filter_chooses_one() -> None:
    source = community()
    assert holdings(source.tokens_by_kind()) == {"a": 6, "b": 9}
    everything = leaderboard_view(source)
    assert [r.member_id for r in everything.top] == ["b", "a"]
    assert everything.kinds == ("energy", "DR") and everything.total_tokens == 15
    dr = leaderboard_view(source, kind="DR")
    assert [(r.member_id, r.tokens) for r in dr.top] == [("b", 9), ("a", 1)]
    assert dr.series == (("DR", (0, 10)),)
    panel = leaderboard_panel(source, PageState(), kind="DR")
    assert panel.summary == "top 2 and bottom 0 of 2 (DR; kinds: energy, DR)"
    assert list(csv.reader(io.StringIO(panel.csv)))[1] == ["1", "b", "9", "DR"]


def test_token_chart_has_a_line_and_tooltips_per_kind() -> None:
    figure = new_figure()
    draw_tokens(figure, leaderboard_view(community()))
    assert [line.get_label() for line in figure.axes[0].lines] == ["energy", "DR"]
    svg = to_svg(figure).decode()
    assert svg.count("<title>") == 4  # two kinds x two points
    assert "hour 1.00: 10 DR tokens" in svg


def test_ledger_rows_have_parties_and_amounts() -> None:
    panel = ledger_panel(community(), PageState())
    rows = list(csv.reader(io.StringIO(panel.csv)))
    assert rows[0] == ["tx", "kind", "from", "to", "amount"]
    assert rows[1:] == [["t3", "mint", "market", "a", "200.00 €"],
                        ["t2", "trade", "a", "b", "0.500 kWh"],
                        ["t1", "reward", "market", "b", "9 tokens"]]


def test_kpi_tiles_and_member_view() -> None:
    source = community()
    tiles = {t.key: t for t in kpi_tiles(source, ChainVerifier())}
    assert [tiles[k].value for k in ("self-sufficiency", "self-consumption", "savings", "peak",
                                     "verified")] == ["25.0%", "-", "1.50 €", "12.0 kW",
                                                      "verified"]
    assert tiles["verified"].ok is True and tiles["savings"].ok is True
    panel = member_panel(source, PageState(), "b")
    assert "3.00 € against 4.50 € grid-only" in (panel.html or "")
    assert "9 (rank 1 of 2)" in (panel.html or "")
    assert panel.summary.startswith("2 of the latest")  # the reward and the trade


@pytest.mark.slow
def test_a_dr_pilot_day_shows_dr_tokens_and_every_transaction_kind_readably() -> None:
    kind, params = load_scenario("dr-community", days=1)
    model = CommunityModel(kind, **params)
    try:
        model.run()
        source = as_page_source(model)
        by_kind = source.tokens_by_kind()
        assert set(by_kind) == {"energy", "DR"}
        assert sum(by_kind["DR"].values()) == model.accounts.ledger.state.supply["token"] > 0
        assert source.token_history()[-1].by_kind["DR"] == sum(by_kind["DR"].values())
        ledger = source.ledger()
        assert ledger is not None
        rows = ledger.latest_transactions(3000)
        kinds = {t.kind for t in rows}
        shown = ("reward", "penalty", "dr_command", "dr_outcome", "auction", "settlement")
        assert set(shown) <= kinds, kinds
        for t in rows:
            if t.kind in shown:
                assert t.sender and t.receiver, t
            if t.kind in ("auction", "settlement"):  # a whole auction's trades in one record
                assert t.unit.startswith("Wh") and "trades" in t.unit, t
        kpis = source.kpis()
        summary = model.summary()
        assert kpis["peak_import_kw"] == pytest.approx(summary["peak_grid_import_kw"], abs=1e-3)
        assert kpis["savings_eur"] == pytest.approx(
            summary["baseline_bills_eur_total"] - summary["bills_eur_total"], abs=1e-5)
        first = source.members()[0].member_id
        facts = dict(source.member_facts(first))
        assert facts["bill so far"].endswith("grid-only (saving "
                                             + facts["bill so far"].split("(saving ")[1])
    finally:
        model.close()
