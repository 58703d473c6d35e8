"""The rules: how each transaction kind changes the state, and when it is refused.

Every rule checks everything first and mutates last, so a refused transaction
leaves the state unchanged (and the journal lets a whole block roll back).
Signatures are not checked here: the ``Ledger`` checks them (in parallel)
according to the chain's signing policy before calling ``apply``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from ledger.codec import INT64_MAX
from ledger.envelope import SignedTx
from ledger.errors import (
    AmountOverflowError,
    ConfigError,
    DoubleSaleError,
    DuplicateMemberError,
    EscrowError,
    InsufficientFundsError,
    ListingError,
    MalformedTransactionError,
    MeterError,
    NonceError,
    ResourceError,
    RoleError,
    SettlementError,
    UnknownMemberError,
)
from ledger.identity import account_id
from ledger.state import ChainConfig, Escrow, Listing, MemberRecord, Resource, Shortfall, State
from ledger.transactions import (
    GRID_ACCOUNT,
    Bid,
    ClearListing,
    CloseListing,
    DrCommand,
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
    payment_eur_u,
)

OPEN, CLOSED, CLEARED = "AUTHORIZE_OFFERS", "BIDS_CLOSED", "CLEARED"
NO_DIGEST: Final = "0" * 64

_MARKET = frozenset({"market"})
_TRADERS = frozenset({"member", "aggregator"})
_PAYERS = frozenset({"member", "aggregator", "market"})
_COMMUNITY = frozenset({"aggregator", "market"})
_METER = frozenset({"meter"})


# -- helpers --------------------------------------------------------------------------------


def _known(state: State, account: str, what: str) -> None:
    if account not in state.members:
        raise UnknownMemberError(f"{what} {account} is not registered; register it first")


def _positive(value: int, what: str) -> None:
    if value <= 0:
        raise MalformedTransactionError(f"{what} must be positive, got {value}")


def _need(state: State, account: str, asset: str, amount: int) -> int:
    have = state.balances.get((account, asset), 0)
    if have < amount:
        raise InsufficientFundsError(f"account {account} holds {have} {asset}, needs {amount}; "
                                     "the balance may not go negative")
    return have


def _room(state: State, account: str, asset: str, amount: int) -> int:
    have = state.balances.get((account, asset), 0)
    if have + amount > INT64_MAX:
        raise AmountOverflowError(f"crediting {amount} {asset} to {account} would exceed 2**63-1")
    return have


def _credit(state: State, account: str, asset: str, amount: int) -> None:
    if amount:
        key = (account, asset)
        state.put(state.balances, key, state.balances.get(key, 0) + amount)


def _move(state: State, payer: str, payee: str, asset: str, amount: int) -> None:
    """Check both sides, then move ``amount`` from payer to payee."""
    have = _need(state, payer, asset, amount)
    _room(state, payee, asset, amount)
    state.put(state.balances, (payer, asset), have - amount)
    _credit(state, payee, asset, amount)


def _issue(state: State, to: str, asset: str, amount: int) -> None:
    supply = state.supply.get(asset, 0)
    if supply + amount > INT64_MAX:
        raise AmountOverflowError(f"issuing {amount} {asset} would exceed 2**63-1 in supply")
    _room(state, to, asset, amount)
    state.put(state.supply, asset, supply + amount)
    _credit(state, to, asset, amount)


def _listing(state: State, listing_id: str, wanted: str, action: str,
             issuer: str | None = None) -> Listing:
    listing = state.listings.get(listing_id)
    if listing is None:
        raise ListingError(f"listing {listing_id!r} does not exist; open it first")
    if issuer is not None and issuer != listing.owner and \
            state.members[issuer].role != "market":
        raise RoleError(f"listing {listing_id!r} belongs to {listing.owner}; only its owner "
                        f"or the market may {action} it")
    if listing.state != wanted:
        raise ListingError(f"cannot {action} listing {listing_id!r} in state {listing.state}; "
                           f"it must be {wanted}")
    return listing


def _escrow(state: State, escrow_id: str) -> Escrow:
    escrow = state.escrows.get(escrow_id)
    if escrow is None:
        raise EscrowError(f"escrow {escrow_id} is not open: never locked, or already fully "
                          "released/refunded")
    return escrow


def _add(state: State, table: dict[str, dict[str, int]], listing_id: str, account: str,
         delta: int) -> None:
    inner = table.get(listing_id)
    new = (inner.get(account, 0) if inner is not None else 0) + delta
    if new > INT64_MAX:
        raise AmountOverflowError(f"offered energy in {listing_id!r} would exceed 2**63-1 Wh")
    if inner is None:
        inner = {}
        state.put(table, listing_id, inner)
    if new:
        state.put(inner, account, new)
    else:
        state.drop(inner, account)


# -- rules ----------------------------------------------------------------------------------


def _register_member(state: State, stx: SignedTx, tx: RegisterMember) -> None:
    key = bytes.fromhex(tx.public_key)
    if account_id(key) != tx.account:
        raise MalformedTransactionError(f"account {tx.account} is not the id of public key "
                                        f"{tx.public_key} (expected {account_id(key)})")
    if tx.account in state.members or key in state.public_keys:
        raise DuplicateMemberError(f"account {tx.account} is already registered")
    if tx.grid_digest in state.grid_digests:
        raise DuplicateMemberError("this grid id is already registered to account "
                                   f"{state.grid_digests[tx.grid_digest]}")
    state.put(state.members, tx.account,
              MemberRecord(key, tx.role, tx.profile_digest, tx.grid_digest))
    state.put(state.public_keys, key, tx.account)
    state.put(state.grid_digests, tx.grid_digest, tx.account)


def _register_resource(state: State, stx: SignedTx, tx: RegisterResource) -> None:
    if tx.resource_id in state.resources:
        raise ResourceError(f"resource {tx.resource_id!r} is already registered")
    _known(state, tx.owner, "owner")
    state.put(state.resources, tx.resource_id,
              Resource(tx.owner, tx.resource_kind, tx.capacity_w))


def _open_listing(state: State, stx: SignedTx, tx: OpenListing) -> None:
    if tx.listing_id in state.listings:
        raise ListingError(f"listing {tx.listing_id!r} already exists; listing ids are unique")
    if tx.end_s <= tx.start_s:
        raise MalformedTransactionError(f"listing {tx.listing_id!r} ends ({tx.end_s}) before "
                                        f"it starts ({tx.start_s})")
    state.put(state.listings, tx.listing_id, Listing(tx.start_s, tx.end_s, OPEN, tx.issuer))


def _offer_or_bid(state: State, stx: SignedTx, tx: Offer | Bid) -> None:
    _positive(tx.energy_wh, f"{tx.kind}.energy_wh")
    _listing(state, tx.listing_id, OPEN, tx.kind + " in")
    _add(state, state.offers if type(tx) is Offer else state.bids, tx.listing_id, tx.issuer,
         tx.energy_wh)


def _close_listing(state: State, stx: SignedTx, tx: CloseListing) -> None:
    listing = _listing(state, tx.listing_id, OPEN, "close", tx.issuer)
    state.put(state.listings, tx.listing_id, Listing(listing.start_s, listing.end_s, CLOSED,
                                                     listing.owner))


def _clear_listing(state: State, stx: SignedTx, tx: ClearListing) -> None:
    listing = _listing(state, tx.listing_id, CLOSED, "clear", tx.issuer)
    state.put(state.listings, tx.listing_id, Listing(listing.start_s, listing.end_s, CLEARED,
                                                     listing.owner))
    for table in (state.offers, state.bids):
        if tx.listing_id in table:
            state.drop(table, tx.listing_id)


def _trade(state: State, stx: SignedTx, tx: Trade) -> None:
    _positive(tx.energy_wh, "trade.energy_wh")
    if tx.seller == tx.buyer:
        raise MalformedTransactionError(f"trade seller and buyer are the same ({tx.seller})")
    expected = payment_eur_u(tx.energy_wh, tx.price_eur_u_per_kwh)
    if tx.amount_eur_u != expected:
        raise MalformedTransactionError(
            f"trade amount {tx.amount_eur_u} eur_u != {tx.energy_wh} Wh x "
            f"{tx.price_eur_u_per_kwh} eur_u/kWh // 1000 = {expected}")
    _known(state, tx.seller, "seller")
    _known(state, tx.buyer, "buyer")
    _listing(state, tx.listing_id, CLOSED, "trade in", tx.issuer)
    offered = state.offers.get(tx.listing_id, {}).get(tx.seller, 0)
    if tx.energy_wh > offered:
        raise DoubleSaleError(f"seller {tx.seller} has {offered} Wh left unsold in listing "
                              f"{tx.listing_id!r}; cannot sell {tx.energy_wh} Wh")
    wanted = state.bids.get(tx.listing_id, {}).get(tx.buyer, 0)
    if tx.energy_wh > wanted:
        raise ListingError(f"buyer {tx.buyer} has {wanted} Wh left unmatched in its bids in "
                           f"listing {tx.listing_id!r}; cannot buy {tx.energy_wh} Wh")
    have = _need(state, tx.buyer, "eur_u", tx.amount_eur_u)
    _add(state, state.offers, tx.listing_id, tx.seller, -tx.energy_wh)
    _add(state, state.bids, tx.listing_id, tx.buyer, -tx.energy_wh)
    state.put(state.balances, (tx.buyer, "eur_u"), have - tx.amount_eur_u)
    state.put(state.escrows, stx.txid_hex, Escrow(tx.buyer, tx.seller, "eur_u", tx.amount_eur_u,
                                                  tx.amount_eur_u, tx.energy_wh, tx.issuer))


def _escrow_lock(state: State, stx: SignedTx, tx: EscrowLock) -> None:
    _positive(tx.amount, "escrow_lock.amount")
    if tx.payee == tx.issuer:
        raise MalformedTransactionError("an escrow's payee must differ from its payer")
    _known(state, tx.payee, "payee")
    have = _need(state, tx.issuer, tx.asset, tx.amount)
    state.put(state.balances, (tx.issuer, tx.asset), have - tx.amount)
    state.put(state.escrows, stx.txid_hex,
              Escrow(tx.issuer, tx.payee, tx.asset, tx.amount, tx.amount, tx.energy_wh))


def _release_or_refund(state: State, stx: SignedTx, tx: EscrowRelease | EscrowRefund) -> None:
    _positive(tx.amount, f"{tx.kind}.amount")
    escrow = _escrow(state, tx.escrow_id)
    release = type(tx) is EscrowRelease
    party = escrow.payer if release else escrow.payee
    if tx.issuer not in (party, escrow.arbiter) and state.members[tx.issuer].role != "market":
        who = "payer" if release else "payee"
        raise RoleError(f"only the market, the escrow's arbiter or its {who} ({party}) may "
                        f"{tx.kind} it")
    if tx.amount > escrow.remaining:
        raise EscrowError(f"escrow {tx.escrow_id} holds {escrow.remaining} {escrow.asset}; "
                          f"cannot {tx.kind} {tx.amount} (beyond its amount)")
    to = escrow.payee if release else escrow.payer
    _room(state, to, escrow.asset, tx.amount)
    _credit(state, to, escrow.asset, tx.amount)
    left = escrow.remaining - tx.amount
    if left:
        state.put(state.escrows, tx.escrow_id, Escrow(escrow.payer, escrow.payee, escrow.asset,
                                                      escrow.amount, left, escrow.energy_wh,
                                                      escrow.arbiter))
    else:
        state.drop(state.escrows, tx.escrow_id)


def _settle(state: State, stx: SignedTx, tx: Settle) -> None:
    escrow = _escrow(state, tx.escrow_id)
    if tx.issuer != escrow.arbiter and state.members[tx.issuer].role != "market":
        raise RoleError(f"escrow {tx.escrow_id} is settled by the market or its arbiter "
                        f"{escrow.arbiter or '(the market)'}")
    if escrow.energy_wh <= 0:
        raise EscrowError(f"escrow {tx.escrow_id} is not for energy; use escrow_release or "
                          "escrow_refund")
    if escrow.remaining != escrow.amount:
        raise EscrowError(f"escrow {tx.escrow_id} was partly released or refunded already; "
                          "settle needs the whole escrow")
    delivered = min(tx.delivered_wh, escrow.energy_wh)
    pay = escrow.amount * delivered // escrow.energy_wh
    refund = escrow.amount - pay
    _room(state, escrow.payee, escrow.asset, pay)
    _room(state, escrow.payer, escrow.asset, refund)
    _credit(state, escrow.payee, escrow.asset, pay)
    _credit(state, escrow.payer, escrow.asset, refund)
    state.drop(state.escrows, tx.escrow_id)
    if delivered < escrow.energy_wh:
        state.put(state.shortfalls, tx.escrow_id,
                  Shortfall(escrow.payer, escrow.payee, escrow.energy_wh - delivered))


def _grid_settlement(state: State, stx: SignedTx, tx: GridSettlement) -> None:
    _known(state, tx.account, "account")
    if tx.escrow_id:
        shortfall = state.shortfalls.get(tx.escrow_id)
        if shortfall is None:
            raise SettlementError(f"no open shortfall for escrow {tx.escrow_id} (unknown or "
                                  "already settled)")
        if tx.account not in (shortfall.buyer, shortfall.seller):
            raise SettlementError(f"account {tx.account} is neither buyer nor seller of "
                                  f"shortfall {tx.escrow_id}")
        if tx.energy_wh != shortfall.energy_wh:
            raise SettlementError(f"shortfall {tx.escrow_id} is {shortfall.energy_wh} Wh, "
                                  f"not {tx.energy_wh} Wh")
    if tx.direction == "import":
        _move(state, tx.account, GRID_ACCOUNT, "eur_u", tx.amount_eur_u)
    else:
        grid = state.balances.get((GRID_ACCOUNT, "eur_u"), 0)
        if grid - tx.amount_eur_u < -INT64_MAX:
            raise AmountOverflowError("the grid account's debt would exceed 2**63-1 eur_u")
        _room(state, tx.account, "eur_u", tx.amount_eur_u)
        state.put(state.balances, (GRID_ACCOUNT, "eur_u"), grid - tx.amount_eur_u)
        _credit(state, tx.account, "eur_u", tx.amount_eur_u)
    if tx.escrow_id:
        state.drop(state.shortfalls, tx.escrow_id)


def _transfer(state: State, stx: SignedTx, tx: Transfer) -> None:
    _positive(tx.amount, "transfer.amount")
    if tx.to == tx.issuer:
        raise MalformedTransactionError("a transfer to oneself changes nothing; drop it")
    _known(state, tx.to, "recipient")
    _move(state, tx.issuer, tx.to, tx.asset, tx.amount)


def _mint(state: State, stx: SignedTx, tx: Mint) -> None:
    _positive(tx.amount, "mint.amount")
    _known(state, tx.to, "recipient")
    _issue(state, tx.to, tx.asset, tx.amount)


def _reward(state: State, stx: SignedTx, tx: Reward) -> None:
    _positive(tx.amount, "reward.amount")
    _known(state, tx.to, "recipient")
    _issue(state, tx.to, "token", tx.amount)


def _penalty(state: State, stx: SignedTx, tx: Penalty) -> None:
    _positive(tx.amount, "penalty.amount")
    _known(state, tx.account, "penalised account")
    if tx.account == tx.issuer:
        raise MalformedTransactionError("an issuer cannot penalise itself")
    _move(state, tx.account, tx.issuer, tx.asset, tx.amount)


def _dr_command(state: State, stx: SignedTx, tx: DrCommand) -> None:
    _known(state, tx.target, "target")
    if tx.level > 3:
        raise MalformedTransactionError(f"OpenADR SIMPLE levels are 0-3, got {tx.level}")
    _positive(tx.duration_s, "dr_command.duration_s")


def _meter_attestation(state: State, stx: SignedTx, tx: MeterAttestation) -> None:
    _known(state, tx.subject, "subject")
    _positive(tx.interval_s, "meter_attestation.interval_s")
    last = state.meter_counters.get(tx.issuer, -1)
    if tx.counter <= last:
        raise MeterError(f"meter {tx.issuer} counter {tx.counter} does not exceed its last "
                         f"counter {last} (replayed or reordered reading)")
    state.put(state.meter_counters, tx.issuer, tx.counter)


_Rule = Callable[[State, SignedTx, Any], None]
RULES: Final[dict[type[Any], tuple[frozenset[str], _Rule]]] = {
    RegisterMember: (_MARKET, _register_member),
    RegisterResource: (_MARKET, _register_resource),
    OpenListing: (_COMMUNITY, _open_listing),
    Offer: (_TRADERS, _offer_or_bid),
    Bid: (_TRADERS, _offer_or_bid),
    CloseListing: (_COMMUNITY, _close_listing),
    ClearListing: (_COMMUNITY, _clear_listing),
    Trade: (_COMMUNITY, _trade),
    EscrowLock: (_PAYERS, _escrow_lock),
    EscrowRelease: (_PAYERS, _release_or_refund),
    EscrowRefund: (_PAYERS, _release_or_refund),
    Settle: (_COMMUNITY, _settle),
    GridSettlement: (_MARKET, _grid_settlement),
    Transfer: (_PAYERS, _transfer),
    Mint: (_MARKET, _mint),
    Reward: (_COMMUNITY, _reward),
    Penalty: (_COMMUNITY, _penalty),
    DrCommand: (_COMMUNITY, _dr_command),
    MeterAttestation: (_METER, _meter_attestation),
}


def apply(state: State, stx: SignedTx) -> None:
    """Apply one transaction, or raise its specific error with the state unchanged."""
    tx = stx.tx
    entry = RULES.get(type(tx))
    if entry is None:
        if type(tx) is Genesis:
            _genesis(state, tx)
            return
        raise MalformedTransactionError(f"{type(tx).__name__} is not a ledger transaction")
    if state.config is None:
        raise ConfigError("the ledger has no genesis block yet; block 0 must hold the genesis")
    member = state.members.get(tx.issuer)
    if member is None:
        raise UnknownMemberError(f"issuer {tx.issuer} is not registered; the market must "
                                 "register it before it can write")
    roles, rule = entry
    if member.role not in roles:
        raise RoleError(f"issuer {tx.issuer} has role {member.role!r}; {tx.kind} needs one of "
                        f"{sorted(roles)}")
    expected = state.nonces.get(tx.issuer, 0)
    if tx.nonce != expected:
        what = "reused (replay)" if tx.nonce < expected else "skipped"
        raise NonceError(f"nonce {tx.nonce} of {tx.issuer} is {what}; its next nonce is "
                         f"{expected}")
    rule(state, stx, tx)
    state.put(state.nonces, tx.issuer, expected + 1)


def config_from_genesis(tx: Genesis) -> ChainConfig:
    """Check a genesis transaction and return the configuration it fixes."""
    keys = tuple(bytes.fromhex(k) for k in tx.validator_keys)
    if len(set(keys)) != len(keys):
        raise ConfigError("genesis lists a validator key twice")
    if not 1 <= tx.quorum <= len(keys):
        raise ConfigError(f"quorum {tx.quorum} must be between 1 and the number of validators "
                          f"({len(keys)})")
    if tx.snapshot_interval < 1:
        raise ConfigError("snapshot_interval must be at least 1 block")
    authority = bytes.fromhex(tx.authority_key)
    if account_id(authority) != tx.issuer or tx.nonce != 0:
        raise ConfigError("genesis must be issued by the authority's own account with nonce 0")
    return ChainConfig(tx.chain_id, authority, keys, tx.quorum, tx.signing, tx.snapshot_interval)


def _genesis(state: State, tx: Genesis) -> None:
    if state.config is not None:
        raise ConfigError("a genesis transaction is only valid as block 0's first transaction")
    config = config_from_genesis(tx)
    state.put(state.members, tx.issuer, MemberRecord(config.authority_key, "market", NO_DIGEST,
                                                     NO_DIGEST))
    state.put(state.public_keys, config.authority_key, tx.issuer)
    state.put(state.nonces, tx.issuer, 1)
    state.config = config
