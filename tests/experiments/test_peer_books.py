"""The peers benchmark's books: one answer per hour, and gridcoop trades exactly it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gridcoop.experiments.bench import peers
from gridcoop.experiments.bench.peer_books import Books, cleared_wh, make_books
from gridcoop.market import Order, Side, clear


def test_books_have_no_ties_and_an_empty_first_hour() -> None:
    books = make_books(30, 2, seed=5)
    assert books.demand_wh.shape == books.supply_wh.shape == (48, 30)
    assert (books.demand_eur_per_mwh % 2 == 1).all() and (books.supply_eur_per_mwh % 2 == 0).all()
    assert not books.demand_wh[0].any() and not books.supply_wh[0].any()
    assert np.array_equal(make_books(30, 2, seed=5).demand_wh, books.demand_wh)


def test_the_reference_is_what_the_market_clears() -> None:
    books = make_books(12, 1, seed=9)
    reference = cleared_wh(books)
    for hour in (1, 8, 13, 20):
        orders = [Order(f"d{u}", f"d{u}", Side.BUY, int(books.demand_wh[hour, u]),
                        int(books.demand_eur_per_mwh[u]) * 1000, hour, u)
                  for u in range(books.units)]
        orders += [Order(f"s{u}", f"s{u}", Side.SELL, int(books.supply_wh[hour, u]),
                         int(books.supply_eur_per_mwh[u]) * 1000, hour, books.units + u)
                   for u in range(books.units)]
        result = clear(orders, mechanism="pay_as_clear")
        assert sum(t.energy_wh for t in result.trades) == reference[hour]


def test_a_hand_worked_hour() -> None:
    books = Books(demand_wh=np.array([[0, 0], [300, 200]]),
                  demand_eur_per_mwh=np.array([101, 51]),
                  supply_wh=np.array([[0, 0], [250, 400]]),
                  supply_eur_per_mwh=np.array([20, 60]))
    # 300 Wh at 101 meet 250 Wh at 20 and 50 Wh at 60; 200 Wh at 51 stays below 60
    assert cleared_wh(books).tolist() == [0, 300]


def test_gridcoop_trades_the_reference_volume_every_hour(tmp_path: Path) -> None:
    books = make_books(6, 1, seed=3)
    scenario = peers.write_scenario(books, tmp_path, "block")
    figures = peers.run_scenario(str(scenario))
    assert figures["traded_wh"] == cleared_wh(books).tolist()
    assert sum(figures["traded_wh"]) > 0
