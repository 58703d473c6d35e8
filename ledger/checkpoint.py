"""Signed checkpoints and trust anchors: what a verifier trusts that the file cannot change.

Why outside the ledger file: whoever can write the file can delete its last
blocks or rebuild the whole chain with keys of their own, and the file alone
still looks consistent. A checkpoint (the genesis hash, a height and that
block's hash, sealed by a quorum of the chain's validators) kept elsewhere
pins the history up to that height; trusted validator keys or a trusted
genesis hash pin who may seal at all.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from gridcoop.ledger.block import SEAL_SIZE, Block, Seal, decode_seals, encode_seals
from gridcoop.ledger.codec import canonical_json, parse_json
from gridcoop.ledger.errors import AnchorError, BlockError, QuorumError
from gridcoop.ledger.identity import KeyPair, verify_signature
from gridcoop.ledger.state import ChainConfig

CHECKPOINT_FORMAT: Final = "gridcoop-checkpoint/1"
MAX_ANCHOR_BYTES: Final = 1 << 20
_KEYS: Final = frozenset({"format", "chain_id", "genesis_hash", "height", "hash", "seals"})


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The hash of block ``height`` of the chain whose genesis hash is ``genesis_hash``."""

    chain_id: str
    genesis_hash: bytes
    height: int
    block_hash: bytes
    seals: tuple[Seal, ...] = ()

    def message(self) -> bytes:
        """The bytes each validator signs (a domain apart from block seals)."""
        return b"gridcoop/checkpoint\x00" + canonical_json({
            "chain_id": self.chain_id, "genesis_hash": self.genesis_hash.hex(),
            "height": self.height, "hash": self.block_hash.hex()})

    @classmethod
    def of(cls, genesis: Block, block: Block, keys: Iterable[KeyPair]) -> Checkpoint:
        """A checkpoint of ``block`` sealed with every given key (the caller holds validators')."""
        unsigned = cls(block.header.chain_id, genesis.hash, block.height, block.hash)
        message = unsigned.message()
        seals = {k.public_key: Seal(k.public_key, k.sign(message)) for k in keys}
        return cls(unsigned.chain_id, genesis.hash, block.height, block.hash,
                   tuple(seals[k] for k in sorted(seals)))

    def check(self, config: ChainConfig) -> None:
        """Raise ``QuorumError`` unless a quorum of the chain's validators sealed it."""
        message = self.message()
        allowed = set(config.validator_keys)
        good = {s.validator_key for s in self.seals
                if s.validator_key in allowed
                and verify_signature(s.validator_key, s.signature, message)}
        if len(good) < config.quorum:
            raise QuorumError(self.height, f"the checkpoint carries {len(good)} valid seal(s) of "
                                           f"this chain's validators, the quorum is "
                                           f"{config.quorum} (forged checkpoint, or another "
                                           "chain)")

    def to_bytes(self) -> bytes:
        """Canonical JSON: small, readable, and what ``from_bytes`` reads back."""
        return canonical_json({"format": CHECKPOINT_FORMAT, "chain_id": self.chain_id,
                               "genesis_hash": self.genesis_hash.hex(), "height": self.height,
                               "hash": self.block_hash.hex(),
                               "seals": encode_seals(self.seals).hex()})

    @classmethod
    def from_bytes(cls, data: bytes) -> Checkpoint:
        """Parse a checkpoint, or raise ``AnchorError`` saying what is wrong."""
        try:
            doc = parse_json(data)
            if not isinstance(doc, dict) or doc.keys() != _KEYS:
                raise ValueError(f"expected the fields {sorted(_KEYS)}")
            if doc["format"] != CHECKPOINT_FORMAT:
                raise ValueError(f"format {doc['format']!r} is not {CHECKPOINT_FORMAT!r}")
            height, chain_id = doc["height"], doc["chain_id"]
            if type(height) is not int or height < 0 or type(chain_id) is not str:
                raise ValueError("height must be an integer >= 0 and chain_id a string")
            genesis, block = _hash32(doc["genesis_hash"]), _hash32(doc["hash"])
            raw = bytes.fromhex(doc["seals"])
            seals = decode_seals(raw, height) if len(raw) % SEAL_SIZE == 0 else None
            if not seals:
                raise ValueError("seals must be one or more 96-byte seals, as hex")
        except (ValueError, TypeError, AttributeError) as exc:
            raise AnchorError(f"not a gridcoop checkpoint: {exc}") from exc
        except QuorumError as exc:
            raise AnchorError(f"not a gridcoop checkpoint: {exc.reason}") from exc
        return cls(chain_id, genesis, height, block, seals)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write atomically (temporary file, fsync, rename): a crash never leaves half a file."""
        target = Path(path)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            with open(temporary, "wb") as handle:
                handle.write(self.to_bytes())
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise AnchorError(f"cannot write the checkpoint {target}: {exc.strerror}; the "
                              "previous checkpoint is kept") from exc
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Checkpoint:
        """Read a checkpoint file (``AnchorError`` if missing, unreadable or malformed)."""
        return cls.from_bytes(read_anchor_file(path, "checkpoint"))


def _hash32(value: Any) -> bytes:
    raw = bytes.fromhex(value)
    if len(raw) != 32:
        raise ValueError("hashes are 64 hex characters")
    return raw


def read_anchor_file(path: str | os.PathLike[str], what: str) -> bytes:
    """The bytes of a small trust file, or ``AnchorError`` (missing, unreadable, too large)."""
    source = Path(path)
    try:
        with open(source, "rb") as handle:
            data = handle.read(MAX_ANCHOR_BYTES + 1)
    except OSError as exc:
        raise AnchorError(f"cannot read the {what} file {source}: {exc.strerror}") from exc
    if len(data) > MAX_ANCHOR_BYTES:
        raise AnchorError(f"the {what} file {source} is larger than {MAX_ANCHOR_BYTES} bytes")
    return data


def load_validator_keys(path: str | os.PathLike[str]) -> frozenset[bytes]:
    """Trusted validator public keys: one 64-hex key per line (``#`` starts a comment)."""
    keys: set[bytes] = set()
    text = read_anchor_file(path, "validator keys")
    try:
        lines = text.decode("ascii").splitlines()
    except UnicodeDecodeError as exc:
        raise AnchorError(f"the validator keys file {path} is not ASCII text") from exc
    for number, line in enumerate(lines, 1):
        item = line.split("#", 1)[0].strip()
        if not item:
            continue
        try:
            keys.add(_hash32(item))
        except ValueError as exc:
            raise AnchorError(f"{path}:{number}: expected a 64-hex Ed25519 public key, got "
                              f"{item[:80]!r}") from exc
    if not keys:
        raise AnchorError(f"the validator keys file {path} lists no key")
    return frozenset(keys)


def parse_genesis_hash(value: str) -> bytes:
    """A trusted genesis hash given as 64 hex characters."""
    try:
        return _hash32(value.strip())
    except ValueError as exc:
        raise AnchorError(f"a genesis hash is 64 hex characters, got {value[:80]!r}") from exc


@dataclass(frozen=True, slots=True)
class TrustAnchor:
    """What the verifier trusts from outside the file; empty fields are not checked."""

    validator_keys: frozenset[bytes] | None = None
    genesis_hash: bytes | None = None
    checkpoint: Checkpoint | None = None

    @property
    def pins_keys(self) -> bool:
        """True when a rebuilt chain with other validators would be refused."""
        return any(x is not None for x in (self.validator_keys, self.genesis_hash,
                                           self.checkpoint))

    def check_genesis(self, genesis: Block, config: ChainConfig) -> None:
        """Block 0 against the trusted genesis hash, validator keys and checkpoint."""
        if self.genesis_hash is not None and genesis.hash != self.genesis_hash:
            raise BlockError(0, f"the genesis hash {genesis.hash.hex()} is not the trusted "
                                f"{self.genesis_hash.hex()} (another or rewritten chain)")
        if self.validator_keys is not None:
            strangers = [k.hex() for k in config.validator_keys if k not in self.validator_keys]
            if strangers:
                raise BlockError(0, f"validator(s) {', '.join(strangers)} are not among the "
                                    "trusted validator keys (rewritten chain)")
        point = self.checkpoint
        if point is not None:
            if point.genesis_hash != genesis.hash or point.chain_id != config.chain_id:
                raise BlockError(0, "the signed checkpoint belongs to another chain (its "
                                    "genesis hash differs: rewritten history)")
            point.check(config)
