"""The live ledger: what the meters measured, what was estimated, commands and their outcomes.

Why a ledger of its own and these encodings:

* One block per metering interval, sealed at the interval's end (live
  seconds), and block 0 sealed at the live epoch: the head's ``time_s`` *is*
  the position, so a restarted process resumes at the step after the head.
* A measured interval is a ``meter_attestation`` issued by the meter's own
  account, whose ``counter`` packs the device's (boot, seq, cumulative VAh):
  the ledger refuses a counter that does not grow, so a reading can never be
  recorded twice, and on restart the counter gives the energy baseline, so the
  next reading's energy is computed from what the *ledger* holds, never lost
  or doubled whatever the replay guard committed before a crash.
* An estimated interval is attested by the ``estimator`` account, never by
  the meter: estimates can never pass for measurements.
* A command is a ``dr_command`` of the live aggregator account (``appliance``
  is the device's appliance number); its id on the radio is the low 16 bits of
  that transaction's nonce, so ids are unique and survive restarts. Its outcome
  (acked, nacked, timeout, refused before sending) is a ``dr_outcome`` naming
  the command's txid; a command with no outcome yet is still pending.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gridcoop.ledger.checkpoint import Checkpoint
from gridcoop.ledger.envelope import SignedTx
from gridcoop.ledger.errors import BlockError, LedgerError
from gridcoop.ledger.identity import KeyPair, Member
from gridcoop.ledger.keystore import KeyStore
from gridcoop.ledger.ledger import Ledger
from gridcoop.ledger.transactions import DrCommand, DrOutcome, MeterAttestation
from gridcoop.ledger.verify import check_since

VAH_BITS = 32
LEDGER_ACTIONS = {"on": "on", "off": "off", "increase": "increase", "decrease": "decrease",
                  "restore": "on"}
"""The ledger's four DR actions; other device actions (dr_event, set_level) shed: ``decrease``."""
SEQ_BITS = 16
COMMAND_ID_MASK = 0xFFFF


def command_id_of(nonce: int) -> int:
    """A live command's id on the radio: the low 16 bits of its ``dr_command``'s nonce."""
    return nonce & COMMAND_ID_MASK


def pack_counter(boot: int, seq: int, energy_vah: int) -> int:
    """(boot, seq, cumulative VAh) as one growing integer: boot, then seq, then energy."""
    return (boot << (SEQ_BITS + VAH_BITS)) | (seq << VAH_BITS) | energy_vah


def appliance_number(text: str) -> int | None:
    """A device command's appliance number (0-255) from a ``dr_command``; None for others.

    Strict ASCII digits: ``str.isdigit`` also accepts characters such as "²" that
    ``int`` refuses, and a ledger is read back after a restart whatever it holds.
    """
    if not (text.isascii() and text.isdigit() and len(text) <= 3):
        return None
    number = int(text)
    return number if number <= 0xFF else None


def unpack_counter(counter: int) -> tuple[int, int, int]:
    return (counter >> (SEQ_BITS + VAH_BITS), (counter >> VAH_BITS) & 0xFFFF,
            counter & 0xFFFFFFFF)


@dataclass(frozen=True, slots=True)
class Interval:
    """One meter's energy over ``[start_s, start_s + span_s)`` to record."""

    node: str
    start_s: int
    span_s: int
    import_wh: int
    export_wh: int
    counter: int = 0  # measured: packed device counter (or step + 1 for simulated meters)


@dataclass(frozen=True, slots=True)
class PendingCommand:
    """A command on the live ledger that has no outcome yet."""

    node: str
    command_id: int
    appliance: int
    action: str  # the ledger's action
    start_s: int


class JournalError(RuntimeError):
    """The live ledger does not match this config (another community, epoch or interval)."""


class LiveJournal:
    """The durable live ledger (one SQLite file), created on first start and reopened after.

    Its keys are random, generated on first start into a key store (files 0600;
    ``$GRIDCOOP_KEYSTORE``, else a ``keys`` folder beside the ledger), never derived
    from the config: a record re-signed by anyone without those files does not verify.
    A restart verifies every block since the last verified checkpoint (links, seals,
    Merkle roots; see ``gridcoop.ledger.verify.check_since``) before appending, and refuses a chain
    that does not verify, naming the block.
    """

    def __init__(self, path: Path, *, nodes: Sequence[str], name: str, epoch_s: int,
                 interval_s: int, signing: str = "full", keys: KeyStore | None = None) -> None:
        self.path = path
        self.interval_s = interval_s
        self.created = not path.exists()
        self.checkpoint_path = path.with_name(path.name + ".checkpoint")
        try:
            store = keys or KeyStore.at(path.parent / "keys")
            self._start(store, nodes, name, epoch_s, signing)
        except LedgerError as exc:
            raise JournalError(f"{path}: {exc}") from exc
        self.epoch_s = int(self.ledger.block(0).header.time_s)
        self.chain_id = self.ledger.config.chain_id
        self.signing = self.ledger.config.signing
        self._nonce: dict[str, int] = {}
        self._command_txid: dict[int, str] = {}  # pending commands by id, for their outcomes
        self.base_height = self.ledger.height - self.next_step  # the block before step 0's
        self.node_of_meter = {account: node for node, account in self.meter_of.items()}
        self.node_of_member = {account: node for node, account in self.member_of.items()}

    def _start(self, store: KeyStore, nodes: Sequence[str], name: str, epoch_s: int,
              signing: str) -> None:
        key = store.load_or_create if self.created else store.load
        self.authority_keys = key("market")
        self.keys: dict[str, KeyPair] = {self.authority_keys.account: self.authority_keys}
        members: list[Member] = []
        for grid_id, role in ([("live-aggregator", "aggregator"), ("estimator", "meter")]
                              + [(f"node/{n}", "member") for n in nodes]
                              + [(f"meter/{n}", "meter") for n in nodes]):
            pair = key(grid_id)
            members.append(Member.new(grid_id, grid_id, "", pair.public_key, role))  # type: ignore[arg-type]
            self.keys[pair.account] = pair
        self.aggregator = members[0].account
        self.estimator = members[1].account
        n = len(nodes)
        self.member_of = {node: members[2 + i].account for i, node in enumerate(nodes)}
        self.meter_of = {node: members[2 + n + i].account for i, node in enumerate(nodes)}
        if self.created:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.ledger = Ledger.create(self.path, authority=self.authority_keys,
                                        signing=signing, chain_id=f"gridcoop-live-{name}",
                                        time_s=epoch_s, signers=list(self.keys.values()))
            for member in members:
                self.ledger.register(member)
            self.ledger.seal_block(epoch_s)
        else:
            self.ledger = Ledger.open(self.path, signers=list(self.keys.values()))
            try:
                self._verify_restart()
            except BaseException:
                self.ledger.close()
                raise
        self.save_checkpoint()

    def _verify_restart(self) -> None:
        """Refuse to append to a chain that does not verify since the last checkpoint."""
        point = Checkpoint.load(self.checkpoint_path) if self.checkpoint_path.exists() \
            else None
        try:
            check_since(self.ledger.store, self.ledger.config, point)
        except BlockError as exc:
            raise JournalError(f"{self.path} does not verify at block {exc.height}: "
                               f"{exc.reason}; live mode will not append to it (restore the "
                               "file from a copy, or run `gridcoop ledger verify`)") from exc
        self._check_member(self.aggregator)
        for node, account in self.meter_of.items():
            self._check_member(account, node)

    def save_checkpoint(self) -> None:
        """Sign the head as the last verified checkpoint (the authority is the validator)."""
        Checkpoint.of(self.ledger.block(0), self.ledger.head,
                      [self.authority_keys]).save(self.checkpoint_path)

    def _check_member(self, account: str, node: str = "") -> None:
        try:
            known = self.ledger.member(account) is not None
        except LookupError:
            known = False
        if not known:
            raise JournalError(f"{self.path} was written for another community (node {node!r} "
                               "or its keys are not registered); use a new ledger path")

    # --- position -----------------------------------------------------------------------

    @property
    def next_step(self) -> int:
        """The first metering interval not yet on the ledger."""
        head_s = int(self.ledger.head.header.time_s)
        return (head_s - self.epoch_s) // self.interval_s

    def baseline(self, node: str) -> int | None:
        """The packed counter of the node's last measured interval (None: never measured)."""
        value = self.ledger.state.meter_counters.get(self.meter_of[node])
        return None if value is None else int(value)

    def last_measured_end(self, nodes: Sequence[str]) -> dict[str, int]:
        """Each node's last measured interval end, scanning back from the head."""
        wanted = {self.meter_of[n]: n for n in nodes if self.baseline(n) is not None}
        found: dict[str, int] = {}
        height = self.ledger.height
        while wanted and height > 0:
            for stx in self.ledger.block(height).transactions():
                tx = stx.tx
                if isinstance(tx, MeterAttestation) and tx.issuer in wanted:
                    node = wanted[tx.issuer]
                    found[node] = max(found.get(node, 0), tx.interval_start_s + tx.interval_s)
            for account in [a for a, n in wanted.items() if n in found]:
                del wanted[account]
            height -= 1
        return found

    def step_intervals(self, step: int, nodes: Sequence[str]) -> tuple[list[Interval],
                                                                      list[Interval]]:
        """What interval ``step``'s block recorded for ``nodes``: (measured, estimated).

        The community model is fed from this (live and on replay alike), so a
        restarted process gives the model exactly what the crashed one gave it.
        """
        wanted = set(nodes)
        measured: list[Interval] = []
        estimated: list[Interval] = []
        for stx in self.ledger.block(self.base_height + step + 1).transactions():
            tx = stx.tx
            if not isinstance(tx, MeterAttestation):
                continue
            node = self.node_of_member.get(tx.subject, "")
            if node not in wanted:
                continue
            item = Interval(node, tx.interval_start_s, tx.interval_s, tx.import_wh, tx.export_wh,
                            tx.counter)
            (estimated if tx.issuer == self.estimator else measured).append(item)
        return measured, estimated

    def command_state(self) -> tuple[list[PendingCommand], dict[tuple[str, str], str]]:
        """Commands with no outcome yet (oldest first), and each (node, appliance)'s last
        commanded action, from the ledger's ``dr_command`` and ``dr_outcome`` records."""
        pending: dict[str, PendingCommand] = {}
        last_action: dict[tuple[str, str], str] = {}
        for block in self.ledger.blocks(self.base_height + 1):
            for stx in block.transactions():
                tx = stx.tx
                if tx.issuer != self.aggregator:
                    continue
                if isinstance(tx, DrCommand):
                    node = self.node_of_member.get(tx.target, "")
                    last_action[(node, tx.appliance)] = tx.action
                    appliance = appliance_number(tx.appliance)
                    if appliance is not None:
                        pending[stx.txid_hex] = PendingCommand(
                            node, command_id_of(tx.nonce), appliance, tx.action, tx.start_s)
                elif isinstance(tx, DrOutcome):
                    pending.pop(tx.command_txid, None)
        self._command_txid = {c.command_id: txid for txid, c in pending.items()}
        return list(pending.values()), last_action

    # --- writing ------------------------------------------------------------------------

    def _tx(self, cls: Any, issuer: str, *fields: Any) -> SignedTx:
        nonce = self._nonce.get(issuer)
        if nonce is None:
            nonce = self.ledger.next_nonce(issuer)
        self._nonce[issuer] = nonce + 1
        keys = self.keys[issuer] if self.signing == "full" else None
        return SignedTx.build(cls(issuer, nonce, *fields), self.chain_id, keys)

    def next_command_id(self) -> int:
        """The id of the next command (see :func:`command_id_of`)."""
        return command_id_of(self._nonce.get(self.aggregator,
                                             self.ledger.next_nonce(self.aggregator)))

    def measured(self, item: Interval) -> SignedTx:
        return self._tx(MeterAttestation, self.meter_of[item.node], self.member_of[item.node],
                        item.start_s, item.span_s, item.import_wh, item.export_wh, item.counter)

    def estimated(self, item: Interval, counter: int) -> SignedTx:
        return self._tx(MeterAttestation, self.estimator, self.member_of[item.node],
                        item.start_s, item.span_s, item.import_wh, item.export_wh, counter)

    def command(self, node: str, appliance: int, action: str, level: int, start_s: int,
                duration_s: int) -> SignedTx:
        """A ``dr_command`` to ``node``'s ``appliance``; its id is :meth:`next_command_id`."""
        stx = self._tx(DrCommand, self.aggregator, self.member_of[node], str(appliance),
                       LEDGER_ACTIONS.get(action, "decrease"), min(max(level, 0), 3), start_s,
                       max(duration_s, 1))
        self._command_txid[command_id_of(stx.tx.nonce)] = stx.txid_hex
        return stx

    def outcome(self, node: str, command_id: int, outcome: str, via: str) -> SignedTx | None:
        """A ``dr_outcome`` for pending command ``command_id`` (None: no such command)."""
        txid = self._command_txid.pop(command_id, None)
        if txid is None:
            return None
        return self._tx(DrOutcome, self.aggregator, self.member_of[node], txid, outcome,
                        via or "none")

    def commit_step(self, txs: list[SignedTx], end_s: int) -> int:
        """Apply one interval's transactions and seal its block (durable); returns the height."""
        try:
            if txs:
                self.ledger.submit_many(txs)
        except BaseException:
            self._nonce.clear()
            raise
        return self.ledger.seal_block(end_s).height

    def close(self) -> None:
        """Checkpoint the head (the next start verifies only what comes after) and close."""
        try:
            with contextlib.suppress(LedgerError):  # without it the next start checks more
                self.save_checkpoint()
        finally:
            self.ledger.close()


def journal_rows(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every meter attestation, command and outcome on a live ledger, as plain rows."""
    book = Ledger.open(path, readonly=True)
    try:
        rows: list[dict[str, Any]] = []
        for block in book.blocks(1):
            for stx in block.transactions():
                tx = stx.tx
                row = {"height": block.height, "kind": tx.kind, "issuer": tx.issuer}
                if isinstance(tx, MeterAttestation):
                    row.update(subject=tx.subject, start_s=tx.interval_start_s,
                               span_s=tx.interval_s, import_wh=tx.import_wh,
                               export_wh=tx.export_wh, counter=tx.counter)
                elif isinstance(tx, DrCommand):
                    row.update(subject=tx.target, appliance=tx.appliance, action=tx.action,
                               start_s=tx.start_s, txid=stx.txid_hex,
                               command_id=command_id_of(tx.nonce))
                elif isinstance(tx, DrOutcome):
                    row.update(subject=tx.target, command_txid=tx.command_txid,
                               outcome=tx.outcome, via=tx.via)
                else:
                    continue
                rows.append(row)
        return rows
    finally:
        book.close()
