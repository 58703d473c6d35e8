"""Canonical bytes of transactions, their shape checks, and the signed envelope.

Why a hand-laid encoder: the bytes must equal compact, key-sorted JSON (that is
the definition, and ``decode_body`` re-encodes to refuse anything else), but
building them from a per-kind layout with the standard library's C string
escaper costs a third of a generic ``json.dumps``: the simulation's append path
encodes every transaction.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from json.encoder import encode_basestring_ascii
from typing import Any, Final

from gridcoop.ledger.codec import INT64_MAX, canonical_json, frame_tx, parse_json
from gridcoop.ledger.columns import COLUMNS, HEAD_END, count_rows, head_of, rows_root
from gridcoop.ledger.errors import MalformedTransactionError
from gridcoop.ledger.identity import ROLES, KeyPair
from gridcoop.ledger.transactions import (
    ASSETS,
    DR_ACTIONS,
    DR_OUTCOMES,
    DR_VIAS,
    GRID_DIRECTIONS,
    KEY_ORIGINS,
    KINDS,
    RESOURCE_KINDS,
    SIGNING_POLICIES,
    TX_TYPES,
    Genesis,
    GridSettlement,
    Tx,
)

_ACCOUNT: Final = (re.compile(r"[0-9a-f]{32}"), "an account id (32 lowercase hex)")
_IDENT: Final = (re.compile(r"[A-Za-z0-9._:/-]{1,64}"),
                 "an id of 1-64 characters from [A-Za-z0-9._:/-]")
_HEX64: Final = (re.compile(r"[0-9a-f]{64}"), "64 lowercase hex characters")
_ESCROW_REF: Final = (re.compile(r"(?:[0-9a-f]{64})?"), "an escrow id (64 hex) or empty")
_TEXT: Final = (re.compile(r".{0,256}", re.DOTALL), "a string of at most 256 characters")

LEGACY_ORIGIN: Final = ""
"""``key_origin`` of a genesis written before origins were recorded (encoded without the field,
so such chains keep their hashes and still verify)."""

_PATTERNS: Final[dict[str, tuple[re.Pattern[str], str]]] = {
    "issuer": _ACCOUNT, "account": _ACCOUNT, "to": _ACCOUNT, "payee": _ACCOUNT,
    "seller": _ACCOUNT, "buyer": _ACCOUNT, "owner": _ACCOUNT, "target": _ACCOUNT,
    "subject": _ACCOUNT, "listing_id": _IDENT, "resource_id": _IDENT, "appliance": _IDENT,
    "chain_id": _IDENT, "escrow_id": _HEX64, "public_key": _HEX64, "profile_digest": _HEX64,
    "grid_digest": _HEX64, "authority_key": _HEX64, "memo": _TEXT, "reason": _TEXT,
    "command_txid": _HEX64,
}
_CHOICES: Final[dict[str, tuple[str, ...]]] = {
    "asset": ASSETS, "role": ROLES, "signing": SIGNING_POLICIES,
    "resource_kind": RESOURCE_KINDS, "action": DR_ACTIONS, "direction": GRID_DIRECTIONS,
    "outcome": DR_OUTCOMES, "via": DR_VIAS, "key_origin": (*KEY_ORIGINS, LEGACY_ORIGIN),
}


def _key_list(value: Any) -> bool:
    return (type(value) is tuple and len(value) >= 1
            and all(type(v) is str and _HEX64[0].fullmatch(v) for v in value))


FIELDS: Final[dict[type[Any], tuple[str, ...]]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in TX_TYPES}


def _plan(cls: type[Any]) -> tuple[tuple[str, ...], tuple[tuple[str, re.Pattern[str], str], ...],
                                   tuple[tuple[str, frozenset[str], str], ...]]:
    ints, patterns, choices = [], [], []
    columns = {c.name for c in COLUMNS.get(cls, ())}
    for name in FIELDS[cls]:
        if name in columns:
            continue
        if name in _CHOICES:
            choices.append((name, frozenset(_CHOICES[name]), f"one of {_CHOICES[name]}"))
        elif cls is GridSettlement and name == "escrow_id":
            patterns.append((name, *_ESCROW_REF))
        elif name in _PATTERNS:
            patterns.append((name, *_PATTERNS[name]))
        elif name != "validator_keys":
            ints.append(name)
    return tuple(ints), tuple(patterns), tuple(choices)


_PLANS: Final = {cls: _plan(cls) for cls in TX_TYPES}
_KEYSETS: Final[dict[str, frozenset[str]]] = {
    cls.kind: frozenset((*FIELDS[cls], "kind",
                         *(c.name + "_root" for c in COLUMNS.get(cls, ())))) for cls in TX_TYPES}


def _bad(tx: Tx, name: str, expected: str) -> MalformedTransactionError:
    return MalformedTransactionError(
        f"{tx.kind}.{name} = {getattr(tx, name)!r} is invalid: expected {expected}")


def check_shape(tx: Tx) -> None:
    """Raise ``MalformedTransactionError`` when a field has the wrong type or range."""
    plan = _PLANS.get(type(tx))
    if plan is None:
        raise MalformedTransactionError(f"{type(tx).__name__} is not a ledger transaction type")
    ints, patterns, choices = plan
    for name in ints:
        value = getattr(tx, name)
        if type(value) is not int or value < 0 or value > INT64_MAX:
            raise _bad(tx, name, "a non-negative integer below 2**63")
    for name, pattern, what in patterns:
        value = getattr(tx, name)
        if type(value) is not str or pattern.fullmatch(value) is None:
            raise _bad(tx, name, what)
    for name, options, what in choices:
        value = getattr(tx, name)
        if type(value) is not str or value not in options:
            raise _bad(tx, name, what)
    if type(tx) is Genesis and not _key_list(tx.validator_keys):
        raise _bad(tx, "validator_keys", "a non-empty list of 64-hex public keys")
    for column in COLUMNS.get(type(tx), ()):
        rows = getattr(tx, column.name)
        if type(rows) is not bytes or len(rows) % column.layout.size:
            raise _bad(tx, column.name, f"bytes of whole {column.layout.size}-byte rows")


def body_dict(tx: Tx) -> dict[str, Any]:
    """The JSON object of a transaction's body (tuples become lists)."""
    out: dict[str, Any] = {name: getattr(tx, name) for name in FIELDS[type(tx)]}
    out["kind"] = tx.kind
    if type(tx) is Genesis:
        out["validator_keys"] = list(tx.validator_keys)
        if tx.key_origin == LEGACY_ORIGIN:
            del out["key_origin"]
    return out


def _layout(cls: type[Any]) -> tuple[tuple[tuple[str, str, bool], ...], str]:
    """Per-kind pieces of the key-sorted JSON: (text before the value, field, is int)."""
    ints = set(_PLANS[cls][0])
    pieces: list[tuple[str, str, bool]] = []
    text = "{"
    for key in sorted((*FIELDS[cls], "kind")):
        text += ("," if text != "{" or pieces else "") + encode_basestring_ascii(key) + ":"
        if key == "kind":
            text += encode_basestring_ascii(cls.kind)
            continue
        pieces.append((text, key, key in ints))
        text = ""
    return tuple(pieces), text + "}"


_LAYOUTS: Final = {cls: _layout(cls) for cls in TX_TYPES
                   if cls is not Genesis and cls not in COLUMNS}


def _columnar_head(tx: Tx, roots: list[bytes]) -> bytes:
    """The head of a columnar record: its scalar fields, each column's row count and root."""
    doc = body_dict(tx)
    for column, root in zip(COLUMNS[type(tx)], roots, strict=True):
        doc[column.name] = count_rows(getattr(tx, column.name), column.layout)
        doc[column.name + "_root"] = root.hex()
    return canonical_json(doc)


def _encode_columnar(tx: Tx) -> bytes:
    columns = [(getattr(tx, c.name), c.layout) for c in COLUMNS[type(tx)]]
    head = _columnar_head(tx, [rows_root(rows, layout) for rows, layout in columns])
    return b"".join((head, HEAD_END, *(rows for rows, _ in columns)))


def _decode_columnar(body: bytes) -> Tx:
    """Split a columnar body, check every column against its root, rebuild the record."""
    head = head_of(body)
    obj = _parse_object(head)
    cls = _kind_class(obj)
    columns = COLUMNS.get(cls)
    if columns is None:
        raise MalformedTransactionError(f"a {cls.kind} transaction has no columns; its body "
                                        "must be plain canonical JSON")
    _check_keys(cls, obj)
    offset = len(head) + 1
    rows: dict[str, bytes] = {}
    for column in columns:
        count = obj[column.name]
        if type(count) is not int or count < 0:
            raise MalformedTransactionError(f"{cls.kind}.{column.name} must be a row count")
        end = offset + count * column.layout.size
        if end > len(body):
            raise MalformedTransactionError(f"{cls.kind}.{column.name} is truncated")
        rows[column.name] = body[offset:end]
        offset = end
        del obj[column.name], obj[column.name + "_root"]
    if offset != len(body):
        raise MalformedTransactionError(f"{len(body) - offset} bytes after the last column of "
                                        f"a {cls.kind} record")
    tx: Tx = cls(**obj, **rows)
    check_shape(tx)
    roots = [rows_root(rows[c.name], c.layout) for c in columns]
    if _columnar_head(tx, roots) != head:
        raise MalformedTransactionError(f"{cls.kind} record: a row does not match its column's "
                                        "Merkle root, or the head is not in canonical form")
    return tx


def encode_body(tx: Tx) -> bytes:
    """Canonical bytes (compact key-sorted ASCII JSON) of a transaction, after shape checks."""
    check_shape(tx)
    layout = _LAYOUTS.get(type(tx))
    if layout is None:
        if type(tx) in COLUMNS:
            return _encode_columnar(tx)
        return canonical_json(body_dict(tx))
    pieces, end = layout
    parts: list[str] = []
    append = parts.append
    for text, name, numeric in pieces:
        append(text)
        value = getattr(tx, name)
        append(str(value) if numeric else encode_basestring_ascii(value))
    append(end)
    return "".join(parts).encode("ascii")


def _parse_object(data: bytes) -> dict[str, Any]:
    try:
        obj = parse_json(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedTransactionError(f"transaction body is not JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise MalformedTransactionError("transaction body is not a JSON object")
    return obj


def _kind_class(obj: dict[str, Any]) -> type[Any]:
    kind = obj.get("kind")
    cls = KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise MalformedTransactionError(f"unknown transaction kind {kind!r}; known: "
                                        f"{sorted(KINDS)}")
    return cls


def _check_keys(cls: type[Any], obj: dict[str, Any]) -> None:
    keys = _KEYSETS[cls.kind]
    if cls is Genesis and "key_origin" not in obj:
        obj["key_origin"] = LEGACY_ORIGIN
    if obj.keys() != keys:
        raise MalformedTransactionError(
            f"{cls.kind} fields {sorted(obj)} differ from the expected {sorted(keys)}")
    del obj["kind"]


def decode_body(body: bytes) -> Tx:
    """Parse canonical bytes back into a transaction, or raise ``MalformedTransactionError``."""
    if HEAD_END in body:
        return _decode_columnar(body)
    obj = _parse_object(body)
    cls = _kind_class(obj)
    if cls in COLUMNS:
        raise MalformedTransactionError(f"a {cls.kind} record needs its columns after its head")
    _check_keys(cls, obj)
    if cls is Genesis and isinstance(obj["validator_keys"], list):
        obj["validator_keys"] = tuple(obj["validator_keys"])
    tx: Tx = cls(**obj)
    if encode_body(tx) != body:
        raise MalformedTransactionError("transaction body is not in canonical form "
                                        "(compact JSON, sorted keys, ASCII)")
    return tx


def tx_message(chain_id: str, body: bytes) -> bytes:
    """The exact bytes an issuer signs: domain, chain id, body (no cross-chain replay)."""
    return b"gridcoop/tx\\x00" + chain_id.encode("ascii") + b"\\x00" + body


class SignedTx:
    """A transaction with its canonical body and its issuer signature (empty if unsigned)."""

    __slots__ = ("_signed_here", "body", "sig", "tx")

    def __init__(self, tx: Tx, body: bytes, sig: bytes = b"") -> None:
        self.tx = tx
        self.body = body
        self.sig = sig
        self._signed_here: tuple[bytes, str, bytes, bytes] | None = None

    @classmethod
    def build(cls, tx: Tx, chain_id: str, signer: KeyPair | None = None) -> SignedTx:
        """Encode ``tx`` and, when a key pair is given, sign it."""
        body = encode_body(tx)
        if signer is None:
            return cls(tx, body)
        stx = cls(tx, body, signer.sign(tx_message(chain_id, head_of(body))))
        stx._signed_here = (signer.public_key, chain_id, body, stx.sig)
        return stx

    def signed_here_by(self, public_key: bytes, chain_id: str) -> bool:
        """Whether this very object was signed in this process with ``public_key`` for
        ``chain_id``, its body and signature untouched since.

        Why: verifying a signature this process has just made with the key proves only
        that the key is that key; a ledger applying its own wallet's transactions checks
        that and skips the curve arithmetic. Anything decoded, or altered after signing,
        is verified as usual.
        """
        made = self._signed_here
        return (made is not None and made[0] == public_key and made[1] == chain_id
                and made[2] is self.body and made[3] is self.sig)

    def __reduce__(self) -> tuple[type[SignedTx], tuple[Tx, bytes, bytes]]:
        """A copy or a pickle (another process) is not the object this process signed."""
        return SignedTx, (self.tx, self.body, self.sig)

    @classmethod
    def from_parts(cls, body: bytes, sig: bytes) -> SignedTx:
        """Decode a stored or received (body, signature) pair."""
        if len(sig) not in (0, 64):
            raise MalformedTransactionError(f"a signature has 64 bytes, got {len(sig)}")
        return cls(decode_body(body), body, sig)

    @property
    def head(self) -> bytes:
        """What the issuer signs: the body, or a columnar record's head (``ledger.columns``)."""
        return head_of(self.body)

    @property
    def txid(self) -> bytes:
        """SHA-256 of the head: the transaction's identity (escrow ids are its hex)."""
        return hashlib.sha256(head_of(self.body)).digest()

    @property
    def txid_hex(self) -> str:
        """The txid as 64 hex characters."""
        return hashlib.sha256(head_of(self.body)).hexdigest()

    def to_bytes(self) -> bytes:
        """Wire form of one transaction (lengths, signature, body)."""
        return frame_tx(self.body, self.sig)

    def __repr__(self) -> str:
        return f"SignedTx({self.tx!r}, signed={bool(self.sig)})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, SignedTx) and other.body == self.body
                and other.sig == self.sig)

    def __hash__(self) -> int:
        return hash((self.body, self.sig))

