"""The message models themselves (import them from :mod:`agents.messages`).

Why columns in the batch types: a list of 100 ints validates in pydantic-core
far faster than 100 nested models, which keeps a 1,000-household month within
the model's time budget. Each batch offers ``rows()`` and ``from_rows()`` so
callers still think in rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Annotated, Any, Literal, NamedTuple, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

SCHEMA_VERSION = 1
"""Bumped whenever a field changes meaning, is added without a default, or is removed."""

Id = Annotated[str, StringConstraints(min_length=1, max_length=128)]
NonNegInt = Annotated[int, Field(ge=0)]
NonNegFloat = Annotated[float, Field(ge=0.0)]
PosFloat = Annotated[float, Field(gt=0.0)]
Side = Literal["bid", "offer"]
Template = Literal["T1", "T2", "T3", "T4"]


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

    type: str = ""
    id: Annotated[str, StringConstraints(max_length=128)] = ""
    sender: Annotated[str, StringConstraints(max_length=128)] = ""
    sim_time_s: NonNegInt = 0
    schema_version: int = SCHEMA_VERSION
    reply_to: Id | None = None


def _same_lengths(model: BaseModel, names: tuple[str, ...], unique: str | None = None) -> None:
    """Columns of a batch describe the same rows: equal lengths, and (``unique``) no repeats."""
    values = model.__dict__
    size = len(values[names[0]])
    for name in names[1:]:
        if len(values[name]) != size:
            lengths = {n: len(values[n]) for n in names}
            raise ValueError(f"columns must have equal lengths, got {lengths}")
    if unique is not None and len(set(values[unique])) != size:
        raise ValueError(f"{unique} must not repeat an entry")


# --- metering -------------------------------------------------------------------------


class MeterReading(Envelope):
    """One meter's energy for one interval (integer Wh, not cumulative)."""

    type: Literal["meter_reading"] = "meter_reading"
    meter_id: Id
    interval_start_s: NonNegInt
    interval_s: Annotated[int, Field(gt=0)]
    import_wh: NonNegInt
    export_wh: NonNegInt
    counter: NonNegInt = 0
    estimated: bool = False


class MeterReadingRow(NamedTuple):
    meter_id: str
    import_wh: int
    export_wh: int
    counter: int
    estimated: bool


class MeterReadingBatch(Envelope):
    """All readings of one region for one interval, as columns (the hot path).

    ``estimated`` is empty when every value was measured, else one flag per meter.
    """

    type: Literal["meter_reading_batch"] = "meter_reading_batch"
    region_id: Id
    interval_start_s: NonNegInt
    interval_s: Annotated[int, Field(gt=0)]
    meter_ids: list[Id]
    import_wh: list[NonNegInt]
    export_wh: list[NonNegInt]
    counters: list[NonNegInt]
    estimated: list[bool] = Field(default_factory=list)

    @model_validator(mode="after")
    def _columns(self) -> Self:
        _same_lengths(self, ("meter_ids", "import_wh", "export_wh", "counters"), "meter_ids")
        if self.estimated and len(self.estimated) != len(self.meter_ids):
            raise ValueError("estimated must be empty or have one flag per meter")
        return self

    def rows(self) -> Iterator[MeterReadingRow]:
        flags = self.estimated or [False] * len(self.meter_ids)
        for row in zip(
            self.meter_ids, self.import_wh, self.export_wh, self.counters, flags, strict=True
        ):
            yield MeterReadingRow(*row)

    @classmethod
    def from_rows(cls, rows: Iterable[MeterReadingRow], **envelope: Any) -> Self:
        """Build a batch from rows; ``envelope`` gives the other fields."""
        listed = list(rows)
        estimated = [r.estimated for r in listed]
        return cls(
            meter_ids=[r.meter_id for r in listed],
            import_wh=[r.import_wh for r in listed],
            export_wh=[r.export_wh for r in listed],
            counters=[r.counter for r in listed],
            estimated=estimated if any(estimated) else [],
            **envelope,
        )


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
    energy_kwh: PosFloat
    price_eur_per_kwh: NonNegFloat


class Bid(Envelope):
    """A consumer's bid: energy to buy at no more than the bid price."""

    type: Literal["bid"] = "bid"
    auction_id: Id
    order_id: Id
    participant_id: Id
    energy_kwh: PosFloat
    price_eur_per_kwh: NonNegFloat


class OrderRow(NamedTuple):
    order_id: str
    participant_id: str
    side: Side
    energy_kwh: float
    price_eur_per_kwh: float


class OrderBatch(Envelope):
    """A region's bids and offers for one auction, as columns, in arrival order."""

    type: Literal["order_batch"] = "order_batch"
    auction_id: Id
    region_id: Id
    order_ids: list[Id]
    participant_ids: list[Id]
    sides: list[Side]
    energy_kwh: list[PosFloat]
    price_eur_per_kwh: list[NonNegFloat]

    @model_validator(mode="after")
    def _columns(self) -> Self:
        names = ("order_ids", "participant_ids", "sides", "energy_kwh", "price_eur_per_kwh")
        _same_lengths(self, names, "order_ids")
        return self

    def rows(self) -> Iterator[OrderRow]:
        for row in zip(
            self.order_ids,
            self.participant_ids,
            self.sides,
            self.energy_kwh,
            self.price_eur_per_kwh,
            strict=True,
        ):
            yield OrderRow(*row)

    @classmethod
    def from_rows(cls, rows: Iterable[OrderRow], **envelope: Any) -> Self:
        listed = list(rows)
        return cls(
            order_ids=[r.order_id for r in listed],
            participant_ids=[r.participant_id for r in listed],
            sides=[r.side for r in listed],
            energy_kwh=[r.energy_kwh for r in listed],
            price_eur_per_kwh=[r.price_eur_per_kwh for r in listed],
            **envelope,
        )


class GateClosed(Envelope):
    """Bidding for the auction is closed (BIDS_CLOSED); ``order_count`` orders were accepted."""

    type: Literal["gate_closed"] = "gate_closed"
    auction_id: Id
    order_count: NonNegInt


class TradeRow(NamedTuple):
    trade_id: str
    bid_order_id: str
    offer_order_id: str
    buyer_id: str
    seller_id: str
    energy_kwh: float
    price_eur_per_kwh: float


class ClearingResult(Envelope):
    """The trades of one auction, as columns; ``clearing_price_eur_per_kwh`` is None without trades
    or under pay-as-bid."""

    type: Literal["clearing_result"] = "clearing_result"
    auction_id: Id
    mechanism: Id
    clearing_price_eur_per_kwh: NonNegFloat | None = None
    trade_ids: list[Id] = Field(default_factory=list)
    bid_order_ids: list[Id] = Field(default_factory=list)
    offer_order_ids: list[Id] = Field(default_factory=list)
    buyer_ids: list[Id] = Field(default_factory=list)
    seller_ids: list[Id] = Field(default_factory=list)
    energy_kwh: list[PosFloat] = Field(default_factory=list)
    price_eur_per_kwh: list[NonNegFloat] = Field(default_factory=list)

    @model_validator(mode="after")
    def _columns(self) -> Self:
        names = tuple(TradeRow._fields)
        _same_lengths(self, tuple(n + "s" if n.endswith("_id") else n for n in names), "trade_ids")
        return self

    def rows(self) -> Iterator[TradeRow]:
        for row in zip(
            self.trade_ids,
            self.bid_order_ids,
            self.offer_order_ids,
            self.buyer_ids,
            self.seller_ids,
            self.energy_kwh,
            self.price_eur_per_kwh,
            strict=True,
        ):
            yield TradeRow(*row)

    @classmethod
    def from_rows(cls, rows: Iterable[TradeRow], **envelope: Any) -> Self:
        listed = list(rows)
        columns = {
            (name + "s" if name.endswith("_id") else name): [getattr(r, name) for r in listed]
            for name in TradeRow._fields
        }
        return cls(**columns, **envelope)


# --- settlement -----------------------------------------------------------------------


class Settlement(Envelope):
    """One trade settled against the meters: escrow paid to the seller, the rest refunded."""

    type: Literal["settlement"] = "settlement"
    trade_id: Id
    buyer_id: Id
    seller_id: Id
    contracted_wh: NonNegInt
    delivered_wh: NonNegInt
    payment_micro_eur: NonNegInt
    refund_micro_eur: NonNegInt


class SettlementRow(NamedTuple):
    trade_id: str
    buyer_id: str
    seller_id: str
    contracted_wh: int
    delivered_wh: int
    payment_micro_eur: int
    refund_micro_eur: int


class SettlementBatch(Envelope):
    """The settlements of one delivery interval, as columns."""

    type: Literal["settlement_batch"] = "settlement_batch"
    delivery_start_s: NonNegInt
    trade_ids: list[Id]
    buyer_ids: list[Id]
    seller_ids: list[Id]
    contracted_wh: list[NonNegInt]
    delivered_wh: list[NonNegInt]
    payment_micro_eur: list[NonNegInt]
    refund_micro_eur: list[NonNegInt]

    @model_validator(mode="after")
    def _columns(self) -> Self:
        names = tuple(n + "s" if n.endswith("_id") else n for n in SettlementRow._fields)
        _same_lengths(self, names, "trade_ids")
        return self

    def rows(self) -> Iterator[SettlementRow]:
        for row in zip(
            self.trade_ids,
            self.buyer_ids,
            self.seller_ids,
            self.contracted_wh,
            self.delivered_wh,
            self.payment_micro_eur,
            self.refund_micro_eur,
            strict=True,
        ):
            yield SettlementRow(*row)

    @classmethod
    def from_rows(cls, rows: Iterable[SettlementRow], **envelope: Any) -> Self:
        listed = list(rows)
        columns = {
            (name + "s" if name.endswith("_id") else name): [getattr(r, name) for r in listed]
            for name in SettlementRow._fields
        }
        return cls(**columns, **envelope)


# --- demand response and ancillary services -------------------------------------------


class DREvent(Envelope):
    """An OpenADR-style event: SIMPLE signal level 0-3 (normal, moderate, high, emergency shed)."""

    type: Literal["dr_event"] = "dr_event"
    event_id: Id
    signal_level: Annotated[int, Field(ge=0, le=3)]
    start_s: NonNegInt
    duration_s: Annotated[int, Field(gt=0)]
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
    duration_s: Annotated[int, Field(gt=0)]
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
    step_s: Annotated[int, Field(gt=0)]
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
    duration_s: Annotated[int, Field(gt=0)]
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
    duration_s: Annotated[int, Field(gt=0)]
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
    "no_handler",
    "rejected",
    "internal",
]


class ErrorMessage(Envelope):
    """An error reply: what was wrong with the message ``reply_to`` (None when it had no id)."""

    type: Literal["error"] = "error"
    code: ErrorCode
    detail: Annotated[str, StringConstraints(max_length=2000)]


MESSAGE_TYPES: frozenset[str] = frozenset(
    cls.model_fields["type"].default
    for cls in (
        MeterReading,
        MeterReadingBatch,
        GateOpen,
        Offer,
        Bid,
        OrderBatch,
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
