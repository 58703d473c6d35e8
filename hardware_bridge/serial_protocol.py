"""The serial line protocol between the Uno and the host (pure parsing, no ports).

Why frames in hex rather than CSV fields: the serial lines carry exactly the
bytes the LoRa radio would send (same codec, same MAC), so a lab meter on USB
is authenticated like a radio meter and the bridge has one decoder.

Lines (ASCII, ``\\r\\n`` from Arduino's println; ``\\n`` alone is accepted)::

    #BOOT,fw=1.0.0,eui=70b3d57ed0000001,boot=3,ical=60.606,vnom=230   banner after reset
    # irms=4.21A s=968VA e=1234567VAh                                  comment, ignored
    U,70b3d57ed0000001,10,1503019c0012d68701a503c809060f00e9889336*7D  uplink frame
    D,20,0102004d00*15                                                 host -> device command

``*XX`` is an NMEA-style XOR of every byte before the ``*``, in hex. A line
cut by a reset is recovered from its last start marker, else dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gridcoop.hardware_bridge.errors import ChecksumError, MalformedMessageError

MAX_LINE_BYTES = 256
_START = re.compile(r"#BOOT|#|U,|D,")


def checksum(body: str) -> int:
    value = 0
    for byte in body.encode("ascii", "replace"):
        value ^= byte
    return value


def with_checksum(body: str) -> bytes:
    return f"{body}*{checksum(body):02X}\r\n".encode("ascii")


@dataclass(frozen=True, slots=True)
class BannerLine:
    """A ``#BOOT`` line: the device restarted (port opened, power cycle, watchdog)."""

    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CommentLine:
    text: str


@dataclass(frozen=True, slots=True)
class FrameLine:
    """An uplink frame the device would have sent over LoRa."""

    dev_eui: str
    f_port: int
    payload: bytes


@dataclass(frozen=True, slots=True)
class DownlinkLine:
    """A command frame for the device."""

    f_port: int
    payload: bytes


Line = BannerLine | CommentLine | FrameLine | DownlinkLine


def format_uplink(dev_eui: str, f_port: int, payload: bytes) -> bytes:
    return with_checksum(f"U,{dev_eui.lower()},{f_port},{payload.hex()}")


def format_downlink(f_port: int, payload: bytes) -> bytes:
    return with_checksum(f"D,{f_port},{payload.hex()}")


def format_banner(**fields: object) -> bytes:
    return ("#BOOT," + ",".join(f"{k}={v}" for k, v in fields.items()) + "\r\n").encode("ascii")


def _parse_exact(text: str) -> Line:
    if text.startswith("#BOOT"):
        pairs = (item.split("=", 1) for item in text[len("#BOOT") :].split(",") if "=" in item)
        return BannerLine({key.strip(): value.strip() for key, value in pairs})
    if text.startswith("#"):
        return CommentLine(text[1:].strip())
    body, star, tail = text.rpartition("*")
    if not star or len(tail) != 2:
        raise MalformedMessageError(f"serial line {text[:60]!r} has no '*XX' checksum")
    try:
        expected = int(tail, 16)
    except ValueError as exc:
        raise MalformedMessageError(f"checksum {tail!r} is not hex") from exc
    if checksum(body) != expected:
        raise ChecksumError(
            f"serial line {text[:60]!r}: checksum {checksum(body):02X} != {tail}; "
            "noise on the line or a line cut by a reset"
        )
    parts = body.split(",")
    try:
        if parts[0] == "U" and len(parts) == 4:
            return FrameLine(parts[1].lower(), int(parts[2]), bytes.fromhex(parts[3]))
        if parts[0] == "D" and len(parts) == 3:
            return DownlinkLine(int(parts[1]), bytes.fromhex(parts[2]))
    except ValueError as exc:
        raise MalformedMessageError(f"serial line {text[:60]!r}: bad field ({exc})") from exc
    raise MalformedMessageError(
        f"serial line {text[:60]!r} is not a #BOOT, #comment, U,... or D,... line"
    )


def parse_line(raw: bytes) -> tuple[Line, bool]:
    """Parse one line (without its terminator); returns (line, resynced).

    ``resynced`` is True when the line was the tail of a garbled one (a reset cut
    the previous line short and the new output continued on the same line).
    """
    text = raw.decode("ascii", "replace").strip("\r\n\x00 ")
    if not text:
        raise MalformedMessageError("empty serial line")
    try:
        return _parse_exact(text), False
    except MalformedMessageError as first_error:
        starts = [m.start() for m in _START.finditer(text) if m.start() > 0]
        for start in reversed(starts):
            try:
                return _parse_exact(text[start:]), True
            except MalformedMessageError:
                continue
        raise first_error


class LineSplitter:
    """Bytes in, complete lines out; keeps the partial tail; drops runaway garbage."""

    def __init__(self, max_line: int = MAX_LINE_BYTES) -> None:
        self._buffer = bytearray()
        self._max = max_line
        self.dropped_bytes = 0

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer.extend(data)
        lines: list[bytes] = []
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                break
            line = bytes(self._buffer[:end]).rstrip(b"\r")
            del self._buffer[: end + 1]
            if line.strip():
                lines.append(line)
        if len(self._buffer) > self._max:  # no newline in sight: noise, not a line
            self.dropped_bytes += len(self._buffer)
            self._buffer.clear()
        return lines

    def reset(self) -> None:
        """Forget a partial line (the port was reopened)."""
        self.dropped_bytes += len(self._buffer)
        self._buffer.clear()
