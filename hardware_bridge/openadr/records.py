"""What crosses between an OpenADR peer's thread and its caller: plain, typed records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

SIMPLE_LEVELS = (0, 1, 2, 3)  # normal, moderate, high, emergency shed


@dataclass(frozen=True, slots=True)
class VenRegistered:
    ven_id: str
    ven_name: str
    registration_id: str


@dataclass(frozen=True, slots=True)
class EventSent:
    """A SIMPLE event the VTN queued for a VEN (delivered at the VEN's next poll)."""

    ven_id: str
    event_id: str
    level: int
    start: datetime
    duration_s: int


@dataclass(frozen=True, slots=True)
class OptReceived:
    """A VEN's answer to an event (``oadrCreatedEvent``): opted in or out."""

    ven_id: str
    event_id: str
    opted_in: bool


@dataclass(frozen=True, slots=True)
class ReportReceived:
    """Values of one metered report data point (``oadrUpdateReport``)."""

    ven_id: str
    resource_id: str
    measurement: str
    values: tuple[tuple[datetime, float], ...]


@dataclass(frozen=True, slots=True)
class SimpleEvent:
    """An event as a VEN received it, reduced to what a SIMPLE signal says."""

    event_id: str
    modification_number: int
    level: int
    start: datetime
    duration_s: int
    status: str
    market_context: str
    ven_ids: tuple[str, ...]
    resource_ids: tuple[str, ...]


class OpenADRError(ValueError):
    """An OpenADR message or setting gridcoop cannot use; the message says which."""
