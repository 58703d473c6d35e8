"""``gridcoop openadr``: run gridcoop's OpenADR 2.0b VTN or VEN against real peers.

Why on the command line: commissioning a site means checking that its VEN (a
gateway in front of appliances) registers with the community's VTN, receives a
SIMPLE event and answers it, before any money depends on it. Each command
prints what happens as JSON lines, one per record.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from gridcoop.hardware_bridge.openadr.records import OpenADRError, SimpleEvent, VenRegistered
from gridcoop.hardware_bridge.openadr.ven import Ven
from gridcoop.hardware_bridge.openadr.vtn import Vtn


def _emit(kind: str, **fields: Any) -> None:
    click.echo(json.dumps({"record": kind, **fields}, default=str))


def _pairs(items: tuple[str, ...], option: str, sep: str) -> list[tuple[str, str]]:
    pairs = []
    for item in items:
        left, found, right = item.partition(sep)
        if not found or not left or not right:
            raise click.UsageError(f"{option} {item!r} must look like A{sep}B")
        pairs.append((left, right))
    return pairs


def _events(items: tuple[str, ...]) -> list[tuple[int, int]]:
    try:
        events = [(int(a), int(b)) for a, b in _pairs(items, "--event", ":")]
    except ValueError:
        raise click.UsageError("--event takes LEVEL:DURATION_S, two integers") from None
    for level, duration in events:
        if level not in range(4) or duration <= 0:
            raise click.UsageError("--event LEVEL is 0-3 and DURATION_S positive")
    return events


def _wait(for_s: float | None, tick: Any) -> None:
    stop = time.monotonic() + for_s if for_s is not None else None
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends the wait, then the caller stops
        while stop is None or time.monotonic() < stop:
            tick()
            time.sleep(0.2)


@click.group()
def openadr() -> None:
    """OpenADR 2.0b: gridcoop's VTN for real VENs, or its VEN on a real VTN (needs the
    openadr extra: pip install 'gridcoop[openadr]')."""


@openadr.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), required=True, help="HTTP port.")
@click.option("--poll-s", type=float, default=10.0, show_default=True,
              help="How often VENs are asked to poll.")  # fmt: skip
@click.option("--ven", "vens", multiple=True, metavar="NAME=VEN_ID",
              help="A VEN allowed to register, and its id (repeat; none given: any VEN).")
@click.option("--event", "events", multiple=True, metavar="LEVEL:DURATION_S",
              help="A SIMPLE event sent to each VEN when it registers (repeat).")
@click.option("--lead-s", type=float, default=60.0, show_default=True,
              help="Seconds between a registration and the start of its events.")
@click.option("--for-s", type=float, default=None, help="Stop after this long (default: Ctrl-C).")
def vtn(host: str, port: int, poll_s: float, vens: tuple[str, ...], events: tuple[str, ...],
        lead_s: float, for_s: float | None) -> None:  # fmt: skip
    """Serve a VTN: print registrations, events sent, opts and reports as JSON lines."""
    names = dict(_pairs(vens, "--ven", "=")) or None
    plan = _events(events)
    server = Vtn(port, host=host, poll_s=poll_s, ven_names=names)
    try:
        server.start()
    except (ImportError, OSError) as exc:
        raise click.UsageError(str(exc)) from None
    _emit("listening", url=server.url)

    def tick() -> None:
        for record in server.drain():
            _emit(type(record).__name__, **asdict(record))
            if isinstance(record, VenRegistered):
                start = datetime.now(UTC) + timedelta(seconds=lead_s)
                for level, duration in plan:
                    server.add_simple_event(record.ven_id, level, start, duration)

    try:
        _wait(for_s, tick)
    finally:
        server.stop()


@openadr.command()
@click.option("--vtn-url", required=True, help="The VTN's base URL (…/OpenADR2/Simple/2.0b).")
@click.option("--name", required=True, help="This VEN's name.")
@click.option("--opt-in-from", type=click.IntRange(0, 4), default=1, show_default=True,
              help="Opt in to events at this SIMPLE level or higher (4: never).")
@click.option("--for-s", type=float, default=None, help="Stop after this long (default: Ctrl-C).")
def ven(vtn_url: str, name: str, opt_in_from: int, for_s: float | None) -> None:
    """Join a VTN as a VEN: print each event received and the answer given."""
    def decide(event: SimpleEvent) -> bool:
        return event.level >= opt_in_from

    client = Ven(name, vtn_url, decide)
    try:
        client.start()
    except (ImportError, OSError, OpenADRError) as exc:
        raise click.UsageError(str(exc)) from None
    _emit("registered", ven_id=client.ven_id)

    def tick() -> None:
        while not client.answers.empty():
            event, accepted = client.answers.get_nowait()
            _emit("event", **asdict(event), opted_in=accepted)

    try:
        _wait(for_s, tick)
    finally:
        client.stop()
