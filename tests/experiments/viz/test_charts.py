"""Prices and energy balance view-models: hand-worked figures, windows, bad input."""

from __future__ import annotations

import pytest
from matplotlib.figure import Figure

from gridcoop.experiments.viz.charts import balance_view, draw_balance, draw_prices, price_view
from gridcoop.experiments.viz.formatting import (
    PageDataError,
    format_sim_time,
    recent,
    short_hash,
)
from tests.experiments.viz.fakes import Auction, Balance, FakeSource

DAY = 86_400


def test_price_view_hand_worked() -> None:
    source = FakeSource(auction_rows=[Auction(0, 0.06, 10.0), Auction(3600, None, 0.0),
                                      Auction(7200, 0.08, 30.0)])
    view = price_view(source)
    assert view.hours == (0.0, 1.0, 2.0)
    assert view.clearing_price_eur_per_kwh[0] == 0.06
    assert view.clearing_price_eur_per_kwh[1] is None
    assert view.volume_kwh == (10.0, 0.0, 30.0)
    assert view.retail_eur_per_kwh == (0.095,) * 3
    assert view.feed_in_eur_per_kwh == (0.039,) * 3
    assert (view.auction_count, view.matched_count) == (3, 2)
    assert view.last_price_eur_per_kwh == 0.08
    # volume-weighted: (10 * 0.06 + 30 * 0.08) / (10 + 30) = 3.0 / 40 = 0.075
    assert view.mean_price_eur_per_kwh == pytest.approx(0.075)


def test_price_view_window_keeps_counts_of_the_whole_run() -> None:
    rows = [Auction(0, 0.05, 1.0), Auction(DAY, 0.05, 1.0), Auction(2 * DAY, 0.05, 1.0),
            Auction(3 * DAY + 3600, 0.07, 1.0)]
    view = price_view(FakeSource(auction_rows=rows))
    # newest at 3 d + 1 h; the 3-day window starts after 1 h, so the row at 0 s drops out
    assert view.hours == (24.0, 48.0, 73.0)
    assert view.auction_count == 4 and view.matched_count == 4


def test_price_view_empty_and_unmatched() -> None:
    assert price_view(FakeSource()).last_price_eur_per_kwh is None
    view = price_view(FakeSource(auction_rows=[Auction(0, None, 0.0)]))
    assert view.mean_price_eur_per_kwh is None and view.matched_count == 0


def test_price_view_rejects_negative_volume_and_disorder() -> None:
    with pytest.raises(PageDataError, match="negative volume"):
        price_view(FakeSource(auction_rows=[Auction(0, 0.05, -1.0)]))
    with pytest.raises(PageDataError, match="not in time order"):
        price_view(FakeSource(auction_rows=[Auction(3600, 0.05, 1.0), Auction(0, 0.05, 1.0)]))


def test_balance_view_hand_worked() -> None:
    source = FakeSource(balance_rows=[Balance(0, 2.0, 5.0, 3.0, 0.0, 1.0),
                                      Balance(900, 6.0, 4.0, 0.0, 2.0, 1.5)])
    view = balance_view(source)
    assert view.hours == (0.0, 0.25)
    assert (view.window_production_kwh, view.window_consumption_kwh) == (8.0, 9.0)
    assert (view.window_import_kwh, view.window_export_kwh) == (3.0, 2.0)
    # self-sufficiency = 1 - import / consumption = 1 - 3 / 9
    assert view.self_sufficiency == pytest.approx(2 / 3)
    assert view.storage_kwh == (1.0, 1.5)


def test_balance_view_edge_cases() -> None:
    assert balance_view(FakeSource()).self_sufficiency is None
    with pytest.raises(PageDataError, match="negative entry"):
        balance_view(FakeSource(balance_rows=[Balance(0, -1.0, 0.0, 0.0, 0.0)]))
    # batteries discharging: storage is negative, and the balance still holds
    # production 0 + import 1 = consumption 3 + export 0 + storage (-2)
    view = balance_view(FakeSource(balance_rows=[Balance(0, 0.0, 3.0, 1.0, 0.0, -2.0)]))
    assert view.storage_kwh == (-2.0,)


def test_charts_draw_empty_and_full() -> None:
    for view in (price_view(FakeSource()),
                 price_view(FakeSource(auction_rows=[Auction(0, 0.06, 3.0)]))):
        figure = Figure()
        draw_prices(figure, view)
        assert len(figure.axes) == 2
    figure = Figure()
    draw_balance(figure, balance_view(FakeSource(balance_rows=[Balance(0, 1, 1, 0, 0)])))
    assert "self-sufficiency 100%" in figure.axes[0].get_title()


def test_formatting() -> None:
    assert format_sim_time(0) == "day 1 00:00"
    # 90,061 s = 1 day + 1 h + 1 min + 1 s
    assert format_sim_time(90_061) == "day 2 01:01"
    with pytest.raises(PageDataError, match=">= 0"):
        format_sim_time(-1)
    assert short_hash("ab" * 32) == "ab" * 6
    assert short_hash("abc") == "abc"
    assert recent([]) == []


def test_redrawing_into_the_same_figure_replaces_the_data() -> None:
    figure = Figure()
    draw_prices(figure, price_view(FakeSource(auction_rows=[Auction(0, 0.06, 3.0)])))
    assert [len(ax.lines) for ax in figure.axes] == [3, 0]  # retail, feed-in, clearing price
    assert len(figure.axes[1].patches) == 1  # one volume bar
    rows = [Auction(0, 0.06, 3.0), Auction(3600, 0.5, 40.0)]
    draw_prices(figure, price_view(FakeSource(auction_rows=rows)))
    assert len(figure.axes) == 2
    assert [len(ax.lines) for ax in figure.axes] == [3, 0]
    assert len(figure.axes[1].patches) == 2
    price_ax, volume_ax = figure.axes
    # the limits follow the new data: 0.5 €/kWh and 40 kWh are inside, old limits are gone
    assert price_ax.get_ylim()[1] >= 0.5 and volume_ax.get_ylim()[1] >= 40.0
    draw_prices(figure, price_view(FakeSource()))
    assert sum(len(ax.lines) for ax in figure.axes) == 0
    assert figure.axes[0].texts[0].get_text() == "no auction cleared yet"
