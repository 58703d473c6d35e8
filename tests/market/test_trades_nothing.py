"""``trades_nothing``: when a caller may skip the market, the market would have traded
nothing, raised nothing and left every order whole, in input order (hypothesis)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridcoop.agents.trading.book import Orders, clear_local_orders
from gridcoop.market import ClearingResult, Order, OrderBatch, PreparedBook, clear
from gridcoop.market.clearing import trades_nothing
from gridcoop.market.errors import PriceCapExceededError
from gridcoop.market.registry import is_crossing_only, register_mechanism
from tests.market.helpers import bid, books, offer
from tests.market.test_properties import ALL_OPTIONS, SETTINGS

CROSSING_ONLY = [(name, options) for name, options in ALL_OPTIONS if name != "continuous"]


def _columns(orders: list[Order]) -> tuple[Any, Any, Any]:
    return (np.array([o.is_buy for o in orders], dtype=bool),
            np.array([o.price_ueur_per_kwh for o in orders], dtype=np.int64),
            np.array([o.energy_wh for o in orders], dtype=np.int64))


@SETTINGS
@given(orders=books(), choice=st.sampled_from(CROSSING_ONLY))
def test_a_skipped_book_is_one_the_market_leaves_whole(
        orders: list[Order], choice: tuple[str, dict[str, Any]]) -> None:
    mechanism, options = choice
    is_buy, price, energy = _columns(orders)
    skip = trades_nothing(is_buy, price, energy, mechanism, options)
    bids, offers = price[is_buy], price[~is_buy]
    crosses = bool(bids.size and offers.size and bids.max() >= offers.min())
    assert skip is not crosses  # every book in these limits that cannot trade is skipped
    if skip and orders:
        result = clear(OrderBatch.from_orders(orders), mechanism, **options)
        assert result.volume_wh == 0 and len(result.trades) == 0
        assert result.clearing_price_ueur_per_kwh is None
        assert result.unmatched.positions.tolist() == list(range(len(orders)))
        assert result.unmatched.remaining_wh.tolist() == energy.tolist()


def test_a_price_over_the_cap_is_left_to_the_market_to_report() -> None:
    orders = [bid("b", 100, 50_000, 0), offer("s", 100, 900_000, 1)]
    is_buy, price, energy = _columns(orders)
    options = {"price_cap_ueur_per_kwh": 800_000}
    assert not trades_nothing(is_buy, price, energy, "pay_as_clear", options)
    with pytest.raises(PriceCapExceededError, match="above the market's cap"):
        clear(orders, "pay_as_clear", **options)
    assert trades_nothing(is_buy, price, energy, "pay_as_clear", {})  # the default cap


def test_only_a_mechanism_declared_crossing_only_is_skipped(scratch_registry: None) -> None:
    @register_mechanism("everyone_gets_some")
    def everyone_gets_some(book: PreparedBook) -> ClearingResult:  # pragma: no cover
        raise AssertionError("not run here")

    orders = [bid("b", 100, 50_000, 0), offer("s", 100, 90_000, 1)]
    columns = _columns(orders)
    assert is_crossing_only("pay_as_clear") and not is_crossing_only("everyone_gets_some")
    assert trades_nothing(*columns, "pay_as_clear", {})
    assert not trades_nothing(*columns, "everyone_gets_some", {})
    register_mechanism("everyone_gets_some", replace=True, crossing_only=True)(
        everyone_gets_some)
    assert trades_nothing(*columns, "everyone_gets_some", {})
    register_mechanism("everyone_gets_some", replace=True)(everyone_gets_some)
    assert not is_crossing_only("everyone_gets_some")


def test_a_region_whose_book_cannot_trade_forwards_it_as_it_is() -> None:
    z = np.array
    orders = Orders(["a:b", "a:o"], z([0, 1]), z([True, False]), z([100, 200]),
                    z([50_000, 90_000]))
    cleared = clear_local_orders(orders, "pay_as_clear", 0, "a")
    assert cleared.remainder is orders and len(cleared.trades) == 0
    assert cleared.price_u is None
