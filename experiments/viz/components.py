"""Thin Solara components: each shows one :class:`~gridcoop.experiments.viz.render.Panel`.

All logic lives in the view-model and render modules; a component only turns
the model into a page source, asks for its panel once per model update, and
lays the panel out in a card with the CSS class ``gridcoop-<key>`` (the
browser tests find cards by it).

Charts are inline SVG scaled to their card (never clipped), with a tooltip on
every data point; each card has a CSV download of what it shows. Nothing here
asks the browser for a file beyond the page's own assets (no icon fonts).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import solara as _solara
from mesa.visualization.utils import update_counter

from gridcoop.experiments.viz.formatting import DEFAULT_RANGE, RANGES
from gridcoop.experiments.viz.gamification import ALL_KINDS
from gridcoop.experiments.viz.ledger_panel import ChainVerifier
from gridcoop.experiments.viz.overview import Tile, kpi_tiles, member_ids, member_panel
from gridcoop.experiments.viz.render import (
    PageState,
    Panel,
    balance_panel,
    dr_panel,
    ev_panel,
    leaderboard_panel,
    ledger_panel,
    network_panel,
    prices_panel,
    tokens_panel,
)
from gridcoop.experiments.viz.source import as_page_source

# Solara re-exports its API implicitly, which mypy does not see; the page uses it untyped.
solara: Any = _solara

PanelRenderer = Callable[..., Panel]
GRID_STYLE = {"display": "grid", "grid-template-columns": "repeat(auto-fill, minmax(460px, 1fr))",
              "gap": "12px", "align-items": "start", "padding-bottom": "48px"}
_SVG_SIZE = re.compile(rb'<svg([^>]*?) width="[^"]*" height="[^"]*"')


def component(function: Callable[..., None]) -> Any:
    """``solara.component`` with a type mypy can see (Solara's decorator is untyped)."""
    return solara.component(function)


def responsive_svg(svg: bytes) -> str:
    """The chart's SVG filling its card's width (its viewBox keeps the proportions)."""
    return _SVG_SIZE.sub(rb'<svg\1 width="100%"', svg, count=1).decode("utf-8")


@component
def PanelCard(panel: Panel) -> None:
    """One card: title, summary line, CSV download, badge, chart and table."""
    with solara.Card(panel.title, classes=[f"gridcoop-{panel.key}"], margin=0):
        with solara.Row(style={"align-items": "center", "justify-content": "space-between"}):
            solara.Text(panel.summary, classes=["gridcoop-summary"],
                        style={"font-size": "13px", "color": "#666" if panel.absent else "#222"})
            if panel.csv:
                solara.FileDownload(panel.csv, filename=f"gridcoop-{panel.key}.csv",
                                    label="CSV", icon_name=None, mime_type="text/csv")
        if panel.badge is not None:
            solara.v.Chip(children=[panel.badge.text], small=True, label=True,
                          color="success" if panel.badge.ok else "error",
                          class_="gridcoop-badge " + ("verified" if panel.badge.ok
                                                      else "not-verified"))
        if panel.chart_svg is not None:
            solara.HTML(tag="div", unsafe_innerHTML=responsive_svg(panel.chart_svg),
                        classes=["gridcoop-chart"], style={"width": "100%"})
        if panel.html is not None:
            solara.HTML(tag="div", unsafe_innerHTML=panel.html, classes=["gridcoop-tables"],
                        style={"max-height": "420px", "overflow": "auto"})


@component
def PanelView(model: Any, render: PanelRenderer, **options: Any) -> None:
    """``render``'s panel for the current model, recomputed once per model update."""
    state = solara.use_memo(PageState, [])
    counter = update_counter.value  # re-render after every step Mesa reports
    panel = solara.use_memo(lambda: render(as_page_source(model), state, **options),
                            [model, counter, *options.values()])
    PanelCard(panel)


@component
def KpiTiles(model: Any) -> None:
    """Self-sufficiency, self-consumption, savings, peak import, ledger verified."""
    verifier = solara.use_memo(ChainVerifier, [model])
    counter = update_counter.value
    tiles: list[Tile] = solara.use_memo(lambda: kpi_tiles(as_page_source(model), verifier),
                                        [model, counter])
    with solara.Row(classes=["gridcoop-kpis"], style={"flex-wrap": "wrap", "gap": "8px"}):
        for tile in tiles:
            colour = {True: "#e8f5e9", False: "#ffebee", None: "#f5f5f5"}[tile.ok]
            with solara.Card(margin=0, classes=[f"gridcoop-kpi-{tile.key}"],
                             style={"min-width": "170px", "background": colour}):
                solara.Text(tile.label, style={"font-size": "12px", "color": "#555"})
                solara.HTML(tag="div", unsafe_innerHTML=tile.value, classes=["gridcoop-kpi"],
                            style={"font-size": "22px", "font-weight": "600"})


@component
def TokenPanels(model: Any, window_s: int | None) -> None:
    """The leaderboard and the tokens chart, with one filter over the token kinds."""
    kind = solara.use_reactive(ALL_KINDS)
    counter = update_counter.value
    kinds = solara.use_memo(lambda: list(as_page_source(model).tokens_by_kind()),
                            [model, counter])
    choices = [ALL_KINDS, *kinds]
    chosen = kind.value if kind.value in choices else ALL_KINDS
    solara.ToggleButtonsSingle(value=chosen, values=choices, on_value=kind.set,
                               classes=["gridcoop-token-filter"])
    PanelView(model, leaderboard_panel, kind=chosen)
    PanelView(model, tokens_panel, kind=chosen, window_s=window_s)


@component
def MemberView(model: Any, window_s: int | None) -> None:
    """Pick a member: its load, production, storage, orders and trades, bill, tokens and
    ledger transactions."""
    ids = solara.use_memo(lambda: member_ids(as_page_source(model)), [model])
    member = solara.use_reactive(ids[0] if ids else "")
    if not ids:
        return
    chosen = member.value if member.value in ids else ids[0]
    solara.Select("Member", value=chosen, values=ids, on_value=member.set,
                  classes=["gridcoop-member-select"])
    PanelView(model, member_panel, member_id=chosen, window_s=window_s)


@component
def RangeControl(span: Any) -> None:
    """The time range every time-series chart follows; a narrower range is the zoom."""
    with solara.Row(classes=["gridcoop-range"], style={"align-items": "center"}):
        solara.Text("Time range (zoom):", style={"font-size": "13px"})
        solara.ToggleButtonsSingle(value=span.value, values=list(RANGES), on_value=span.set,
                                   classes=["gridcoop-range-select"])


@component
def PageBody(model: Any) -> None:
    """KPI tiles, the time range, then every panel on a grid that wraps to the window's width."""
    span = solara.use_reactive(DEFAULT_RANGE)
    window_s = RANGES[span.value]
    KpiTiles(model)
    RangeControl(span)
    with solara.Div(style=GRID_STYLE):
        PanelView(model, network_panel)
        PanelView(model, prices_panel, window_s=window_s)
        PanelView(model, balance_panel, window_s=window_s)
        PanelView(model, ledger_panel)
        with solara.Column(gap="8px"):
            TokenPanels(model, window_s)
        PanelView(model, ev_panel, window_s=window_s)
        PanelView(model, dr_panel)
        with solara.Column(gap="8px"):
            MemberView(model, window_s)
