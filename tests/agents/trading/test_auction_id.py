"""AuctionId: the one format of an auction's name, both ways, and refusal of anything else."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridcoop.agents.bus.errors import MalformedMessageError
from gridcoop.agents.trading.auction import AuctionId, AuctionIdError


def test_the_string_is_the_one_on_the_ledger_and_the_bus() -> None:
    assert str(AuctionId(0)) == "a000000"
    assert str(AuctionId(42)) == "a000042"
    assert str(AuctionId(1_234_567)) == "a1234567"


@given(st.integers(min_value=0, max_value=10**9))
def test_parse_inverts_str(interval: int) -> None:
    assert AuctionId.parse(str(AuctionId(interval))) == AuctionId(interval)


@pytest.mark.parametrize("text", ["", "a", "a42", "b000042", "a000042:book", "a-00042",
                                  "A000042", "a00004x", "a0000042", " a000042"])
def test_malformed_ids_are_refused(text: str) -> None:
    with pytest.raises(AuctionIdError, match="is not an auction id"):
        AuctionId.parse(text)


def test_the_error_is_a_malformed_message_and_intervals_are_not_negative() -> None:
    assert issubclass(AuctionIdError, MalformedMessageError)
    with pytest.raises(AuctionIdError, match=">= 0"):
        AuctionId(-1)


def test_the_central_market_files_a_book_record_by_its_type_and_refuses_a_bad_id() -> None:
    from gridcoop.agents import CommunityModel
    from gridcoop.agents.bus.messages import OrderBatch, OrderBookRecord

    model = CommunityModel("neighbourhood", households=6, regions=1, days=1, seed=3)
    try:
        model.step()
        central = model.central
        interval = max(central.auctions)
        auction = central.auctions[interval]
        assert auction.auction_id == str(AuctionId(interval))
        columns: dict[str, Any] = {
            "sender": "test", "region_id": "r0", "order_ids": ["o"],
            "participant_ids": [model.population.node_ids[0]], "sides": ["bid"],
            "energy_wh": [1_000], "price_ueur_per_kwh": [100_000]}
        books, remainders = len(auction.books), len(auction.remainders)
        central._handle(OrderBookRecord(id="t:1", auction_id=auction.auction_id, **columns))
        assert (len(auction.books), len(auction.remainders)) == (books + 1, remainders)
        central._handle(OrderBatch(id="t:2", auction_id=auction.auction_id, **columns))
        assert (len(auction.books), len(auction.remainders)) == (books + 1, remainders + 1)
        central._handle(OrderBatch(id="t:3", auction_id=f"{auction.auction_id}:book", **columns))
        assert central.refused[-1].startswith("t:3: ") and "is not an auction id" in (
            central.refused[-1])
        assert (len(auction.books), len(auction.remainders)) == (books + 1, remainders + 1)
    finally:
        model.close()
