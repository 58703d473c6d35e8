"""gridcoop's shared ledger: signed, hash-chained, with wallets and escrow.

Pure: imports nothing of gridcoop's other packages, no Mesa, no ZeroMQ; the
only files it touches are its own SQLite storage, key files and the exports it
is asked to write. Start with ``Ledger`` (see
``gridcoop.ledger.ledger`` for a worked example), ``KeyPair`` and ``Member``.
"""

from gridcoop.ledger.block import Block, BlockHeader, Seal, verify_inclusion
from gridcoop.ledger.envelope import SignedTx
from gridcoop.ledger.errors import (
    AmountOverflowError,
    BlockError,
    ConfigError,
    DoubleSaleError,
    DuplicateMemberError,
    EscrowError,
    ForkError,
    InsufficientFundsError,
    InvalidSignatureError,
    KeyFileError,
    LedgerError,
    ListingError,
    MalformedBlockError,
    MalformedTransactionError,
    MeterError,
    NonceError,
    QuorumError,
    ResourceError,
    RoleError,
    SettlementError,
    StorageError,
    UnknownMemberError,
    WrongKeyError,
)
from gridcoop.ledger.identity import ROLES, KeyPair, Member, Role, account_id
from gridcoop.ledger.ledger import Ledger
from gridcoop.ledger.merkle import MerkleProof, leaf_hash, verify_proof
from gridcoop.ledger.state import ChainConfig, Escrow, Listing, MemberRecord, Shortfall, State
from gridcoop.ledger.transactions import ASSETS, GRID_ACCOUNT, Tx
from gridcoop.ledger.verify import VerifyReport
from gridcoop.ledger.wallet import Wallet

__all__ = [
    "ASSETS", "GRID_ACCOUNT", "ROLES", "AmountOverflowError", "Block",
    "BlockError", "BlockHeader", "ChainConfig", "ConfigError", "DoubleSaleError",
    "DuplicateMemberError", "Escrow", "EscrowError", "ForkError", "InsufficientFundsError",
    "InvalidSignatureError", "KeyFileError", "KeyPair", "Ledger", "LedgerError", "Listing",
    "ListingError", "MalformedBlockError", "MalformedTransactionError", "Member",
    "MemberRecord", "MerkleProof", "MeterError", "NonceError", "QuorumError", "ResourceError",
    "Role", "RoleError", "Seal", "SettlementError", "Shortfall", "SignedTx", "State",
    "StorageError", "Tx", "UnknownMemberError", "VerifyReport", "Wallet", "WrongKeyError",
    "account_id", "leaf_hash", "verify_inclusion", "verify_proof",
]
