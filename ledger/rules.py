"""The rules: how each transaction kind changes the state, and when it is refused.

Every rule checks everything first and mutates last, so a refused transaction
leaves the state unchanged (and the journal lets a whole block roll back).
The listing life cycle and the escrow contract live in ``market_rules``.
Signatures are not checked here: the ``Ledger`` checks them (in parallel)
according to the chain's signing policy before calling ``apply``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from gridcoop.ledger import market_rules as market
from gridcoop.ledger import record_rules as records
from gridcoop.ledger.accounting import issue, known, move, positive
from gridcoop.ledger.envelope import SignedTx
from gridcoop.ledger.errors import (
    ConfigError,
    DuplicateMemberError,
    MalformedTransactionError,
    MeterError,
    NonceError,
    ResourceError,
    RoleError,
    UnknownMemberError,
)
from gridcoop.ledger.identity import account_id
from gridcoop.ledger.state import ChainConfig, MemberRecord, Resource, State
from gridcoop.ledger.transactions import (
    AuctionRecord,
    Bid,
    BillingRecord,
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
    SettlementRecord,
    Trade,
    Transfer,
)

NO_DIGEST: Final = "0" * 64

_MARKET = frozenset({"market"})
_TRADERS = frozenset({"member", "aggregator"})
_PAYERS = frozenset({"member", "aggregator", "market"})
_COMMUNITY = frozenset({"aggregator", "market"})
_METER = frozenset({"meter"})


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
    known(state, tx.owner, "owner")
    state.put(state.resources, tx.resource_id,
              Resource(tx.owner, tx.resource_kind, tx.capacity_w))


def _transfer(state: State, stx: SignedTx, tx: Transfer) -> None:
    positive(tx.amount, "transfer.amount")
    if tx.to == tx.issuer:
        raise MalformedTransactionError("a transfer to oneself changes nothing; drop it")
    known(state, tx.to, "recipient")
    move(state, tx.issuer, tx.to, tx.asset, tx.amount)


def _mint(state: State, stx: SignedTx, tx: Mint) -> None:
    positive(tx.amount, "mint.amount")
    known(state, tx.to, "recipient")
    issue(state, tx.to, tx.asset, tx.amount)


def _reward(state: State, stx: SignedTx, tx: Reward) -> None:
    positive(tx.amount, "reward.amount")
    known(state, tx.to, "recipient")
    issue(state, tx.to, "token", tx.amount)


def _penalty(state: State, stx: SignedTx, tx: Penalty) -> None:
    positive(tx.amount, "penalty.amount")
    known(state, tx.account, "penalised account")
    if tx.account == tx.issuer:
        raise MalformedTransactionError("an issuer cannot penalise itself")
    move(state, tx.account, tx.issuer, tx.asset, tx.amount)


def _dr_command(state: State, stx: SignedTx, tx: DrCommand) -> None:
    known(state, tx.target, "target")
    if tx.level > 3:
        raise MalformedTransactionError(f"OpenADR SIMPLE levels are 0-3, got {tx.level}")
    positive(tx.duration_s, "dr_command.duration_s")


def _dr_outcome(state: State, stx: SignedTx, tx: DrOutcome) -> None:
    known(state, tx.target, "target")


def _meter_attestation(state: State, stx: SignedTx, tx: MeterAttestation) -> None:
    known(state, tx.subject, "subject")
    positive(tx.interval_s, "meter_attestation.interval_s")
    last = state.meter_counters.get(tx.issuer, -1)
    if tx.counter <= last:
        raise MeterError(f"meter {tx.issuer} counter {tx.counter} does not exceed its last "
                         f"counter {last} (replayed or reordered reading)")
    state.put(state.meter_counters, tx.issuer, tx.counter)


_Rule = Callable[[State, SignedTx, Any], None]
RULES: Final[dict[type[Any], tuple[frozenset[str], _Rule]]] = {
    RegisterMember: (_MARKET, _register_member),
    RegisterResource: (_MARKET, _register_resource),
    OpenListing: (_COMMUNITY, market.open_listing),
    Offer: (_TRADERS, market.offer_or_bid),
    Bid: (_TRADERS, market.offer_or_bid),
    CloseListing: (_COMMUNITY, market.close_listing),
    ClearListing: (_COMMUNITY, market.clear_listing),
    Trade: (_COMMUNITY, market.trade),
    EscrowLock: (_PAYERS, market.escrow_lock),
    EscrowRelease: (_PAYERS, market.release_or_refund),
    EscrowRefund: (_PAYERS, market.release_or_refund),
    Settle: (_COMMUNITY, market.settle),
    GridSettlement: (_MARKET, market.grid_settlement),
    Transfer: (_PAYERS, _transfer),
    Mint: (_MARKET, _mint),
    Reward: (_COMMUNITY, _reward),
    Penalty: (_COMMUNITY, _penalty),
    DrCommand: (_COMMUNITY, _dr_command),
    DrOutcome: (_COMMUNITY, _dr_outcome),
    MeterAttestation: (_METER, _meter_attestation),
    AuctionRecord: (_COMMUNITY, records.auction),
    SettlementRecord: (_COMMUNITY, records.settlement),
    BillingRecord: (_MARKET, records.billing),
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
