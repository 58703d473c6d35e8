"""Serial meters: the line protocol over loop://, and a real pty with resets and unplugging."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from gridcoop.hardware_bridge.errors import ChecksumError, MalformedMessageError
from gridcoop.hardware_bridge.readings import Command, MeterReading
from gridcoop.hardware_bridge.registry import DeviceRegistry
from gridcoop.hardware_bridge.serial_bridge import SerialMeterSource
from gridcoop.hardware_bridge.serial_protocol import (
    BannerLine,
    CommentLine,
    FrameLine,
    LineSplitter,
    format_uplink,
    parse_line,
    with_checksum,
)
from tests.hardware_bridge.conftest import GOLDEN_EUI, GOLDEN_KEY, gather, wait_until
from tests.hardware_bridge.fake_arduino import FakeArduino

GOLDEN = bytes.fromhex("1503019c0012d68701a503c809060f00e9889336")


def test_reference_line_checksum() -> None:
    # the reference's CSV example line: XOR of every byte before '*' is 0x59
    assert with_checksum("M,1,ed1-001,3,412,903512,421,968,2310,1234567,1").endswith(b"*59\r\n")


def test_lines_through_a_loopback_port() -> None:
    port = serial.serial_for_url("loop://", timeout=0.1)
    splitter = LineSplitter()
    port.write(b"#BOOT,fw=1.0.0,boot=3\r\n# irms=4.21A\r\n")
    port.write(format_uplink(GOLDEN_EUI, 10, GOLDEN)[:30])  # half a line so far
    lines = splitter.feed(port.read(4096))
    assert [parse_line(line)[0] for line in lines] == [
        BannerLine({"fw": "1.0.0", "boot": "3"}),
        CommentLine("irms=4.21A"),
    ]
    port.write(format_uplink(GOLDEN_EUI, 10, GOLDEN)[30:] + b"U,bad\n")  # rest, then a \n line
    rest = splitter.feed(port.read(4096))
    assert parse_line(rest[0])[0] == FrameLine(GOLDEN_EUI, 10, GOLDEN)
    with pytest.raises(MalformedMessageError):
        parse_line(rest[1])
    port.close()


def test_bad_checksum_and_resync() -> None:
    good = format_uplink(GOLDEN_EUI, 10, GOLDEN).strip()
    with pytest.raises(ChecksumError):
        parse_line(good[:-1] + (b"0" if good[-1:] != b"0" else b"1"))
    # a reset cut a line and the banner followed on the same line
    line, resynced = parse_line(good[:25] + b"#BOOT,fw=1.0.0,boot=4")
    assert resynced and line == BannerLine({"fw": "1.0.0", "boot": "4"})
    line, resynced = parse_line(good[:25] + good)
    assert resynced and line == FrameLine(GOLDEN_EUI, 10, GOLDEN)


def test_runaway_garbage_is_dropped() -> None:
    splitter = LineSplitter(max_line=64)
    assert splitter.feed(bytes(range(200)).replace(b"\n", b"")) == []
    assert splitter.dropped_bytes > 0
    assert splitter.feed(b"#ok\r\n") == [b"#ok"]


@pytest.fixture
def arduino(tmp_path: Path) -> Iterator[FakeArduino]:
    device = FakeArduino(tmp_path / "ttyMETER", GOLDEN_EUI, GOLDEN_KEY, boot=2)
    yield device
    device.close()


def collect(source: SerialMeterSource, into: list[MeterReading], count: int) -> None:
    gather(into, source.drain, count, what=f"{count} readings")


def test_pty_meter_with_reset_on_open_reset_mid_line_and_unplug(
    arduino: FakeArduino, golden_registry: DeviceRegistry
) -> None:
    arduino.write(arduino.reading_line())  # before open: pyserial flushes it on open
    source = SerialMeterSource(arduino.path, golden_registry, reset_wait_s=2.0, reconnect_s=0.1)
    try:
        assert source.wait_connected(5)
        # output still in flight when the port opened, then the DTR reset and its banner
        arduino.write(arduino.reading_line() + arduino.reading_line())
        arduino.reset()  # boot 3, seq from 0
        readings: list[MeterReading] = []
        for _ in range(3):
            arduino.send_reading()
        collect(source, readings, 3)
        assert [(r.boot, r.seq, r.import_wh) for r in readings] == [
            (3, 0, 242),
            (3, 1, 242),
            (3, 2, 242),
        ]
        assert source.stats()["serial.stale_lines_after_open"] == 2

        # a reset in the middle of a line: half a frame, then CRLF and the banner
        arduino.reset(cut_line=arduino.reading_line()[:31])
        arduino.send_reading(100)
        # and once more without the CRLF: the banner continues the broken line
        arduino.reset(cut_line=arduino.reading_line()[:20], newline_first=False)
        arduino.send_reading(50)
        collect(source, readings, 5)
        assert [(r.boot, r.seq, r.import_wh) for r in readings[3:]] == [(4, 0, 100), (5, 0, 50)]
        stats = source.stats()
        assert stats.get("serial.bad_lines.malformed", 0) + stats["serial.bad_lines.checksum"] >= 1
        assert stats["serial.resynced_lines"] >= 1 and stats["reboots"] == 2

        # the cable is pulled and plugged back in (a new tty behind the same path)
        arduino.unplug()
        wait_until(lambda: not source.connected)
        arduino.plug_in()
        wait_until(lambda: source.connected)
        arduino.reset()  # opening the port resets the board
        wait_until(lambda: source.stats().get("serial.banners", 0) >= 4)
        arduino.send_reading(75)
        collect(source, readings, 6)
        assert (readings[5].boot, readings[5].seq, readings[5].import_wh) == (6, 0, 75)
        assert source.stats()["serial.disconnects"] >= 1
        assert all(r.mac_verified and r.source == "serial" for r in readings)
    finally:
        source.close()


def test_commands_over_serial_are_acked(
    arduino: FakeArduino, golden_registry: DeviceRegistry
) -> None:
    source = SerialMeterSource(arduino.path, golden_registry, reset_wait_s=0.0, reconnect_s=0.1)
    try:
        assert source.wait_connected(5)
        source.send(Command(GOLDEN_EUI, 2, 77, "off"))
        source.send(Command(GOLDEN_EUI, 2, 78, "decrease", 20))
        acks = gather([], source.acks, 2, what="two acks")
        assert [(a.command_id, a.status, a.via) for a in acks] == [
            (77, "acked", "device"),
            (78, "acked", "device"),
        ]
        assert arduino.state.level(2, 0.0) == 0  # off, then -20 % stays at 0
        # the device received exactly the codec's signed bytes
        assert arduino.commands[0][:5].hex() == "0102004d00" and len(arduino.commands[0]) == 9
    finally:
        source.close()


def test_command_to_an_unplugged_meter_is_reported(
    arduino: FakeArduino, golden_registry: DeviceRegistry
) -> None:
    source = SerialMeterSource(arduino.path, golden_registry, reset_wait_s=0.0, reconnect_s=5)
    try:
        assert source.wait_connected(5)
        arduino.unplug()
        wait_until(lambda: not source.connected)
        source.send(Command(GOLDEN_EUI, 1, 5, "on"))
        (ack,) = source.acks()
        assert (ack.status, ack.via) == ("nacked", "bridge") and "not connected" in ack.detail
    finally:
        source.close()
