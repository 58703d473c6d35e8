"""Hierarchical clearing: communities first, their remainders in the central book."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcoop.market import (
    DuplicateOrderError,
    InvalidOrderError,
    MixedIntervalsError,
    Order,
    OrderBatch,
    UnknownMechanismError,
    clear,
    clear_central,
    clear_hierarchical,
    clear_local,
)
from tests.market.helpers import bid, books, offer


def batches(books_: dict[str, list[Order]]) -> dict[str, OrderBatch]:
    return {name: OrderBatch.from_orders(orders) for name, orders in books_.items()}


def campus() -> dict[str, OrderBatch]:
    return batches({
        # North: n-b 5 kWh @0.20 against n-s 3 kWh @0.05: 3 kWh locally, 2 kWh of n-b left.
        "north": [bid("n-b", 5_000, 200_000, 4, "ana"), offer("n-s", 3_000, 50_000, 1, "rui")],
        # South: s-s1 4 kWh @0.12 and s-s2 2 @0.15, s-b 1 kWh @0.13: 1 kWh locally with s-s1.
        "south": [offer("s-s1", 4_000, 120_000, 0, "eva"), offer("s-s2", 2_000, 150_000, 2, "ines"),
                  bid("s-b", 1_000, 130_000, 3, "joao")],
    })


def test_local_first_then_central() -> None:
    result = clear_hierarchical(campus(), "pay_as_clear")
    north, south = result.local["north"].result, result.local["south"].result
    assert [(t.buy_order_id, t.sell_order_id, t.energy_wh) for t in north.trades] == [
        ("n-b", "n-s", 3_000)]
    # North: n-b partly filled -> price = its bid 0.20.
    assert north.clearing_price_ueur_per_kwh == 200_000
    assert [(t.buy_order_id, t.sell_order_id, t.energy_wh) for t in south.trades] == [
        ("s-b", "s-s1", 1_000)]
    # South: s-s1 partly filled -> interval [0.12, min(0.13, 0.12)] -> 0.12.
    assert south.clearing_price_ueur_per_kwh == 120_000
    # Forwarded in community order, each in input order: ids, prices and sequences kept.
    forwarded = [o for local in result.local.values() for o in local.forwarded.to_orders()]
    assert [(o.order_id, o.energy_wh, o.sequence) for o in forwarded] == [
        ("n-b", 2_000, 4), ("s-s1", 3_000, 0), ("s-s2", 2_000, 2)]
    assert result.local["south"].forwarded_positions.tolist() == [0, 1]
    # Central: n-b 2 kWh @0.20 buys from s-s1 (0.12, cheaper than s-s2); s-s1 partly
    # filled -> price 0.12. North's buyer meets South's seller.
    central = result.central
    assert [(t.buyer, t.seller, t.energy_wh) for t in central.trades] == [("ana", "eva", 2_000)]
    assert central.clearing_price_ueur_per_kwh == 120_000
    assert [(o.order_id, o.energy_wh) for o in central.unmatched] == [("s-s1", 1_000),
                                                                      ("s-s2", 2_000)]
    assert result.local_volume_wh == 4_000 and result.volume_wh == 6_000


def test_the_two_steps_are_the_whole() -> None:
    """What the agent model runs in two agents (local, then central) is clear_hierarchical."""
    locals_ = {name: clear_local(batch, "average_bid") for name, batch in campus().items()}
    central = clear_central([local.forwarded for local in locals_.values()], 0, "average_bid")
    whole = clear_hierarchical(campus(), "average_bid")
    assert central == whole.central
    assert all(locals_[name].result == whole.local[name].result for name in locals_)


def test_central_priority_follows_sequence_across_communities() -> None:
    # Two equal-price offers left over in different communities: the lower sequence wins
    # centrally even though its community comes second.
    books_ = batches({"a": [offer("a-s", 1, 100_000, 9)], "b": [offer("b-s", 1, 100_000, 2)],
                      "c": [bid("c-b", 1, 300_000, 5)]})
    result = clear_hierarchical(books_, "pay_as_bid")
    assert [t.sell_order_id for t in result.central.trades] == ["b-s"]


def test_different_central_mechanism_and_options() -> None:
    result = clear_hierarchical(campus(), "pay_as_clear", "pay_as_bid",
                                central_options={"pair_price": "offer"})
    assert result.central.mechanism == "pay_as_bid"
    assert [t.price_ueur_per_kwh for t in result.central.trades] == [120_000]


def test_bad_hierarchical_input() -> None:
    dup = batches({"a": [bid("x", 1, 100_000, 0)], "b": [offer("x", 1, 100_000, 0)]})
    with pytest.raises(DuplicateOrderError, match="'a' and in 'b'"):
        clear_hierarchical(dup)
    mixed = batches({"a": [bid("x", 1, 100_000, 0, interval=1)],
                     "b": [offer("y", 1, 100_000, 0)]})
    with pytest.raises(MixedIntervalsError):
        clear_hierarchical(mixed)
    with pytest.raises(MixedIntervalsError):
        clear_central(list(mixed.values()), 1)
    with pytest.raises(InvalidOrderError):
        clear_hierarchical({"": campus()["north"]})
    with pytest.raises(UnknownMechanismError):
        clear_hierarchical(campus(), central_mechanism="nope")


@settings(max_examples=60, deadline=None)
@given(book=books(unique_sequences=True), cuts=st.lists(st.integers(0, 40), max_size=3),
       mechanism=st.sampled_from(["pay_as_clear", "pay_as_bid", "average_bid", "continuous"]))
def test_remainders_keep_identity_and_the_central_book_is_a_plain_clearing(
    book: list[Order], cuts: list[int], mechanism: str
) -> None:
    bounds = sorted({0, len(book), *(min(c, len(book)) for c in cuts)})
    communities = batches({f"c{k}": book[a:b]
                           for k, (a, b) in enumerate(itertools.pairwise(bounds))})
    result = clear_hierarchical(communities, mechanism)
    forwarded = [o for local in result.local.values() for o in local.result.unmatched]
    assert [o for local in result.local.values() for o in local.forwarded.to_orders()] == [
        o for o in forwarded]
    originals = {o.order_id: o for o in book}
    for order in forwarded:
        source = originals[order.order_id]
        assert (order.side, order.price_ueur_per_kwh, order.sequence, order.participant) == (
            source.side, source.price_ueur_per_kwh, source.sequence, source.participant)
        assert order.energy_wh <= source.energy_wh
    assert result.central == clear(forwarded, mechanism)
    total = sum(o.energy_wh for o in book)
    left = sum(o.energy_wh for o in result.central.unmatched)
    assert 2 * result.volume_wh + left == total  # exact: every Wh traded once or left over
