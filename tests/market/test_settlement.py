"""Settlement of trades against meter readings (integer Wh and µ€), hand-worked."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcoop.market import settle_interval
from gridcoop.units import payment_ueur


def a(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def test_hand_worked_interval() -> None:
    # nodes: 0 and 1 sell, 2 and 3 buy.
    # trade 0: 0 -> 2, 600 Wh; trade 1: 0 -> 3, 400 Wh; trade 2: 1 -> 3, 500 Wh
    buyer, seller, energy = a(2, 3, 3), a(0, 0, 1), a(600, 400, 500)
    # meters: node 0 exported only 800 of its 1000 sold; node 1 exported 900 (500 sold);
    # node 2 imported 700 (bought 600); node 3 imported 450 of the 900 it bought.
    imp, exp = a(0, 0, 700, 450), a(800, 900, 0, 0)
    d = settle_interval(buyer, seller, energy, imp, exp)
    # seller 0 delivers 80 %: trade 0 -> 480, trade 1 -> 320;
    # buyer 3 takes 50 %: trade 1 -> 200, trade 2 -> 250; delivered = min of both limits
    assert d.delivered_wh.tolist() == [480, 200, 250]
    assert d.shortfall_wh.tolist() == [120, 200, 250]
    # buyer 2 imported 700 but received 480 locally: 220 from the grid, all of which covers
    # its 120 Wh shortfall first (120), leaving 100 as plain grid import.
    # buyer 3 imported 450 = 200 + 250 received: no grid import, its shortfalls cost nothing.
    assert d.shortfall_import_wh.tolist() == [120, 0, 0]
    assert d.residual_import_wh.tolist() == [0, 0, 100, 0]
    # seller 0 exported 800, delivered 480 + 200 = 680: 120 fed in; seller 1: 900 - 250 = 650
    assert d.residual_export_wh.tolist() == [120, 650, 0, 0]
    assert d.received_wh.tolist() == [0, 0, 480, 450]
    assert d.delivered_by_wh.tolist() == [680, 250, 0, 0]


def test_payment_rounds_down_like_the_ledger() -> None:
    # 333 Wh at 65,000 µ€/kWh = 21,645 µ€; 1 Wh at 999 µ€/kWh rounds down to 0
    assert payment_ueur(a(333, 1), a(65_000, 999)).tolist() == [21_645, 0]


@settings(max_examples=80, deadline=None)
@given(st.integers(2, 8).flatmap(lambda n: st.tuples(
    st.just(n),
    st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.integers(1, 5000)),
             min_size=0, max_size=20),
    st.lists(st.integers(0, 8000), min_size=n, max_size=n),
    st.lists(st.integers(0, 8000), min_size=n, max_size=n))))
def test_no_energy_is_sold_twice(case: tuple[int, list[tuple[int, int, int]], list[int],
                                             list[int]]) -> None:
    n, rows, imports, exports = case
    rows = [(b, s, e) for b, s, e in rows if b != s]
    buyer = np.array([r[0] for r in rows], dtype=np.int64)
    seller = np.array([r[1] for r in rows], dtype=np.int64)
    energy = np.array([r[2] for r in rows], dtype=np.int64)
    imp, exp = np.array(imports, dtype=np.int64), np.array(exports, dtype=np.int64)
    d = settle_interval(buyer, seller, energy, imp, exp)
    assert (d.delivered_wh >= 0).all() and (d.delivered_wh <= energy).all()
    assert (d.received_wh <= imp).all() and (d.delivered_by_wh <= exp).all()
    # every Wh each meter measured is accounted once: locally, against a shortfall, or to grid
    assert np.array_equal(d.received_wh + np.bincount(buyer, weights=d.shortfall_import_wh,
                                                      minlength=n).astype(np.int64)
                          + d.residual_import_wh, imp)
    assert np.array_equal(d.delivered_by_wh + d.residual_export_wh, exp)
    assert (d.shortfall_import_wh <= d.shortfall_wh).all() and (d.residual_import_wh >= 0).all()
