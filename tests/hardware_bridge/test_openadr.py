"""OpenADR 2.0b on loopback, XML on the wire: openleadr's own client against gridcoop's
VTN, and gridcoop's VEN against openleadr's own server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gridcoop.hardware_bridge.mosquitto import free_port
from gridcoop.hardware_bridge.openadr.records import (
    EventSent,
    OpenADRError,
    OptReceived,
    ReportReceived,
    SimpleEvent,
    VenRegistered,
)
from gridcoop.hardware_bridge.openadr.runner import LoopThread
from gridcoop.hardware_bridge.openadr.ven import MeterReport, Ven, command_for_event, simple_event
from gridcoop.hardware_bridge.openadr.vtn import Vtn
from gridcoop.hardware_bridge.readings import Command
from tests.hardware_bridge.conftest import need, wait_until

try:
    import openleadr
except ImportError:
    openleadr = None

# openleadr 0.5.36 stores itself on aiohttp's app under a string key
pytestmark = pytest.mark.filterwarnings("ignore:It is recommended to use web.AppKey")


@pytest.fixture(scope="module", autouse=True)
def _needs_openleadr() -> None:
    need("ok" if openleadr is not None else None, "openleadr (pip install '.[openadr]')")


def soon(seconds: float = 2.0) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


class OpenleadrVen:
    """openleadr's own client, run on a loop thread, answering every event with ``answer``."""

    def __init__(self, name: str, url: str, answer: str, energy_wh: float) -> None:
        self.events: list[dict[str, Any]] = []
        self.loop = LoopThread(f"test-ven-{name}")

        async def run() -> Any:
            client = openleadr.OpenADRClient(ven_name=name, vtn_url=url, disable_signature=True,
                                             show_fingerprint=False)  # fmt: skip

            def on_event(event: dict[str, Any]) -> str:
                self.events.append(event)
                return answer

            client.add_handler("on_event", on_event)
            client.add_report(callback=lambda: energy_wh, resource_id=f"{name}-meter",
                              measurement="energyReal", sampling_rate=timedelta(seconds=1),
                              report_duration=timedelta(hours=1))  # fmt: skip
            await client.run()
            return client

        self.client = self.loop.call(run())

    def close(self) -> None:
        self.loop.call(self.client.stop())
        self.loop.stop()


@pytest.fixture
def vtn() -> Iterator[Vtn]:
    server = Vtn(free_port(), poll_s=1, report_every_s=1).start()
    yield server
    server.stop()


def test_openleadr_vens_register_opt_and_report_to_gridcoops_vtn(vtn: Vtn) -> None:
    yes = OpenleadrVen("house-1", vtn.url, "optIn", 1234.0)
    no = OpenleadrVen("house-2", vtn.url, "optOut", 99.0)
    try:
        assert (yes.client.ven_id, no.client.ven_id) == ("ven-house-1", "ven-house-2")
        start = soon()
        first = vtn.add_simple_event("ven-house-1", 2, start, 900, event_id="evt-1")
        second = vtn.add_simple_event("ven-house-2", 3, start, 600, event_id="evt-2")
        seen: list[object] = []

        def answered() -> bool:
            seen.extend(vtn.drain())
            opts = {r for r in seen if isinstance(r, OptReceived)}
            reports = [r for r in seen if isinstance(r, ReportReceived)]
            return len(opts) == 2 and {r.ven_id for r in reports} == {"ven-house-1", "ven-house-2"}

        wait_until(answered, 30.0, "two opts and reports from both VENs")
        assert [r for r in seen if isinstance(r, VenRegistered)] == [
            VenRegistered("ven-house-1", "house-1", "reg-ven-house-1"),
            VenRegistered("ven-house-2", "house-2", "reg-ven-house-2"),
        ]
        assert [r for r in seen if isinstance(r, EventSent)] == [
            EventSent("ven-house-1", first, 2, start, 900),
            EventSent("ven-house-2", second, 3, start, 600),
        ]
        assert {r for r in seen if isinstance(r, OptReceived)} == {
            OptReceived("ven-house-1", "evt-1", True),
            OptReceived("ven-house-2", "evt-2", False),
        }
        report = next(
            r for r in seen if isinstance(r, ReportReceived) and r.ven_id == "ven-house-1"
        )
        assert report.resource_id == "house-1-meter" and report.values[0][1] == 1234.0
        # what the client received is the SIMPLE event the VTN queued
        received = simple_event(yes.events[0])
        assert (received.event_id, received.level, received.duration_s) == ("evt-1", 2, 900)
        assert received.ven_ids == ("ven-house-1",) and received.start == start
        for message in ("oadrQueryRegistration", "oadrCreatePartyRegistration", "oadrPoll",
                        "oadrCreatedEvent", "oadrRegisterReport", "oadrUpdateReport"):
            assert vtn.wire[message] >= 1, (message, vtn.wire)  # fmt: skip
        assert vtn.wire["oadrCreatedEvent"] == 2
    finally:
        yes.close()
        no.close()


def test_vtn_refuses_unknown_vens_and_bad_levels() -> None:
    server = Vtn(free_port(), poll_s=1, ven_names={"house-1": "VEN-A"}).start()
    try:
        with pytest.raises(OpenADRError, match="was not registered"):
            Ven("stranger", server.url, lambda e: True).start()
        with pytest.raises(OpenADRError, match="0-3"):
            server.add_simple_event("VEN-A", 4, soon(), 60)
        with pytest.raises(OpenADRError, match="timezone-aware"):
            server.add_simple_event("VEN-A", 1, datetime(2030, 1, 1), 60)
        assert server.drain() == []
    finally:
        server.stop()


class OpenleadrVtn:
    """openleadr's own server, recording opts and report values."""

    def __init__(self) -> None:
        self.port = free_port()
        self.opts: list[tuple[str, str, str]] = []
        self.values: list[tuple[str, float]] = []
        self.loop = LoopThread("test-vtn")

        vens: dict[str, dict[str, str]] = {}

        def register(info: dict[str, Any]) -> tuple[str, str]:
            name = info["ven_name"]
            vens["VEN-" + name] = {"ven_id": "VEN-" + name, "ven_name": name,
                                   "registration_id": "REG-" + name, "fingerprint": ""}  # fmt: skip
            return "VEN-" + name, "REG-" + name

        def register_report(ven_id: str, resource_id: str, measurement: str, unit: str,
                            scale: str, min_sampling_interval: timedelta,
                            max_sampling_interval: timedelta) -> Any:  # fmt: skip
            def got(values: list[tuple[datetime, float]]) -> None:
                self.values.extend((resource_id, v) for _, v in values)

            return got, timedelta(seconds=1)

        async def run() -> Any:
            server = openleadr.OpenADRServer(
                vtn_id="TEST-VTN", http_port=self.port, requested_poll_freq=timedelta(seconds=1),
                verify_message_signatures=False, show_fingerprint=False,
                ven_lookup=lambda ven_id: vens.get(ven_id, {}),
            )  # fmt: skip
            server.add_handler("on_create_party_registration", register)
            server.add_handler("on_register_report", register_report)
            await server.run()
            return server

        self.server = self.loop.call(run())
        self.url = f"http://127.0.0.1:{self.port}/OpenADR2/Simple/2.0b"

    def add_event(self, ven_id: str, level: float, event_id: str) -> None:
        async def add() -> None:
            self.server.add_event(
                ven_id=ven_id, signal_name="simple", signal_type="level", event_id=event_id,
                intervals=[{"dtstart": soon(), "duration": timedelta(minutes=30),
                            "signal_payload": level}],
                callback=lambda ven_id, event_id, opt_type: self.opts.append(
                    (ven_id, event_id, opt_type)),
            )  # fmt: skip

        self.loop.call(add())

    def close(self) -> None:
        self.loop.call(self.server.stop())
        self.loop.stop()


def test_gridcoops_ven_against_openleadrs_vtn() -> None:
    server = OpenleadrVtn()
    energy = [5_000.0]
    meter = MeterReport("house-7-meter", "energyReal", lambda: energy[0], 1.0)
    ven = Ven("house-7", server.url, decide=lambda e: e.level >= 2, reports=[meter])
    try:
        ven.start()
        assert ven.ven_id == "VEN-house-7"
        server.add_event("VEN-house-7", 2, "high")
        server.add_event("VEN-house-7", 1, "moderate")
        wait_until(lambda: len(server.opts) == 2 and server.values, 30.0, "two opts and a report")
        assert sorted(server.opts) == [("VEN-house-7", "high", "optIn"),
                                       ("VEN-house-7", "moderate", "optOut")]  # fmt: skip
        assert server.values[0] == ("house-7-meter", 5_000.0)
        answers = [ven.answers.get_nowait() for _ in range(2)]
        high = next(event for event, accepted in answers if accepted)
        assert (high.event_id, high.level, high.duration_s) == ("high", 2, 1800)
        assert command_for_event(high, "70b3d57ed0000001", 9) == Command(
            "70b3d57ed0000001", 255, 9, "dr_event", 2, duration_min=30
        )
    finally:
        ven.stop()
        server.close()


def test_unreadable_events_are_opted_out() -> None:
    good = {
        "event_descriptor": {"event_id": "e", "modification_number": 0, "event_status": "far"},
        "active_period": {"dtstart": datetime(2030, 1, 1, tzinfo=UTC),
                          "duration": timedelta(minutes=5)},
        "event_signals": [{"signal_name": "SIMPLE", "intervals": [{"signal_payload": 1.0}]}],
        "targets": [{"ven_id": "V"}, {"resource_id": "r1"}],
    }  # fmt: skip
    event = simple_event(good)
    assert (event.level, event.duration_s, event.ven_ids, event.resource_ids) == (
        1, 300, ("V",), ("r1",))  # fmt: skip
    assert command_for_event(SimpleEvent("e", 0, 0, event.start, 60, "", "", (), ()), "d", 1) == (
        Command("d", 255, 1, "restore"))  # fmt: skip
    ven = Ven("v", "http://127.0.0.1:1/x", decide=lambda e: 1 / 0 > 0)  # never started
    bad_level = {**good, "event_signals": [{"signal_name": "SIMPLE",
                                            "intervals": [{"signal_payload": 7.0}]}]}  # fmt: skip
    price_only = {**good, "event_signals": [{"signal_name": "ELECTRICITY_PRICE",
                                             "intervals": [{"signal_payload": 0.3}]}]}  # fmt: skip
    assert ven._on_event(bad_level) == "optOut" and ven._on_event(price_only) == "optOut"
    assert ven._on_event(good) == "optOut"  # decide raised: local control
    assert ven.refused.qsize() == 3 and ven.answers.qsize() == 1

