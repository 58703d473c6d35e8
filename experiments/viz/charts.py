"""Prices and the energy balance: view-models and their matplotlib charts.

Each ``*_view`` function turns a :class:`PageSource` into plain numbers over
the recent window (``HISTORY_WINDOW_S``), with the summary figures the page
prints beside the chart; each ``draw_*`` function draws one view into an empty
figure and nothing else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from matplotlib.figure import Figure

from gridcoop.experiments.viz.figures import CHART_MARGINS, add_hover, axes_for, rescale
from gridcoop.experiments.viz.formatting import (
    HISTORY_WINDOW_S,
    PageDataError,
    hours,
    range_text,
    recent,
)
from gridcoop.experiments.viz.protocol import PageSource


@dataclass(frozen=True)
class PriceView:
    """Recent auctions: clearing price and volume against the tariffs."""

    hours: tuple[float, ...]
    clearing_price_eur_per_kwh: tuple[float | None, ...]
    """``None`` where nothing matched."""
    volume_kwh: tuple[float, ...]
    retail_eur_per_kwh: tuple[float, ...]
    feed_in_eur_per_kwh: tuple[float, ...]
    auction_count: int
    matched_count: int
    last_price_eur_per_kwh: float | None
    mean_price_eur_per_kwh: float | None
    """Volume-weighted over the window's matched auctions."""


def price_view(source: PageSource, window_s: int | None = HISTORY_WINDOW_S) -> PriceView:
    """Prices of the recent auctions and their volume-weighted mean."""
    all_rows = source.auctions()
    rows = recent(all_rows, window_s)
    prices: list[float | None] = []
    traded_kwh = 0.0
    traded_eur = 0.0
    for row in rows:
        if row.volume_kwh < 0:
            raise PageDataError(f"auction at {row.time_s} s has negative volume {row.volume_kwh}")
        price = row.clearing_price_eur_per_kwh
        prices.append(price)
        if price is None:
            continue
        traded_kwh += row.volume_kwh
        traded_eur += row.volume_kwh * price
    last = next((p for p in reversed(prices) if p is not None), None)
    return PriceView(
        hours=hours(rows),
        clearing_price_eur_per_kwh=tuple(prices),
        volume_kwh=tuple(row.volume_kwh for row in rows),
        retail_eur_per_kwh=tuple(row.retail_eur_per_kwh for row in rows),
        feed_in_eur_per_kwh=tuple(row.feed_in_eur_per_kwh for row in rows),
        auction_count=len(all_rows),
        matched_count=sum(1 for row in all_rows if row.clearing_price_eur_per_kwh is not None),
        last_price_eur_per_kwh=last,
        mean_price_eur_per_kwh=traded_eur / traded_kwh if traded_kwh > 0 else None,
    )


def draw_prices(figure: Figure, view: PriceView) -> None:
    """Clearing price against the retail and feed-in tariffs; volume as bars below."""
    price_ax, volume_ax = axes_for(figure, 2, {**CHART_MARGINS, "hspace": 0.1}, sharex=True,
                                   height_ratios=(3, 1))
    if view.hours:
        price_ax.step(view.hours, view.retail_eur_per_kwh, where="post", color="#d62728",
                      lw=1, label="retail tariff")
        price_ax.step(view.hours, view.feed_in_eur_per_kwh, where="post", color="#2ca02c",
                      lw=1, label="feed-in tariff")
        price_ax.plot(view.hours,
                      [math.nan if p is None else p for p in view.clearing_price_eur_per_kwh],
                      "o-", color="#1f77b4",
                      ms=3, lw=1.2, label="clearing price")
        width = min((b - a for a, b in zip(view.hours, view.hours[1:], strict=False)),
                    default=1.0) * 0.8
        volume_ax.bar(view.hours, view.volume_kwh, width=width, color="#1f77b4", alpha=0.6)
        price_ax.legend(fontsize=7, loc="upper left")
        rescale(price_ax, volume_ax)
        add_hover(price_ax, view.hours,
                  [r if p is None else p for p, r in zip(view.clearing_price_eur_per_kwh,
                                                          view.retail_eur_per_kwh, strict=True)],
                  [f"hour {h:g}: price {'-' if p is None else f'{p:.4f} €/kWh'}, "
                   f"{v:.2f} kWh traded; retail {r:.4f}, feed-in {f:.4f} €/kWh"
                   for h, p, v, r, f in zip(view.hours, view.clearing_price_eur_per_kwh,
                                            view.volume_kwh, view.retail_eur_per_kwh,
                                            view.feed_in_eur_per_kwh, strict=True)])
    else:
        price_ax.text(0.5, 0.5, "no auction cleared yet", ha="center", va="center",
                      transform=price_ax.transAxes, fontsize=9)
    last = ("-" if view.last_price_eur_per_kwh is None
            else f"{view.last_price_eur_per_kwh:.4f} €/kWh")
    price_ax.set_title(f"{view.auction_count} auctions, {view.matched_count} matched; "
                       f"last price {last}", fontsize=8)
    price_ax.set_ylabel("€/kWh", fontsize=8)
    volume_ax.set_ylabel("kWh", fontsize=8)
    volume_ax.set_xlabel("simulated hour", fontsize=8)
    for ax in (price_ax, volume_ax):
        ax.tick_params(labelsize=7)


@dataclass(frozen=True)
class BalanceView:
    """The community's production, consumption, grid exchange and storage over time."""

    hours: tuple[float, ...]
    production_kwh: tuple[float, ...]
    consumption_kwh: tuple[float, ...]
    import_kwh: tuple[float, ...]
    export_kwh: tuple[float, ...]
    storage_kwh: tuple[float, ...]
    """Net energy into storage per interval (negative: discharge)."""
    window_production_kwh: float
    window_consumption_kwh: float
    window_import_kwh: float
    window_export_kwh: float
    self_sufficiency: float | None
    """Share of the window's consumption not imported from the grid."""
    window_s: int | None


def balance_view(source: PageSource, window_s: int | None = HISTORY_WINDOW_S) -> BalanceView:
    """The recent energy balance and its totals."""
    rows = recent(source.energy_balance(), window_s)
    for row in rows:
        values = (row.production_kwh, row.consumption_kwh, row.import_kwh, row.export_kwh)
        if min(values) < 0:
            raise PageDataError(f"energy balance at {row.time_s} s has a negative entry: {values}")
    consumption = sum(row.consumption_kwh for row in rows)
    imported = sum(row.import_kwh for row in rows)
    return BalanceView(
        hours=hours(rows),
        production_kwh=tuple(row.production_kwh for row in rows),
        consumption_kwh=tuple(row.consumption_kwh for row in rows),
        import_kwh=tuple(row.import_kwh for row in rows),
        export_kwh=tuple(row.export_kwh for row in rows),
        storage_kwh=tuple(row.storage_kwh for row in rows),
        window_production_kwh=sum(row.production_kwh for row in rows),
        window_consumption_kwh=consumption,
        window_import_kwh=imported,
        window_export_kwh=sum(row.export_kwh for row in rows),
        self_sufficiency=max(0.0, 1.0 - imported / consumption) if consumption > 0 else None,
        window_s=window_s,
    )


def draw_balance(figure: Figure, view: BalanceView) -> None:
    """Production, consumption, grid import and export, and storage, per interval."""
    (ax,) = axes_for(figure)
    if view.hours:
        series = (("production", view.production_kwh, "#ff9f1c"),
                  ("consumption", view.consumption_kwh, "#8c564b"),
                  ("grid import", view.import_kwh, "#d62728"),
                  ("grid export", view.export_kwh, "#2ca02c"),
                  ("into storage", view.storage_kwh, "#9467bd"))
        for label, values, colour in series:
            ax.plot(view.hours, values, lw=1.2, color=colour, label=label,
                    marker="o" if len(view.hours) < 3 else None, ms=3)
        ax.axhline(0.0, color="#999999", lw=0.5)
        ax.legend(fontsize=7, loc="upper left")
        rescale(ax)
        add_hover(ax, view.hours, view.consumption_kwh,
                  [f"hour {h:.2f}: production {p:.2f}, consumption {c:.2f}, import {i:.2f}, "
                   f"export {e:.2f}, into storage {st:.2f} kWh"
                   for h, p, c, i, e, st in zip(view.hours, view.production_kwh,
                                                view.consumption_kwh, view.import_kwh,
                                                view.export_kwh, view.storage_kwh, strict=True)])
    else:
        ax.text(0.5, 0.5, "no metering interval yet", ha="center", va="center",
                transform=ax.transAxes, fontsize=9)
    share = "-" if view.self_sufficiency is None else f"{view.self_sufficiency:.0%}"
    ax.set_title(f"{range_text(view.window_s)}: produced "
                 f"{view.window_production_kwh:.1f} kWh, consumed "
                 f"{view.window_consumption_kwh:.1f} kWh, self-sufficiency {share}", fontsize=8)
    ax.set_ylabel("kWh per interval", fontsize=8)
    ax.set_xlabel("simulated hour", fontsize=8)
    ax.tick_params(labelsize=7)
