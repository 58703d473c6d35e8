"""The member view's range figures, storage, orders and trades, and the time range:
hand-built rows first, then a real neighbourhood against the model's own arrays."""

from __future__ import annotations

import numpy as np

from gridcoop.agents.model.community import CommunityModel
from gridcoop.experiments.viz.formatting import RANGES, first_per_hour, range_text, recent
from gridcoop.experiments.viz.member_source import node_physics
from gridcoop.experiments.viz.overview import member_panel, range_facts
from gridcoop.experiments.viz.render import PageState, balance_panel, prices_panel
from gridcoop.experiments.viz.source import as_page_source
from tests.experiments.viz.fakes import FakeSource, Member, MemberInterval, TokenPoint

DAY_S = 86_400


def test_ranges_and_their_titles() -> None:
    assert list(RANGES) == ["last day", "3 days", "week", "whole run"]
    assert [range_text(w) for w in RANGES.values()] == [
        "last 1 day", "last 3 days", "last 7 days", "whole run"]
    rows = [TokenPoint(t, 0) for t in (0, DAY_S, 5 * DAY_S)]
    assert recent(rows, None) == rows
    assert recent(rows, RANGES["week"]) == rows
    assert recent(rows, RANGES["3 days"]) == rows[2:]  # 5 days - 3 days = day 2, after day 1
    hourly = [TokenPoint(t, t) for t in (0, 900, 3600, 4500, 7199, 7200)]
    assert [p.time_s for p in first_per_hour(hourly)] == [0, 3600, 7200]


def test_range_figures_sum_the_chosen_range() -> None:
    # the range is (newest - window, newest]: an interval exactly a day older is out
    history = [MemberInterval(0, 1.0, 0.0), MemberInterval(2 * DAY_S + 1800, 0.5, 2.0),
               MemberInterval(3 * DAY_S, 0.25, 1.0)]
    source = FakeSource(member_rows=[Member("a", "prosumer", "r")], histories={"a": history})
    assert range_facts(source, "a", RANGES["last day"]) == [
        ("load, production (last 1 day)",
         "0.75 kWh used, 3.00 kWh produced (2 intervals)")]
    assert range_facts(source, "a", None) == [
        ("load, production (whole run)", "1.75 kWh used, 3.00 kWh produced (3 intervals)")]
    assert range_facts(source, "b", None) == [("load, production (whole run)", "not recorded")]
    panel = member_panel(source, PageState(), "a", window_s=None)
    assert "1.75 kWh used" in (panel.html or "") and "whole run" in panel.csv


def test_a_real_member_view_matches_the_model() -> None:
    model = CommunityModel("neighbourhood", households=40, regions=2, seed=3, days=2)
    try:
        source = as_page_source(model)
        ids = [m.member_id for m in source.members()]
        loads: dict[str, float] = dict.fromkeys(ids, 0.0)
        for _ in range(12):
            model.step()
            source.member_history(ids[0])  # the page looks after every step
            flows = model.last_flows
            assert flows is not None
            for i, member_id in enumerate(ids):
                loads[member_id] += float(np.float32(flows.consumption_kwh[i]))
        physics = model.population.physics
        assert flows is not None
        for i, member_id in enumerate(ids):
            facts = dict(source.member_facts(member_id))
            assert facts["load this interval"] == f"{flows.consumption_kwh[i]:.3f} kWh"
            assert facts["production this interval"] == f"{flows.production_kwh[i]:.3f} kWh"
            assert "bid (last gate)" in facts and "offer (last gate)" in facts
            part, local = node_physics(physics, i)
            has_ev = local in part.setup.ev_nodes.tolist()
            assert ("EV state of charge" in facts) == has_ev
            rows = source.member_history(member_id)
            assert len(rows) == 12
            assert abs(sum(r.load_kwh for r in rows) - loads[member_id]) < 1e-6
        assert any("EV state of charge" in dict(source.member_facts(m)) for m in ids)
        # a member's trades name the other party; the last gate's orders are the model's own
        last = model.orders.last
        assert last is not None
        bidder = next(i for i in range(len(ids)) if int(last.bid_wh[i]) > 0)
        assert dict(source.member_facts(ids[bidder]))["bid (last gate)"].startswith(
            f"{int(last.bid_wh[bidder]) / 1000:,.3f} kWh at up to")
        # every time-series panel follows the range
        state = PageState()
        assert balance_panel(source, state, window_s=None).summary.endswith("(whole run)")
        # the same auctions in both ranges: the card still says which range it shows
        assert prices_panel(source, state, window_s=None).summary.endswith("(whole run)")
        assert prices_panel(source, state, window_s=DAY_S).summary.endswith("(last 1 day)")
    finally:
        model.close()
