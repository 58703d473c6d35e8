"""Checks shared by the writer, replicas and ``verify``: links, seals, roots, batches;
sealing a header, and loading a stored chain from its newest anchored snapshot.

Why in one place: a replica refusing a block, ``verify`` naming the first bad
block and the writer accepting a batch must agree exactly, or a chain the
writer produced could fail on a replica.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from gridcoop.ledger.block import BLOCK_VERSION, ZERO_HASH, Block, BlockHeader, Seal, seal_message
from gridcoop.ledger.columns import tx_leaf
from gridcoop.ledger.envelope import SignedTx, tx_message
from gridcoop.ledger.errors import (
    BlockError,
    ConfigError,
    ForkError,
    InvalidSignatureError,
    LedgerError,
    QuorumError,
    StorageError,
)
from gridcoop.ledger.identity import KeyPair, verify_signature
from gridcoop.ledger.merkle import merkle_root
from gridcoop.ledger.rules import apply, config_from_genesis
from gridcoop.ledger.signatures import Item, SignatureVerifier
from gridcoop.ledger.state import ChainConfig, State, snapshot_hash
from gridcoop.ledger.storage import Store
from gridcoop.ledger.transactions import Genesis, RegisterMember


def genesis_config(block: Block) -> ChainConfig:
    """The configuration fixed by a genesis block (raises ``BlockError``)."""
    if block.height != 0 or block.header.prev_hash != ZERO_HASH:
        raise BlockError(block.height, "a genesis block has height 0 and a zero previous hash")
    try:
        txs = block.transactions()
        if len(txs) != 1 or not isinstance(txs[0].tx, Genesis):
            raise BlockError(0, "block 0 must hold exactly one genesis transaction")
        config = config_from_genesis(txs[0].tx)
    except BlockError:
        raise
    except LedgerError as exc:
        raise BlockError(0, f"invalid genesis: {exc}") from exc
    if block.header.chain_id != config.chain_id:
        raise BlockError(0, "header chain id differs from the genesis configuration")
    return config


def key_origin(genesis: Block) -> str:
    """``random`` or ``seed``: where the chain's keys come from, as its genesis declares."""
    tx = genesis.transactions()[0].tx
    return tx.key_origin if isinstance(tx, Genesis) else ""


def genesis_block(authority: KeyPair, validators: Sequence[KeyPair | bytes], quorum: int | None,
                  signing: str, chain_id: str, time_s: int, snapshot_interval: int,
                  held: Sequence[KeyPair], origin: str) -> tuple[Block, State, bytes]:
    """Block 0 of a new chain (sealed with the ``held`` validator keys), its state and snapshot.

    ``quorum`` defaults to a majority of ``validators``; ``origin`` is the keys' origin
    (``random`` or ``seed``), written into the genesis for every verifier to see.
    """
    keys = [v.public_key if isinstance(v, KeyPair) else bytes(v) for v in validators]
    quorum = len(keys) // 2 + 1 if quorum is None else quorum
    genesis = Genesis(authority.account, 0, chain_id, authority.public_key.hex(),
                      tuple(k.hex() for k in keys), quorum, signing, snapshot_interval, origin)
    stx = SignedTx.build(genesis, chain_id, authority if signing == "full" else None)
    state = State()
    apply(state, stx)
    snapshot = state.to_snapshot()
    header = BlockHeader(chain_id, 0, ZERO_HASH, merkle_root([tx_leaf(stx.body, stx.sig)]),
                         check_time(time_s, 0), 1, snapshot_hash(snapshot))
    return Block.build(header, seal_header(header, state.config, held), [stx]), state, snapshot


def genesis_state(block: Block) -> tuple[State, bytes]:
    """The state (and snapshot) a trusted genesis block fixes, once its seals, Merkle root
    and state hash check out."""
    config = genesis_config(block)
    check_seals(block, config)
    check_merkle(block)
    state = State()
    apply_batch(state, block.transactions(), SignatureVerifier(0), config.signing)
    snapshot = state.to_snapshot()
    if block.header.state_hash != snapshot_hash(snapshot):
        raise BlockError(0, "the genesis state hash does not match its configuration")
    return state, snapshot


def check_link(block: Block, prev: BlockHeader | None, prev_hash: bytes,
               config: ChainConfig) -> None:
    """Version, chain id, height, parent hash and time against the previous block."""
    header = block.header
    height = header.height
    if header.version != BLOCK_VERSION:
        raise BlockError(height, f"block version {header.version}; this build reads version "
                         f"{BLOCK_VERSION} (a ledger from another gridcoop version)")
    if header.chain_id != config.chain_id:
        raise BlockError(height, f"chain id {header.chain_id!r} is not {config.chain_id!r}")
    if prev is None:
        if height != 0 or header.prev_hash != ZERO_HASH:
            raise BlockError(height, "the first block must be the genesis block (height 0)")
        return
    if height != prev.height + 1:
        raise BlockError(height, f"expected height {prev.height + 1} after block {prev.height}")
    if header.prev_hash != prev_hash:
        raise ForkError(height, f"previous hash {header.prev_hash.hex()} does not match block "
                                f"{prev.height}'s hash {prev_hash.hex()} (broken link or fork)")
    if header.time_s < prev.time_s:
        raise BlockError(height, f"time {header.time_s} s goes back before block {prev.height}'s "
                                 f"{prev.time_s} s")


def check_seals(block: Block, config: ChainConfig) -> None:
    """Every seal is a valid signature by a configured validator, and there are enough."""
    message = seal_message(block.hash)
    allowed = set(config.validator_keys)
    for seal in block.seals:
        if seal.validator_key not in allowed:
            raise QuorumError(block.height, f"sealed by {seal.validator_key.hex()}, which is "
                                            "not a validator of this chain")
        if not verify_signature(seal.validator_key, seal.signature, message):
            raise QuorumError(block.height, f"the seal of validator "
                                            f"{seal.validator_key.hex()} does not verify "
                                            "against the header (altered header or seal)")
    if len(block.seals) < config.quorum:
        raise QuorumError(block.height, f"{len(block.seals)} validator seal(s), the quorum is "
                                        f"{config.quorum}")


def check_merkle(block: Block) -> None:
    """The transactions hash to the header's Merkle root."""
    computed = block.computed_root()
    if computed != block.header.merkle_root:
        raise BlockError(block.height, f"merkle root mismatch: header says "
                                       f"{block.header.merkle_root.hex()}, transactions hash "
                                       f"to {computed.hex()} (altered transaction)")


def check_issuer_signature(state: State, config: ChainConfig, stx: SignedTx) -> None:
    """The signature is its registered issuer's (required under the ``full`` policy)."""
    record = state.members.get(stx.tx.issuer)
    if record is None:
        return  # the rules raise UnknownMemberError
    if not stx.sig:
        raise InvalidSignatureError(f"{stx.tx.kind} by {stx.tx.issuer} is not signed; this "
                                    "chain's policy is 'full': sign it with the issuer's "
                                    "key (in-process wallets sign once the key is held: "
                                    "Ledger.add_signer)")
    if not verify_signature(record.public_key, stx.sig,
                            tx_message(config.chain_id, stx.head)):
        raise InvalidSignatureError(f"signature of {stx.tx.kind} by {stx.tx.issuer} does "
                                    "not verify with its registered key (forged or altered)")


def _signature_items(state: State, txs: Sequence[SignedTx], signing: str
                     ) -> tuple[list[Item], list[int], int | None]:
    """Triples to verify, their batch positions, and the first unsigned position in full mode."""
    config = state.config
    items: list[Item] = []
    positions: list[int] = []
    registered: dict[str, bytes] = {}
    members = state.members
    chain_id = config.chain_id if config is not None else ""
    for index, stx in enumerate(txs):
        tx = stx.tx
        if type(tx) is Genesis:
            chain_id = tx.chain_id
            key: bytes | None = bytes.fromhex(tx.authority_key)
        else:
            record = members.get(tx.issuer)
            key = record.public_key if record is not None else registered.get(tx.issuer)
        if type(tx) is RegisterMember:
            registered[tx.account] = bytes.fromhex(tx.public_key)
        if not stx.sig:
            if signing == "full":
                return items, positions, index
            continue
        if key is not None and not stx.signed_here_by(key, chain_id):
            items.append((key, stx.sig, tx_message(chain_id, stx.head)))
            positions.append(index)
    return items, positions, None


def _apply_all(state: State, txs: Sequence[SignedTx], stop: int
               ) -> tuple[int, LedgerError] | None:
    for index in range(stop):
        try:
            apply(state, txs[index])
        except LedgerError as exc:
            return index, exc
    return None


def apply_batch(state: State, txs: Sequence[SignedTx], verifier: SignatureVerifier | None,
                signing: str) -> None:
    """Apply transactions in order, all or nothing.

    Signatures are verified (on the verifier's workers while the main process
    applies) unless ``verifier`` is None (trusted replay of one's own file).
    On failure the state is rolled back and the earliest error is raised with
    ``index`` set to the offending transaction.
    """
    mark = state.mark()
    pending = None
    positions: list[int] = []
    unsigned: int | None = None
    if verifier is not None:
        items, positions, unsigned = _signature_items(state, txs, signing)
        if items:
            pending = verifier.start(items)
    try:
        failure = _apply_all(state, txs, len(txs) if unsigned is None else unsigned)
        bad = pending.first_bad() if pending is not None else None
    except BaseException:
        state.rollback(mark)
        raise
    if unsigned is not None and failure is None:
        failure = (unsigned, InvalidSignatureError(
            f"transaction {unsigned} ({txs[unsigned].tx.kind} by {txs[unsigned].tx.issuer}) is "
            "not signed; this chain's policy is 'full': sign it with the issuer's key"))
    if bad is not None and (failure is None or positions[bad] < failure[0]):
        where = positions[bad]
        tx = txs[where].tx
        failure = (where, InvalidSignatureError(
            f"signature of transaction {where} ({tx.kind} by {tx.issuer}) does not verify "
            "with the issuer's registered key (forged or altered)"))
    if failure is not None:
        state.rollback(mark)
        index, error = failure
        error.index = index
        raise error


def _decode(block: Block) -> list[SignedTx]:
    out = []
    for index, (body, sig) in enumerate(block.frames()):
        try:
            out.append(SignedTx.from_parts(body, sig))
        except LedgerError as exc:
            raise BlockError(block.height, f"transaction {index} is malformed: {exc}") from exc
    return out


def replay_block(state: State, block: Block, config: ChainConfig,
                 verifier: SignatureVerifier) -> bytes | None:
    """Check a linked block's seals, root and transactions and apply it to ``state``.

    Returns the state snapshot at snapshot heights (checked against the header),
    else None. On any refusal the state is rolled back and ``BlockError`` names
    the block, the transaction and the reason. The caller commits the state.
    """
    check_seals(block, config)
    check_merkle(block)
    txs = _decode(block)
    mark = state.mark()
    try:
        apply_batch(state, txs, verifier, config.signing)
    except LedgerError as exc:
        raise BlockError(block.height, f"transaction {exc.index} is refused: "
                                       f"{type(exc).__name__}: {exc}") from exc
    if block.height % config.snapshot_interval == 0:
        snapshot = state.to_snapshot()
        if snapshot_hash(snapshot) == block.header.state_hash:
            return snapshot
        reason = "state hash mismatch: replaying the transactions gives another state than " \
                 "the header anchors"
    elif block.header.state_hash:
        reason = "state hash present at a non-snapshot height"
    else:
        return None
    state.rollback(mark)
    raise BlockError(block.height, reason)


def check_time(time_s: Any, previous: int, height: int = 0) -> int:
    if type(time_s) is not int or time_s < previous:
        raise BlockError(height, f"time_s must be an integer >= the previous block's time "
                                 f"({previous} s), got {time_s!r}")
    return time_s


def seal_header(header: BlockHeader, config: ChainConfig | None,
                held: Iterable[KeyPair]) -> list[Seal]:
    """Sign the header with every held validator key; refuse below quorum."""
    if config is None:
        raise ConfigError("no chain configuration")
    message = seal_message(header.hash)
    validators = {k.public_key: k for k in held if k.public_key in config.validator_keys}
    if len(validators) < config.quorum:
        raise QuorumError(header.height, f"this ledger holds {len(validators)} validator "
                                         f"key(s), the quorum is {config.quorum}; pass the "
                                         "validators' key pairs as signers")
    return [Seal(key, keys.sign(message)) for key, keys in sorted(validators.items())]


def load_chain(store: Store) -> tuple[State, Block, int]:
    """State and head of a stored chain, from its newest anchored snapshot."""
    head_row = store.head()
    genesis_row = store.row(0)
    if head_row is None or genesis_row is None:
        raise StorageError(f"{store.path} holds no genesis block; it is not a ledger")
    try:
        config = genesis_config(Block.from_parts(genesis_row[2], genesis_row[3],
                                                 genesis_row[4]))
        found = store.latest_snapshot(head_row[0])
        if found is None:
            raise StorageError(f"{store.path} has no state snapshot")
        snap_height, snapshot = found
        anchor = Block.from_parts(*store.row(snap_height)[2:])  # type: ignore[index]
        if snapshot_hash(snapshot) != anchor.header.state_hash:
            raise StorageError(f"the snapshot at height {snap_height} does not match the hash "
                               "anchored in its block")
        state = State.from_snapshot(snapshot)
        if state.config != config:
            raise StorageError(f"the snapshot at height {snap_height} has another configuration")
        prev = anchor
        for row in store.rows(snap_height + 1):
            block = Block.from_parts(row[2], row[3], row[4])
            check_link(block, prev.header, prev.hash, config)
            check_merkle(block)
            apply_batch(state, block.transactions(), None, config.signing)
            state.commit()
            prev = block
    except (LedgerError, TypeError) as exc:
        if isinstance(exc, StorageError):
            raise
        raise StorageError(f"cannot load {store.path}: {exc}; run `gridcoop ledger verify "
                           f"{store.path}`") from exc
    return state, prev, snap_height
