"""Identities: Ed25519 key pairs, key files, pseudonymous account ids, member profiles.

Why pseudonymous ids: the chain is copied to every replica, so it carries only
an account id derived from the public key, the role, and digests of the
member's profile; names and e-mail addresses stay in the operator's directory
(see ``Member``). Keys can be derived deterministically from a seed so that a
simulation with the same seed produces the same ledger head hash.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, get_args

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gridcoop.ledger.codec import canonical_json
from gridcoop.ledger.errors import KeyFileError, MalformedTransactionError, WrongKeyError

Role = Literal["member", "aggregator", "market", "meter"]
ROLES: Final[tuple[str, ...]] = get_args(Role)

ACCOUNT_HEX_CHARS: Final = 32
_ACCOUNT_RE: Final = re.compile(r"[0-9a-f]{32}")
_PUBLIC_KEY_CACHE: dict[bytes, Ed25519PublicKey] = {}
_PUBLIC_KEY_CACHE_LIMIT: Final = 100_000


def account_id(public_key: bytes) -> str:
    """The pseudonymous ledger id of a public key: 128 bits of its SHA-256, as hex."""
    return hashlib.sha256(b"gridcoop/account\x00" + public_key).hexdigest()[:ACCOUNT_HEX_CHARS]


def is_account_id(value: str) -> bool:
    """True for a well-formed account id (32 lowercase hex characters)."""
    return _ACCOUNT_RE.fullmatch(value) is not None


def load_public_key(public_key: bytes) -> Ed25519PublicKey:
    """Parse a raw 32-byte Ed25519 public key, caching parsed keys (verification is hot)."""
    key = _PUBLIC_KEY_CACHE.get(public_key)
    if key is None:
        if len(public_key) != 32:
            raise MalformedTransactionError(
                f"an Ed25519 public key has 32 bytes, got {len(public_key)}")
        key = Ed25519PublicKey.from_public_bytes(public_key)
        if len(_PUBLIC_KEY_CACHE) >= _PUBLIC_KEY_CACHE_LIMIT:
            _PUBLIC_KEY_CACHE.clear()
        _PUBLIC_KEY_CACHE[public_key] = key
    return key


def verify_signature(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """True when ``signature`` is a valid Ed25519 signature of ``message`` by ``public_key``."""
    if len(signature) != 64:
        return False
    try:
        load_public_key(public_key).verify(signature, message)
    except (InvalidSignature, MalformedTransactionError, ValueError):
        return False
    return True


class KeyPair:
    """An Ed25519 key pair with its account id. Signatures are deterministic (RFC 8032)."""

    __slots__ = ("_private", "account", "public_key")

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private = private_key
        self.public_key: bytes = private_key.public_key().public_bytes_raw()
        self.account: str = account_id(self.public_key)

    @classmethod
    def generate(cls) -> KeyPair:
        """A fresh random key pair (for live deployments)."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> KeyPair:
        """The key pair whose 32-byte private seed is ``seed``."""
        if len(seed) != 32:
            raise WrongKeyError(f"an Ed25519 seed has 32 bytes, got {len(seed)}; "
                                "use KeyPair.derive(master_seed, name) for other lengths")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def derive(cls, master_seed: bytes, name: str) -> KeyPair:
        """A key pair derived with HKDF-SHA256 from a master seed and a name.

        Same master seed and name give the same key, so a seeded simulation gives
        the same ledger. Never use a guessable master seed for live keys.
        """
        return cls.from_seed(derive_bytes(master_seed, f"ed25519/{name}"))

    @property
    def seed(self) -> bytes:
        """The raw 32-byte private seed (handle with care)."""
        return self._private.private_bytes_raw()

    def sign(self, message: bytes) -> bytes:
        """Sign ``message`` (64-byte Ed25519 signature)."""
        return self._private.sign(message)

    def save(self, path: str | os.PathLike[str], passphrase: bytes | None = None) -> Path:
        """Write the private key as PKCS#8 PEM, readable by the owner only (mode 0600).

        Refuses to overwrite an existing file, so a key is never lost by accident.
        """
        target = Path(path)
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase) if passphrase
            else serialization.NoEncryption())
        pem = self._private.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8, encryption)
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError as exc:
            raise KeyFileError(f"key file {target} already exists; delete it first or choose "
                               "another path (keys are never overwritten)") from exc
        except OSError as exc:
            raise KeyFileError(f"cannot create key file {target}: {exc.strerror}") from exc
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(target, 0o600)
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str], passphrase: bytes | None = None,
             expected_account: str | None = None) -> KeyPair:
        """Read a key written by ``save``; refuse files other users can read.

        ``expected_account`` guards against using the wrong key: it raises
        ``WrongKeyError`` when the file holds another account's key.
        """
        source = Path(path)
        try:
            mode = stat.S_IMODE(source.stat().st_mode)
            data = source.read_bytes()
        except FileNotFoundError as exc:
            raise KeyFileError(f"no key file at {source}; create one with "
                               "KeyPair.generate().save(path)") from exc
        except OSError as exc:
            raise KeyFileError(f"cannot read key file {source}: {exc.strerror}") from exc
        if mode & 0o077:
            raise KeyFileError(f"key file {source} is accessible by other users (mode "
                               f"{mode:04o}); run `chmod 600 {source}`")
        try:
            private = serialization.load_pem_private_key(data, password=passphrase)
        except (ValueError, TypeError) as exc:
            raise KeyFileError(f"key file {source} is not a readable PKCS#8 PEM key "
                               f"({exc}); check the file and the passphrase") from exc
        if not isinstance(private, Ed25519PrivateKey):
            raise KeyFileError(f"key file {source} holds a {type(private).__name__}, "
                               "not an Ed25519 key")
        pair = cls(private)
        if expected_account is not None and pair.account != expected_account:
            raise WrongKeyError(f"key file {source} holds the key of account {pair.account}, "
                                f"not of {expected_account}; load the right file")
        return pair

    def __repr__(self) -> str:
        return f"KeyPair(account={self.account!r})"


def derive_bytes(master_seed: bytes, label: str, length: int = 32) -> bytes:
    """HKDF-SHA256 of ``master_seed`` for a label: deterministic, independent per label."""
    if not master_seed:
        raise WrongKeyError("the master seed is empty; pass at least 16 bytes")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=b"gridcoop",
                info=label.encode("utf-8"))
    return hkdf.derive(master_seed)


def grid_id_digest(chain_id: str, grid_id: str) -> str:
    """Digest of a grid id on a chain: lets the ledger refuse a duplicate without storing it."""
    return hashlib.sha256(f"gridcoop/grid-id\x00{chain_id}\x00{grid_id}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Member:
    """A member's profile as held in the operator's directory (never on the chain).

    ``salt`` keeps the on-chain profile digest from being confirmed by guessing
    names; use ``Member.new`` (random salt) live and ``Member.from_seed`` in
    simulations (derived salt and key pair, reproducible).
    """

    grid_id: str
    display_name: str
    contact: str
    public_key: bytes
    role: Role
    salt: bytes

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise MalformedTransactionError(f"role {self.role!r} is not one of {ROLES}")
        if not self.grid_id or len(self.grid_id) > 128:
            raise MalformedTransactionError("a member needs a grid id of 1 to 128 characters")
        if len(self.public_key) != 32:
            raise MalformedTransactionError("a member's public key has 32 bytes (raw Ed25519)")

    @property
    def account(self) -> str:
        """The member's pseudonymous ledger id."""
        return account_id(self.public_key)

    def profile_digest(self) -> str:
        """SHA-256 of the canonical profile: proves the directory entry matches the chain."""
        profile = {"grid_id": self.grid_id, "display_name": self.display_name,
                   "contact": self.contact, "public_key": self.public_key.hex(),
                   "role": self.role, "salt": self.salt.hex()}
        return hashlib.sha256(canonical_json(profile)).hexdigest()

    @classmethod
    def new(cls, grid_id: str, display_name: str, contact: str, public_key: bytes,
            role: Role = "member") -> Member:
        """A profile with a random salt (live registration)."""
        return cls(grid_id, display_name, contact, public_key, role, secrets.token_bytes(16))

    @classmethod
    def from_seed(cls, master_seed: bytes, grid_id: str, display_name: str = "",
                  contact: str = "", role: Role = "member") -> tuple[Member, KeyPair]:
        """A profile and its key pair, both derived from a seed and the grid id."""
        keys = KeyPair.derive(master_seed, f"member/{grid_id}")
        salt = derive_bytes(master_seed, f"salt/{grid_id}", 16)
        return cls(grid_id, display_name, contact, keys.public_key, role, salt), keys
