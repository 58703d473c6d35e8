"""Columnar records: many rows of one kind in one transaction, each row provable alone.

Why: a simulated community records thousands of trades and settlements per
hour. As one transaction each they cost a Python object, a shape check, a
JSON encoding, a signature and a Merkle leaf apiece; as rows of fixed-width
binary columns inside one record per auction (or per settlement interval)
they cost a ``struct`` unpack each and one hash per 32 rows, and the record is
signed once.

The wire form of a columnar body is the canonical JSON *head* (the record's
scalar fields, each column's row count and the Merkle root of its rows), a
newline, then the columns' rows back to back. Canonical JSON never holds a raw
newline, so the first one ends the head. The issuer signs the head and the
block's Merkle tree takes the head as the transaction's leaf; the head's roots
commit to every row, so a member proves one row with that row, its path to the
column's root (with the other rows of its leaf), the head and the head's path
to the block's root. A decoder
recomputes every root, so an altered row is refused like an altered
transaction.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from gridcoop.ledger.merkle import MerkleProof, leaf_hash, merkle_proof, merkle_root, verify_proof
from gridcoop.ledger.transactions import AuctionRecord, BillingRecord, SettlementRecord

HEAD_END: Final = b"\n"

ORDER_ROW: Final = struct.Struct(">16sBqq")
"""An order of the auction's book: account, side (1 bid, 0 offer), energy Wh, µ€/kWh."""
TRADE_ROW: Final = struct.Struct(">16s16sqq")
"""A trade: seller, buyer, energy Wh, price µ€/kWh (the escrowed amount follows from them)."""
SETTLE_ROW: Final = struct.Struct(">qq")
"""A trade's settlement, in the auction's trade order: delivered Wh, shortfall Wh the buyer
took from the grid."""
BILL_ROW: Final = struct.Struct(">16sqqqqqqq")
"""A member's bill for one period: account, deposit µ€, grid import Wh and µ€, feed-in Wh
and µ€, grid fee µ€, local-energy tokens Wh."""

ORDER_ROWS: Final = np.dtype([("account", "S16"), ("side", "u1"), ("energy_wh", ">i8"),
                              ("price", ">i8")])
"""The same layouts as numpy records (packed, big-endian), so a writer builds a column
and a rule reads one in a single call."""
TRADE_ROWS: Final = np.dtype([("seller", "S16"), ("buyer", "S16"), ("energy_wh", ">i8"),
                              ("price", ">i8")])
SETTLE_ROWS: Final = np.dtype([("delivered_wh", ">i8"), ("short_wh", ">i8")])
BILL_ROWS: Final = np.dtype([("account", "S16"), *((name, ">i8") for name in (
    "deposit_ueur", "import_wh", "import_ueur", "export_wh", "export_ueur", "fee_ueur",
    "tokens_wh"))])


ROWS_PER_LEAF: Final = 32
"""Rows hashed together into one Merkle leaf of a column. Why: hashing each row
alone cost more than the rest of recording an auction; a proof of one row now
carries its leaf's rows (at most 32 × 72 bytes) instead of one more hash level."""


def _leaf(chunk: bytes) -> bytes:
    """The Merkle leaf of consecutive rows (prefix 0x02: never a transaction leaf or a node)."""
    return hashlib.sha256(b"\x02" + chunk).digest()


def _leaves(rows: bytes, size: int) -> list[bytes]:
    step = size * ROWS_PER_LEAF
    sha = hashlib.sha256
    return [sha(b"\x02" + rows[i:i + step]).digest() for i in range(0, len(rows), step)]


def rows_root(rows: bytes, layout: struct.Struct) -> bytes:
    """The Merkle root of a column's rows."""
    return merkle_root(_leaves(rows, layout.size))


@dataclass(frozen=True, slots=True)
class RowProof:
    """Evidence for one row: the rows of its leaf, its place there, the leaf's path to the root."""

    leaf_rows: bytes
    offset: int
    path: MerkleProof


def row_proof(rows: bytes, layout: struct.Struct, index: int) -> RowProof:
    """Evidence that row ``index`` is in the column whose root the record's head carries."""
    leaf, offset = divmod(index, ROWS_PER_LEAF)
    step = layout.size * ROWS_PER_LEAF
    return RowProof(rows[leaf * step:(leaf + 1) * step], offset,
                    merkle_proof(_leaves(rows, layout.size), leaf))


def verify_row(row: bytes, proof: RowProof, root: bytes) -> bool:
    """True when ``row`` is the proof's row of the column with ``root``."""
    size = len(row)
    if not size or len(proof.leaf_rows) % size or proof.offset < 0:
        return False
    if proof.leaf_rows[proof.offset * size:(proof.offset + 1) * size] != row:
        return False
    return verify_proof(_leaf(proof.leaf_rows), proof.path, root)


def pack_rows(layout: struct.Struct, rows: Iterable[tuple[Any, ...]]) -> bytes:
    """A column from row tuples (accounts as 32-hex ids are packed as their 16 bytes)."""
    return b"".join(layout.pack(*(bytes.fromhex(v) if type(v) is str else v for v in row))
                    for row in rows)


def count_rows(rows: bytes, layout: struct.Struct) -> int:
    """How many rows a column holds; ``ValueError`` when its length is ragged."""
    count, rest = divmod(len(rows), layout.size)
    if rest:
        raise ValueError(f"a column of {len(rows)} bytes is not a whole number of "
                         f"{layout.size}-byte rows")
    return count


@dataclass(frozen=True, slots=True)
class Column:
    """A record field that holds rows, and the layout of one row."""

    name: str
    layout: struct.Struct


COLUMNS: Final[dict[type[Any], tuple[Column, ...]]] = {
    AuctionRecord: (Column("orders", ORDER_ROW), Column("trades", TRADE_ROW)),
    SettlementRecord: (Column("rows", SETTLE_ROW),),
    BillingRecord: (Column("rows", BILL_ROW),),
}
"""The columnar kinds and their columns, in wire order."""


def head_of(body: bytes) -> bytes:
    """The part of a body that is signed, hashed into the txid and into the block's tree:
    the whole body of a plain transaction, the head of a columnar one."""
    end = body.find(HEAD_END)
    return body if end < 0 else body[:end]


def tx_leaf(body: bytes, sig: bytes) -> bytes:
    """A transaction's leaf in its block's Merkle tree (over its head)."""
    return leaf_hash(head_of(body), sig)
