"""The DR community on a real OpenADR 2.0b VTN: events out, opts in, all on the ledger.

Why a link of its own: in simulation the DR community's events
(:class:`~gridcoop.agents.mechanisms.dr.openadr.OpenADREvent`) travel the model's
bus; in live mode the same events go to real VENs (a household gateway, or any
2.0b client) through gridcoop's VTN (:mod:`gridcoop.hardware_bridge.openadr`).
One event is one SIMPLE event for each targeted household's VEN (OpenADR event
id ``<event id>/<household id>``: openleadr keeps one event per VEN), and on the
ledger, in the ledger's own DR vocabulary, one ``dr_command`` per household
(appliance ``all``: every flexible appliance behind the VEN; action ``decrease``
to shed at levels 1-3, ``on`` for level 0, normal operation), written before
the event is queued, and, when the VEN answers in its ``oadrCreatedEvent``, one
``dr_outcome`` naming that command (``opt_in`` or ``opt_out``, via
``household``: the household's own VEN answered); an event the VTN would not
queue gets ``refused`` via ``bridge``.

:func:`event_from_wire` is the other direction: what a VEN received, as the
model's event for its own household, so :func:`commands_for_level` gives the
same appliance commands the simulated household would get.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from gridcoop.agents.mechanisms.dr.openadr import (
    EventError,
    EventTargets,
    OpenADREvent,
    SignalLevel,
)
from gridcoop.hardware_bridge.openadr.records import (
    OpenADRError,
    OptReceived,
    ReportReceived,
    SimpleEvent,
    VenRegistered,
)
from gridcoop.hardware_bridge.openadr.vtn import Vtn
from gridcoop.ledger.wallet import Wallet


def wire_event_id(event_id: str, household_id: str) -> str:
    """The OpenADR event id of a community event for one household's VEN."""
    return f"{event_id}/{household_id}"


def event_from_wire(event: SimpleEvent, household_id: str, origin: datetime) -> OpenADREvent:
    """A received SIMPLE event as the model's event for ``household_id``; ``origin`` is the
    wall-clock time of simulated second 0."""
    suffix = wire_event_id("", household_id)
    event_id = event.event_id.removesuffix(suffix) if event.event_id != suffix else event.event_id
    start_s = round((event.start - origin).total_seconds())
    if start_s < 0:
        raise EventError(f"event {event.event_id!r} starts before the run's origin {origin}")
    return OpenADREvent(
        event_id,
        start_s,
        event.duration_s,
        level=SignalLevel(event.level),
        targets=EventTargets(household_ids=(household_id,)),
        modification_number=event.modification_number,
        market_context=event.market_context,
    )


@dataclass(frozen=True, slots=True)
class Opt:
    """A household's answer to an event, as recorded on the ledger."""

    household_id: str
    event_id: str
    opted_in: bool
    outcome_txid: str


class VtnLink:
    """Publishes the community's SIMPLE events through ``vtn`` and records them.

    ``vens`` maps each household id to its VEN id; ``accounts`` maps each
    household id to its ledger account; ``wallet`` is the issuing aggregator's (or
    the central market's) wallet.
    """

    def __init__(
        self,
        vtn: Vtn,
        wallet: Wallet,
        *,
        vens: Mapping[str, str],
        accounts: Mapping[str, str],
        origin: datetime,
    ) -> None:
        missing = sorted(set(vens) - set(accounts))
        if missing:
            raise EventError(f"households with a VEN but no ledger account: {missing}")
        self.vtn = vtn
        self.wallet = wallet
        self.vens = dict(vens)
        self.accounts = dict(accounts)
        self.origin = origin
        self.registered: dict[str, str] = {}  # ven_id -> ven_name
        self.reports: list[ReportReceived] = []
        self._household_of = {ven: household for household, ven in self.vens.items()}
        # (ven_id, OpenADR event id) -> (dr_command txid, community event id)
        self._commands: dict[tuple[str, str], tuple[str, str]] = {}

    def publish(self, event: OpenADREvent) -> list[str]:
        """Send ``event`` to every targeted household's VEN; returns the ``dr_command`` txids."""
        if event.signal_name != "SIMPLE":
            raise EventError(f"event {event.event_id!r}: only SIMPLE events go to VENs")
        targets = event.targets.household_ids or tuple(self.vens)
        unknown = [h for h in targets if h not in self.vens]
        if unknown:
            raise EventError(f"event {event.event_id!r}: no VEN for households {unknown}")
        start = self.origin + timedelta(seconds=event.start_s)
        txids = []
        for household in targets:
            ven_id, account = self.vens[household], self.accounts[household]
            command = self.wallet.dr_command(
                account, "all", "decrease" if event.level else "on",
                int(event.level), event.start_s, event.duration_s,
            )  # fmt: skip
            try:
                self.vtn.add_simple_event(ven_id, int(event.level), start, event.duration_s,
                                          wire_event_id(event.event_id, household))  # fmt: skip
            except OpenADRError:
                self.wallet.dr_outcome(account, command.txid_hex, "refused", "bridge")
                raise
            self._commands[(ven_id, wire_event_id(event.event_id, household))] = (
                command.txid_hex, event.event_id)
            txids.append(command.txid_hex)
        return txids

    def pump(self) -> list[Opt]:
        """Record what the VENs did since the last call; returns the new opts."""
        opts = []
        for record in self.vtn.drain():
            if isinstance(record, VenRegistered):
                self.registered[record.ven_id] = record.ven_name
            elif isinstance(record, ReportReceived):
                self.reports.append(record)
            elif isinstance(record, OptReceived):
                opt = self._record_opt(record)
                if opt is not None:
                    opts.append(opt)
        return opts

    def _record_opt(self, record: OptReceived) -> Opt | None:
        sent = self._commands.pop((record.ven_id, record.event_id), None)
        household = self._household_of.get(record.ven_id)
        if sent is None or household is None:
            return None  # a repeated answer, or an event this link did not send
        command, event_id = sent
        outcome = self.wallet.dr_outcome(
            self.accounts[household], command, "opt_in" if record.opted_in else "opt_out",
            "household",
        )
        return Opt(household, event_id, record.opted_in, outcome.txid_hex)
