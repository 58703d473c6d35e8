"""A full redraw: every panel, SVG charts, absent communities, escaped tables."""

from __future__ import annotations

from gridcoop.experiments.viz.render import (
    NOT_IN_SCENARIO,
    PANELS,
    PageState,
    render_page,
    table_html,
)
from tests.experiments.viz.fakes import (
    Auction,
    Balance,
    Call,
    Capacity,
    Event,
    FakeDR,
    FakeEV,
    TokenPoint,
    small_community,
)
from tests.experiments.viz.test_ledger_panel import chain

SVG = b"<?xml"


def test_every_panel_renders_without_ev_and_dr() -> None:
    source = small_community()
    panels = render_page(source, PageState())
    assert [p.key for p in panels] == ["network", "prices", "balance", "ledger", "leaderboard",
                                       "tokens", "ev", "dr"]
    assert len(panels) == len(PANELS)
    by_key = {p.key: p for p in panels}
    for key in ("network", "prices", "balance", "tokens"):
        svg = by_key[key].chart_svg
        assert svg is not None and svg.startswith(SVG) and b"<svg" in svg
    for key in ("ev", "dr", "ledger"):
        assert by_key[key].absent and NOT_IN_SCENARIO in by_key[key].summary
        assert by_key[key].chart_svg is None
    assert by_key["network"].summary == "5 members in 2 aggregator regions"


def test_full_community_renders_every_chart() -> None:
    source = small_community()
    source.auction_rows = [Auction(0, 0.06, 2.0)]
    source.balance_rows = [Balance(0, 1.0, 2.0, 1.0, 0.0)]
    source.ledger_source = chain(4)
    source.token_balances = {"p1": 5, "<b>x</b>": 3}
    source.token_points = [TokenPoint(0, 8)]
    source.ev_source = FakeEV([Capacity(0, 5.0, 4.0)], [Call(0, 4.0, 4.0)])
    source.dr_source = FakeDR([Event(0, 2, 3, 2, 1)])
    state = PageState()
    by_key = {p.key: p for p in render_page(source, state)}
    assert all(not p.absent for p in by_key.values())
    assert by_key["ev"].chart_svg is not None and by_key["dr"].chart_svg is not None
    assert by_key["ledger"].badge is not None and by_key["ledger"].badge.ok
    assert by_key["ledger"].badge.text.startswith("verified: chain verified up to block 3")
    assert by_key["ledger"].summary == "head block 3, 10 latest transactions"
    assert f"head {'03' * 32}" in (by_key["ledger"].html or "")
    assert "&lt;b&gt;x&lt;/b&gt;" in (by_key["leaderboard"].html or "")
    assert by_key["dr"].summary == "1 events; compliance 50%"
    assert by_key["prices"].summary == ("1 auctions; volume-weighted mean price 0.0600 €/kWh "
                                       "(last 3 days)")


def test_table_html_escapes_cells() -> None:
    html = table_html(("a",), [("<script>",)])
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_unchanged_views_are_not_drawn_again() -> None:
    source = small_community()
    source.auction_rows = [Auction(0, 0.06, 2.0)]
    state = PageState()
    first = {p.key: p for p in render_page(source, state)}
    drawn = state.draws
    assert drawn == 4  # network, prices, balance, tokens; EV and DR absent
    again = {p.key: p for p in render_page(source, state)}
    assert state.draws == drawn and again["prices"] is first["prices"]
    source.auction_rows = [Auction(0, 0.06, 2.0), Auction(3600, 0.07, 1.0)]
    after = {p.key: p for p in render_page(source, state)}
    assert state.draws == drawn + 1 and after["prices"] is not first["prices"]
    assert after["prices"].summary.startswith("2 auctions")


def test_charts_are_svg_with_text_as_text_and_reproducible() -> None:
    network = render_page(small_community(), PageState())[0]
    again = render_page(small_community(), PageState())[0]
    svg = network.chart_svg
    assert svg is not None and b"<text" in svg
    assert b"grid import 1.00 kWh" in svg  # the title, searchable, not glyph outlines
    assert svg == again.chart_svg  # no timestamp, fixed ids: the same view, the same bytes
