"""The transaction union: one frozen dataclass per kind, canonical bytes, strict decoding.

Why plain frozen dataclasses and not pydantic: the simulation appends tens of
thousands of transactions per second, and a slotted dataclass plus a few
explicit checks costs about a microsecond. Amounts are integers: ``eur_u`` is
money in micro-euros (1 unit = 0.000001 EUR), ``wh`` energy tokens (1 token =
1 Wh, as in the pilot), ``token`` gamification tokens.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from ledger.codec import INT64_MAX, canonical_json, frame_tx, parse_json
from ledger.errors import MalformedTransactionError
from ledger.identity import ROLES, is_account_id

ASSETS: Final[tuple[str, ...]] = ("eur_u", "wh", "token")
EUR_U_PER_EUR: Final = 1_000_000
GRID_ACCOUNT: Final = "grid"  # the utility outside the community; may hold a negative balance
SIGNING_POLICIES: Final[tuple[str, ...]] = ("full", "block")
RESOURCE_KINDS: Final[tuple[str, ...]] = ("pv", "battery", "ev", "load", "meter")
DR_ACTIONS: Final[tuple[str, ...]] = ("on", "off", "increase", "decrease")
GRID_DIRECTIONS: Final[tuple[str, ...]] = ("import", "export")


@dataclass(frozen=True, slots=True)
class Genesis:
    """Block 0's only transaction: the chain's configuration, issued by the market authority."""

    kind: ClassVar[str] = "genesis"
    issuer: str
    nonce: int
    chain_id: str
    authority_key: str
    validator_keys: tuple[str, ...]
    quorum: int
    signing: str
    snapshot_interval: int


@dataclass(frozen=True, slots=True)
class RegisterMember:
    """The market registers an account: public key, role, digests of the off-chain profile."""

    kind: ClassVar[str] = "register_member"
    issuer: str
    nonce: int
    account: str
    public_key: str
    role: str
    profile_digest: str
    grid_digest: str


@dataclass(frozen=True, slots=True)
class RegisterResource:
    """A renewable system (or battery, EV, load) and its owner."""

    kind: ClassVar[str] = "register_resource"
    issuer: str
    nonce: int
    resource_id: str
    owner: str
    resource_kind: str
    capacity_w: int


@dataclass(frozen=True, slots=True)
class OpenListing:
    """The hour's invitation (``AUTHORIZE_OFFERS``) for delivery in [start_s, end_s)."""

    kind: ClassVar[str] = "open_listing"
    issuer: str
    nonce: int
    listing_id: str
    start_s: int
    end_s: int


@dataclass(frozen=True, slots=True)
class Offer:
    """A producer offers energy in a listing at a reserve price."""

    kind: ClassVar[str] = "offer"
    issuer: str
    nonce: int
    listing_id: str
    energy_wh: int
    price_eur_u_per_kwh: int


@dataclass(frozen=True, slots=True)
class Bid:
    """A consumer bids for energy in a listing at a bid price."""

    kind: ClassVar[str] = "bid"
    issuer: str
    nonce: int
    listing_id: str
    energy_wh: int
    price_eur_u_per_kwh: int


@dataclass(frozen=True, slots=True)
class CloseListing:
    """The gate closes (``BIDS_CLOSED``): no more offers or bids; trades may be recorded."""

    kind: ClassVar[str] = "close_listing"
    issuer: str
    nonce: int
    listing_id: str


@dataclass(frozen=True, slots=True)
class ClearListing:
    """The clearing is final (``CLEARED``): no more trades; per-offer state is dropped."""

    kind: ClassVar[str] = "clear_listing"
    issuer: str
    nonce: int
    listing_id: str


@dataclass(frozen=True, slots=True)
class Trade:
    """A matched pair; locks the buyer's payment in an escrow whose id is this txid."""

    kind: ClassVar[str] = "trade"
    issuer: str
    nonce: int
    listing_id: str
    seller: str
    buyer: str
    energy_wh: int
    price_eur_u_per_kwh: int
    amount_eur_u: int


@dataclass(frozen=True, slots=True)
class EscrowLock:
    """The issuer locks its own funds for a payee (escrow id = this txid)."""

    kind: ClassVar[str] = "escrow_lock"
    issuer: str
    nonce: int
    payee: str
    asset: str
    amount: int
    energy_wh: int
    memo: str


@dataclass(frozen=True, slots=True)
class EscrowRelease:
    """Pay part of an escrow to its payee."""

    kind: ClassVar[str] = "escrow_release"
    issuer: str
    nonce: int
    escrow_id: str
    amount: int


@dataclass(frozen=True, slots=True)
class EscrowRefund:
    """Return part of an escrow to its payer."""

    kind: ClassVar[str] = "escrow_refund"
    issuer: str
    nonce: int
    escrow_id: str
    amount: int


@dataclass(frozen=True, slots=True)
class Settle:
    """Settle a trade's escrow against metered delivery (pay delivered, refund, shortfall)."""

    kind: ClassVar[str] = "settle"
    issuer: str
    nonce: int
    escrow_id: str
    delivered_wh: int


@dataclass(frozen=True, slots=True)
class GridSettlement:
    """Energy bought from (import) or fed into (export) the grid, paid at grid tariffs.

    ``escrow_id`` names a recorded shortfall this settles, or is empty.
    """

    kind: ClassVar[str] = "grid_settlement"
    issuer: str
    nonce: int
    account: str
    direction: str
    energy_wh: int
    amount_eur_u: int
    escrow_id: str


@dataclass(frozen=True, slots=True)
class Transfer:
    """The issuer pays another account."""

    kind: ClassVar[str] = "transfer"
    issuer: str
    nonce: int
    to: str
    asset: str
    amount: int
    memo: str


@dataclass(frozen=True, slots=True)
class Mint:
    """The market authority issues new units (opening balances, energy tokens)."""

    kind: ClassVar[str] = "mint"
    issuer: str
    nonce: int
    to: str
    asset: str
    amount: int
    memo: str


@dataclass(frozen=True, slots=True)
class Reward:
    """Gamification tokens issued by an aggregator or the market."""

    kind: ClassVar[str] = "reward"
    issuer: str
    nonce: int
    to: str
    amount: int
    reason: str


@dataclass(frozen=True, slots=True)
class Penalty:
    """A penalty: the amount moves from the account to the issuer (the community pool)."""

    kind: ClassVar[str] = "penalty"
    issuer: str
    nonce: int
    account: str
    asset: str
    amount: int
    reason: str


@dataclass(frozen=True, slots=True)
class DrCommand:
    """An OpenADR-style command to a household's appliance (signal level 0-3)."""

    kind: ClassVar[str] = "dr_command"
    issuer: str
    nonce: int
    target: str
    appliance: str
    action: str
    level: int
    start_s: int
    duration_s: int


@dataclass(frozen=True, slots=True)
class MeterAttestation:
    """A meter's reading for a node (its own, or a neighbour's it witnessed)."""

    kind: ClassVar[str] = "meter_attestation"
    issuer: str
    nonce: int
    subject: str
    interval_start_s: int
    interval_s: int
    import_wh: int
    export_wh: int
    counter: int


Tx = (Genesis | RegisterMember | RegisterResource | OpenListing | Offer | Bid | CloseListing
      | ClearListing | Trade | EscrowLock | EscrowRelease | EscrowRefund | Settle | GridSettlement
      | Transfer | Mint | Reward | Penalty | DrCommand | MeterAttestation)

TX_TYPES: Final[tuple[type[Any], ...]] = (
    Genesis, RegisterMember, RegisterResource, OpenListing, Offer, Bid, CloseListing,
    ClearListing, Trade, EscrowLock, EscrowRelease, EscrowRefund, Settle, GridSettlement,
    Transfer, Mint, Reward, Penalty, DrCommand, MeterAttestation)
KINDS: Final[dict[str, type[Any]]] = {cls.kind: cls for cls in TX_TYPES}

# -- field checks (shape only; the rules check meaning against the state) ------------------

_ID_RE: Final = re.compile(r"[A-Za-z0-9._:/-]{1,64}")
_HEX64_RE: Final = re.compile(r"[0-9a-f]{64}")
_Check = Callable[[Any], str | None]


def _int(value: Any) -> str | None:
    if type(value) is not int or not 0 <= value <= INT64_MAX:
        return "a non-negative integer below 2**63"
    return None


def _account(value: Any) -> str | None:
    return None if type(value) is str and is_account_id(value) else "an account id (32 hex)"


def _ident(value: Any) -> str | None:
    ok = type(value) is str and _ID_RE.fullmatch(value) is not None
    return None if ok else "an id of 1-64 characters from [A-Za-z0-9._:/-]"


def _hex64(value: Any) -> str | None:
    return None if type(value) is str and _HEX64_RE.fullmatch(value) else "64 lowercase hex"


def _text(value: Any) -> str | None:
    return None if type(value) is str and len(value) <= 256 else "a string of <= 256 chars"


def _one_of(options: tuple[str, ...]) -> _Check:
    def check(value: Any) -> str | None:
        return None if value in options and type(value) is str else f"one of {options}"
    return check


def _escrow_ref(value: Any) -> str | None:
    return None if value == "" else _hex64(value)


def _chain_id(value: Any) -> str | None:
    return _ident(value)


def _key_list(value: Any) -> str | None:
    ok = (type(value) is tuple and len(value) >= 1
          and all(_hex64(item) is None for item in value))
    return None if ok else "a non-empty list of 64-hex public keys"


_CHECKS: Final[dict[str, _Check]] = {
    "issuer": _account, "account": _account, "to": _account, "payee": _account,
    "seller": _account, "buyer": _account, "owner": _account, "target": _account,
    "subject": _account, "listing_id": _ident, "resource_id": _ident, "appliance": _ident,
    "escrow_id": _hex64, "public_key": _hex64, "profile_digest": _hex64, "grid_digest": _hex64,
    "authority_key": _hex64, "validator_keys": _key_list, "chain_id": _chain_id,
    "memo": _text, "reason": _text, "asset": _one_of(ASSETS), "role": _one_of(ROLES),
    "signing": _one_of(SIGNING_POLICIES), "resource_kind": _one_of(RESOURCE_KINDS),
    "action": _one_of(DR_ACTIONS), "direction": _one_of(GRID_DIRECTIONS),
}
_OVERRIDES: Final[dict[tuple[str, str], _Check]] = {("grid_settlement", "escrow_id"): _escrow_ref}

FIELDS: Final[dict[type[Any], tuple[str, ...]]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in TX_TYPES}
_FIELD_CHECKS: Final[dict[type[Any], tuple[tuple[str, _Check], ...]]] = {
    cls: tuple((name, _OVERRIDES.get((cls.kind, name), _CHECKS.get(name, _int)))
               for name in names)
    for cls, names in FIELDS.items()}
_KEYSETS: Final[dict[str, frozenset[str]]] = {
    cls.kind: frozenset((*FIELDS[cls], "kind")) for cls in TX_TYPES}


def check_shape(tx: Tx) -> None:
    """Raise ``MalformedTransactionError`` when a field has the wrong type or range."""
    checks = _FIELD_CHECKS.get(type(tx))
    if checks is None:
        raise MalformedTransactionError(f"{type(tx).__name__} is not a ledger transaction type")
    for name, check in checks:
        problem = check(getattr(tx, name))
        if problem is not None:
            raise MalformedTransactionError(
                f"{tx.kind}.{name} = {getattr(tx, name)!r} is invalid: expected {problem}")


def body_dict(tx: Tx) -> dict[str, Any]:
    """The JSON object of a transaction's body (tuples become lists)."""
    out: dict[str, Any] = {name: getattr(tx, name) for name in FIELDS[type(tx)]}
    out["kind"] = tx.kind
    if type(tx) is Genesis:
        out["validator_keys"] = list(tx.validator_keys)
    return out


def encode_body(tx: Tx) -> bytes:
    """Canonical bytes of a transaction (after checking its shape)."""
    check_shape(tx)
    return canonical_json(body_dict(tx))


def decode_body(body: bytes) -> Tx:
    """Parse canonical bytes back into a transaction, or raise ``MalformedTransactionError``."""
    try:
        obj = parse_json(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedTransactionError(f"transaction body is not JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise MalformedTransactionError("transaction body is not a JSON object")
    kind = obj.get("kind")
    cls = KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise MalformedTransactionError(f"unknown transaction kind {kind!r}; known: "
                                        f"{sorted(KINDS)}")
    keys = _KEYSETS[cls.kind]
    if obj.keys() != keys:
        raise MalformedTransactionError(
            f"{cls.kind} fields {sorted(obj)} differ from the expected {sorted(keys)}")
    del obj["kind"]
    if cls is Genesis and isinstance(obj["validator_keys"], list):
        obj["validator_keys"] = tuple(obj["validator_keys"])
    tx: Tx = cls(**obj)
    canonical = encode_body(tx)
    if canonical != body:
        raise MalformedTransactionError("transaction body is not in canonical form "
                                        "(compact JSON, sorted keys, ASCII)")
    return tx


def tx_message(chain_id: str, body: bytes) -> bytes:
    """The exact bytes an issuer signs: domain, chain id, body (no cross-chain replay)."""
    return b"gridcoop/tx\x00" + chain_id.encode("ascii") + b"\x00" + body


class SignedTx:
    """A transaction with its canonical body and its issuer signature (empty if unsigned)."""

    __slots__ = ("body", "sig", "tx")

    def __init__(self, tx: Tx, body: bytes, sig: bytes = b"") -> None:
        self.tx = tx
        self.body = body
        self.sig = sig

    @classmethod
    def build(cls, tx: Tx, chain_id: str, signer: Any = None) -> SignedTx:
        """Encode ``tx`` and, when a ``KeyPair`` is given, sign it."""
        body = encode_body(tx)
        sig: bytes = signer.sign(tx_message(chain_id, body)) if signer is not None else b""
        return cls(tx, body, sig)

    @classmethod
    def from_parts(cls, body: bytes, sig: bytes) -> SignedTx:
        """Decode a stored or received (body, signature) pair."""
        if len(sig) not in (0, 64):
            raise MalformedTransactionError(f"a signature has 64 bytes, got {len(sig)}")
        return cls(decode_body(body), body, sig)

    @property
    def txid(self) -> bytes:
        """SHA-256 of the body: the transaction's identity (escrow ids are its hex)."""
        return hashlib.sha256(self.body).digest()

    @property
    def txid_hex(self) -> str:
        """The txid as 64 hex characters."""
        return hashlib.sha256(self.body).hexdigest()

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


def payment_eur_u(energy_wh: int, price_eur_u_per_kwh: int) -> int:
    """The payment for a trade: energy times price, rounded down to a micro-euro."""
    return energy_wh * price_eur_u_per_kwh // 1000
