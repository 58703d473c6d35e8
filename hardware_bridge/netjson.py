"""Tolerant but bounded reading of network-server JSON: missing fields default, times parse.

Why tolerant: ChirpStack v4.0 left out zero/false/empty fields and TTN always
does (so ``fCnt``/``f_cnt`` 0 is simply absent), ``object``/``decoded_payload``
exist only with a codec, and newer versions add fields. Only what the bridge
needs is read; unknown keys are ignored.

Why bounded: anyone who can publish on the broker can send anything. A message
is refused (``MalformedMessageError``) before decoding when it is larger than
``MAX_MESSAGE_BYTES`` or nests deeper than ``MAX_DEPTH``, and while decoding
when a number is not finite; the field readers refuse integers wider than 64
bits. So no input reaches Python's recursion limit or a float overflow.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from gridcoop.hardware_bridge.errors import MalformedMessageError
from gridcoop.jsondepth import nests_deeper

_FRACTION = re.compile(r"(\.\d{6})\d+")
MAX_MESSAGE_BYTES = 64 * 1024  # a ChirpStack or TTN uplink is 1-3 KiB
MAX_DEPTH = 32  # real events nest 6 levels; decoded payloads add a few
MAX_NUMBER_DIGITS = 24  # a 64-bit integer has 20 digits
INT64_LIMIT = 1 << 63
def _int_literal(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise ValueError(f"integer of {len(text)} digits")
    return int(text)


def _float_literal(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:30]} is not finite")
    return value


def _no_constant(text: str) -> float:
    raise ValueError(f"{text} is not a JSON number")


# integers stay exact (4,300 digits at most, Python's own limit) and the field readers
# bound them to 64 bits, so the common case keeps the C parser's speed; one decoder
# for every message (``json.loads`` with hooks would build a new one each time)
_DECODER = json.JSONDecoder(parse_float=_float_literal, parse_constant=_no_constant)


def load_json(payload: bytes | str, what: str, max_bytes: int = MAX_MESSAGE_BYTES) -> Any:
    """Any JSON value within the size, depth and number bounds, else ``MalformedMessageError``."""
    raw = payload.encode("utf-8", "surrogatepass") if isinstance(payload, str) else payload
    if len(raw) > max_bytes:
        raise MalformedMessageError(f"{what}: {len(raw)} bytes, more than {max_bytes}")
    if nests_deeper(raw, MAX_DEPTH):
        raise MalformedMessageError(f"{what}: nested deeper than {MAX_DEPTH} levels")
    try:
        return _DECODER.decode(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError too
        raise MalformedMessageError(f"{what}: not JSON ({exc})") from exc


def load_object(payload: bytes, what: str) -> dict[str, Any]:
    """A JSON object, or ``MalformedMessageError`` saying what arrived instead."""
    data = load_json(payload, what)
    if not isinstance(data, dict):
        raise MalformedMessageError(f"{what}: expected a JSON object, got {type(data).__name__}")
    return data


def section(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """A nested object, or an empty one when absent or null."""
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def integer(data: Mapping[str, Any], key: str, default: int = 0) -> int:
    """An integer field; absent means the protobuf default (0)."""
    value = data.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MalformedMessageError(f"field {key!r} is a {type(value).__name__}, not an integer")
    try:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError("fractional")
        # TTN sends some 64-bit numbers as strings
        result = _int_literal(value.strip()) if isinstance(value, str) else int(value)
        if not -INT64_LIMIT <= result < 2 * INT64_LIMIT:
            raise ValueError("wider than 64 bits")
        return result
    except (ValueError, OverflowError) as exc:
        shown = value[:30] if isinstance(value, str) else value
        raise MalformedMessageError(f"field {key!r} is {shown!r}, not an integer") from exc


def number(data: Mapping[str, Any], key: str) -> float | None:
    """A finite float, or None when absent or not a usable number (radio metadata only)."""
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    if isinstance(value, str) and len(value) > MAX_NUMBER_DIGITS:
        return None
    try:
        result = float(value)
    except (ValueError, OverflowError):
        return None
    return result if math.isfinite(result) else None


def parse_time(text: object) -> float | None:
    """Seconds since the epoch from an RFC 3339 string (any fraction length); None if absent.

    A time without an offset is taken as UTC (both servers send UTC).
    """
    if not isinstance(text, str) or not text:
        return None
    try:  # the common case: Python reads RFC 3339 with up to 6 fraction digits directly
        moment = datetime.fromisoformat(text)
    except ValueError:
        cleaned = _FRACTION.sub(r"\1", text.strip()).replace("Z", "+00:00").replace("z", "+00:00")
        try:
            moment = datetime.fromisoformat(cleaned)
        except ValueError as exc:
            raise MalformedMessageError(f"time {text!r} is not RFC 3339") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.timestamp()
    except (OverflowError, ValueError, OSError) as exc:  # year 1 minus an offset
        raise MalformedMessageError(f"time {text[:40]!r} is out of range") from exc


def format_time(seconds: float) -> str:
    """RFC 3339 in UTC with a ``Z`` suffix (what both servers accept)."""
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat().replace("+00:00", "Z")


def best_radio(rx: object) -> tuple[float | None, float | None, tuple[str, ...]]:
    """(rssi, snr) of the strongest gateway and the gateway ids, from rxInfo/rx_metadata."""
    if not isinstance(rx, list):
        return None, None, ()
    best_rssi: float | None = None
    best_snr: float | None = None
    gateways: list[str] = []
    for item in rx:
        if not isinstance(item, Mapping):
            continue
        ids = section(item, "gateway_ids")
        gateway = item.get("gatewayId") or ids.get("gateway_id") or ids.get("eui")
        if gateway:
            gateways.append(str(gateway))
        rssi = number(item, "rssi")
        if rssi is not None and (best_rssi is None or rssi > best_rssi):
            best_rssi, best_snr = rssi, number(item, "snr")
    return best_rssi, best_snr, tuple(gateways)
