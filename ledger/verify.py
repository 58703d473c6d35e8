"""Full re-verification of a stored chain, streaming one block at a time.

Why replay from genesis: a stored chain is only trustworthy if every link,
seal, Merkle root and signature checks AND re-executing every transaction gives
the states anchored in the headers. Memory stays bounded: one block and the
live state are held at a time; signatures are verified on all cores.

Why a trust anchor: a file is consistent with itself after its last blocks are
deleted or after the whole chain is rebuilt with other keys. Only what the
verifier trusts from elsewhere (validator keys, genesis hash, a signed
checkpoint: see ``gridcoop.ledger.checkpoint``) rules those out; without it the
report says what could not be checked. Rows outside the chain (directory
profiles, snapshots, any other table) are checked too, naming the row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gridcoop.ledger.block import ZERO_HASH, Block, BlockHeader
from gridcoop.ledger.chain import (
    check_link,
    check_merkle,
    check_seals,
    genesis_config,
    key_origin,
    replay_block,
)
from gridcoop.ledger.checkpoint import Checkpoint, TrustAnchor
from gridcoop.ledger.errors import BlockError, LedgerError, UnreadableError
from gridcoop.ledger.identity import Member, account_id, grid_id_digest
from gridcoop.ledger.signatures import SignatureVerifier
from gridcoop.ledger.state import ChainConfig, State
from gridcoop.ledger.storage import Store

SEED_KEYS_NOTE = ("this chain's keys are derived from its run seed (genesis key_origin "
                  "'seed'): its signatures prove nothing to anyone who knows the seed")
LEGACY_KEYS_NOTE = ("this chain's genesis predates key origins: it does not say whether its "
                    "keys are random or derived from a seed")
NO_KEYS_NOTE = ("no trusted validator keys, genesis hash or checkpoint was given: a chain "
                "rebuilt from scratch with other keys would verify as well")
NO_CHECKPOINT_NOTE = ("no signed checkpoint was given: blocks deleted from the end of the "
                      "chain cannot be detected")


@dataclass
class VerifyReport:
    """Outcome of ``verify``: ``ok``, or the first bad block and why."""

    ok: bool
    blocks: int
    transactions: int
    head_height: int | None
    head_hash: str
    bad_height: int | None = None
    reason: str = ""
    balances: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)
    readable: bool = True
    """False when the file could not be read at all (the CLI exits 2, not 1)."""
    problems: list[str] = field(default_factory=list)
    """Bad rows outside the chain (directory, snapshots, stray tables), each naming its row."""
    unchecked: list[str] = field(default_factory=list)
    """What this run could not check (no anchor, seed-derived keys)."""
    key_origin: str = ""

    def __str__(self) -> str:
        if not self.readable:
            text = f"UNREADABLE: {self.reason}"
        elif self.ok:
            text = (f"ok: {self.blocks} blocks, {self.transactions} transactions, head "
                    f"{self.head_height} {self.head_hash}")
        elif self.bad_height is None:
            text = (f"INVALID: {len(self.problems)} bad row(s) outside the chain (the "
                    f"{self.blocks} blocks verify): " + "; ".join(self.problems))
        else:
            text = (f"INVALID at block {self.bad_height}: {self.reason} (checked "
                    f"{self.blocks} valid blocks, {self.transactions} transactions before it)")
        return "\n".join([text, *(f"not checked: {note}" for note in self.unchecked)])

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form for the CLI."""
        return {"ok": self.ok, "readable": self.readable, "blocks": self.blocks,
                "transactions": self.transactions, "head_height": self.head_height,
                "head_hash": self.head_hash, "bad_height": self.bad_height,
                "reason": self.reason, "problems": self.problems,
                "unchecked": self.unchecked, "key_origin": self.key_origin}


def _check_block(store: Store, state: State, block: Block, config: ChainConfig,
                 verifier: SignatureVerifier) -> None:
    snapshot = replay_block(state, block, config, verifier)
    if snapshot is not None:
        stored = store.snapshot(block.height)
        if stored is None:
            state.rollback(0)
            raise BlockError(block.height, "the state snapshot of this block is missing")
        if stored != snapshot:
            state.rollback(0)
            raise BlockError(block.height, "the stored state snapshot differs from the "
                                           "replayed state")
    state.commit()


def check_directory(store: Store, state: State, chain_id: str) -> list[str]:
    """Each directory profile against what the chain registered for its account."""
    problems = []
    for row in store.directory_rows():
        account, grid_id, name, contact, key, role, salt = row
        try:
            if not all(isinstance(v, str) for v in (grid_id, name, contact, role)) or \
                    not isinstance(key, bytes) or not isinstance(salt, bytes):
                raise TypeError("a column has the wrong type")
            member = Member(grid_id, name, contact, key, role, salt)  # type: ignore[arg-type]
        except (LedgerError, TypeError) as exc:
            problems.append(f"directory row {account!r}: unreadable profile ({exc})")
            continue
        record = state.members.get(str(account))
        if record is None:
            problems.append(f"stray directory row {account!r}: no such account on the chain")
        elif account != account_id(member.public_key) or record.public_key != member.public_key:
            problems.append(f"directory row {account!r}: the public key differs from the chain's")
        elif record.role != member.role:
            problems.append(f"directory row {account!r}: role {member.role!r} differs from the "
                            f"chain's {record.role!r}")
        elif record.profile_digest != member.profile_digest() or \
                record.grid_digest != grid_id_digest(chain_id, member.grid_id):
            problems.append(f"directory row {account!r}: the profile (grid id, name, contact or "
                            "salt) differs from the digest on the chain")
    return problems


def _anchor_notes(anchor: TrustAnchor, origin: str) -> list[str]:
    notes = {"seed": [SEED_KEYS_NOTE], "": [LEGACY_KEYS_NOTE]}.get(origin, [])
    if not anchor.pins_keys:
        notes.append(NO_KEYS_NOTE)
    if anchor.checkpoint is None:
        notes.append(NO_CHECKPOINT_NOTE)
    return notes


class _Walk:
    """The running position of a verification (what the report needs on failure)."""

    def __init__(self) -> None:
        self.prev: BlockHeader | None = None
        self.prev_hash = ZERO_HASH
        self.blocks = self.transactions = self.expected = 0
        self.config: ChainConfig | None = None
        self.origin = ""

    def report(self, bad_height: int | None, reason: str, **extra: Any) -> VerifyReport:
        return VerifyReport(False, self.blocks, self.transactions,
                            self.expected - 1 if self.expected else None, self.prev_hash.hex(),
                            bad_height, reason, key_origin=self.origin, **extra)


def _walk_block(walk: _Walk, store: Store, state: State, row: tuple[int, bytes, bytes, bytes,
                bytes], verifier: SignatureVerifier, anchor: TrustAnchor) -> None:
    height, stored_hash, header, seals, section = row
    if height != walk.expected:
        raise BlockError(walk.expected, f"missing (the next stored block is {height})")
    block = Block.from_parts(header, seals, section)
    if block.height != height:
        raise BlockError(height, f"stored at height {height} but its header says {block.height}")
    if block.hash != stored_hash:
        raise BlockError(height, "the stored hash column does not match the header")
    if walk.config is None:
        walk.config = genesis_config(block)
        walk.origin = key_origin(block)
        anchor.check_genesis(block, walk.config)
    point = anchor.checkpoint
    if point is not None and point.height == height and point.block_hash != block.hash:
        raise BlockError(height, f"the block hash {block.hash.hex()} differs from the signed "
                                 f"checkpoint's {point.block_hash.hex()} (rewritten history)")
    check_link(block, walk.prev, walk.prev_hash, walk.config)
    _check_block(store, state, block, walk.config, verifier)
    walk.prev, walk.prev_hash = block.header, block.hash
    walk.blocks += 1
    walk.transactions += block.header.tx_count
    walk.expected += 1


def verify_store(store: Store, verifier: SignatureVerifier,
                 anchor: TrustAnchor | None = None) -> VerifyReport:
    """Check the whole chain in ``store`` and every other row; never raises for a bad chain."""
    anchor = anchor or TrustAnchor()
    state = State()
    walk = _Walk()
    try:
        for row in store.rows():
            try:
                _walk_block(walk, store, state, row, verifier, anchor)
            except BlockError as exc:
                return walk.report(exc.height if exc.height is not None else row[0],
                                   exc.reason)
        if walk.prev is None or walk.config is None:
            return walk.report(0, "the file holds no blocks")
        point = anchor.checkpoint
        if point is not None and point.height > walk.prev.height:
            return walk.report(walk.prev.height + 1, f"missing: the signed checkpoint names "
                               f"block {point.height}, the file ends at block "
                               f"{walk.prev.height} (truncated: the last "
                               f"{point.height - walk.prev.height} block(s) were deleted)")
        problems = store.stray_rows(walk.prev.height, walk.config.snapshot_interval)
        problems += check_directory(store, state, walk.config.chain_id)
    except UnreadableError as exc:
        return walk.report(walk.expected, str(exc), readable=False)
    except LedgerError as exc:
        return walk.report(walk.expected, f"cannot read the file: {exc}")
    notes = _anchor_notes(anchor, walk.origin)
    if point is not None and point.height < walk.prev.height:
        notes.append(f"blocks {point.height + 1}..{walk.prev.height} are newer than the signed "
                     "checkpoint: their deletion could not be detected")
    return VerifyReport(not problems, walk.blocks, walk.transactions, walk.prev.height,
                        walk.prev_hash.hex(), None, "; ".join(problems),
                        balances=dict(state.balances), problems=problems, unchecked=notes,
                        key_origin=walk.origin)


def check_since(store: Store, config: ChainConfig, point: Checkpoint | None) -> int:
    """Links, seals and Merkle roots of every block from a verified checkpoint to the head.

    What a writer checks before it appends after a restart: cheap (one seal check
    per validator and one Merkle root per block), and from the checkpoint's own
    block on, since a seal is not covered by the block hash the checkpoint pins.
    Raises ``BlockError`` naming the first bad block; returns the blocks checked.
    """
    start = 0
    if point is not None:
        genesis = store.row(0)
        if genesis is None or genesis[1] != point.genesis_hash:
            raise BlockError(0, "the last verified checkpoint belongs to another chain")
        point.check(config)
        start = point.height
    prev: Block | None = None
    checked = 0
    for row in store.rows(max(start - 1, 0)):
        block = Block.from_parts(*row[2:])
        if block.hash != row[1]:
            raise BlockError(row[0], "the stored hash column does not match the header")
        if point is not None and block.height == point.height and \
                block.hash != point.block_hash:
            raise BlockError(block.height, "differs from the last verified checkpoint")
        if prev is not None:
            check_link(block, prev.header, prev.hash, config)
        if block.height >= start:
            check_seals(block, config)
            check_merkle(block)
            checked += 1
        prev = block
    if point is not None and (prev is None or prev.height < point.height):
        ends = -1 if prev is None else prev.height
        raise BlockError(ends + 1, f"missing: the last verified checkpoint is block "
                                   f"{point.height}, the file ends at block {ends} (deleted "
                                   "blocks)")
    return checked
