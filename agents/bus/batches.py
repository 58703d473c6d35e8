"""The batch messages of the hot path, as columns (imported via :mod:`.messages`).

Why columns: a list of 100 ints validates in pydantic-core far faster than 100
nested models, which keeps a 1,000-household month within the model's time
budget. Each batch offers ``rows()`` and ``from_rows()`` so callers still think
in rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Literal, NamedTuple, Self

from pydantic import BaseModel, Field, model_validator

from gridcoop.agents.bus.schema import Envelope, Id, NonNegInt, PosInt, Side


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
    interval_s: PosInt
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


class OrderRow(NamedTuple):
    order_id: str
    participant_id: str
    side: Side
    energy_wh: int
    price_ueur_per_kwh: int


class OrderColumns(Envelope):
    """Bids and offers of one auction, as columns, in arrival order (the two order messages)."""

    auction_id: Id
    region_id: Id
    order_ids: list[Id]
    participant_ids: list[Id]
    sides: list[Side]
    energy_wh: list[PosInt]
    price_ueur_per_kwh: list[NonNegInt]

    @model_validator(mode="after")
    def _columns(self) -> Self:
        names = ("order_ids", "participant_ids", "sides", "energy_wh", "price_ueur_per_kwh")
        _same_lengths(self, names, "order_ids")
        return self

    def rows(self) -> Iterator[OrderRow]:
        for row in zip(
            self.order_ids,
            self.participant_ids,
            self.sides,
            self.energy_wh,
            self.price_ueur_per_kwh,
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
            energy_wh=[r.energy_wh for r in listed],
            price_ueur_per_kwh=[r.price_ueur_per_kwh for r in listed],
            **envelope,
        )


class OrderBatch(OrderColumns):
    """A region's bids and offers for one auction, to be cleared by the receiver."""

    type: Literal["order_batch"] = "order_batch"


class OrderBookRecord(OrderColumns):
    """A region's whole book of one auction, sent after clearing it locally.

    Not to be cleared again: the central market keeps it only to record on the
    ledger the offers and bids behind each trade.
    """

    type: Literal["order_book_record"] = "order_book_record"


class TradeRow(NamedTuple):
    trade_id: str
    bid_order_id: str
    offer_order_id: str
    buyer_id: str
    seller_id: str
    energy_wh: int
    price_ueur_per_kwh: int


class ClearingResult(Envelope):
    """The trades of one auction, as columns; ``clearing_price_ueur_per_kwh`` is None without
    trades or under pay-as-bid."""

    type: Literal["clearing_result"] = "clearing_result"
    auction_id: Id
    mechanism: Id
    clearing_price_ueur_per_kwh: NonNegInt | None = None
    trade_ids: list[Id] = Field(default_factory=list)
    bid_order_ids: list[Id] = Field(default_factory=list)
    offer_order_ids: list[Id] = Field(default_factory=list)
    buyer_ids: list[Id] = Field(default_factory=list)
    seller_ids: list[Id] = Field(default_factory=list)
    energy_wh: list[PosInt] = Field(default_factory=list)
    price_ueur_per_kwh: list[NonNegInt] = Field(default_factory=list)

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
            self.energy_wh,
            self.price_ueur_per_kwh,
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


class SettlementRow(NamedTuple):
    trade_id: str
    buyer_id: str
    seller_id: str
    contracted_wh: int
    delivered_wh: int
    payment_ueur: int
    refund_ueur: int


class SettlementBatch(Envelope):
    """The settlements of one delivery interval, as columns."""

    type: Literal["settlement_batch"] = "settlement_batch"
    delivery_start_s: NonNegInt
    trade_ids: list[Id]
    buyer_ids: list[Id]
    seller_ids: list[Id]
    contracted_wh: list[NonNegInt]
    delivered_wh: list[NonNegInt]
    payment_ueur: list[NonNegInt]
    refund_ueur: list[NonNegInt]

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
            self.payment_ueur,
            self.refund_ueur,
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
