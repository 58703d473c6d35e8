"""Order books: gate life cycle, cancel/replace and time priority, the clearing house."""

from __future__ import annotations

import pytest

from gridcoop.market import (
    ClearingHouse,
    DuplicateOrderError,
    GateClosedError,
    GateState,
    GateStateError,
    InvalidOptionError,
    InvalidOrderError,
    MarketError,
    OrderBook,
    PriceCapExceededError,
    UnknownIntervalError,
    UnknownMechanismError,
    UnknownOrderError,
)
from tests.market.helpers import bid, offer


def snapshot(book: OrderBook) -> tuple[object, ...]:
    return (book.state, book.orders(), book.next_sequence, book.result)


def open_book() -> OrderBook:
    book = OrderBook(interval=13)
    book.submit(bid("b1", 2, 0.30, 0, interval=13))
    book.submit(bid("b2", 2, 0.30, 1, interval=13))
    book.submit(offer("s1", 3, 0.10, 2, interval=13))
    return book


def test_life_cycle_open_closed_cleared() -> None:
    book = open_book()
    assert book.state is GateState.AUTHORIZE_OFFERS and len(book) == 3
    assert book.next_sequence == 3 and "b1" in book
    book.close_gate()
    assert str(book.state) == "BIDS_CLOSED"
    result = book.clear("pay_as_clear")
    assert str(book.state) == "CLEARED" and book.result is result
    # b1 2 kWh + b2 1 kWh from s1 (3 kWh); b2 is partly filled so the price is its bid 0.30.
    assert result.volume_kwh == 3.0 and result.clearing_price_eur_per_kwh == 0.30
    assert [o.order_id for o in result.unmatched] == ["b2"]


def test_every_rejection_leaves_the_book_unchanged() -> None:
    book = open_book()
    before = snapshot(book)
    rejections: list[tuple[object, type[MarketError]]] = [
        (lambda: book.submit(bid("b1", 1, 0.2, 5, interval=13)), DuplicateOrderError),
        (lambda: book.submit(bid("x", 1, 0.2, 5, interval=14)), UnknownIntervalError),
        (lambda: book.submit(bid("x", 1, 11.0, 5, interval=13)), PriceCapExceededError),
        (lambda: book.submit("not an order"), InvalidOrderError),  # type: ignore[arg-type]
        (lambda: book.cancel("nope"), UnknownOrderError),
        (lambda: book.replace("nope", quantity_kwh=1), UnknownOrderError),
        (lambda: book.replace("b1", quantity_kwh=float("nan")), InvalidOrderError),
        (lambda: book.replace("b1", quantity_kwh=0), InvalidOrderError),
        (lambda: book.replace("b1", price_eur_per_kwh=-1), InvalidOrderError),
        (lambda: book.replace("b1", price_eur_per_kwh=99), PriceCapExceededError),
        (lambda: book.clear(), GateStateError),
    ]
    for call, error in rejections:
        with pytest.raises(error):
            call()  # type: ignore[operator]
        assert snapshot(book) == before
    book.close_gate()
    closed = snapshot(book)
    for call in (lambda: book.submit(bid("late", 1, 0.2, 9, interval=13)),
                 lambda: book.cancel("b1"), lambda: book.replace("b1", quantity_kwh=1)):
        with pytest.raises(GateClosedError, match="BIDS_CLOSED"):
            call()
        assert snapshot(book) == closed
    with pytest.raises(GateStateError, match="already"):
        book.close_gate()
    with pytest.raises(UnknownMechanismError):
        book.clear("vickrey")
    with pytest.raises(InvalidOptionError):
        book.clear("pay_as_clear", colour="red")
    assert snapshot(book) == closed
    book.clear()
    cleared = snapshot(book)
    with pytest.raises(GateStateError, match="cleared already"):
        book.clear()
    with pytest.raises(GateClosedError, match="CLEARED"):
        book.submit(bid("late", 1, 0.2, 9, interval=13))
    assert snapshot(book) == cleared


def test_cancel_removes_the_order() -> None:
    book = open_book()
    cancelled = book.cancel("b1")
    assert cancelled.order_id == "b1" and "b1" not in book
    book.close_gate()
    # Only b2 is left to buy: 2 of s1's 3 kWh.
    assert book.clear().volume_kwh == 2.0


def test_replace_with_smaller_quantity_keeps_priority() -> None:
    book = open_book()
    new = book.replace("b1", quantity_kwh=1.5)
    assert (new.sequence, new.quantity_kwh) == (0, 1.5)
    assert [o.order_id for o in book.orders()] == ["b1", "b2", "s1"]
    book.close_gate()
    result = book.clear()
    # b1 (seq 0) still first: 1.5 kWh; b2 gets the other 1.5 kWh of s1.
    assert [(t.buy_order_id, t.quantity_kwh) for t in result.trades] == [("b1", 1.5),
                                                                        ("b2", 1.5)]


@pytest.mark.parametrize("change", [{"quantity_kwh": 2.5}, {"price_eur_per_kwh": 0.30001},
                                    {"price_eur_per_kwh": 0.29}])
def test_replace_that_grows_or_reprices_loses_priority(change: dict[str, float]) -> None:
    book = open_book()
    new = book.replace("b1", **change)
    assert new.sequence == 3 and book.next_sequence == 4
    assert [o.order_id for o in book.orders()] == ["b2", "s1", "b1"]
    book.close_gate()
    result = book.clear()
    first = result.trades[0]
    if change.get("price_eur_per_kwh", 0.30) > 0.30:
        assert first.buy_order_id == "b1"  # a better price still ranks first
    else:
        assert first.buy_order_id == "b2"  # b1 went to the back of the 0.30 queue (or lower)


def test_orders_are_cleared_with_the_book_price_cap() -> None:
    book = OrderBook(0, price_cap_eur_per_kwh=50.0)
    book.submit(bid("b", 1, 40.0, 0))
    book.submit(offer("s", 1, 30.0, 1))
    book.close_gate()
    assert book.clear().clearing_price_eur_per_kwh == 35.0
    with pytest.raises(InvalidOrderError):
        OrderBook(-1)


def test_clearing_house_routes_by_interval() -> None:
    house = ClearingHouse("pay_as_bid", pair_price="offer")
    house.open_gate(9)
    house.open_gate(10)
    assert house.intervals == (9, 10)
    house.submit(bid("b", 2, 0.3, 0, interval=9))
    house.submit(offer("s", 2, 0.1, 1, interval=9))
    house.submit(offer("t", 1, 0.1, 2, interval=10))
    with pytest.raises(UnknownIntervalError, match="open_gate\\(11\\)"):
        house.submit(bid("x", 1, 0.3, 3, interval=11))
    with pytest.raises(GateStateError):
        house.open_gate(9)
    house.replace(10, "t", quantity_kwh=0.5)
    house.cancel(10, "t")
    house.close_gate(9)
    with pytest.raises(GateClosedError):
        house.submit(bid("late", 1, 0.3, 4, interval=9))
    result = house.clear(9)
    assert [t.price_eur_per_kwh for t in result.trades] == [0.1]  # the offer's price
    assert house.book(9).state is GateState.CLEARED
    assert house.book(10).state is GateState.AUTHORIZE_OFFERS and len(house.book(10)) == 0
    house.close_gate(10)
    assert house.clear(10, "pay_as_clear").volume_kwh == 0.0
    with pytest.raises(UnknownMechanismError):
        ClearingHouse("nope")
    with pytest.raises(InvalidOptionError):
        ClearingHouse("pay_as_clear", weighted=False)
