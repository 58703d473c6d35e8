"""Tolerant reading of network-server JSON: missing fields default, times parse.

Why tolerant: ChirpStack v4.0 left out zero/false/empty fields and TTN always
does (so ``fCnt``/``f_cnt`` 0 is simply absent), ``object``/``decoded_payload``
exist only with a codec, and newer versions add fields. Only what the bridge
needs is read; unknown keys are ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from gridcoop.hardware_bridge.errors import MalformedMessageError

_FRACTION = re.compile(r"(\.\d{6})\d+")


def load_object(payload: bytes, what: str) -> dict[str, Any]:
    """A JSON object, or ``MalformedMessageError`` saying what arrived instead."""
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedMessageError(f"{what}: not JSON ({exc})") from exc
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
    try:
        return int(value)  # TTN sends some 64-bit numbers as strings
    except (TypeError, ValueError) as exc:
        raise MalformedMessageError(f"field {key!r} is {value!r}, not an integer") from exc


def number(data: Mapping[str, Any], key: str) -> float | None:
    value = data.get(key)
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


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
    return moment.timestamp()


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
