"""Server-side rendering of every panel of the page, with no Solara in sight.

Each ``*_panel`` function turns a :class:`PageSource` into a :class:`Panel`:
a title, a one-line summary, an SVG chart and/or an HTML table, a "verified"
badge, or the sentence saying the community is absent from this scenario. The
Solara components (``gridcoop.experiments.viz.components``) only display panels; the
benchmark times :func:`render_page`, which is exactly one full redraw.

Charts are matplotlib figures rendered to SVG on the server: nothing extra for
the browser to load, which matters on an offline campus server.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from matplotlib.figure import Figure

from gridcoop.experiments.viz.charts import balance_view, draw_balance, draw_prices, price_view
from gridcoop.experiments.viz.figures import CHART_SIZE_IN, NETWORK_SIZE_IN, new_figure, to_svg
from gridcoop.experiments.viz.flexibility import dr_view, draw_dr, draw_ev, ev_view
from gridcoop.experiments.viz.formatting import HISTORY_WINDOW_S, range_text
from gridcoop.experiments.viz.gamification import ALL_KINDS, draw_tokens, leaderboard_view
from gridcoop.experiments.viz.ledger_panel import ChainVerifier, ledger_view
from gridcoop.experiments.viz.network import draw_network, network_view
from gridcoop.experiments.viz.protocol import PageSource

V = TypeVar("V")

NOT_IN_SCENARIO = "not in this scenario"


@dataclass(frozen=True)
class Badge:
    """A coloured label: the ledger's verification outcome."""

    ok: bool
    text: str


@dataclass(frozen=True)
class Panel:
    """What one card of the page shows."""

    key: str
    """Stable name, used as the card's CSS class ``gridcoop-<key>``."""
    title: str
    summary: str
    chart_svg: bytes | None = None
    html: str | None = None
    badge: Badge | None = None
    absent: bool = False
    """True when the scenario has no such community (the summary says so)."""
    csv: str = ""
    """What the panel shows as a CSV table (the page's download button)."""


@dataclass
class PageState:
    """What lives across redraws of one browser session.

    ``panels`` keeps each panel with the view it was drawn from: a chart whose
    view did not change since the last redraw (prices between two auctions,
    tokens within a day) is not drawn again.
    """

    verifier: ChainVerifier = field(default_factory=ChainVerifier)
    panels: dict[str, tuple[object, Panel]] = field(default_factory=dict)
    figures: dict[str, Figure] = field(default_factory=dict)
    charts: dict[str, tuple[object, bytes]] = field(default_factory=dict)
    """Charts kept apart from their panel's text, for panels whose text changes more
    often than their chart (the token totals)."""
    draws: int = 0
    """Charts drawn so far (for tests and the benchmark)."""


def reuse_or_draw(state: PageState, key: str, view: object, make: Callable[[], Panel]) -> Panel:
    """The panel drawn for an equal view last time, or ``make()``'s."""
    cached = state.panels.get(key)
    if cached is not None and cached[0] == view:
        return cached[1]
    panel = make()
    state.panels[key] = (view, panel)
    state.draws += 1
    return panel


def reuse_or_draw_chart(state: PageState, key: str, view: object,
                        draw: Callable[[], bytes]) -> bytes:
    """The chart drawn for an equal view last time, or ``draw()``'s."""
    cached = state.charts.get(key)
    if cached is not None and cached[0] == view:
        return cached[1]
    svg = draw()
    state.charts[key] = (view, svg)
    state.draws += 1
    return svg


def figure_svg(state: PageState, key: str, draw: Callable[[Figure, V], None], view: V,
               size_in: tuple[float, float] = CHART_SIZE_IN) -> bytes:
    """Draw one view into the panel's figure (made once per session) and return SVG bytes."""
    figure = state.figures.get(key)
    if figure is None:
        figure = state.figures[key] = new_figure(size_in)
    draw(figure, view)
    return to_svg(figure)


def table_html(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A small HTML table; every cell is escaped (member ids come from scenario files)."""
    head = "".join(f"<th style='text-align:left'>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return (f'<table class="gridcoop-table" style="font-size:12px;width:100%">'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def csv_text(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A CSV table (the download of what a panel shows); ``None`` cells stay empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(["" if cell is None else cell for cell in row] for row in rows)
    return buffer.getvalue()


def network_panel(source: PageSource, state: PageState) -> Panel:
    """The community network with this interval's flows."""
    view = network_view(source)
    flows = {f.member_id: f for f in source.interval_flows()}
    members = sum(1 for n in view.nodes if n.kind not in ("market", "grid", "aggregator"))
    regions = sum(1 for n in view.nodes if n.kind == "aggregator")
    return reuse_or_draw(state, "network", view, lambda: Panel(
        "network", "Community network", f"{members} members in {regions} aggregator regions",
        chart_svg=figure_svg(state, "network", draw_network, view, NETWORK_SIZE_IN),
        csv=csv_text(("member", "kind", "region", "import_kwh", "export_kwh"),
                     [(m.member_id, m.kind, m.region_id,
                       *((flows[m.member_id].import_kwh, flows[m.member_id].export_kwh)
                         if m.member_id in flows else (None, None)))
                      for m in source.members()])))


def prices_panel(source: PageSource, state: PageState,
                 window_s: int | None = HISTORY_WINDOW_S) -> Panel:
    """Clearing prices and volumes against the tariffs, over the chosen range."""
    view = price_view(source, window_s)
    mean = ("-" if view.mean_price_eur_per_kwh is None
            else f"{view.mean_price_eur_per_kwh:.4f} €/kWh")
    return reuse_or_draw(state, "prices", (view, window_s), lambda: Panel(
        "prices", "Prices", f"{view.auction_count} auctions; volume-weighted mean price {mean} "
        f"({range_text(window_s)})",
        chart_svg=figure_svg(state, "prices", draw_prices, view),
        csv=csv_text(("hour", "clearing_price_eur_per_kwh", "volume_kwh", "retail_eur_per_kwh",
                      "feed_in_eur_per_kwh"),
                     list(zip(view.hours, view.clearing_price_eur_per_kwh, view.volume_kwh,
                              view.retail_eur_per_kwh, view.feed_in_eur_per_kwh,
                              strict=True)))))


def balance_panel(source: PageSource, state: PageState,
                  window_s: int | None = HISTORY_WINDOW_S) -> Panel:
    """Production, consumption, import, export, storage, over the chosen range."""
    view = balance_view(source, window_s)
    return reuse_or_draw(state, "balance", view, lambda: Panel(
        "balance", "Energy balance", f"import {view.window_import_kwh:.1f} kWh, export "
        f"{view.window_export_kwh:.1f} kWh ({range_text(window_s)})",
        chart_svg=figure_svg(state, "balance", draw_balance, view),
        csv=csv_text(("hour", "production_kwh", "consumption_kwh", "import_kwh", "export_kwh",
                      "storage_kwh"),
                     list(zip(view.hours, view.production_kwh, view.consumption_kwh,
                              view.import_kwh, view.export_kwh, view.storage_kwh,
                              strict=True)))))


def ledger_panel(source: PageSource, state: PageState) -> Panel:
    """Latest blocks and transactions, the head hash and the verification badge."""
    view = ledger_view(source, state.verifier)
    if view is None:
        return Panel("ledger", "Ledger", f"ledger: {NOT_IN_SCENARIO}", absent=True)
    blocks = table_html(("block", "hash", "time", "tx"),
                        [(b.height, b.block_hash, b.time, b.transaction_count)
                         for b in view.blocks])
    transactions = table_html(("tx", "kind", "from", "to", "amount"),
                              [(t.tx_id, t.kind, t.sender, t.receiver, t.amount_text)
                               for t in view.transactions])
    head = (f"<div style='font-family:monospace;font-size:11px;word-break:break-all'>"
            f"head {html.escape(view.head_hash)}</div>")
    return Panel("ledger", "Ledger", f"head block {view.height}, {len(view.transactions)} "
                 "latest transactions", html=head + blocks + transactions,
                 csv=csv_text(("tx", "kind", "from", "to", "amount"),
                              [(t.tx_id, t.kind, t.sender, t.receiver, t.amount_text)
                               for t in view.transactions]),
                 badge=Badge(view.verification.verified,
                             ("verified" if view.verification.verified else "NOT verified")
                             + f": {view.verification.message}"))


def leaderboard_panel(source: PageSource, state: PageState, kind: str = ALL_KINDS) -> Panel:
    """The top and bottom ten of the gamification, for one token kind or all."""
    view = leaderboard_view(source, kind=kind)
    what = "tokens" if kind == ALL_KINDS else f"{kind} tokens"
    top = table_html(("rank", f"most {what}", ""),
                     [(r.rank, r.member_id, f"{r.tokens:,}") for r in view.top])
    bottom = table_html(("rank", f"fewest {what}", ""),
                        [(r.rank, r.member_id, f"{r.tokens:,}") for r in view.bottom])
    columns = f"<div style='flex:1'>{top}</div>" + (
        f"<div style='flex:1'>{bottom}</div>" if view.bottom else "")
    return Panel("leaderboard", "Leaderboard",
                 f"top {len(view.top)} and bottom {len(view.bottom)} of {view.member_count} "
                 f"({'all kinds' if kind == ALL_KINDS else kind}; kinds: "
                 f"{', '.join(view.kinds) or '-'})",
                 html=f"<div style='display:flex;gap:16px'>{columns}</div>",
                 csv=csv_text(("rank", "holder", "tokens", "kind"),
                              [(r.rank, r.member_id, r.tokens, kind)
                               for r in (*view.top, *view.bottom)]))


def tokens_panel(source: PageSource, state: PageState, kind: str = ALL_KINDS,
                 window_s: int | None = HISTORY_WINDOW_S) -> Panel:
    """The community's tokens over time, per kind, over the chosen range."""
    view = leaderboard_view(source, window_s=window_s, kind=kind)
    chart = reuse_or_draw_chart(state, "tokens", (view.hours, view.series, kind),
                                lambda: figure_svg(state, "tokens", draw_tokens, view))
    return Panel(
        "tokens", "Tokens over time",
        f"{view.total_tokens:,} tokens in circulation held by {view.member_count} holders "
        f"({'all kinds' if kind == ALL_KINDS else kind})",
        chart_svg=chart,
        csv=csv_text(("hour", *(name for name, _ in view.series)),
                     [(h, *(values[i] for _, values in view.series))
                      for i, h in enumerate(view.hours)]))


def ev_panel(source: PageSource, state: PageState,
             window_s: int | None = HISTORY_WINDOW_S) -> Panel:
    """EV capacity vs commitment and reserve calls over the chosen range, or a line saying
    there is no EV community."""
    view = ev_view(source, window_s)
    if view is None:
        return Panel("ev", "EV community", f"EV community: {NOT_IN_SCENARIO}", absent=True)
    return reuse_or_draw(state, "ev", view, lambda: Panel(
        "ev", "EV community",
        f"{len(view.calls)} reserve calls, {view.calls_fully_served} fully served",
        chart_svg=figure_svg(state, "ev", draw_ev, view),
        csv=csv_text(("hour", "available_kw", "committed_kw"),
                     list(zip(view.hours, view.available_kw, view.committed_kw,
                              strict=True)))))


def dr_panel(source: PageSource, state: PageState) -> Panel:
    """DR events and compliance, or a line saying there is no DR community."""
    view = dr_view(source)
    if view is None:
        return Panel("dr", "Demand response", f"DR community: {NOT_IN_SCENARIO}", absent=True)
    share = "-" if view.compliance is None else f"{view.compliance:.0%}"
    return reuse_or_draw(state, "dr", view, lambda: Panel(
        "dr", "Demand response", f"{view.event_count} events; compliance {share}",
        chart_svg=figure_svg(state, "dr", draw_dr, view),
        csv=csv_text(("hour", "level", "targets", "opted_in", "complied"),
                     [(e.hour, e.level, e.targets, e.opted_in, e.complied)
                      for e in view.latest])))


PANELS: tuple[Callable[[PageSource, PageState], Panel], ...] = (
    network_panel, prices_panel, balance_panel, ledger_panel,
    leaderboard_panel, tokens_panel, ev_panel, dr_panel,
)
"""Every panel of the page, in display order."""


def render_page(source: PageSource, state: PageState) -> list[Panel]:
    """One full redraw: every view-model recomputed, every chart drawn."""
    return [panel(source, state) for panel in PANELS]
