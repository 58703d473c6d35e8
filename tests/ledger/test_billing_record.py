"""A billing period of many members as one record: the same balances as its transactions."""

from __future__ import annotations

import pytest

from gridcoop.ledger import (
    InsufficientFundsError,
    MalformedTransactionError,
    RoleError,
    UnknownMemberError,
)
from gridcoop.ledger.columns import BILL_ROW, pack_rows
from gridcoop.ledger.transactions import GRID_ACCOUNT
from tests.ledger.conftest import OPENING_EUR_U, Community

Row = tuple[str, int, int, int, int, int, int, int]


def _bill(c: Community, rows: list[Row]) -> None:
    c.market.billing("day 0", pack_rows(BILL_ROW, [(c.accounts[name], *rest)
                                                   for name, *rest in rows]))


def test_each_row_deposits_pays_the_grid_and_the_fee_and_mints_tokens(
        community: Community) -> None:
    c = community
    market_before = c.balance("market")
    # alice: 2 kWh imported for 0.60 EUR, a 0.05 EUR fee, 1.5 kWh of local-energy tokens;
    # bob: 3 kWh fed in for 0.24 EUR and a 0.40 EUR deposit
    _bill(c, [("alice", 0, 2_000, 600_000, 0, 0, 50_000, 1_500),
              ("bob", 400_000, 0, 0, 3_000, 240_000, 0, 0)])
    assert c.balance("alice") == OPENING_EUR_U - 600_000 - 50_000
    assert c.balance("alice", "wh") == 1_500
    assert c.balance("bob") == OPENING_EUR_U + 400_000 + 240_000
    assert c.balance("market") == market_before + 50_000
    assert c.book.balance(GRID_ACCOUNT) == 600_000 - 240_000
    assert c.book.state.supply["wh"] == 1_500
    c.book.seal_block(86_400)
    assert c.book.verify().ok


@pytest.mark.parametrize(("rows", "error", "why"), [
    ([("alice", 0, 1, 2 * OPENING_EUR_U, 0, 0, 0, 0)], InsufficientFundsError, "needs"),
    ([("alice", 0, 1, 5, 0, 0, 0, 0), ("alice", 0, 1, 5, 0, 0, 0, 0)],
     MalformedTransactionError, "billed twice"),
    ([("alice", 0, 0, 0, 0, 0, 0, 0)], MalformedTransactionError, "not all zero"),
    ([("alice", 0, -1, 5, 0, 0, 0, 0)], MalformedTransactionError, "non-negative"),
    ([("meter", 0, 1, 5, 0, 0, 0, 0)], RoleError, "only members and aggregators"),
])
def test_a_bad_row_refuses_the_whole_record(block_community: Community, rows: list[Row],
                                            error: type[Exception], why: str) -> None:
    c = block_community
    before = c.book.balances()
    # bob's valid row comes first: it must not survive the refusal of a later one
    with pytest.raises(error, match=why):
        _bill(c, [("bob", 0, 1_000, 300_000, 0, 0, 0, 0), *rows])
    assert c.book.balances() == before and c.book.pending_count == 0


def test_an_unknown_account_is_refused(block_community: Community) -> None:
    with pytest.raises(UnknownMemberError, match="not registered"):
        block_community.market.billing("day 0", pack_rows(BILL_ROW, [("f" * 32, 0, 1, 5, 0, 0,
                                                                      0, 0)]))


def test_only_the_market_bills(block_community: Community) -> None:
    c = block_community
    with pytest.raises(RoleError, match="needs one of"):
        c.wallet("agg").billing("day 0", pack_rows(BILL_ROW, [(c.accounts["bob"], 0, 1, 5, 0,
                                                               0, 0, 0)]))


def test_an_overdraft_names_its_row(block_community: Community) -> None:
    """Errors from the balance checks name the row, like the record's own checks."""
    with pytest.raises(InsufficientFundsError, match=r"^row 1 of billing '[^']*': account "):
        _bill(block_community, [("bob", 0, 1_000, 300_000, 0, 0, 0, 0),
                                ("alice", 0, 1, 2 * OPENING_EUR_U, 0, 0, 0, 0)])
