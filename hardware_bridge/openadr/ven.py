"""gridcoop's VEN: a DR household (or a gateway in front of its appliances) on a 2.0b VTN.

It registers with the VTN, polls it, hands each event to ``decide`` as a
:class:`~gridcoop.hardware_bridge.openadr.records.SimpleEvent` and answers
optIn when ``decide`` returns True, optOut otherwise (a VEN that cannot read an
event, or whose ``decide`` fails, opts out: the household keeps local control).
Meter readings are offered as ``TELEMETRY_USAGE`` reports; the VTN chooses
which to request. :func:`command_for_event` turns an accepted event into the
meter's own DR_EVENT command, so a gateway can pass it to a serial or LoRa meter.
"""

from __future__ import annotations

import math
import queue
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from gridcoop.hardware_bridge.openadr.records import SIMPLE_LEVELS, OpenADRError, SimpleEvent
from gridcoop.hardware_bridge.openadr.runner import LoopThread, openleadr
from gridcoop.hardware_bridge.readings import Command


@dataclass(frozen=True, slots=True)
class MeterReport:
    """One report data point this VEN offers: ``read()`` gives the current value."""

    resource_id: str
    measurement: str  # an OpenADR measurement name, e.g. "energyReal" (Wh) or "powerReal" (W)
    read: Callable[[], float]
    sampling_s: float = 60.0


def _targets(event: Mapping[str, Any], key: str) -> tuple[str, ...]:
    found: list[str] = []
    for target in event.get("targets") or []:
        value = target.get(key) if isinstance(target, Mapping) else None
        if isinstance(value, str):
            found.append(value)
    return tuple(found)


def simple_event(event: Mapping[str, Any]) -> SimpleEvent:
    """The SIMPLE signal of an openleadr event dict; ``OpenADRError`` if it has none."""
    try:
        descriptor, period = event["event_descriptor"], event["active_period"]
        signals = event["event_signals"]
        simple = next(s for s in signals if str(s.get("signal_name", "")).upper() == "SIMPLE")
        levels = [float(i["signal_payload"]) for i in simple["intervals"]]
        duration: timedelta = period["duration"]
        start: datetime = period["dtstart"]
    except (KeyError, TypeError, ValueError, StopIteration) as exc:
        raise OpenADRError(f"event without a readable SIMPLE signal ({exc!r})") from None
    level = max(levels, default=0.0)  # the event's strongest interval
    if not math.isfinite(level) or int(level) != level or int(level) not in SIMPLE_LEVELS:
        raise OpenADRError(f"SIMPLE level {level!r} is not 0, 1, 2 or 3")
    return SimpleEvent(
        event_id=str(descriptor["event_id"]),
        modification_number=int(descriptor.get("modification_number", 0)),
        level=int(level),
        start=start if start.tzinfo else start.replace(tzinfo=UTC),
        duration_s=int(duration.total_seconds()),
        status=str(descriptor.get("event_status", "")),
        market_context=str(descriptor.get("market_context", "")),
        ven_ids=_targets(event, "ven_id"),
        resource_ids=_targets(event, "resource_id"),
    )


def command_for_event(event: SimpleEvent, device_id: str, command_id: int) -> Command:
    """The meter's DR_EVENT command for an accepted event (all appliances, its level and
    duration; level 0 ends an event early: RESTORE)."""
    if event.level == 0:
        return Command(device_id, 255, command_id, "restore")
    minutes = min(max(math.ceil(event.duration_s / 60), 1), 0xFFFF)
    return Command(device_id, 255, command_id, "dr_event", event.level, duration_min=minutes)


class Ven:
    """An OpenADR 2.0b VEN (openleadr's client, on its own thread)."""

    def __init__(
        self,
        ven_name: str,
        vtn_url: str,
        decide: Callable[[SimpleEvent], bool],
        *,
        reports: Sequence[MeterReport] = (),
        cert: str | None = None,
        key: str | None = None,
        vtn_fingerprint: str | None = None,
        ca_file: str | None = None,
    ) -> None:
        self.ven_name = ven_name
        self.decide = decide
        self.reports = tuple(reports)
        self.answers: queue.SimpleQueue[tuple[SimpleEvent, bool]] = queue.SimpleQueue()
        self.refused: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._options: dict[str, Any] = {
            "ven_name": ven_name, "vtn_url": vtn_url, "cert": cert, "key": key,
            "vtn_fingerprint": vtn_fingerprint, "ca_file": ca_file,
            "disable_signature": cert is None, "show_fingerprint": False,
        }  # fmt: skip
        self._loop: LoopThread | None = None
        self._client: Any = None

    @property
    def ven_id(self) -> str | None:
        """The id the VTN gave this VEN at registration (None before)."""
        return None if self._client is None else self._client.ven_id

    def start(self) -> Ven:
        client_class = openleadr().OpenADRClient
        self._loop = LoopThread(f"openadr-ven-{self.ven_name}")

        async def run() -> Any:
            client = client_class(**self._options)
            client.add_handler("on_event", self._on_event)
            client.add_handler("on_update_event", self._on_event)
            for report in self.reports:
                client.add_report(
                    callback=report.read, resource_id=report.resource_id,
                    measurement=report.measurement,
                    sampling_rate=timedelta(seconds=report.sampling_s),
                    report_duration=timedelta(hours=1),
                )  # fmt: skip
            await client.run()
            return client

        self._client = self._loop.call(run())
        if not self._client.registration_id:
            self.stop()
            url = self._options["vtn_url"]
            raise OpenADRError(f"VEN {self.ven_name!r} was not registered by {url}")
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        if self._client is not None:
            self._loop.call(self._client.stop())
        self._loop.stop()
        self._loop = None

    def __enter__(self) -> Ven:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _on_event(self, event: Mapping[str, Any]) -> str:
        try:
            simple = simple_event(event)
        except OpenADRError as exc:
            self.refused.put(str(exc))
            return "optOut"
        try:
            accepted = bool(self.decide(simple))
        except Exception as exc:  # the household's own logic failed: keep local control
            self.refused.put(f"decide failed on {simple.event_id}: {exc!r}")
            accepted = False
        self.answers.put((simple, accepted))
        return "optIn" if accepted else "optOut"
