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
    TimeOfUseTariff,
    UnknownMechanismError,
    clear,
    clear_hierarchical,
    settle_hierarchical,
)
from tests.market.helpers import TOL, bid, books, offer


def campus() -> dict[str, list[Order]]:
    return {
        # North: n-b 5 kWh @0.20 against n-s 3 kWh @0.05: 3 kWh locally, 2 kWh of n-b left.
        "north": [bid("n-b", 5, 0.20, 4, "ana"), offer("n-s", 3, 0.05, 1, "rui")],
        # South: s-s1 4 kWh @0.12 and s-s2 2 @0.15, s-b 1 kWh @0.13: 1 kWh locally with s-s1.
        "south": [offer("s-s1", 4, 0.12, 0, "eva"), offer("s-s2", 2, 0.15, 2, "ines"),
                  bid("s-b", 1, 0.13, 3, "joao")],
    }


@pytest.mark.parametrize("path", ["reference", "fast"])
def test_local_first_then_central(path: str) -> None:
    result = clear_hierarchical(campus(), "pay_as_clear", path=path)
    north, south = result.local["north"], result.local["south"]
    assert [(t.buy_order_id, t.sell_order_id, t.quantity_kwh) for t in north.trades] == [
        ("n-b", "n-s", 3.0)]
    # North: n-b partly filled -> price = its bid 0.20.
    assert north.clearing_price_eur_per_kwh == 0.20
    assert [(t.buy_order_id, t.sell_order_id, t.quantity_kwh) for t in south.trades] == [
        ("s-b", "s-s1", 1.0)]
    # South: s-s1 partly filled -> interval [0.12, min(0.13, 0.12)] -> 0.12.
    assert south.clearing_price_eur_per_kwh == 0.12
    # Forwarded in community order, each in input order: ids, prices and sequences kept.
    assert [(o.order_id, o.quantity_kwh, o.sequence) for o in result.forwarded] == [
        ("n-b", 2.0, 4), ("s-s1", 3.0, 0), ("s-s2", 2.0, 2)]
    # Central: n-b 2 kWh @0.20 buys from s-s1 (0.12, cheaper than s-s2); s-s1 partly
    # filled -> price 0.12. North's buyer meets South's seller.
    central = result.central
    assert [(t.buyer, t.seller, t.quantity_kwh) for t in central.trades] == [("ana", "eva", 2.0)]
    assert central.clearing_price_eur_per_kwh == 0.12
    assert [(o.order_id, o.quantity_kwh) for o in result.unmatched] == [("s-s1", 1.0),
                                                                        ("s-s2", 2.0)]
    assert result.local_volume_kwh == 4.0 and result.volume_kwh == 6.0
    assert len(result.trades) == 3
    assert result.community_of["s-s2"] == "south"


def test_central_priority_follows_sequence_across_communities() -> None:
    # Two equal-price offers left over in different communities: the lower sequence wins
    # centrally even though its community comes second.
    books_ = {"a": [offer("a-s", 1, 0.1, 9)], "b": [offer("b-s", 1, 0.1, 2)],
              "c": [bid("c-b", 1, 0.3, 5)]}
    result = clear_hierarchical(books_, "pay_as_bid")
    assert [t.sell_order_id for t in result.central.trades] == ["b-s"]


def test_different_central_mechanism_and_options() -> None:
    result = clear_hierarchical(campus(), "pay_as_clear", "pay_as_bid",
                                central_options={"pair_price": "offer"})
    assert result.central.mechanism == "pay_as_bid"
    assert [t.price_eur_per_kwh for t in result.central.trades] == [0.12]


def test_bad_hierarchical_input() -> None:
    dup = {"a": [bid("x", 1, 0.1, 0)], "b": [offer("x", 1, 0.1, 0)]}
    with pytest.raises(DuplicateOrderError, match="'a' and in 'b'"):
        clear_hierarchical(dup)
    mixed = {"a": [bid("x", 1, 0.1, 0, interval=1)], "b": [offer("y", 1, 0.1, 0)]}
    with pytest.raises(MixedIntervalsError):
        clear_hierarchical(mixed)
    with pytest.raises(InvalidOrderError):
        clear_hierarchical({"a": ["order"]})  # type: ignore[list-item]
    with pytest.raises(UnknownMechanismError):
        clear_hierarchical(campus(), central_mechanism="nope")


@settings(max_examples=60, deadline=None)
@given(book=books(unique_sequences=True), cuts=st.lists(st.integers(0, 40), max_size=3),
       mechanism=st.sampled_from(["pay_as_clear", "pay_as_bid", "average_bid", "continuous"]))
def test_remainders_keep_identity_and_the_central_book_is_a_plain_clearing(
    book: list[Order], cuts: list[int], mechanism: str
) -> None:
    bounds = sorted({0, len(book), *(min(c, len(book)) for c in cuts)})
    communities = {f"c{k}": book[a:b] for k, (a, b) in enumerate(itertools.pairwise(bounds))}
    result = clear_hierarchical(communities, mechanism)
    forwarded = [o for r in result.local.values() for o in r.unmatched]
    assert list(result.forwarded) == forwarded
    originals = {o.order_id: o for o in book}
    for order in forwarded:
        source = originals[order.order_id]
        assert (order.side, order.price_eur_per_kwh, order.sequence, order.participant) == (
            source.side, source.price_eur_per_kwh, source.sequence, source.participant)
        assert order.quantity_kwh <= source.quantity_kwh + TOL
    assert result.central == clear(forwarded, mechanism)
    total = sum(o.quantity_kwh for o in book)
    left = sum(o.quantity_kwh for o in result.unmatched)
    assert 2 * result.volume_kwh + left == pytest.approx(total, abs=TOL * (len(book) + 1) * 4)


def test_settle_hierarchical_charges_the_grid_once() -> None:
    result = clear_hierarchical(campus(), "pay_as_clear")
    central_tariff = TimeOfUseTariff(grid_fee_eur_per_kwh=0.03)
    south_tariff = TimeOfUseTariff.flat(0.2, feed_in_eur_per_kwh=0.05, grid_fee_eur_per_kwh=0.01)
    s = settle_hierarchical(result, central_tariff, 15, community_tariffs={"south": south_tariff})
    # Fees: north local 3 kWh at the central tariff's 0.03 = 0.09; south local 1 kWh at
    # 0.01 = 0.01; central 2 kWh at 0.03 = 0.06. Total 0.16.
    assert s.grid_fees_eur == pytest.approx(0.16, abs=1e-12)
    # Only the central leftovers reach the grid: s-s1 1 kWh and s-s2 2 kWh, both from south,
    # fed in at south's 0.05 -> 0.15 €. Nothing is imported.
    assert s.grid_export_kwh == 3.0 and s.feed_in_revenue_eur == pytest.approx(0.15)
    assert s.grid_import_kwh == 0.0
    net = s.net_eur_by_participant()
    # ana: 3 kWh @0.20 locally (0.60 + fee 0.09) and 2 kWh @0.12 centrally (0.24 + 0.06).
    assert net["ana"] == pytest.approx(-(0.60 + 0.09 + 0.24 + 0.06), abs=1e-12)
    # eva: 1 kWh @0.12 locally, 2 kWh @0.12 centrally, 1 kWh fed in @0.05.
    assert net["eva"] == pytest.approx(0.12 + 0.24 + 0.05, abs=1e-12)
    assert s.local_imbalance_eur == pytest.approx(0.0, abs=1e-12)
