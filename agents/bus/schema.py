"""The envelope and the one-item message models (imported via :mod:`.messages`).

The column-oriented batch types live in :mod:`gridcoop.agents.bus.batches`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, Final, Literal, Self, cast

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

SCHEMA_VERSION = 2
"""Bumped whenever a field changes meaning, is added without a default, or is removed."""

INT64_MAX: Final = 2**63 - 1
"""The largest integer a message may carry: receivers keep Wh and µ€ columns as int64."""

Id = Annotated[str, StringConstraints(min_length=1, max_length=128)]
NonNegInt = Annotated[int, Field(strict=True, ge=0, le=INT64_MAX)]
"""A count, Wh, µ€ or µ€/kWh: strict, so a float or a bool is refused, never truncated."""
PosInt = Annotated[int, Field(strict=True, gt=0, le=INT64_MAX)]
NonNegFloat = Annotated[float, Field(ge=0.0)]
PosFloat = Annotated[float, Field(gt=0.0)]
Side = Literal["bid", "offer"]
Template = Literal["T1", "T2", "T3", "T4"]


_IMMUTABLE = (str, int, float, bytes, tuple, frozenset, type(None))
_Factories = tuple[tuple[str, Callable[[], Any]], ...]


@functools.cache
def _defaults(cls: type[BaseModel]) -> tuple[dict[str, Any], _Factories]:
    """Every field of ``cls`` in order, with its immutable default (or a placeholder), and
    the fields whose default comes from a factory taking no argument. pydantic's
    ``model_construct`` works these out on every call, inspecting each factory's signature
    and alias; a message model has neither aliases, private attributes nor post-init."""
    assert not cls.__pydantic_post_init__ and not cls.__private_attributes__, cls
    assert all(info.alias is None and info.validation_alias is None
               and (info.is_required() or info.default_factory is not None
                    or isinstance(info.default, _IMMUTABLE))
               for info in cls.model_fields.values()), cls
    template = {name: None if info.is_required() or info.default_factory else info.default
                for name, info in cls.model_fields.items()}
    factories = tuple((name, cast(Callable[[], Any], info.default_factory))
                      for name, info in cls.model_fields.items()
                      if info.default_factory is not None)
    return template, factories


class Envelope(BaseModel):
    """Fields every message carries.

    ``id`` and ``sender`` may be left empty when building a message: the bus
    endpoint that sends it stamps its own name and a deterministic id
    (``"<sender>:<seq>"``). ``sim_time_s`` is simulated seconds since the
    scenario start, ``reply_to`` the id of the message this one answers.
    """

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        ser_json_bytes="base64",
        val_json_bytes="base64",
    )

    @classmethod
    def built(cls, **fields: Any) -> Self:
        """A message this process builds from values it already holds in the schema's
        types, not validated here: a receiver in another process validates it when it
        decodes it, and one in this process takes the object itself (tests check that it
        equals its decoded bytes, field and type). Anything from outside goes through the
        constructor."""
        template, factories = _defaults(cls)
        values = {**template, **fields}  # the fields' order, whatever order they came in
        for name, factory in factories:
            if name not in fields:
                values[name] = factory()
        message = cls.__new__(cls)  # what model_construct does, less its per-call lookups
        object.__setattr__(message, "__dict__", values)
        object.__setattr__(message, "__pydantic_fields_set__", set(fields))
        object.__setattr__(message, "__pydantic_extra__", None)
        object.__setattr__(message, "__pydantic_private__", None)
        return message

    type: str = ""
    id: Annotated[str, StringConstraints(max_length=128)] = ""
    sender: Annotated[str, StringConstraints(max_length=128)] = ""
    sim_time_s: NonNegInt = 0
    schema_version: NonNegInt = SCHEMA_VERSION
    reply_to: Id | None = None


# --- metering -------------------------------------------------------------------------


class MeterReading(Envelope):
    """One meter's energy for one interval (integer Wh, not cumulative)."""

    type: Literal["meter_reading"] = "meter_reading"
    meter_id: Id
    interval_start_s: NonNegInt
    interval_s: PosInt
    import_wh: NonNegInt
    export_wh: NonNegInt
    counter: NonNegInt = 0
    estimated: bool = False


# --- the auction ----------------------------------------------------------------------


class GateOpen(Envelope):
    """The central market invites orders for one delivery interval (AUTHORIZE_OFFERS)."""

    type: Literal["gate_open"] = "gate_open"
    auction_id: Id
    delivery_start_s: NonNegInt
    delivery_end_s: NonNegInt
    gate_close_s: NonNegInt

    @model_validator(mode="after")
    def _interval(self) -> Self:
        if self.delivery_end_s <= self.delivery_start_s:
            raise ValueError("delivery_end_s must be after delivery_start_s")
        return self


class Offer(Envelope):
    """A producer's offer: energy to sell at no less than the reserve price."""

    type: Literal["offer"] = "offer"
    auction_id: Id
    order_id: Id
    participant_id: Id
    energy_wh: PosInt
    price_ueur_per_kwh: NonNegInt


class Bid(Envelope):
    """A consumer's bid: energy to buy at no more than the bid price."""

    type: Literal["bid"] = "bid"
    auction_id: Id
    order_id: Id
    participant_id: Id
    energy_wh: PosInt
    price_ueur_per_kwh: NonNegInt


class GateClosed(Envelope):
    """Bidding for the auction is closed (BIDS_CLOSED); ``order_count`` orders were accepted."""

    type: Literal["gate_closed"] = "gate_closed"
    auction_id: Id
    order_count: NonNegInt


# --- settlement -----------------------------------------------------------------------


class Settlement(Envelope):
    """One trade settled against the meters: escrow paid to the seller, the rest refunded."""

    type: Literal["settlement"] = "settlement"
    trade_id: Id
    buyer_id: Id
    seller_id: Id
    contracted_wh: NonNegInt
    delivered_wh: NonNegInt
    payment_ueur: NonNegInt
    refund_ueur: NonNegInt


# --- demand response and ancillary services -------------------------------------------


class DREvent(Envelope):
    """An OpenADR-style event: SIMPLE signal level 0-3 (normal, moderate, high, emergency shed)."""

    type: Literal["dr_event"] = "dr_event"
    event_id: Id
    signal_level: Annotated[int, Field(strict=True, ge=0, le=3)]
    start_s: NonNegInt
    duration_s: PosInt
    target_power_kw: float = 0.0


class DRCommand(Envelope):
    """A command to one appliance: on/off, or increase/decrease by ``power_kw``."""

    type: Literal["dr_command"] = "dr_command"
    command_id: Id
    household_id: Id
    appliance: Id
    action: Literal["on", "off", "increase", "decrease"]
    power_kw: NonNegFloat = 0.0
    start_s: NonNegInt
    duration_s: PosInt
    event_id: Id | None = None


class DRResponse(Envelope):
    """A household opts in to or out of a command (or a whole event)."""

    type: Literal["dr_response"] = "dr_response"
    command_id: Id
    household_id: Id
    response: Literal["opt_in", "opt_out"]
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class FlexibilityReport(Envelope):
    """An aggregator's demand and flexible power per template, one value per step."""

    type: Literal["flexibility_report"] = "flexibility_report"
    aggregator_id: Id
    start_s: NonNegInt
    step_s: PosInt
    demand_kw: list[NonNegFloat]
    flexible_kw: dict[Template, list[NonNegFloat]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _columns(self) -> Self:
        for template, values in self.flexible_kw.items():
            if len(values) != len(self.demand_kw):
                raise ValueError(
                    f"flexible_kw[{template}] has {len(values)} values, "
                    f"demand_kw has {len(self.demand_kw)}"
                )
        return self


class CapacityOffer(Envelope):
    """An aggregator offers spinning-reserve capacity for a window, priced per MW-day."""

    type: Literal["capacity_offer"] = "capacity_offer"
    offer_id: Id
    aggregator_id: Id
    start_s: NonNegInt
    duration_s: PosInt
    capacity_kw: PosFloat
    energy_kwh: NonNegFloat
    price_eur_per_mw_day: NonNegFloat


class ReserveCall(Envelope):
    """The market calls reserve it bought: deliver ``power_kw`` for ``duration_s``."""

    type: Literal["reserve_call"] = "reserve_call"
    call_id: Id
    offer_id: Id
    aggregator_id: Id
    start_s: NonNegInt
    duration_s: PosInt
    power_kw: PosFloat


class Reward(Envelope):
    """Tokens granted to a member (gamification, a replacement who covered for someone)."""

    type: Literal["reward"] = "reward"
    reward_id: Id
    member_id: Id
    tokens: NonNegInt
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class Penalty(Envelope):
    """Tokens taken from a member (missed commitment)."""

    type: Literal["penalty"] = "penalty"
    penalty_id: Id
    member_id: Id
    tokens: NonNegInt
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


# --- the ledger and the protocol ------------------------------------------------------


class LedgerBlock(Envelope):
    """A ledger block as its exact serialised bytes (base64 in JSON), for replicas to verify."""

    type: Literal["ledger_block"] = "ledger_block"
    height: NonNegInt
    block_hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    block_bytes: bytes


class Ack(Envelope):
    """The receiving endpoint has validated and queued these messages (one ack may cover many)."""

    type: Literal["ack"] = "ack"
    acked_ids: list[Id]


ErrorCode = Literal[
    "malformed",
    "unknown_type",
    "oversized",
    "schema_version",
    "sender_mismatch",
    "forbidden",
    "no_handler",
    "rejected",
    "internal",
]


class ErrorMessage(Envelope):
    """An error reply: what was wrong with the message ``reply_to`` (None when it had no id)."""

    type: Literal["error"] = "error"
    code: ErrorCode
    detail: Annotated[str, StringConstraints(max_length=2000)]
