"""Every message the agents exchange: one envelope, one discriminated union, one codec.

Why pydantic models in one union: a receiver decodes any frame with one call and
gets a typed object or a specific :class:`MessageError`, never a crash or a raw
dict. Units live in field names (``energy_wh``, ``import_wh``,
``price_ueur_per_kwh``, ``payment_ueur``): energy, prices and money are integers
(Wh, µ€/kWh, µ€) as on the ledger and in the market, and a float or a bool sent
where an integer belongs is refused, so nothing on an account is a float.

The hot path of the model uses the *batch* types (:class:`MeterReadingBatch`,
:class:`OrderBatch`, :class:`OrderBookRecord`, :class:`SettlementBatch`, and
:class:`ClearingResult`, which carries its trades as columns): one message per aggregator region per
interval instead of one per household, with columns of plain numbers that
pydantic-core validates in Rust.

Usage::

    from gridcoop.agents.bus.messages import MeterReadingBatch, decode, encode

    batch = MeterReadingBatch(
        sender="region-1", sim_time_s=900, region_id="region-1",
        interval_start_s=0, interval_s=900,
        meter_ids=["m1", "m2"], import_wh=[120, 0], export_wh=[0, 45], counters=[1, 1],
    )
    data = encode(batch)            # JSON bytes; never pickle
    again = decode(data)            # -> MeterReadingBatch, or raises a MessageError
    assert again == batch

Wire format: UTF-8 JSON of the model (``bytes`` fields as base64), or msgpack
when ``codec="msgpack"`` is asked for and the ``msgpack`` package is installed.
A frame larger than ``max_bytes`` (default :data:`MAX_MESSAGE_BYTES`, 4 MiB) is
refused before parsing.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import Field, TypeAdapter, ValidationError

from gridcoop.agents.bus.batches import (
    ClearingResult,
    MeterReadingBatch,
    MeterReadingRow,
    OrderBatch,
    OrderBookRecord,
    OrderColumns,
    OrderRow,
    SettlementBatch,
    SettlementRow,
    TradeRow,
)
from gridcoop.agents.bus.errors import (
    MalformedMessageError,
    MessageError,
    OversizedMessageError,
    SchemaVersionError,
    UnknownMessageTypeError,
)
from gridcoop.agents.bus.schema import (
    INT64_MAX,
    SCHEMA_VERSION,
    Ack,
    Bid,
    CapacityOffer,
    DRCommand,
    DREvent,
    DRResponse,
    Envelope,
    ErrorMessage,
    FlexibilityReport,
    GateClosed,
    GateOpen,
    LedgerBlock,
    MeterReading,
    Offer,
    Penalty,
    ReserveCall,
    Reward,
    Settlement,
)

__all__ = [
    "INT64_MAX",
    "MAX_MESSAGE_BYTES",
    "MESSAGE_TYPES",
    "SCHEMA_VERSION",
    "Ack",
    "Bid",
    "CapacityOffer",
    "ClearingResult",
    "Codec",
    "DRCommand",
    "DREvent",
    "DRResponse",
    "Envelope",
    "ErrorMessage",
    "FlexibilityReport",
    "GateClosed",
    "GateOpen",
    "LedgerBlock",
    "MalformedMessageError",
    "Message",
    "MessageError",
    "MeterReading",
    "MeterReadingBatch",
    "MeterReadingRow",
    "Offer",
    "OrderBatch",
    "OrderBookRecord",
    "OrderColumns",
    "OrderRow",
    "OversizedMessageError",
    "Penalty",
    "ReserveCall",
    "Reward",
    "SchemaVersionError",
    "Settlement",
    "SettlementBatch",
    "SettlementRow",
    "TradeRow",
    "UnknownMessageTypeError",
    "decode",
    "encode",
]

MAX_MESSAGE_BYTES = 1024 * 1024 * 1024
"""Largest message :func:`decode` and a bus accept by default (1 GiB): frames stay
small (a bus sends larger payloads in parts of ``part_bytes``), so this bounds only
what a receiver reassembles; set ``Bus(max_message_bytes=...)`` to change it."""

Codec: TypeAlias = Literal["json", "msgpack"]

Message: TypeAlias = Annotated[
    MeterReading
    | MeterReadingBatch
    | GateOpen
    | Offer
    | Bid
    | OrderBatch
    | OrderBookRecord
    | GateClosed
    | ClearingResult
    | Settlement
    | SettlementBatch
    | DREvent
    | DRCommand
    | DRResponse
    | FlexibilityReport
    | CapacityOffer
    | ReserveCall
    | Reward
    | Penalty
    | LedgerBlock
    | Ack
    | ErrorMessage,
    Field(discriminator="type"),
]
"""Any message: the union, discriminated on ``type``."""

MESSAGE_TYPES: frozenset[str] = frozenset(
    cls.model_fields["type"].default
    for cls in (
        MeterReading,
        MeterReadingBatch,
        GateOpen,
        Offer,
        Bid,
        OrderBatch,
        OrderBookRecord,
        GateClosed,
        ClearingResult,
        Settlement,
        SettlementBatch,
        DREvent,
        DRCommand,
        DRResponse,
        FlexibilityReport,
        CapacityOffer,
        ReserveCall,
        Reward,
        Penalty,
        LedgerBlock,
        Ack,
        ErrorMessage,
    )
)
"""The ``type`` strings of every message."""

_ADAPTER: TypeAdapter[Message] = TypeAdapter(Message)  # type: ignore[arg-type, unused-ignore]


def encode(message: Envelope, codec: Codec = "json") -> bytes:
    """Serialise one message to wire bytes (JSON by default, never pickle)."""
    if codec == "json":
        return message.__pydantic_serializer__.to_json(message)
    if codec == "msgpack":
        packb, _ = _msgpack()
        data: bytes = packb(message.model_dump(mode="python"), use_bin_type=True)
        return data
    raise ValueError(f"unknown codec {codec!r}; use 'json' or 'msgpack'")


def decode(data: bytes, codec: Codec = "json", max_bytes: int = MAX_MESSAGE_BYTES) -> Message:
    """Parse and validate wire bytes into a typed message.

    Raises :class:`OversizedMessageError` (before parsing), :class:`UnknownMessageTypeError`,
    :class:`SchemaVersionError` or :class:`MalformedMessageError`; all are
    :class:`MessageError`, so a receiver catches one class and keeps running.
    """
    if len(data) > max_bytes:
        raise OversizedMessageError(
            f"message of {len(data)} bytes exceeds the limit of {max_bytes} bytes; "
            "split it (e.g. one batch per region) or raise max_message_bytes"
        )
    if codec == "json":
        try:
            message = _ADAPTER.validate_json(data)
        except ValidationError as exc:
            raise _explain(exc, lambda: json.loads(data)) from None
    elif codec == "msgpack":
        _, unpackb = _msgpack()
        try:
            raw = unpackb(data, raw=False)
        except Exception as exc:
            raise MalformedMessageError(f"frame is not valid msgpack: {exc}") from None
        try:
            message = _ADAPTER.validate_python(raw)
        except ValidationError as exc:
            raise _explain(exc, lambda: raw) from None
    else:
        raise ValueError(f"unknown codec {codec!r}; use 'json' or 'msgpack'")
    if message.schema_version != SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{message.type} message {message.id!r} from {message.sender!r} has schema version "
            f"{message.schema_version}; this build speaks version {SCHEMA_VERSION}: "
            "run the same gridcoop version on both ends"
        )
    return message


def _explain(exc: ValidationError, load: Any) -> MessageError:
    """Turn a pydantic error into the most specific MessageError, naming the field."""
    first = exc.errors(include_url=False)[0]
    kind = first["type"]
    try:
        raw = load()
    except Exception:
        return MalformedMessageError(f"frame is not valid JSON: {first['msg']}")
    if not isinstance(raw, dict):
        return MalformedMessageError(
            f"a message must be a JSON object with a 'type' field, got {type(raw).__name__}"
        )
    version = raw.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        return SchemaVersionError(
            f"message has schema version {version!r}; this build speaks version "
            f"{SCHEMA_VERSION}: run the same gridcoop version on both ends"
        )
    if kind == "union_tag_invalid":
        known = ", ".join(sorted(MESSAGE_TYPES))
        return UnknownMessageTypeError(
            f"unknown message type {raw.get('type')!r}; known types: {known}"
        )
    if kind == "union_tag_not_found":
        return MalformedMessageError("message has no 'type' field; every message needs one")
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc'][1:]) or '(message)'}: {err['msg']}"
        for err in exc.errors(include_url=False)[:5]
    )
    more = exc.error_count() - 5
    suffix = f" (and {more} more)" if more > 0 else ""
    return MalformedMessageError(
        f"invalid {raw.get('type')!r} message {raw.get('id', '')!r}: {problems}{suffix}"
    )


def _msgpack() -> tuple[Any, Any]:
    try:
        import msgpack  # type: ignore[import-untyped,unused-ignore]
    except ImportError:  # pragma: no cover - depends on the environment
        raise ValueError(
            "codec 'msgpack' needs the msgpack package: pip install msgpack, or use codec='json'"
        ) from None
    return msgpack.packb, msgpack.unpackb
