"""Blocks: header, validator seals, transactions, and their wire form.

Why the header is canonical JSON: it is small, hashed once per block, and
readable in ``gridcoop ledger show``. Validators sign the header hash (proof of
authority); the seals sit outside the header so any quorum of validators can
seal the same header. ``time_s`` is passed in by the caller (simulated time in
simulations), never read from a clock, so the head hash is reproducible.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from gridcoop.ledger.codec import U32, canonical_json, frame_tx, parse_json, unframe_txs
from gridcoop.ledger.columns import tx_leaf
from gridcoop.ledger.envelope import SignedTx
from gridcoop.ledger.errors import MalformedBlockError
from gridcoop.ledger.merkle import MerkleProof, merkle_proof, merkle_root, verify_proof

BLOCK_VERSION: Final = 2
"""Version 2: columnar records hash 32 rows per Merkle leaf; billing records exist."""
MAGIC: Final = b"GCB1"
ZERO_HASH: Final = bytes(32)
SEAL_SIZE: Final = 96
_HEADER_KEYS: Final = frozenset({"version", "chain_id", "height", "prev_hash", "merkle_root",
                                 "time_s", "tx_count", "state_hash"})


@dataclass(frozen=True, slots=True)
class BlockHeader:
    """What validators sign. ``state_hash`` is empty except at snapshot heights."""

    chain_id: str
    height: int
    prev_hash: bytes
    merkle_root: bytes
    time_s: int
    tx_count: int
    state_hash: bytes = b""
    version: int = BLOCK_VERSION

    def to_bytes(self) -> bytes:
        """Canonical bytes (the block hash is their SHA-256)."""
        return canonical_json({
            "version": self.version, "chain_id": self.chain_id, "height": self.height,
            "prev_hash": self.prev_hash.hex(), "merkle_root": self.merkle_root.hex(),
            "time_s": self.time_s, "tx_count": self.tx_count,
            "state_hash": self.state_hash.hex()})

    @property
    def hash(self) -> bytes:
        """SHA-256 of the canonical header bytes."""
        return hashlib.sha256(self.to_bytes()).digest()

    @classmethod
    def from_bytes(cls, data: bytes) -> BlockHeader:
        """Parse canonical header bytes, or raise ``MalformedBlockError``."""
        try:
            doc = parse_json(data)
            if not isinstance(doc, dict) or doc.keys() != _HEADER_KEYS:
                raise ValueError("header fields are not the expected set")
            ints = (doc["version"], doc["height"], doc["time_s"], doc["tx_count"])
            if any(type(v) is not int or v < 0 for v in ints):
                raise ValueError("version, height, time_s and tx_count must be integers >= 0")
            if type(doc["chain_id"]) is not str:
                raise ValueError("chain_id must be a string")
            header = cls(doc["chain_id"], doc["height"], bytes.fromhex(doc["prev_hash"]),
                         bytes.fromhex(doc["merkle_root"]), doc["time_s"], doc["tx_count"],
                         bytes.fromhex(doc["state_hash"]), doc["version"])
        except (ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
            raise MalformedBlockError(None, f"header cannot be parsed: {exc}") from exc
        if len(header.prev_hash) != 32 or len(header.merkle_root) != 32 or \
                len(header.state_hash) not in (0, 32):
            raise MalformedBlockError(header.height, "header hashes have the wrong length")
        if header.to_bytes() != data:
            raise MalformedBlockError(header.height, "header is not in canonical form")
        return header


def verify_inclusion(body: bytes, sig: bytes, proof: MerkleProof, header: BlockHeader) -> bool:
    """True when the transaction (body, signature) is in the block with this header.

    A member needs only the transaction, the proof and the header (whose seals it
    checks against the validator keys); the proof must cover the whole block.
    """
    return proof.count == header.tx_count and verify_proof(tx_leaf(body, sig), proof,
                                                           header.merkle_root)


def seal_message(header_hash: bytes) -> bytes:
    """The bytes a validator signs for a block."""
    return b"gridcoop/block\x00" + header_hash


@dataclass(frozen=True, slots=True)
class Seal:
    """One validator's signature of a header hash."""

    validator_key: bytes
    signature: bytes


def encode_seals(seals: Sequence[Seal]) -> bytes:
    """Seals in canonical order (by validator key), 96 bytes each."""
    return b"".join(s.validator_key + s.signature
                    for s in sorted(seals, key=lambda s: s.validator_key))


def decode_seals(data: bytes, height: int | None = None) -> tuple[Seal, ...]:
    """Parse the seal section, refusing a ragged or unsorted one."""
    if len(data) % SEAL_SIZE:
        raise MalformedBlockError(height, f"seal section of {len(data)} bytes is not a "
                                          f"multiple of {SEAL_SIZE}")
    seals = tuple(Seal(data[i:i + 32], data[i + 32:i + SEAL_SIZE])
                  for i in range(0, len(data), SEAL_SIZE))
    keys = [s.validator_key for s in seals]
    if keys != sorted(set(keys)):
        raise MalformedBlockError(height, "seals are not sorted by validator key or repeat one")
    return seals


class Block:
    """A sealed block: header, seals and the framed transaction section."""

    __slots__ = ("_frames", "hash", "header", "header_bytes", "seals", "tx_section")

    def __init__(self, header: BlockHeader, header_bytes: bytes, seals: tuple[Seal, ...],
                 tx_section: bytes, frames: list[tuple[bytes, bytes]] | None = None) -> None:
        self.header = header
        self.header_bytes = header_bytes
        self.hash = hashlib.sha256(header_bytes).digest()
        self.seals = seals
        self.tx_section = tx_section
        self._frames = frames

    @property
    def height(self) -> int:
        """The block's height (0 for genesis)."""
        return self.header.height

    @classmethod
    def from_parts(cls, header_bytes: bytes, seals_bytes: bytes, tx_section: bytes) -> Block:
        """Rebuild a block from its stored columns (raises ``MalformedBlockError``)."""
        header = BlockHeader.from_bytes(header_bytes)
        return cls(header, header_bytes, decode_seals(seals_bytes, header.height), tx_section)

    @classmethod
    def build(cls, header: BlockHeader, seals: Sequence[Seal],
              txs: Sequence[SignedTx]) -> Block:
        """Assemble a block from its parts."""
        frames = [(t.body, t.sig) for t in txs]
        section = b"".join(frame_tx(b, s) for b, s in frames)
        header_bytes = header.to_bytes()
        ordered = tuple(sorted(seals, key=lambda s: s.validator_key))
        return cls(header, header_bytes, ordered, section, frames)

    def frames(self) -> list[tuple[bytes, bytes]]:
        """The (body, signature) pairs, parsed once (raises ``MalformedBlockError``)."""
        if self._frames is None:
            try:
                self._frames = unframe_txs(self.tx_section, self.header.tx_count)
            except ValueError as exc:
                raise MalformedBlockError(self.height, f"transaction section: {exc}") from exc
        return self._frames

    def leaves(self) -> list[bytes]:
        """Merkle leaves of the transactions."""
        return [tx_leaf(body, sig) for body, sig in self.frames()]

    def computed_root(self) -> bytes:
        """The Merkle root of the transactions actually present."""
        return merkle_root(self.leaves())

    def transactions(self) -> list[SignedTx]:
        """Decode every transaction (raises ``MalformedTransactionError``)."""
        return [SignedTx.from_parts(body, sig) for body, sig in self.frames()]

    def proof(self, index: int) -> MerkleProof:
        """Inclusion proof of transaction ``index`` against this block's header."""
        return merkle_proof(self.leaves(), index)

    def seals_bytes(self) -> bytes:
        """The canonical seal section."""
        return encode_seals(self.seals)

    def to_bytes(self) -> bytes:
        """Wire form: magic, header, seals, transactions (each length-prefixed)."""
        seals = self.seals_bytes()
        return b"".join((MAGIC, U32.pack(len(self.header_bytes)), self.header_bytes,
                         U32.pack(len(seals)), seals, U32.pack(len(self.tx_section)),
                         self.tx_section))

    @classmethod
    def from_bytes(cls, data: bytes) -> Block:
        """Parse the wire form, or raise ``MalformedBlockError`` saying what is wrong."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise MalformedBlockError(None, f"expected bytes, got {type(data).__name__}")
        data = bytes(data)
        if data[:4] != MAGIC:
            raise MalformedBlockError(None, "not a gridcoop block (bad magic bytes)")
        parts: list[bytes] = []
        offset = 4
        for name in ("header", "seals", "transactions"):
            if offset + 4 > len(data):
                raise MalformedBlockError(None, f"truncated before the {name} section")
            (size,) = U32.unpack_from(data, offset)
            offset += 4
            if offset + size > len(data):
                raise MalformedBlockError(None, f"the {name} section is truncated")
            parts.append(data[offset:offset + size])
            offset += size
        if offset != len(data):
            raise MalformedBlockError(None, f"{len(data) - offset} extra bytes after the block")
        block = cls.from_parts(parts[0], parts[1], parts[2])
        block.frames()
        return block

    def summary(self) -> dict[str, Any]:
        """A JSON-able description of the header."""
        h = self.header
        return {"height": h.height, "hash": self.hash.hex(), "prev_hash": h.prev_hash.hex(),
                "merkle_root": h.merkle_root.hex(), "time_s": h.time_s,
                "tx_count": h.tx_count, "state_hash": h.state_hash.hex(),
                "validators": [s.validator_key.hex() for s in self.seals]}
