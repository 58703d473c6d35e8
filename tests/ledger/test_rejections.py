"""Bad input: each refused with its own error, state unchanged, the ledger still appendable."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable

import pytest

from gridcoop.ledger import (
    Block,
    DuplicateMemberError,
    InsufficientFundsError,
    InvalidSignatureError,
    KeyPair,
    LedgerError,
    MalformedBlockError,
    MalformedTransactionError,
    Member,
    MeterError,
    NonceError,
    ResourceError,
    RoleError,
    SignedTx,
    UnknownMemberError,
)
from gridcoop.ledger.chain import _signature_items
from gridcoop.ledger.transactions import Mint, Transfer
from tests.ledger.conftest import OPENING_EUR_U, Community


def _refused(c: Community, error: type[LedgerError], action: Callable[[], object],
             match: str | None = None) -> None:
    """``action`` raises ``error``; the state and the open block are exactly as before;
    the ledger then accepts a valid transaction and seals and verifies."""
    before = c.book.state.to_snapshot()
    pending = c.book.pending_count
    nonces = dict(c.book.state.nonces)
    with pytest.raises(error, match=match) as caught:
        action()
    assert type(caught.value) is error
    assert c.book.state.to_snapshot() == before
    assert c.book.pending_count == pending
    assert c.book.state.nonces == nonces
    c.wallet("alice").transfer(c.accounts["bob"], "eur_u", 1)
    c.book.seal_block(c.book.head.header.time_s + 60)
    assert c.book.verify().ok


def test_replayed_nonce(community: Community) -> None:
    c = community
    sent = c.wallet("alice").transfer(c.accounts["bob"], "eur_u", 10)
    _refused(c, NonceError, lambda: c.book.submit(sent), "reused")


def test_skipped_nonce(community: Community) -> None:
    c = community
    alice = c.accounts["alice"]
    tx = Transfer(alice, c.book.next_nonce(alice) + 1, c.accounts["bob"], "eur_u", 10, "")
    stx = SignedTx.build(tx, c.book.config.chain_id, c.keys["alice"])
    _refused(c, NonceError, lambda: c.book.submit(stx), "skipped")


def test_overdraft(community: Community) -> None:
    c = community
    _refused(c, InsufficientFundsError,
             lambda: c.wallet("alice").transfer(c.accounts["bob"], "eur_u", 1_000_001),
             "may not go negative")


def test_unknown_issuer(community: Community) -> None:
    c = community
    stranger = KeyPair.derive(b"elsewhere", "stranger")
    tx = Transfer(stranger.account, 0, c.accounts["bob"], "eur_u", 1, "")
    stx = SignedTx.build(tx, c.book.config.chain_id, stranger)
    _refused(c, UnknownMemberError, lambda: c.book.submit(stx), "not registered")


def test_unknown_recipient(community: Community) -> None:
    c = community
    nobody = KeyPair.derive(b"elsewhere", "nobody").account
    _refused(c, UnknownMemberError,
             lambda: c.wallet("alice").transfer(nobody, "eur_u", 1), "recipient")


@pytest.mark.parametrize("who", ["alice", "agg", "meter"])
def test_wrong_role_cannot_mint(community: Community, who: str) -> None:
    c = community
    _refused(c, RoleError, lambda: c.wallet(who).mint(c.accounts[who], "eur_u", 5), "role")


def test_meter_cannot_pay_and_member_cannot_attest(community: Community) -> None:
    c = community
    _refused(c, RoleError, lambda: c.wallet("meter").transfer(c.accounts["bob"], "eur_u", 1))
    _refused(c, RoleError, lambda: c.wallet("bob").meter_attestation(
        c.accounts["bob"], 0, 900, 10, 0, 1))


def test_forged_signature(full_community: Community) -> None:
    c = full_community
    alice = c.accounts["alice"]
    tx = Transfer(alice, c.book.next_nonce(alice), c.accounts["carol"], "eur_u", 500, "")
    forged = SignedTx.build(tx, c.book.config.chain_id, c.keys["carol"])  # carol signs for alice
    _refused(c, InvalidSignatureError, lambda: c.book.submit(forged), "does not verify")


def test_altered_body_breaks_the_signature(full_community: Community) -> None:
    c = full_community
    alice = c.accounts["alice"]
    tx = Transfer(alice, c.book.next_nonce(alice), c.accounts["carol"], "eur_u", 5, "")
    signed = SignedTx.build(tx, c.book.config.chain_id, c.keys["alice"])
    bigger = SignedTx.build(Transfer(alice, tx.nonce, tx.to, "eur_u", 500_000, ""),
                            c.book.config.chain_id)
    altered = SignedTx(bigger.tx, bigger.body, signed.sig)
    _refused(c, InvalidSignatureError, lambda: c.book.submit(altered))


def test_signature_from_another_chain_is_refused(full_community: Community) -> None:
    c = full_community
    alice = c.accounts["alice"]
    tx = Transfer(alice, c.book.next_nonce(alice), c.accounts["carol"], "eur_u", 5, "")
    other_chain = SignedTx.build(tx, "another-community", c.keys["alice"])
    _refused(c, InvalidSignatureError, lambda: c.book.submit(other_chain))


def test_a_signature_altered_after_signing_here_is_verified_and_refused(
        full_community: Community) -> None:
    """The writer skips verifying only a signature this process made, on that very object
    with its body and signature untouched; reassigning either is verified as usual."""
    c = full_community
    alice, chain = c.accounts["alice"], c.book.config.chain_id
    tx = Transfer(alice, c.book.next_nonce(alice), c.accounts["carol"], "eur_u", 5, "")
    other = SignedTx.build(Transfer(alice, tx.nonce, tx.to, "eur_u", 6, ""), chain,
                           c.keys["alice"])
    resigned = SignedTx.build(tx, chain, c.keys["alice"])
    resigned.sig = other.sig
    _refused(c, InvalidSignatureError, lambda: c.book.submit(resigned), "does not verify")
    rebodied = SignedTx.build(other.tx, chain, c.keys["alice"])
    rebodied.body = SignedTx.build(tx, chain).body
    _refused(c, InvalidSignatureError, lambda: c.book.submit(rebodied), "does not verify")


def test_only_signatures_made_elsewhere_are_verified(full_community: Community) -> None:
    """A transaction signed here with the issuer's registered key needs no curve arithmetic;
    the same bytes decoded (as a replica receives them) are verified."""
    c = full_community
    alice = c.accounts["alice"]
    tx = Transfer(alice, c.book.next_nonce(alice), c.accounts["carol"], "eur_u", 5, "")
    made = SignedTx.build(tx, c.book.config.chain_id, c.keys["alice"])
    received = SignedTx.from_parts(made.body, made.sig)
    items, positions, unsigned = _signature_items(c.book.state, [made, received], "full")
    assert positions == [1] and unsigned is None
    assert items[0][:2] == (c.keys["alice"].public_key, made.sig)
    for elsewhere in (pickle.loads(pickle.dumps(made)), copy.copy(made), copy.deepcopy(made)):
        assert elsewhere == made
        assert _signature_items(c.book.state, [elsewhere], "full")[1] == [0]
    c.book.submit(made)
    assert c.balance("carol") == OPENING_EUR_U + 5


def test_unsigned_transaction_under_full_policy(full_community: Community) -> None:
    c = full_community
    alice = c.accounts["alice"]
    tx = Transfer(alice, c.book.next_nonce(alice), c.accounts["carol"], "eur_u", 5, "")
    _refused(c, InvalidSignatureError, lambda: c.book.submit(tx), "not signed")


def test_malformed_bytes(community: Community) -> None:
    c = community
    _refused(c, MalformedTransactionError, lambda: SignedTx.from_parts(b"\xff\x00garbage", b""))
    _refused(c, MalformedTransactionError, lambda: SignedTx.from_parts(b"{}", b"short-sig"))
    _refused(c, MalformedBlockError, lambda: c.book.apply_block(b"GCB1\x00\x00"))
    _refused(c, MalformedBlockError, lambda: Block.from_bytes(b"not a block at all"))


def test_malformed_fields(community: Community) -> None:
    c = community
    _refused(c, MalformedTransactionError,
             lambda: c.wallet("alice").transfer(c.accounts["bob"], "eur_u", 2.5))  # type: ignore[arg-type]
    _refused(c, MalformedTransactionError,
             lambda: c.wallet("alice").transfer(c.accounts["bob"], "dollars", 1))
    _refused(c, MalformedTransactionError,
             lambda: c.wallet("alice").transfer(c.accounts["bob"], "eur_u", 0), "positive")
    _refused(c, MalformedTransactionError,
             lambda: c.wallet("alice").transfer(c.accounts["alice"], "eur_u", 1), "oneself")
    _refused(c, MalformedTransactionError,
             lambda: c.wallet("alice").transfer("Bob", "eur_u", 1), "account id")
    _refused(c, MalformedTransactionError,
             lambda: c.wallet("agg").dr_command(c.accounts["bob"], "ac", "on", 4, 0, 60), "0-3")
    _refused(c, UnknownMemberError,
             lambda: c.wallet("agg").dr_outcome("f" * 32, "d" * 64, "acked", "device"), "target")
    _refused(c, RoleError,
             lambda: c.wallet("alice").dr_outcome(c.accounts["bob"], "d" * 64, "opt_in",
                                                  "household"), "aggregator")


def test_duplicate_member_and_grid_id(community: Community) -> None:
    c = community
    again, _keys = Member.from_seed(b"gridcoop-ledger-tests", "grid-alice", "Alice")
    _refused(c, DuplicateMemberError, lambda: c.book.register(again), "already registered")
    other_key = KeyPair.derive(b"elsewhere", "alice-2").public_key
    same_grid = Member("grid-alice", "Alice 2", "", other_key, "member", b"salt")
    _refused(c, DuplicateMemberError, lambda: c.book.register(same_grid), "grid id")


def test_duplicate_resource(community: Community) -> None:
    c = community
    c.market.register_resource("pv-1", c.accounts["alice"], "pv", 500)
    _refused(c, ResourceError,
             lambda: c.market.register_resource("pv-1", c.accounts["bob"], "pv", 250))


def test_meter_counter_must_increase(community: Community) -> None:
    c = community
    c.wallet("meter").meter_attestation(c.accounts["alice"], 0, 900, 120, 0, 7)
    _refused(c, MeterError, lambda: c.wallet("meter").meter_attestation(
        c.accounts["alice"], 900, 900, 100, 0, 7), "does not exceed")


def test_submit_many_is_all_or_nothing(community: Community) -> None:
    c = community
    alice, bob = c.accounts["alice"], c.accounts["bob"]
    keys = c.keys["alice"] if c.book.signing == "full" else None
    chain = c.book.config.chain_id
    start = c.book.next_nonce(alice)
    batch = [SignedTx.build(Transfer(alice, start + i, bob, "eur_u", 400_000, ""), chain, keys)
             for i in range(3)]  # the third would overdraw: 3 x 400,000 > 1,000,000
    before = c.book.state.to_snapshot()
    with pytest.raises(InsufficientFundsError) as caught:
        c.book.submit_many(batch)
    assert caught.value.index == 2
    assert c.book.state.to_snapshot() == before
    assert c.book.pending_count == 0
    c.book.submit_many(batch[:2])
    assert c.balance("alice") == 200_000


def test_parallel_verification_names_the_forged_transaction(full_community: Community) -> None:
    c = full_community
    names = ["alice", "bob", "carol"]
    chain = c.book.config.chain_id
    batch = []
    for i in range(600):  # over the parallel threshold: verified by the worker processes
        name = names[i % 3]
        account = c.accounts[name]
        tx = Transfer(account, c.book.next_nonce(account) + i // 3,
                      c.accounts[names[(i + 1) % 3]], "eur_u", 1, "")
        signer = c.keys["bob"] if i == 452 else c.keys[name]
        batch.append(SignedTx.build(tx, chain, signer))
    before = c.book.state.to_snapshot()
    with pytest.raises(InvalidSignatureError) as caught:
        c.book.submit_many(batch)
    assert caught.value.index == 452
    assert c.book.state.to_snapshot() == before
    c.book.submit_many(batch[:452])
    assert c.book.pending_count == 452


def test_mint_overflow_is_refused(community: Community) -> None:
    c = community
    from gridcoop.ledger import AmountOverflowError
    c.market.mint(c.accounts["carol"], "wh", 2**63 - 1 - 10)
    before = c.book.state.to_snapshot()
    with pytest.raises(AmountOverflowError):
        c.market.mint(c.accounts["carol"], "wh", 11)
    assert c.book.state.to_snapshot() == before
    bad = Mint(c.accounts["market"], c.book.next_nonce(c.accounts["market"]),
               c.accounts["carol"], "wh", 2**63, "")
    with pytest.raises(MalformedTransactionError):
        c.book.submit(bad)
