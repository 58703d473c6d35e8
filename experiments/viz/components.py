"""Thin Solara components: each shows one :class:`~gridcoop.experiments.viz.render.Panel`.

All logic lives in the view-model and render modules; a component only turns
the model Mesa hands it into a page source, asks for its panel once per model
update, and lays the panel out in a card with the CSS class
``gridcoop-<key>`` (the browser tests find cards by it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import solara as _solara
from mesa.visualization.utils import update_counter

from gridcoop.experiments.viz.figures import SVG_MIME
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


def component(function: Callable[..., None]) -> Any:
    """``solara.component`` with a type mypy can see (Solara's decorator is untyped)."""
    return solara.component(function)


@component
def PanelCard(panel: Panel) -> None:
    """One card: title, summary line, badge, chart and table as the panel has them."""
    # The card fills its grid cell and scrolls inside it, so a long table never
    # spills over the card below.
    with solara.Card(panel.title, classes=[f"gridcoop-{panel.key}"], margin=0,
                     style={"height": "100%", "overflow-y": "auto"}):
        solara.Text(panel.summary, classes=["gridcoop-summary"],
                    style={"font-size": "13px", "color": "#666" if panel.absent else "#222"})
        if panel.badge is not None:
            solara.v.Chip(children=[panel.badge.text], small=True, label=True,
                          color="success" if panel.badge.ok else "error",
                          class_="gridcoop-badge " + ("verified" if panel.badge.ok
                                                      else "not-verified"))
        if panel.chart_svg is not None:
            solara.Image(panel.chart_svg, format=SVG_MIME, classes=["gridcoop-chart"])
        if panel.html is not None:
            solara.HTML(tag="div", unsafe_innerHTML=panel.html, classes=["gridcoop-tables"])


@component
def PanelView(model: Any, render: PanelRenderer) -> None:
    """``render``'s panel for the current model, recomputed once per model update."""
    state = solara.use_memo(PageState, [])
    counter = update_counter.value  # re-render after every step Mesa reports
    panel = solara.use_memo(lambda: render(as_page_source(model), state), [model, counter])
    PanelCard(panel)


@component
def NetworkPanel(model: Any) -> None:
    """The community network with this interval's flows."""
    PanelView(model, network_panel)


@component
def PricesPanel(model: Any) -> None:
    """Clearing prices and volumes against the tariffs."""
    PanelView(model, prices_panel)


@component
def BalancePanel(model: Any) -> None:
    """Production, consumption, import, export, storage."""
    PanelView(model, balance_panel)


@component
def LedgerPanel(model: Any) -> None:
    """Latest blocks and transactions, head hash, verified badge."""
    PanelView(model, ledger_panel)


@component
def LeaderboardPanel(model: Any) -> None:
    """Top and bottom ten."""
    PanelView(model, leaderboard_panel)


@component
def TokensPanel(model: Any) -> None:
    """Tokens over time."""
    PanelView(model, tokens_panel)


@component
def EVPanel(model: Any) -> None:
    """EV capacity, commitment and reserve calls."""
    PanelView(model, ev_panel)


@component
def DRPanel(model: Any) -> None:
    """DR events and compliance."""
    PanelView(model, dr_panel)


PAGE_COMPONENTS: list[Any] = [NetworkPanel, PricesPanel, BalancePanel, LedgerPanel,
                              LeaderboardPanel, TokensPanel, EVPanel, DRPanel]
"""Every panel as a Mesa SolaraViz component, in display order (as ``render.PANELS``)."""
