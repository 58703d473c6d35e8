"""Canonical bytes of every transaction kind, strict decoding, and the signed message."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridcoop.ledger import KeyPair, MalformedTransactionError, SignedTx
from gridcoop.ledger.codec import canonical_json, frame_tx, unframe_txs
from gridcoop.ledger.envelope import body_dict, check_shape, decode_body, encode_body, tx_message
from gridcoop.ledger.transactions import (
    KINDS,
    Bid,
    ClearListing,
    CloseListing,
    DrCommand,
    DrOutcome,
    EscrowLock,
    EscrowRefund,
    EscrowRelease,
    Genesis,
    GridSettlement,
    MeterAttestation,
    Mint,
    Offer,
    OpenListing,
    Penalty,
    RegisterMember,
    RegisterResource,
    Reward,
    Settle,
    Trade,
    Transfer,
    Tx,
)

A, B, C = "a" * 32, "b" * 32, "c" * 32
H = "d" * 64
EXAMPLES: list[Tx] = [
    Genesis(A, 0, "gridcoop", H, (H, "e" * 64), 2, "full", 64, "seed"),
    RegisterMember(A, 1, B, H, "member", H, H),
    RegisterResource(A, 2, "pv-1", B, "pv", 500),
    OpenListing(A, 3, "2026-01-01T10", 36_000, 39_600),
    Offer(B, 0, "2026-01-01T10", 1_200, 80_000),
    Bid(C, 0, "2026-01-01T10", 900, 95_000),
    CloseListing(A, 4, "2026-01-01T10"),
    ClearListing(A, 5, "2026-01-01T10"),
    Trade(A, 6, "2026-01-01T10", B, C, 900, 85_000, 76_500),
    EscrowLock(B, 1, C, "eur_u", 10, 0, "deposit"),
    EscrowRelease(A, 7, H, 5),
    EscrowRefund(A, 8, H, 5),
    Settle(A, 9, H, 850),
    GridSettlement(A, 10, C, "import", 50, 4_750, H),
    GridSettlement(A, 11, C, "export", 50, 1_950, ""),
    Transfer(B, 2, C, "wh", 100, "kWh to a neighbour: \u00e9\"\n"),
    Mint(A, 12, B, "token", 3, ""),
    Reward(A, 13, B, 3, "plugged in 08:00-10:00"),
    Penalty(A, 14, B, "token", 2, "not plugged in"),
    DrCommand(A, 15, B, "water_heater", "off", 2, 36_000, 900),
    DrOutcome(A, 16, B, H, "acked", "device"),
    MeterAttestation(B, 3, C, 36_000, 900, 130, 0, 41),
]


def test_every_kind_has_an_example() -> None:
    from tests.ledger.test_records import RECORD_EXAMPLES
    assert {tx.kind for tx in [*EXAMPLES, *RECORD_EXAMPLES]} == set(KINDS)


@pytest.mark.parametrize("tx", EXAMPLES, ids=lambda tx: tx.kind)
def test_canonical_bytes_are_sorted_compact_json_and_round_trip(tx: Tx) -> None:
    body = encode_body(tx)
    assert body == json.dumps(body_dict(tx), sort_keys=True, separators=(",", ":"),
                              ensure_ascii=True).encode()
    assert decode_body(body) == tx


@given(st.text(max_size=256), st.integers(0, 2**63 - 1), st.sampled_from(["eur_u", "wh"]))
def test_encoder_matches_json_for_any_memo_and_amount(memo: str, amount: int, asset: str) -> None:
    tx = Transfer(A, amount, B, asset, amount, memo)
    assert encode_body(tx) == canonical_json(body_dict(tx))
    assert decode_body(encode_body(tx)) == tx


BAD_BODIES: list[tuple[bytes, str]] = [
    (b"\xff\xfe", "not JSON"),
    (b"[1,2]", "not a JSON object"),
    (b'{"kind":"steal"}', "unknown transaction kind"),
    (b'{"amount":1,"asset":"eur_u","issuer":"' + A.encode() + b'","kind":"transfer","memo":"",'
     b'"nonce":0}', "differ from the expected"),
    (b'{"amount":1,"asset":"eur_u","extra":1,"issuer":"' + A.encode() + b'","kind":"transfer",'
     b'"memo":"","nonce":0,"to":"' + B.encode() + b'"}', "differ from the expected"),
    (b'{"amount":1.0,"asset":"eur_u","issuer":"' + A.encode() + b'","kind":"transfer",'
     b'"memo":"","nonce":0,"to":"' + B.encode() + b'"}', "non-negative integer"),
    (b'{"amount":true,"asset":"eur_u","issuer":"' + A.encode() + b'","kind":"transfer",'
     b'"memo":"","nonce":0,"to":"' + B.encode() + b'"}', "non-negative integer"),
    (b'{"amount":-1,"asset":"eur_u","issuer":"' + A.encode() + b'","kind":"transfer",'
     b'"memo":"","nonce":0,"to":"' + B.encode() + b'"}', "non-negative integer"),
    (b'{"amount":1, "asset":"eur_u","issuer":"' + A.encode() + b'","kind":"transfer",'
     b'"memo":"","nonce":0,"to":"' + B.encode() + b'"}', "canonical"),
    (b'{"asset":"eur_u","amount":1,"issuer":"' + A.encode() + b'","kind":"transfer",'
     b'"memo":"","nonce":0,"to":"' + B.encode() + b'"}', "canonical"),
    (b'{"amount":1,"asset":"\\u0065ur_u","issuer":"' + A.encode() + b'","kind":"transfer",'
     b'"memo":"","nonce":0,"to":"' + B.encode() + b'"}', "canonical"),
    (b'{"amount":1,"asset":"usd","issuer":"' + A.encode() + b'","kind":"transfer",'
     b'"memo":"","nonce":0,"to":"' + B.encode() + b'"}', "one of"),
    (b'{"amount":1,"asset":"eur_u","issuer":"ALICE","kind":"transfer",'
     b'"memo":"","nonce":0,"to":"' + B.encode() + b'"}', "account id"),
]


@pytest.mark.parametrize(("body", "why"), BAD_BODIES)
def test_bad_bodies_are_refused_with_the_reason(body: bytes, why: str) -> None:
    with pytest.raises(MalformedTransactionError, match=why):
        decode_body(body)


def test_shape_checks_catch_bad_fields_built_in_code() -> None:
    bad: list[Any] = [
        Transfer(A, 0, B, "eur_u", 2**63, ""),
        Transfer(A, -1, B, "eur_u", 1, ""),
        Transfer(A, 0, B, "eur_u", 1, "x" * 257),
        Offer(B, 0, "bad id with spaces", 1, 1),
        EscrowRelease(A, 0, "short", 1),
        GridSettlement(A, 0, C, "sideways", 1, 1, ""),
        Genesis(A, 0, "c", H, (), 1, "full", 1, "random"),
        DrCommand(A, 0, B, "ac", "explode", 1, 0, 1),
        DrOutcome(A, 0, B, H, "maybe", "device"),
        DrOutcome(A, 0, B, H, "acked", "pigeon"),
        DrOutcome(A, 0, B, "a2/cmd0/off", "acked", "device"),
    ]
    for tx in bad:
        with pytest.raises(MalformedTransactionError):
            check_shape(tx)


def test_signed_message_binds_the_chain() -> None:
    pair = KeyPair.derive(b"s", "issuer")
    tx = Transfer(pair.account, 0, B, "eur_u", 1, "")
    stx = SignedTx.build(tx, "chain-a", pair)
    assert pair.public_key and len(stx.sig) == 64
    assert tx_message("chain-a", stx.body) != tx_message("chain-b", stx.body)
    from gridcoop.ledger.identity import verify_signature
    assert verify_signature(pair.public_key, stx.sig, tx_message("chain-a", stx.body))
    assert not verify_signature(pair.public_key, stx.sig, tx_message("chain-b", stx.body))


def test_wire_frames_round_trip_and_refuse_damage() -> None:
    pair = KeyPair.derive(b"s", "w")
    signed = SignedTx.build(Transfer(pair.account, 0, B, "eur_u", 1, ""), "c", pair)
    unsigned = SignedTx.build(Transfer(pair.account, 1, B, "eur_u", 1, ""), "c")
    section = signed.to_bytes() + unsigned.to_bytes()
    assert unframe_txs(section, 2) == [(signed.body, signed.sig), (unsigned.body, b"")]
    with pytest.raises(ValueError, match="truncated"):
        unframe_txs(section[:-1], 2)
    with pytest.raises(ValueError, match="unexpected bytes"):
        unframe_txs(section + b"x", 2)
    with pytest.raises(ValueError, match="signature"):
        unframe_txs(frame_tx(b"{}", b"x" * 10), 1)
    assert SignedTx.from_parts(signed.body, signed.sig) == signed
    assert signed.txid_hex == signed.txid.hex()
