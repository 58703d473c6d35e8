"""The ``Ledger`` facade: create or open a chain, submit transactions, seal blocks, replicate.

Example (a simulation: ``block`` signing, simulated time, deterministic keys)::

    from gridcoop.ledger import KeyPair, Ledger, Member
    seed = b"scenario-42"
    market = KeyPair.derive(seed, "market")
    book = Ledger.create("run/ledger.sqlite", authority=market, signing="block")
    alice, _ = Member.from_seed(seed, "grid-001", "Alice", "a@example.org")
    bob, _ = Member.from_seed(seed, "grid-002", "Bob", "b@example.org")
    book.register(alice); book.register(bob)
    book.market.mint(bob.account, "eur_u", 1_000_000)          # 1 EUR
    book.market.open_listing("h0001", start_s=3600, end_s=7200)
    book.wallet(alice.account).offer("h0001", energy_wh=500, price_eur_u_per_kwh=80_000)
    book.wallet(bob.account).bid("h0001", energy_wh=500, price_eur_u_per_kwh=90_000)
    book.market.close_listing("h0001")
    trade = book.market.trade("h0001", alice.account, bob.account, 500, 85_000)  # locks 42,500
    book.market.clear_listing("h0001")
    first = book.seal_block(time_s=3600)
    book.market.settle(trade.txid_hex, delivered_wh=400)      # pays 34,000, refunds 8,500
    second = book.seal_block(time_s=7200)
    replica = Ledger.replica("run/ra1.sqlite", book.block(0).to_bytes())  # an aggregator's copy
    for block in (first, second):
        replica.apply_block(block.to_bytes())
    assert replica.head_hash == book.head_hash
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from types import TracebackType

from gridcoop.ledger.block import Block, BlockHeader
from gridcoop.ledger.chain import (
    apply_batch,
    check_issuer_signature,
    check_link,
    check_time,
    genesis_block,
    genesis_state,
    load_chain,
    replay_block,
    seal_header,
)
from gridcoop.ledger.columns import head_of, tx_leaf
from gridcoop.ledger.envelope import SignedTx
from gridcoop.ledger.errors import (
    BlockError,
    ConfigError,
    ForkError,
    LedgerError,
    StorageError,
)
from gridcoop.ledger.identity import KeyPair, Member
from gridcoop.ledger.merkle import MerkleProof, merkle_root
from gridcoop.ledger.rules import apply
from gridcoop.ledger.signatures import SignatureVerifier
from gridcoop.ledger.state import ChainConfig, Escrow, MemberRecord, Shortfall, State, snapshot_hash
from gridcoop.ledger.storage import Store
from gridcoop.ledger.transactions import Tx
from gridcoop.ledger.verify import VerifyReport, verify_store
from gridcoop.ledger.wallet import Wallet

DEFAULT_SNAPSHOT_INTERVAL = 64


class Ledger:
    """A chain held in one SQLite file: writer (holds validator keys) or replica."""

    def __init__(self, store: Store, state: State, head: Block, signers: Sequence[KeyPair],
                 workers: int | None, readonly: bool = False) -> None:
        if state.config is None:
            raise ConfigError("a ledger needs a state with a genesis configuration")
        self.store = store
        self.state = state
        self.config: ChainConfig = state.config
        self._head = head
        self._keys: dict[str, KeyPair] = {}
        self._validator_keys: dict[bytes, KeyPair] = {}
        self._pending: list[SignedTx] = []
        self._pending_members: list[Member] = []
        self._readonly = readonly
        self.loaded_snapshot_height: int | None = None
        """Height of the snapshot the state was loaded from (None when created here)."""
        self.verifier = SignatureVerifier(workers)
        for keys in signers:
            self.add_signer(keys)

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def create(cls, path: str | os.PathLike[str], *, authority: KeyPair,
               validators: Sequence[KeyPair | bytes] | None = None, quorum: int | None = None,
               signing: str = "full", chain_id: str = "gridcoop", time_s: int = 0,
               snapshot_interval: int = DEFAULT_SNAPSHOT_INTERVAL,
               signers: Sequence[KeyPair] = (), workers: int | None = None,
               key_origin: str = "random", power_safe: bool = True) -> Ledger:
        """Start a new chain: block 0 fixes the authority, validators, quorum and policy.

        ``signing="full"`` (the default, for live use) verifies every issuer's
        signature; ``"block"`` (simulations) trusts in-process issuers and relies
        on the validators' block seals.

        ``key_origin="seed"`` declares in the genesis that the keys derive from a
        seed (reproducible simulations): ``verify`` then reports that the chain's
        signatures prove nothing to anyone who knows the seed.

        ``validators`` are key pairs (this ledger can seal with them) or raw public
        keys (held elsewhere); the default is the authority alone. ``quorum``
        defaults to a majority. ``path`` may be ``":memory:"``. ``power_safe=False``
        (simulations) skips the fsync at every block (see ``ledger.storage``).
        """
        chosen = list(validators) if validators is not None else [authority]
        held = [authority, *[v for v in chosen if isinstance(v, KeyPair)], *signers]
        block, state, snapshot = genesis_block(authority, chosen, quorum, signing, chain_id,
                                               time_s, snapshot_interval, held, key_origin)
        store = Store.create(path, block, snapshot, power_safe)
        state.commit()
        return cls(store, state, block, held, workers)

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, signers: Sequence[KeyPair] = (),
             workers: int | None = None, readonly: bool = False,
             power_safe: bool = True) -> Ledger:
        """Open an existing ledger: load the newest anchored snapshot, replay the blocks after it.

        ``signers``: validator keys (to seal) and issuer keys (for ``full`` wallets).
        """
        store = Store(path, readonly=readonly, power_safe=power_safe)
        try:
            state, head, snapshot_height = load_chain(store)
        except BaseException:
            store.close()
            raise
        book = cls(store, state, head, signers, workers, readonly)
        book.loaded_snapshot_height = snapshot_height
        return book

    @classmethod
    def replica(cls, path: str | os.PathLike[str], genesis: bytes | Block, *,
                workers: int | None = None, power_safe: bool = True) -> Ledger:
        """A replica started from a trusted genesis block (or reopened if the file exists).

        ``power_safe=False``: no fsync at every block (see ``storage``), for a scratch
        copy whose file is thrown away at the end (the model's replica process)."""
        block = genesis if isinstance(genesis, Block) else Block.from_bytes(genesis)
        if os.fspath(path) != ":memory:" and os.path.exists(path):
            opened = cls.open(path, workers=workers, power_safe=power_safe)
            if opened.block(0).hash != block.hash:
                opened.close()
                raise ForkError(0, "this file holds another chain (genesis hashes differ)")
            return opened
        state, snapshot = genesis_state(block)
        store = Store.create(path, block, snapshot, power_safe)
        state.commit()
        return cls(store, state, block, (), workers)

    # -- keys and wallets --------------------------------------------------------------------

    def add_signer(self, keys: KeyPair) -> None:
        """Hold a key: a validator key lets this ledger seal; an issuer key signs its wallet."""
        self._keys[keys.account] = keys
        if keys.public_key in self.config.validator_keys:
            self._validator_keys[keys.public_key] = keys

    def wallet(self, account: str | KeyPair) -> Wallet:
        """A wallet bound to this ledger: builders submit at once, nonces come from the state.

        Under ``full`` signing the issuer's key must be held (``add_signer``).
        """
        if isinstance(account, KeyPair):
            self.add_signer(account)
            account = account.account
        keys = self._keys.get(account) if self.config.signing == "full" else None
        return Wallet(account, self.config.chain_id, keys, sink=self)

    @property
    def market(self) -> Wallet:
        """The market authority's bound wallet."""
        return self.wallet(self.config.authority)

    def register(self, member: Member) -> str:
        """Register a member on the chain and its profile in the local directory."""
        self.market.register_member(member)
        self._pending_members.append(member)
        return member.account

    # -- writing -----------------------------------------------------------------------------

    def next_nonce(self, account: str) -> int:
        """The nonce the account's next transaction must carry (pending ones counted)."""
        return self.state.nonces.get(account, 0)

    def submit(self, tx: Tx | SignedTx) -> SignedTx:
        """Check and apply one transaction to the open block, or raise with state unchanged."""
        self._writable()
        stx = tx if isinstance(tx, SignedTx) else SignedTx.build(tx, self.config.chain_id)
        if stx.sig or self.config.signing == "full":
            check_issuer_signature(self.state, self.config, stx)
        state = self.state
        mark = len(state.journal)
        try:
            apply(state, stx)
        except BaseException:
            state.rollback(mark)
            raise
        self._pending.append(stx)
        return stx

    def submit_many(self, txs: Sequence[Tx | SignedTx]) -> list[SignedTx]:
        """Apply a batch all or nothing; signatures are verified on all cores.

        On refusal the error's ``index`` names the transaction and nothing is applied.
        """
        self._writable()
        chain_id = self.config.chain_id
        batch = [t if isinstance(t, SignedTx) else SignedTx.build(t, chain_id) for t in txs]
        apply_batch(self.state, batch, self.verifier, self.config.signing)
        self._pending.extend(batch)
        return batch

    def discard_pending(self) -> int:
        """Drop the unsealed transactions (state rolls back to the head); returns how many."""
        count = len(self._pending)
        self.state.rollback(0)
        self._pending.clear()
        self._pending_members.clear()
        return count

    @property
    def pending_count(self) -> int:
        """Transactions applied but not yet sealed."""
        return len(self._pending)

    def seal_block(self, time_s: int) -> Block:
        """Seal the open transactions into a block at ``time_s`` and commit it durably.

        ``time_s`` is explicit (simulated time in simulations) and may not go back.
        """
        self._writable()
        head = self._head.header
        height = head.height + 1
        time_s = check_time(time_s, head.time_s, height)
        pending = self._pending
        root = merkle_root([tx_leaf(t.body, t.sig) for t in pending])
        snapshot = self.state.to_snapshot() if height % self.config.snapshot_interval == 0 \
            else None
        header = BlockHeader(self.config.chain_id, height, self._head.hash, root, time_s,
                             len(pending), snapshot_hash(snapshot) if snapshot else b"")
        block = Block.build(header, seal_header(header, self.config, self._validator_keys.values()),
                            pending)
        self.store.append(block, snapshot, self._pending_members)
        self.state.commit()
        self._pending = []
        self._pending_members = []
        self._head = block
        return block

    def apply_block(self, data: bytes | Block) -> Block:
        """Replica side: verify a block from the writer and store it, or refuse with the reason.

        A block already held (same hash and the same transactions) is accepted again
        without change; a copy whose transactions differ from ours is refused, so a
        tampered resend is reported rather than silently ignored.
        """
        self._writable()
        if self._pending:
            raise LedgerError("this ledger has unsealed transactions of its own; a writer "
                              "does not apply other writers' blocks")
        block = data if isinstance(data, Block) else Block.from_bytes(data)
        head = self._head
        if block.height <= head.height:
            ours = self.block(block.height)
            if ours.hash == block.hash:
                if block.tx_section != ours.tx_section:
                    raise BlockError(block.height, "a copy of our block with the same header "
                                                   "but altered transactions; refused")
                return ours
            raise ForkError(block.height, f"conflicts with our block at this height (ours "
                                          f"{ours.hash.hex()}, received {block.hash.hex()})")
        if block.height > head.height + 1:
            raise BlockError(block.height, f"our head is {head.height}; apply blocks "
                                           f"{head.height + 1}..{block.height - 1} first")
        check_link(block, head.header, head.hash, self.config)
        snapshot = replay_block(self.state, block, self.config, self.verifier)
        try:
            self.store.append(block, snapshot)
        except BaseException:
            self.state.rollback(0)
            raise
        self.state.commit()
        self._head = block
        return block

    # -- reading -----------------------------------------------------------------------------

    @property
    def head(self) -> Block:
        """The newest sealed block."""
        return self._head

    @property
    def height(self) -> int:
        """Height of the newest sealed block."""
        return self._head.height

    @property
    def head_hash(self) -> str:
        """Hex hash of the newest sealed block (same scenario and seed => same hash)."""
        return self._head.hash.hex()

    @property
    def signing(self) -> str:
        """The chain's signing policy, ``full`` or ``block``."""
        return self.config.signing

    @property
    def authority(self) -> str:
        """The market authority's account id."""
        return self.config.authority

    def balance(self, account: str, asset: str = "eur_u") -> int:
        """Current balance (pending transactions included)."""
        return self.state.balances.get((account, asset), 0)

    def balances(self) -> dict[tuple[str, str], int]:
        """A copy of all balances keyed by (account, asset)."""
        return dict(self.state.balances)

    def member(self, account: str) -> MemberRecord | None:
        """What the chain records of an account."""
        return self.state.members.get(account)

    def profile(self, account: str) -> Member | None:
        """The directory profile of an account (writer's file only)."""
        return self.store.member(account)

    def escrow(self, escrow_id: str) -> Escrow | None:
        """An open escrow, or None once settled."""
        return self.state.escrows.get(escrow_id)

    def shortfall(self, escrow_id: str) -> Shortfall | None:
        """Undelivered energy of a settled trade awaiting grid settlement."""
        return self.state.shortfalls.get(escrow_id)

    def block(self, height: int) -> Block:
        """A stored block."""
        row = self.store.row(height)
        if row is None:
            raise BlockError(height, f"not stored; the head is {self.height}")
        return Block.from_parts(row[2], row[3], row[4])

    def blocks(self, start: int = 0) -> Iterator[Block]:
        """Stream stored blocks from ``start``."""
        for row in self.store.rows(start):
            yield Block.from_parts(row[2], row[3], row[4])

    def proof(self, height: int, index: int) -> tuple[SignedTx, MerkleProof, BlockHeader]:
        """A transaction, its inclusion proof and the header it is checked against."""
        block = self.block(height)
        return (SignedTx.from_parts(*block.frames()[index]), block.proof(index), block.header)

    def locate(self, txid_hex: str) -> tuple[int, int] | None:
        """(height, index) of a transaction by txid, scanning the chain (slow; for tools)."""
        target = bytes.fromhex(txid_hex)
        for block in self.blocks():
            for index, (body, _sig) in enumerate(block.frames()):
                if hashlib.sha256(head_of(body)).digest() == target:
                    return block.height, index
        return None

    def verify(self, workers: int | None = None) -> VerifyReport:
        """Re-verify the whole stored chain from genesis, streaming (bounded memory)."""
        return verify_store(self.store, self.verifier if workers is None
                            else SignatureVerifier(workers))

    # -- housekeeping ------------------------------------------------------------------------

    def close(self) -> None:
        """Stop verification workers and close the file (unsealed transactions are lost)."""
        self.verifier.close()
        self.store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"Ledger({self.store.path!r}, height={self.height}, "
                f"signing={self.config.signing!r})")

    def _writable(self) -> None:
        if self._readonly:
            raise StorageError(f"{self.store.path} is open read-only")
