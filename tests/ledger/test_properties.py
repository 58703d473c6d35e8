"""Invariants under random operation sequences (hypothesis).

- conservation: per asset, balances (the grid's may be negative) plus escrows equal the supply;
- no member balance is ever negative;
- a refused operation leaves the state byte-for-byte unchanged;
- the ``full`` policy gives the same balances as ``block`` for the same operations;
- the chain verifies and a replica fed its blocks reaches the same head.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridcoop.ledger import GRID_ACCOUNT, Ledger, LedgerError
from tests.ledger.conftest import Community, build_community

PEOPLE = ["alice", "bob", "carol", "agg"]
ASSETS = ["eur_u", "wh", "token"]

person = st.sampled_from(PEOPLE)
amount = st.integers(min_value=0, max_value=1_500_000)
operation = st.one_of(
    st.tuples(st.just("transfer"), person, person, st.sampled_from(ASSETS), amount),
    st.tuples(st.just("mint"), person, st.sampled_from(ASSETS), amount),
    st.tuples(st.just("lock"), person, person, amount),
    st.tuples(st.just("release"), st.integers(0, 5), amount),
    st.tuples(st.just("refund"), st.integers(0, 5), amount),
    st.tuples(st.just("penalty"), person, st.sampled_from(ASSETS), amount),
    st.tuples(st.just("reward"), person, amount),
    st.tuples(st.just("grid"), person, st.sampled_from(["import", "export"]), amount),
    st.tuples(st.just("seal")),
)


def _do(c: Community, op: tuple[Any, ...], escrows: list[str]) -> None:
    kind, acct = op[0], c.accounts
    if kind == "transfer":
        c.wallet(op[1]).transfer(acct[op[2]], op[3], op[4])
    elif kind == "mint":
        c.market.mint(acct[op[1]], op[2], op[3])
    elif kind == "lock":
        escrows.append(c.wallet(op[1]).escrow_lock(acct[op[2]], "eur_u", op[3]).txid_hex)
    elif kind in ("release", "refund"):
        if not escrows:
            return
        escrow = escrows[op[1] % len(escrows)]
        if kind == "release":
            c.market.escrow_release(escrow, op[2])
        else:
            c.market.escrow_refund(escrow, op[2])
    elif kind == "penalty":
        c.wallet("agg").penalty(acct[op[1]], op[2], op[3], "test")
    elif kind == "reward":
        c.wallet("agg").reward(acct[op[1]], op[2])
    elif kind == "grid":
        c.market.grid_settlement(acct[op[1]], op[2], op[3] // 100, op[3])
    else:
        c.book.seal_block(c.book.head.header.time_s + 60)


def _check_invariants(c: Community) -> None:
    state = c.book.state
    for asset in ASSETS:
        held = sum(v for (_a, a), v in state.balances.items() if a == asset)
        assert held + state.locked(asset) == state.supply.get(asset, 0)
    for (account, _asset), value in state.balances.items():
        assert value >= 0 or account == GRID_ACCOUNT


def _run(c: Community, ops: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Apply ``ops``; return the accepted ones."""
    accepted = []
    escrows: list[str] = []
    for op in ops:
        before = c.book.state.to_snapshot()
        try:
            _do(c, op, escrows)
        except LedgerError:
            assert c.book.state.to_snapshot() == before
            if op[0] == "lock":
                continue
        else:
            accepted.append(op)
        _check_invariants(c)
    c.book.seal_block(c.book.head.header.time_s + 60)
    return accepted


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(operation, min_size=1, max_size=40))
def test_invariants_hold_and_policies_agree(ops: list[tuple[Any, ...]]) -> None:
    block = build_community(":memory:", signing="block")
    accepted = _run(block, ops)
    assert block.book.verify(workers=0).ok
    full = build_community(":memory:", signing="full")
    escrows: list[str] = []
    for op in accepted:
        _do(full, op, escrows)
    full.book.seal_block(full.book.head.header.time_s + 60)
    assert full.book.balances() == block.book.balances()
    assert full.book.state.supply == block.book.state.supply
    replica = Ledger.replica(":memory:", block.book.block(0), workers=0)
    for sealed in block.book.blocks(1):
        replica.apply_block(sealed.to_bytes())
    assert replica.head_hash == block.book.head_hash
    assert replica.balances() == block.book.balances()
    for book in (block.book, full.book, replica):
        book.close()
