"""Adding clearing mechanisms through the registry, and guarding against broken ones."""

from __future__ import annotations

import pytest

from gridcoop.market import (
    MECHANISMS,
    ClearingResult,
    DuplicateMechanismError,
    InvalidAllocationError,
    InvalidOptionError,
    PreparedBook,
    TradeColumns,
    clear,
    get_mechanism,
    mechanism_names,
    register_mechanism,
)
from tests.market.helpers import CLEARERS, bid, offer


def test_a_new_mechanism_is_one_decorated_function(scratch_registry: None) -> None:
    @register_mechanism("k_double_auction")
    def k_double_auction(book: PreparedBook, k_percent: int = 50) -> ClearingResult:
        match = book.merit_order_match()
        interval = match.margin.price_interval()
        price = (None if interval is None
                 else interval[0] + k_percent * (interval[1] - interval[0]) // 100)
        return book.result("k_double_auction", match.uniform(price), price)

    assert "k_double_auction" in mechanism_names()
    assert MECHANISMS["k_double_auction"] is k_double_auction
    orders = [bid("b", 5_000, 300_000, 0), offer("s", 5_000, 100_000, 1)]
    for clear_with in CLEARERS.values():
        # Interval [100,000, 300,000]; k = 25 % -> 100,000 + 25 x 200,000 // 100 = 150,000.
        result = clear_with(orders, "k_double_auction", k_percent=25)
        assert result.clearing_price_ueur_per_kwh == 150_000
    with pytest.raises(InvalidOptionError, match="its options are: k_percent"):
        clear(orders, "k_double_auction", kay=1)


def test_names_are_unique_unless_replaced(scratch_registry: None) -> None:
    original = get_mechanism("pay_as_clear")
    with pytest.raises(DuplicateMechanismError, match="replace=True"):
        register_mechanism("pay_as_clear")(original)
    register_mechanism("pay_as_clear", replace=True)(original)
    with pytest.raises(InvalidOptionError, match="identifier"):
        register_mechanism("has space")
    with pytest.raises(TypeError):
        MECHANISMS["x"] = original  # type: ignore[index]


def test_options_are_checked_again_when_a_mechanism_is_replaced(scratch_registry: None) -> None:
    @register_mechanism("tunable")
    def tunable(book: PreparedBook, k_percent: int = 50) -> ClearingResult:
        match = book.merit_order_match()
        return book.result("tunable", match.uniform(None), None)

    orders = [bid("b", 5_000, 300_000, 0), offer("s", 5_000, 100_000, 1)]
    assert clear(orders, "tunable", k_percent=10).volume_wh == 5_000
    assert clear(orders, "tunable", k_percent=20).volume_wh == 5_000  # the names were checked

    @register_mechanism("tunable", replace=True)
    def fixed(book: PreparedBook) -> ClearingResult:
        return tunable(book)

    with pytest.raises(InvalidOptionError, match="options are: none"):
        clear(orders, "tunable", k_percent=10)
    assert clear(orders, "tunable").volume_wh == 5_000


@pytest.mark.parametrize("path", sorted(CLEARERS))
def test_a_broken_mechanism_is_caught(scratch_registry: None, path: str) -> None:
    @register_mechanism("overfill")
    def overfill(book: PreparedBook) -> ClearingResult:
        # Positions: 0 is the 1 kWh bid, 1 the offer; 2 kWh is more than either holds.
        return book.result("overfill", TradeColumns([0], [1], [2_000], 100_000), 100_000)

    @register_mechanism("swapped")
    def swapped(book: PreparedBook) -> ClearingResult:
        return book.result("swapped", TradeColumns([1], [0], [1], 100_000), 100_000)

    orders = [bid("b", 1_000, 300_000, 0), offer("s", 1_000, 100_000, 1)]
    with pytest.raises(InvalidAllocationError, match="over-filled"):
        CLEARERS[path](orders, "overfill")
    with pytest.raises(InvalidAllocationError, match="invalid trade"):
        CLEARERS[path](orders, "swapped")


def test_a_mechanism_must_price_in_integers(scratch_registry: None) -> None:
    @register_mechanism("float_price")
    def float_price(book: PreparedBook) -> ClearingResult:
        return book.result("float_price", TradeColumns([0], [1], [1], [0.1]), None)  # type: ignore[list-item]

    orders = [bid("b", 1_000, 300_000, 0), offer("s", 1_000, 100_000, 1)]
    with pytest.raises(InvalidAllocationError, match="prices are integer µ€/kWh"):
        clear(orders, "float_price")
