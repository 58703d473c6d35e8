"""The network view: hand-worked flows, conservation at every node, bad input."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from gridcoop.experiments.viz.formatting import PageDataError
from gridcoop.experiments.viz.network import (
    GRID,
    MARKET,
    MAX_EDGE_WIDTH_PT,
    MIN_FLOW_WIDTH_PT,
    ZERO_EDGE_WIDTH_PT,
    NetworkEdge,
    NetworkView,
    draw_network,
    edge_width_pt,
    kind_colour,
    network_view,
)
from tests.experiments.viz.fakes import FakeSource, Flow, Member, small_community


def edges_by_pair(view: NetworkView) -> dict[tuple[str, str], NetworkEdge]:
    return {(e.source, e.target): e for e in view.edges}


def test_hand_worked_flows_and_widths() -> None:
    view = network_view(small_community())
    edges = edges_by_pair(view)
    # members: net = export - import
    # p1: 2.0 - 0.0 = +2.0 -> p1 sends to north
    assert edges[("mem:p1", "agg:north")].energy_kwh == 2.0
    assert edges[("mem:p1", "agg:north")].towards_market is True
    # p2: 0.0 - 0.5 = -0.5 -> north sends to p2
    assert edges[("agg:north", "mem:p2")].energy_kwh == 0.5
    assert edges[("agg:north", "mem:p2")].towards_market is False
    # e1: -3.0; d1: 0.75 - 0.25 = +0.5
    assert edges[("agg:south", "mem:e1")].energy_kwh == 3.0
    assert edges[("mem:d1", "agg:south")].energy_kwh == 0.5
    # c1 has no reading this interval: an idle edge straight to the market
    assert edges[("mem:c1", MARKET)].energy_kwh == 0.0
    assert edges[("mem:c1", MARKET)].width_pt == ZERO_EDGE_WIDTH_PT
    # regions: north = 2.0 - 0.5 = +1.5; south = -3.0 + 0.5 = -2.5
    assert edges[("agg:north", MARKET)].energy_kwh == 1.5
    assert edges[(MARKET, "agg:south")].energy_kwh == 2.5
    # community: 1.5 - 2.5 + 0 = -1.0 -> 1 kWh imported from the grid
    assert edges[(GRID, MARKET)].energy_kwh == 1.0
    assert view.grid_import_kwh == 1.0 and view.grid_export_kwh == 0.0
    # widths proportional to kWh, the largest flow (3 kWh) at the maximum width
    assert view.max_edge_kwh == 3.0
    assert edges[("agg:south", "mem:e1")].width_pt == MAX_EDGE_WIDTH_PT
    assert edges[("agg:north", MARKET)].width_pt == pytest.approx(MAX_EDGE_WIDTH_PT * 1.5 / 3.0)
    assert edges[(GRID, MARKET)].width_pt == pytest.approx(MAX_EDGE_WIDTH_PT / 3.0)
    assert view.member_kinds == ("consumer", "dr_household", "ev_owner", "prosumer")
    assert view.step_count == 4
    assert len(view.nodes) == 2 + 2 + 5 and len(view.edges) == 5 + 2 + 1


def test_layout_is_deterministic_and_separates_nodes() -> None:
    first = network_view(small_community())
    again = network_view(small_community())
    assert first.nodes == again.nodes
    points = [(n.x, n.y) for n in first.nodes]
    assert len(set(points)) == len(points)
    market = next(n for n in first.nodes if n.node_id == MARKET)
    assert (market.x, market.y) == (0.0, 0.0)
    for node in first.nodes:
        if node.node_id.startswith("agg:"):
            assert math.hypot(node.x, node.y) == pytest.approx(1.0)


def test_edge_width_edge_cases() -> None:
    assert edge_width_pt(0.0, 5.0) == ZERO_EDGE_WIDTH_PT
    assert edge_width_pt(1.0, 0.0) == ZERO_EDGE_WIDTH_PT
    assert edge_width_pt(2.5, 5.0) == MAX_EDGE_WIDTH_PT / 2
    # a tiny flow keeps a visible floor: 0.01 / 100 * 8 pt = 0.0008 pt -> 0.6 pt
    assert edge_width_pt(0.01, 100.0) == MIN_FLOW_WIDTH_PT


def test_empty_community() -> None:
    view = network_view(FakeSource())
    assert [n.node_id for n in view.nodes] == [MARKET, GRID]
    assert view.grid_import_kwh == 0.0 and view.max_edge_kwh == 0.0


def test_unknown_kinds_get_distinct_stable_colours() -> None:
    kinds = ["zeta", "alpha", "prosumer"]
    assert kind_colour("alpha", kinds) != kind_colour("zeta", kinds)
    assert kind_colour("alpha", kinds) == kind_colour("alpha", list(reversed(kinds)))
    assert kind_colour("prosumer", kinds) == "#ff9f1c"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (FakeSource(member_rows=[Member("a", "prosumer", "nowhere")], region_ids=["r"]),
         "unknown aggregator 'nowhere'"),
        (FakeSource(member_rows=[Member("a", "prosumer", ""), Member("a", "consumer", "")]),
         "listed twice"),
        (FakeSource(member_rows=[Member("a", "prosumer", "")], flows=[Flow("b", 1.0, 0.0)]),
         "unknown member 'b'"),
        (FakeSource(member_rows=[Member("a", "prosumer", "")], flows=[Flow("a", -1.0, 0.0)]),
         "must be >= 0"),
        (FakeSource(region_ids=["r", "r"]), "unique"),
    ],
)
def test_bad_input_is_named(source: FakeSource, message: str) -> None:
    with pytest.raises(PageDataError, match=message):
        network_view(source)


flows_strategy = st.lists(
    st.tuples(st.integers(0, 3), st.floats(0, 50), st.floats(0, 50)), min_size=1, max_size=30)


@given(flows_strategy)
def test_energy_is_conserved_at_every_node(rows: list[tuple[int, float, float]]) -> None:
    regions = ["r0", "r1", "r2"]
    members = [Member(f"m{i}", "prosumer", regions[r] if r < 3 else "")
               for i, (r, _, _) in enumerate(rows)]
    flows = [Flow(f"m{i}", imp, exp) for i, (_, imp, exp) in enumerate(rows)]
    view = network_view(FakeSource(member_rows=members, region_ids=regions, flows=flows))
    balance: dict[str, float] = {}
    for edge in view.edges:
        assert edge.energy_kwh >= 0
        assert edge.width_pt <= MAX_EDGE_WIDTH_PT + 1e-9
        balance[edge.source] = balance.get(edge.source, 0.0) - edge.energy_kwh
        balance[edge.target] = balance.get(edge.target, 0.0) + edge.energy_kwh
    scale = max(1.0, sum(imp + exp for _, imp, exp in rows))
    for node_id in [MARKET, *(f"agg:{r}" for r in regions)]:
        assert abs(balance.get(node_id, 0.0)) <= 1e-9 * scale, node_id
    assert view.grid_import_kwh * view.grid_export_kwh == 0.0


def test_drawing_uses_the_view_widths() -> None:
    view = network_view(small_community())
    figure = Figure()
    draw_network(figure, view)
    ax = figure.axes[0]
    collections = [c for c in ax.collections if isinstance(c, LineCollection)]
    flowing = sorted(e.width_pt for e in view.edges if e.energy_kwh > 0)
    widths = [list(c.get_linewidth()) for c in collections]  # type: ignore[arg-type]
    drawn = sorted(w for ws in widths if len(ws) > 1 for w in ws)
    assert drawn == pytest.approx(flowing)
    assert "grid import 1.00 kWh" in ax.get_title()
    # drawing again into the same figure replaces the lines instead of adding to them
    draw_network(figure, view)
    assert len(figure.axes) == 1
    assert len([c for c in ax.collections if isinstance(c, LineCollection)]) == len(collections)
