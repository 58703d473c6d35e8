"""Every way the ledger refuses something, as its own exception class.

Why one class per cause: callers (the community model, a replica, the CLI)
react differently to a replayed nonce than to an overdraft, and tests assert on
the class, not on message text. Every message says what was wrong and what to do.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base of all ledger errors.

    ``index`` is set when the error comes from one transaction of a batch
    (``Ledger.submit_many``): the position of the offending transaction.
    """

    index: int | None = None


# -- transactions ---------------------------------------------------------------------------


class MalformedTransactionError(LedgerError):
    """Bytes or fields that do not form a valid transaction (types, ranges, ids, encoding)."""


class InvalidSignatureError(LedgerError):
    """A transaction's issuer signature is missing or does not verify."""


class NonceError(LedgerError):
    """A nonce was reused (replay) or skipped; the issuer must use its next nonce."""


class UnknownMemberError(LedgerError):
    """An account named by a transaction is not registered on this ledger."""


class DuplicateMemberError(LedgerError):
    """An account, public key or grid id is registered twice."""


class RoleError(LedgerError):
    """The issuer's role does not allow this kind of transaction."""


class InsufficientFundsError(LedgerError):
    """A balance would go negative."""


class AmountOverflowError(LedgerError):
    """A balance or supply would exceed the 63-bit integer range stored by the ledger."""


class EscrowError(LedgerError):
    """An escrow is unknown, already settled, or released/refunded beyond its amount."""


class DoubleSaleError(LedgerError):
    """A trade would sell a listing's energy twice (more than the seller offered)."""


class ListingError(LedgerError):
    """A listing is unknown, in the wrong state, duplicated, or a trade exceeds a bid."""


class ResourceError(LedgerError):
    """A resource (PV system, battery, ...) is registered twice."""


class MeterError(LedgerError):
    """A meter attestation's counter did not increase (replayed or reordered reading)."""


class SettlementError(LedgerError):
    """A grid settlement does not match the shortfall it claims to settle."""


# -- keys -----------------------------------------------------------------------------------


class KeyFileError(LedgerError):
    """A key file is missing, unreadable, malformed, or readable by other users."""


class AnchorError(LedgerError):
    """A trust anchor (checkpoint, validator keys file, genesis hash) cannot be read or parsed."""


class WrongKeyError(LedgerError):
    """A key pair does not belong to the account or validator it is used for."""


# -- blocks, chains and storage -------------------------------------------------------------


class BlockError(LedgerError):
    """A block is invalid; ``height`` names it and ``reason`` says why."""

    def __init__(self, height: int | None, reason: str) -> None:
        where = f"block {height}" if height is not None else "block"
        super().__init__(f"{where}: {reason}")
        self.height = height
        self.reason = reason


class MalformedBlockError(BlockError):
    """Block bytes that cannot be parsed (truncated, extra bytes, bad framing)."""


class ForkError(BlockError):
    """A block conflicts with this ledger's chain (other parent, or other block at a height)."""


class QuorumError(BlockError):
    """Too few valid validator signatures on a block, or too few keys to seal one."""


class ConfigError(LedgerError):
    """Invalid chain configuration, or a ledger opened with options that contradict it."""


class StorageError(LedgerError):
    """The ledger file cannot be created, opened or written, or its content is inconsistent."""


class UnreadableError(StorageError):
    """SQLite cannot read the file at all (missing, no permission, not a database, I/O error)."""
