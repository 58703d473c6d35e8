"""gridcoop's VTN: the aggregator or central market issuing OpenADR 2.0b events.

A VEN (a household's gateway, or any 2.0b client) registers, polls, receives
SIMPLE-level events, answers each with optIn or optOut (``oadrCreatedEvent``),
and may offer ``TELEMETRY_USAGE`` reports, which the VTN requests at
``report_every_s``. Everything that happens comes back from :meth:`Vtn.drain` as
records in arrival order; the market side (``agents.mechanisms.dr.oadr_link``)
turns them into ledger records and commands.

Security: with ``cert``/``key`` the VTN signs its messages and checks the VENs'
signatures (``ven_fingerprints`` maps each VEN name to its certificate
fingerprint); ``http_cert``/``http_key``/``http_ca_file`` put it behind TLS with
client certificates. Without them (tests, a closed lab network) messages are
unsigned.
"""

from __future__ import annotations

import contextlib
import io
import logging
import queue
import re
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from gridcoop.hardware_bridge.openadr.records import (
    SIMPLE_LEVELS,
    EventSent,
    OpenADRError,
    OptReceived,
    ReportReceived,
    VenRegistered,
)
from gridcoop.hardware_bridge.openadr.runner import LoopThread, openleadr

log = logging.getLogger(__name__)
Record = VenRegistered | EventSent | OptReceived | ReportReceived
PATH = "/OpenADR2/Simple/2.0b"
# the element inside oadrSignedObject names the message (oadrCreatedEvent, oadrPoll, ...)
_PAYLOAD = re.compile(rb"oadrSignedObject[^>]*>\s*<(?:\w+:)?(oadr\w+)")


class Vtn:
    """An OpenADR 2.0b VTN on ``host:port`` (openleadr's server, on its own thread)."""

    def __init__(
        self,
        port: int,
        *,
        vtn_id: str = "GRIDCOOP-VTN",
        host: str = "127.0.0.1",
        poll_s: float = 10.0,
        report_every_s: float = 60.0,
        market_context: str = "oadr://gridcoop/dr",
        ven_names: Mapping[str, str] | None = None,
        cert: str | None = None,
        key: str | None = None,
        ven_fingerprints: Mapping[str, str] | None = None,
        http_cert: str | None = None,
        http_key: str | None = None,
        http_ca_file: str | None = None,
    ) -> None:
        """``ven_names`` maps the VEN names allowed to register to their VEN ids
        (None: any VEN may register and gets ``ven-<name>``)."""
        self.url = f"{'https' if http_cert else 'http'}://{host}:{port}{PATH}"
        self.market_context = market_context
        self.report_every = timedelta(seconds=report_every_s)
        self.ven_names = dict(ven_names) if ven_names is not None else None
        self.ven_fingerprints = dict(ven_fingerprints or {})
        self.wire: Counter[str] = Counter()  # OpenADR messages received, by payload name
        self._records: queue.SimpleQueue[Record] = queue.SimpleQueue()
        self._names: dict[str, str] = {}  # ven_id -> ven_name
        self._options: dict[str, Any] = {
            "vtn_id": vtn_id, "http_host": host, "http_port": port, "http_path_prefix": PATH,
            "requested_poll_freq": timedelta(seconds=poll_s), "cert": cert, "key": key,
            "http_cert": http_cert, "http_key": http_key, "http_ca_file": http_ca_file,
            "verify_message_signatures": cert is not None, "show_fingerprint": False,
            "ven_lookup": self._lookup,
        }  # fmt: skip
        self._loop: LoopThread | None = None
        self._server: Any = None

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> Vtn:
        server_class = openleadr().OpenADRServer
        self._loop = LoopThread("openadr-vtn")

        async def run() -> Any:
            server = server_class(**self._options)
            server.app.middlewares.append(self._count_messages())
            server.add_handler("on_create_party_registration", self._register)
            server.add_handler("on_register_report", self._register_report)
            banner = io.StringIO()  # openleadr prints its URL; the caller's stdout stays clean
            with contextlib.redirect_stdout(banner):
                await server.run()
            log.debug("%s", banner.getvalue().strip())
            return server

        self._server = self._loop.call(run())
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        if self._server is not None:
            self._loop.call(self._server.stop())
        self._loop.stop()
        self._loop = None

    def __enter__(self) -> Vtn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- events --------------------------------------------------------------------------
    def add_simple_event(
        self,
        ven_id: str,
        level: int,
        start: datetime,
        duration_s: int,
        event_id: str | None = None,
    ) -> str:
        """Queue a SIMPLE event for ``ven_id``; returns its event id."""
        if level not in SIMPLE_LEVELS:
            raise OpenADRError(f"SIMPLE levels are 0-3 (normal..emergency shed), got {level!r}")
        if duration_s <= 0 or start.tzinfo is None:
            raise OpenADRError("an event needs a positive duration and a timezone-aware start")
        if self._loop is None:
            raise OpenADRError("the VTN is not running; call start() first")
        interval = {"dtstart": start, "duration": timedelta(seconds=duration_s),
                    "signal_payload": float(level)}  # fmt: skip
        chosen = event_id or f"gc-{secrets.token_hex(8)}"

        async def add() -> str:
            added: str = self._server.add_event(
                ven_id=ven_id, signal_name="simple", signal_type="level", intervals=[interval],
                callback=self._opted, event_id=chosen, market_context=self.market_context,
            )  # fmt: skip
            return added

        added = self._loop.call(add())
        self._records.put(EventSent(ven_id, added, level, start, duration_s))
        return added

    def drain(self) -> list[Record]:
        """Everything that happened since the last call, in order."""
        out: list[Record] = []
        while True:
            try:
                out.append(self._records.get_nowait())
            except queue.Empty:
                return out

    # -- openleadr handlers (run on the VTN's thread) -------------------------------------
    def _lookup(self, ven_id: str) -> dict[str, str]:
        name = self._names.get(ven_id)
        if name is None:
            return {}
        return {"ven_id": ven_id, "ven_name": name, "registration_id": f"reg-{ven_id}",
                "fingerprint": self.ven_fingerprints.get(name, "")}  # fmt: skip

    def _register(self, info: Mapping[str, Any]) -> tuple[str, str] | bool:
        name = str(info.get("ven_name") or "")
        if self.ven_names is None:
            ven_id = f"ven-{name}" if name else f"ven-{secrets.token_hex(6)}"
        elif name in self.ven_names:
            ven_id = self.ven_names[name]
        else:
            return False  # not a VEN of this community: refused
        self._names[ven_id] = name
        registration_id = f"reg-{ven_id}"
        self._records.put(VenRegistered(ven_id, name, registration_id))
        return ven_id, registration_id

    def _register_report(
        self,
        ven_id: str,
        resource_id: str,
        measurement: str,
        unit: str | None,
        scale: str | None,
        min_sampling_interval: timedelta,
        max_sampling_interval: timedelta,
    ) -> tuple[Callable[[list[tuple[datetime, float]]], None], timedelta]:
        every = min(max(self.report_every, min_sampling_interval), max_sampling_interval)

        def received(values: list[tuple[datetime, float]]) -> None:
            stamped = tuple((_utc(when), float(value)) for when, value in values)
            self._records.put(ReportReceived(ven_id, resource_id, measurement, stamped))

        return received, every

    def _opted(self, ven_id: str, event_id: str, opt_type: str) -> None:
        self._records.put(OptReceived(ven_id, event_id, opt_type == "optIn"))

    def _count_messages(self) -> Callable[..., Awaitable[Any]]:
        from aiohttp import web  # openleadr's web server

        @web.middleware
        async def count(request: Any, handler: Callable[[Any], Awaitable[Any]]) -> Any:
            found = _PAYLOAD.search((await request.read())[:4096])
            self.wire[found.group(1).decode() if found else "unknown"] += 1
            return await handler(request)

        return count


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
