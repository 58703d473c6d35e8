"""AuctionId: the one format of an auction's name, both ways, and refusal of anything else."""

from __future__ import annotations

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
