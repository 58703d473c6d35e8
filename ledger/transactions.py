"""The transaction union: one frozen dataclass per kind (encoding lives in ``envelope``).

Why plain frozen dataclasses and not pydantic: the simulation appends tens of
thousands of transactions per second, and a slotted dataclass plus a few
explicit checks costs about a microsecond. Amounts are integers: ``eur_u`` is
money in micro-euros (1 unit = 0.000001 EUR), ``wh`` energy tokens (1 token =
1 Wh, as in the pilot), ``token`` gamification tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Final

ASSETS: Final[tuple[str, ...]] = ("eur_u", "wh", "token")
GRID_ACCOUNT: Final = "grid"  # the utility outside the community; may hold a negative balance
SIGNING_POLICIES: Final[tuple[str, ...]] = ("full", "block")
KEY_ORIGINS: Final[tuple[str, ...]] = ("random", "seed")
"""Where a chain's keys come from: generated at random and kept in a key store (``random``:
live, real energy or money), or derived from a run's seed (``seed``: reproducible
simulations, whose signatures prove nothing to anyone who knows the seed)."""
RESOURCE_KINDS: Final[tuple[str, ...]] = ("pv", "battery", "ev", "load", "meter")
DR_ACTIONS: Final[tuple[str, ...]] = ("on", "off", "increase", "decrease")
DR_OUTCOMES: Final[tuple[str, ...]] = ("opt_in", "opt_out", "acked", "nacked", "timeout", "refused")
"""A household's answer (opt in or out) or a device's: acknowledged, refused by the device
(``nacked``), no answer in time (``timeout``), or refused before it was sent (``refused``)."""
DR_VIAS: Final[tuple[str, ...]] = ("household", "device", "network", "bridge", "none")
"""Who reported a DR outcome: the household, the device's own uplink, the network server,
the local bridge, or nobody."""
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
    key_origin: str


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
class DrOutcome:
    """What became of a ``dr_command`` (``command_txid``): its outcome and who reported it."""

    kind: ClassVar[str] = "dr_outcome"
    issuer: str
    nonce: int
    target: str
    command_txid: str
    outcome: str
    via: str


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


@dataclass(frozen=True, slots=True)
class AuctionRecord:
    """A whole auction in one record: the listing, its book, its trades with their escrow.

    ``orders`` and ``trades`` are columns of fixed-width rows (``ledger.columns``):
    the book of the traders who traded, then every trade. Applying it opens the
    listing, checks every trade against the book (no double sale) and the
    buyers' funds, locks the payments in one escrow whose id is this txid, and
    leaves the listing cleared.
    """

    kind: ClassVar[str] = "auction"
    issuer: str
    nonce: int
    listing_id: str
    start_s: int
    end_s: int
    orders: bytes
    trades: bytes


@dataclass(frozen=True, slots=True)
class SettlementRecord:
    """Settles every trade of an ``AuctionRecord`` (``escrow_id``) against metered delivery.

    One row per trade in the auction's order: delivered Wh and the shortfall Wh
    the buyer took from the grid, paid at ``grid_price_eur_u_per_kwh``. Sellers
    are paid for what they delivered, buyers refunded the rest; the escrow
    closes, so a second settlement of it is refused.
    """

    kind: ClassVar[str] = "settlement"
    issuer: str
    nonce: int
    escrow_id: str
    grid_price_eur_u_per_kwh: int
    rows: bytes


@dataclass(frozen=True, slots=True)
class BillingRecord:
    """One billing period of many members in one record (``memo`` names the period).

    One row per member (``ledger.columns.BILL_ROW``): a deposit that tops the
    member up before it pays, grid feed-in paid by the grid, grid import paid
    to the grid, the community's grid fee paid to the issuing market, and
    local-energy tokens minted. Applied row by row in that order, with the
    checks of the mint, grid-settlement and transfer rules; one failing row
    refuses the whole record.
    """

    kind: ClassVar[str] = "billing"
    issuer: str
    nonce: int
    memo: str
    rows: bytes


Tx = (Genesis | RegisterMember | RegisterResource | OpenListing | Offer | Bid | CloseListing
      | ClearListing | Trade | EscrowLock | EscrowRelease | EscrowRefund | Settle | GridSettlement
      | Transfer | Mint | Reward | Penalty | DrCommand | DrOutcome | MeterAttestation
      | AuctionRecord | SettlementRecord | BillingRecord)

TX_TYPES: Final[tuple[type[Any], ...]] = (
    Genesis, RegisterMember, RegisterResource, OpenListing, Offer, Bid, CloseListing,
    ClearListing, Trade, EscrowLock, EscrowRelease, EscrowRefund, Settle, GridSettlement,
    Transfer, Mint, Reward, Penalty, DrCommand, DrOutcome, MeterAttestation, AuctionRecord,
    SettlementRecord, BillingRecord)
KINDS: Final[dict[str, type[Any]]] = {cls.kind: cls for cls in TX_TYPES}
