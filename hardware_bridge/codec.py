"""The radio payloads: meter readings, command acks (uplink) and commands (downlink).

Pure functions, shared by every transport and mirrored byte for byte by the
firmware's C encoder (``firmware/gridcoop_meter/payload.c``). The formats are
the reference design (lorawan.md section 9a):

* fPort 10, reading: ``>BBHIHHHBB`` (16 B) + 4 B MAC = 20 B, fits DR0's 51 B with
  room for 15 B of FOpts. Energy is cumulative VAh since boot, so a lost frame
  loses no energy; ``(boot, seq)`` is the end-to-end replay key.
* fPort 12, command ack: ``>BHB`` (hdr, cmd_id, result) + 4 B MAC = 8 B.
* fPort 20, command: ``>BBH`` (opcode, target, cmd_id) + args, + optional 4 B MAC
  (``command_codec.py``).

The MAC is the first 4 bytes of HMAC-SHA256(device key, devEUI(8) || fPort(1) ||
frame bytes before the MAC), so a broker or network server that can read and
inject plaintext still cannot forge or re-target a frame.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import struct
from dataclasses import dataclass

from gridcoop.hardware_bridge.errors import (
    BadBase64Error,
    BadMacError,
    MalformedMessageError,
    MissingMacError,
    PayloadError,
    ShortPayloadError,
    UnknownPortError,
    UnsupportedVersionError,
)

READING_PORT = 10
ACK_PORT = 12
COMMAND_PORT = 20
FORMAT_VERSION = 1
MAC_LEN = 4
KEY_LEN = 16
MAX_EUI_CHARS = 32  # 16 hex digits, with ":" or "-" between byte pairs at most 23

HDR_RELAY_ON = 0x01
HDR_CLIPPED = 0x02
HDR_MAC_PRESENT = 0x04

_READING = struct.Struct(">BBHIHHHBB")
_ACK = struct.Struct(">BHB")

READING_LEN = _READING.size  # 16
ACK_LEN = _ACK.size  # 4

ALL_APPLIANCES = 0xFF

ACK_RESULTS: dict[int, str] = {
    0: "ok",
    1: "bad_arg",
    2: "busy",
    3: "unsupported",
    4: "unauthenticated",
}


@dataclass(frozen=True, slots=True)
class MeterFrame:
    """One decoded fPort-10 reading, in the device's own units."""

    boot: int
    seq: int
    energy_vah: int  # cumulative since boot
    irms_ca: int  # mean RMS current over the interval, centi-amperes
    s_avg_va: int
    s_max_va: int
    interval_min: int
    status: int = 0
    relay_on: bool = False
    clipped: bool = False
    version: int = FORMAT_VERSION
    mac_verified: bool | None = None  # None: no MAC checked

    @property
    def irms_a(self) -> float:
        return self.irms_ca / 100.0


@dataclass(frozen=True, slots=True)
class AckFrame:
    """One decoded fPort-12 command ack: which command, and what the device did."""

    cmd_id: int
    result: int
    relay_on: bool = False
    version: int = FORMAT_VERSION
    mac_verified: bool | None = None

    @property
    def result_name(self) -> str:
        return ACK_RESULTS.get(self.result, f"code_{self.result}")


def eui_bytes(dev_eui: str | bytes) -> bytes:
    """The 8 bytes of a devEUI given as hex (any case, ``:``/``-`` allowed) or bytes."""
    if isinstance(dev_eui, str):
        if len(dev_eui) > MAX_EUI_CHARS:  # never cache (or echo) an attacker's long string
            raise MalformedMessageError(f"devEUI of {len(dev_eui)} characters; give 16 hex digits")
        return _eui_from_text(dev_eui)
    raw = bytes(dev_eui)
    if len(raw) != 8:
        raise MalformedMessageError(f"devEUI is {len(raw)} bytes, not 8")
    return raw


@functools.lru_cache(maxsize=65_536)
def _eui_from_text(dev_eui: str) -> bytes:
    """Parsed once per distinct spelling: every frame of a meter repeats it."""
    try:
        raw = bytes.fromhex(dev_eui.replace(":", "").replace("-", "").strip())
    except ValueError:
        raw = b""
    if len(raw) != 8:
        raise MalformedMessageError(
            f"devEUI {dev_eui!r} is not 8 bytes of hex; give 16 hex digits like 70b3d57ed0000001"
        )
    return raw


def normalize_eui(dev_eui: str | bytes) -> str:
    """The canonical meter id: the devEUI as 16 lower-case hex digits."""
    return eui_bytes(dev_eui).hex()


def mac_tag(key: bytes, dev_eui: str | bytes, f_port: int, body: bytes) -> bytes:
    """First 4 bytes of HMAC-SHA256(key, devEUI || fPort || body)."""
    message = eui_bytes(dev_eui) + bytes((f_port,)) + body
    return hmac.digest(key, message, "sha256")[:MAC_LEN]


def b64decode_strict(text: str) -> bytes:
    """Decode standard base64, refusing anything else (no silent garbage)."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadBase64Error(
            f"payload {text[:40]!r} is not valid base64 ({exc}); "
            "network servers send FRMPayload as standard padded base64"
        ) from exc


def b64encode(payload: bytes) -> str:
    return base64.b64encode(payload).decode("ascii")


def check_range(name: str, value: int, low: int, high: int) -> None:
    """Refuse a field value outside the range its wire type holds."""
    if not low <= value <= high:
        raise PayloadError(f"{name}={value} is outside {low}..{high}; clamp it on the device")


def as_bytes(payload: bytes | str) -> bytes:
    """Raw bytes, decoding base64 text (what network servers send)."""
    return b64decode_strict(payload) if isinstance(payload, str) else bytes(payload)


def verify_mac(
    key: bytes | None,
    dev_eui: str | bytes,
    f_port: int,
    body: bytes,
    tag: bytes | None,
    require_mac: bool,
) -> bool | None:
    """True/None when acceptable; raises on a missing or bad MAC when required."""
    if tag is None:
        if require_mac:
            raise MissingMacError(
                f"fPort {f_port} frame from {normalize_eui(dev_eui)} has no MAC; "
                "flash firmware with a device key or accept unauthenticated frames explicitly"
            )
        return None
    if key is None:
        if require_mac:
            raise MissingMacError(
                f"no key for {normalize_eui(dev_eui)}; register the device with its key"
            )
        return None
    ok = hmac.compare_digest(mac_tag(key, dev_eui, f_port, body), tag)
    if not ok and require_mac:
        raise BadMacError(
            f"MAC of fPort {f_port} frame from {normalize_eui(dev_eui)} does not verify; "
            "the frame was forged or corrupted, or the registry holds the wrong key"
        )
    return ok


def _split_mac(hdr: int, frame: bytes, body_len: int, what: str) -> tuple[bytes, bytes | None]:
    with_mac = bool(hdr & HDR_MAC_PRESENT)
    want = body_len + (MAC_LEN if with_mac else 0)
    if len(frame) != want:
        raise ShortPayloadError(
            f"{what} frame is {len(frame)} bytes; expected {want} "
            f"({body_len} + {MAC_LEN if with_mac else 0} MAC, header bit 2 "
            f"{'set' if with_mac else 'clear'})"
        )
    return frame[:body_len], (frame[body_len:] if with_mac else None)


def _check_header(hdr: int, what: str) -> None:
    version = hdr >> 4
    if version != FORMAT_VERSION:
        raise UnsupportedVersionError(
            f"{what} frame has format version {version}; this bridge decodes version "
            f"{FORMAT_VERSION}; update the bridge or the firmware"
        )


def encode_reading(frame: MeterFrame, *, dev_eui: str | bytes, key: bytes | None) -> bytes:
    """The fPort-10 bytes of a reading; with a key the MAC is appended."""
    for name, value, high in (
        ("boot", frame.boot, 0xFF),
        ("seq", frame.seq, 0xFFFF),
        ("energy_vah", frame.energy_vah, 0xFFFFFFFF),
        ("irms_ca", frame.irms_ca, 0xFFFF),
        ("s_avg_va", frame.s_avg_va, 0xFFFF),
        ("s_max_va", frame.s_max_va, 0xFFFF),
        ("interval_min", frame.interval_min, 0xFF),
        ("status", frame.status, 0xFF),
    ):
        check_range(name, value, 0, high)
    hdr = (frame.version << 4) | (HDR_RELAY_ON if frame.relay_on else 0)
    hdr |= (HDR_CLIPPED if frame.clipped else 0) | (HDR_MAC_PRESENT if key is not None else 0)
    body = _READING.pack(
        hdr,
        frame.boot,
        frame.seq,
        frame.energy_vah,
        frame.irms_ca,
        frame.s_avg_va,
        frame.s_max_va,
        frame.interval_min,
        frame.status,
    )
    return body if key is None else body + mac_tag(key, dev_eui, READING_PORT, body)


def decode_reading(
    dev_eui: str | bytes, payload: bytes | str, key: bytes | None, *, require_mac: bool = True
) -> MeterFrame:
    """Decode and authenticate one fPort-10 reading."""
    frame = as_bytes(payload)
    if len(frame) < 1:
        raise ShortPayloadError("reading frame is empty; fPort 10 needs 16 bytes + 4 MAC")
    _check_header(frame[0], "reading")
    body, tag = _split_mac(frame[0], frame, READING_LEN, "reading")
    verified = verify_mac(key, dev_eui, READING_PORT, body, tag, require_mac)
    hdr, boot, seq, energy, irms, s_avg, s_max, interval, status = _READING.unpack(body)
    return MeterFrame(
        boot=boot,
        seq=seq,
        energy_vah=energy,
        irms_ca=irms,
        s_avg_va=s_avg,
        s_max_va=s_max,
        interval_min=interval,
        status=status,
        relay_on=bool(hdr & HDR_RELAY_ON),
        clipped=bool(hdr & HDR_CLIPPED),
        version=hdr >> 4,
        mac_verified=verified,
    )


def encode_ack(frame: AckFrame, *, dev_eui: str | bytes, key: bytes | None) -> bytes:
    """The fPort-12 bytes of a command ack."""
    check_range("cmd_id", frame.cmd_id, 0, 0xFFFF)
    check_range("result", frame.result, 0, 0xFF)
    hdr = (frame.version << 4) | (HDR_RELAY_ON if frame.relay_on else 0)
    hdr |= HDR_MAC_PRESENT if key is not None else 0
    body = _ACK.pack(hdr, frame.cmd_id, frame.result)
    return body if key is None else body + mac_tag(key, dev_eui, ACK_PORT, body)


def decode_ack(
    dev_eui: str | bytes, payload: bytes | str, key: bytes | None, *, require_mac: bool = True
) -> AckFrame:
    """Decode and authenticate one fPort-12 command ack."""
    frame = as_bytes(payload)
    if len(frame) < 1:
        raise ShortPayloadError("ack frame is empty; fPort 12 needs 4 bytes + 4 MAC")
    _check_header(frame[0], "ack")
    body, tag = _split_mac(frame[0], frame, ACK_LEN, "ack")
    verified = verify_mac(key, dev_eui, ACK_PORT, body, tag, require_mac)
    hdr, cmd_id, result = _ACK.unpack(body)
    return AckFrame(
        cmd_id=cmd_id,
        result=result,
        relay_on=bool(hdr & HDR_RELAY_ON),
        version=hdr >> 4,
        mac_verified=verified,
    )


def decode_uplink(
    dev_eui: str | bytes,
    f_port: int,
    payload: bytes | str,
    key: bytes | None,
    *,
    require_mac: bool = True,
) -> MeterFrame | AckFrame:
    """Decode one uplink (bytes, or base64 text as network servers send it) by fPort.

    Raises a ``PayloadError`` subclass naming what was wrong: ``BadBase64Error``,
    ``ShortPayloadError``, ``UnknownPortError``, ``UnsupportedVersionError``,
    ``BadMacError`` or ``MissingMacError``.
    """
    if f_port == READING_PORT:
        return decode_reading(dev_eui, payload, key, require_mac=require_mac)
    if f_port == ACK_PORT:
        return decode_ack(dev_eui, payload, key, require_mac=require_mac)
    raise UnknownPortError(
        f"uplink on fPort {f_port} from {normalize_eui(dev_eui)}; this bridge decodes "
        f"fPort {READING_PORT} (reading) and {ACK_PORT} (command ack)"
    )
