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
* Commands and their outcomes are ``dr_command`` transactions of the live
  aggregator account; its ``appliance`` field carries ``a<appliance>/cmd<id>/<action>``
  and, for an outcome, ``/<status>:<via>`` (``a2/cmd77/off/acked:device``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gridcoop.ledger.envelope import SignedTx
from gridcoop.ledger.identity import KeyPair, Member
from gridcoop.ledger.ledger import Ledger
from gridcoop.ledger.transactions import DrCommand, MeterAttestation

VAH_BITS = 32
LEDGER_ACTIONS = {"on": "on", "off": "off", "increase": "increase", "decrease": "decrease",
                  "restore": "on"}
"""The ledger's four DR actions; other device actions (dr_event, set_level) shed: ``decrease``."""
SEQ_BITS = 16


def pack_counter(boot: int, seq: int, energy_vah: int) -> int:
    """(boot, seq, cumulative VAh) as one growing integer: boot, then seq, then energy."""
    return (boot << (SEQ_BITS + VAH_BITS)) | (seq << VAH_BITS) | energy_vah


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


class JournalError(RuntimeError):
    """The live ledger does not match this config (another community, epoch or interval)."""


class LiveJournal:
    """The durable live ledger (one SQLite file), created on first start and reopened after."""

    def __init__(self, path: Path, *, nodes: Sequence[str], name: str, seed: int,
                 epoch_s: int, interval_s: int, signing: str = "full") -> None:
        self.path = path
        self.interval_s = interval_s
        master = f"gridcoop-live/{name}/{seed}".encode()
        self.authority_keys = KeyPair.derive(master, "market")
        self.keys: dict[str, KeyPair] = {self.authority_keys.account: self.authority_keys}
        members: list[tuple[Member, KeyPair]] = []
        for grid_id, role in ([("live-aggregator", "aggregator"), ("estimator", "meter")]
                              + [(f"node/{n}", "member") for n in nodes]
                              + [(f"meter/{n}", "meter") for n in nodes]):
            member, keys = Member.from_seed(master, grid_id, grid_id, "", role)  # type: ignore[arg-type]
            members.append((member, keys))
            self.keys[member.account] = keys
        self.aggregator = members[0][0].account
        self.estimator = members[1][0].account
        n = len(nodes)
        self.member_of = {node: members[2 + i][0].account for i, node in enumerate(nodes)}
        self.meter_of = {node: members[2 + n + i][0].account for i, node in enumerate(nodes)}
        self.created = not path.exists()
        if self.created:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.ledger = Ledger.create(path, authority=self.authority_keys, signing=signing,
                                        chain_id=f"gridcoop-live-{name}", time_s=epoch_s,
                                        signers=list(self.keys.values()))
            for member, _ in members:
                self.ledger.register(member)
            self.ledger.seal_block(epoch_s)
        else:
            self.ledger = Ledger.open(path, signers=list(self.keys.values()))
            self._check_member(self.aggregator)
            for node, account in self.meter_of.items():
                self._check_member(account, node)
        self.epoch_s = int(self.ledger.block(0).header.time_s)
        self.chain_id = self.ledger.config.chain_id
        self.signing = self.ledger.config.signing
        self._nonce: dict[str, int] = {}
        self.base_height = self.ledger.height - self.next_step  # the block before step 0's
        self.node_of_meter = {account: node for node, account in self.meter_of.items()}
        self.node_of_member = {account: node for node, account in self.member_of.items()}

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

    def command_records(self) -> list[tuple[str, str, str, int]]:
        """Every command record on the ledger in order: (node, record, ledger action, start_s)."""
        out = []
        for block in self.ledger.blocks(self.base_height + 1):
            for stx in block.transactions():
                tx = stx.tx
                if isinstance(tx, DrCommand) and tx.issuer == self.aggregator:
                    out.append((self.node_of_member.get(tx.target, ""), tx.appliance, tx.action,
                                tx.start_s))
        return out

    # --- writing ------------------------------------------------------------------------

    def _tx(self, cls: Any, issuer: str, *fields: Any) -> SignedTx:
        nonce = self._nonce.get(issuer)
        if nonce is None:
            nonce = self.ledger.next_nonce(issuer)
        self._nonce[issuer] = nonce + 1
        keys = self.keys[issuer] if self.signing == "full" else None
        return SignedTx.build(cls(issuer, nonce, *fields), self.chain_id, keys)

    def next_command_id(self) -> int:
        """Command ids come from the aggregator's nonce: unique and kept across restarts."""
        nonce = self._nonce.get(self.aggregator, self.ledger.next_nonce(self.aggregator))
        return nonce & 0xFFFF

    def measured(self, item: Interval) -> SignedTx:
        return self._tx(MeterAttestation, self.meter_of[item.node], self.member_of[item.node],
                        item.start_s, item.span_s, item.import_wh, item.export_wh, item.counter)

    def estimated(self, item: Interval, counter: int) -> SignedTx:
        return self._tx(MeterAttestation, self.estimator, self.member_of[item.node],
                        item.start_s, item.span_s, item.import_wh, item.export_wh, counter)

    def command(self, node: str, record: str, action: str, level: int, start_s: int,
                duration_s: int) -> SignedTx:
        """A ``dr_command``: ``record`` (``a2/cmd77/off``, or ``.../acked:device`` for an
        outcome) names appliance, command id, the device action and the outcome."""
        return self._tx(DrCommand, self.aggregator, self.member_of[node], record,
                        LEDGER_ACTIONS.get(action, "decrease"), min(max(level, 0), 3), start_s,
                        max(duration_s, 1))

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
        self.ledger.close()


def journal_rows(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every meter attestation and command on a live ledger, as plain rows (tests, tools)."""
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
                               start_s=tx.start_s)
                else:
                    continue
                rows.append(row)
        return rows
    finally:
        book.close()
