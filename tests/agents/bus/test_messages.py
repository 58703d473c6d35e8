"""Message schemas: every type round-trips exactly; bad frames raise specific errors."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcoop.agents.bus.messages import (
    INT64_MAX,
    MAX_MESSAGE_BYTES,
    MESSAGE_TYPES,
    SCHEMA_VERSION,
    Ack,
    Bid,
    CapacityOffer,
    ClearingResult,
    DRCommand,
    DREvent,
    DRResponse,
    Envelope,
    ErrorMessage,
    FlexibilityReport,
    GateClosed,
    GateOpen,
    LedgerBlock,
    MalformedMessageError,
    MessageError,
    MeterReading,
    MeterReadingBatch,
    MeterReadingRow,
    Offer,
    OrderBatch,
    OrderBookRecord,
    OrderRow,
    OversizedMessageError,
    Penalty,
    ReserveCall,
    Reward,
    SchemaVersionError,
    Settlement,
    SettlementBatch,
    SettlementRow,
    TradeRow,
    UnknownMessageTypeError,
    decode,
    encode,
)

ENV = {"id": "m-1", "sender": "region-1", "sim_time_s": 3600}

SAMPLES: list[Envelope] = [
    MeterReading(
        **ENV,
        meter_id="meter-7",
        interval_start_s=2700,
        interval_s=900,
        import_wh=312,
        export_wh=0,
        counter=41,
        estimated=True,
    ),
    MeterReadingBatch(
        **ENV,
        region_id="region-1",
        interval_start_s=2700,
        interval_s=900,
        meter_ids=["a", "b", "c"],
        import_wh=[1, 0, 250],
        export_wh=[0, 80, 0],
        counters=[3, 3, 4],
        estimated=[False, True, False],
    ),
    GateOpen(
        **ENV, auction_id="h-0001", delivery_start_s=7200, delivery_end_s=10800, gate_close_s=6900
    ),
    Offer(
        **ENV,
        auction_id="h-0001",
        order_id="o-1",
        participant_id="p-3",
        energy_wh=1_250,
        price_ueur_per_kwh=41_000,
    ),
    Bid(
        **ENV,
        auction_id="h-0001",
        order_id="b-1",
        participant_id="p-4",
        energy_wh=500,
        price_ueur_per_kwh=90_000,
    ),
    OrderBatch(
        **ENV,
        auction_id="h-0001",
        region_id="region-1",
        order_ids=["o-1", "b-1"],
        participant_ids=["p-3", "p-4"],
        sides=["offer", "bid"],
        energy_wh=[1_250, 500],
        price_ueur_per_kwh=[41_000, 90_000],
    ),
    OrderBookRecord(
        **ENV,
        auction_id="h-0001",
        region_id="region-1",
        order_ids=["o-1", "b-1"],
        participant_ids=["p-3", "p-4"],
        sides=["offer", "bid"],
        energy_wh=[1_250, 500],
        price_ueur_per_kwh=[41_000, 90_000],
    ),
    GateClosed(**ENV, auction_id="h-0001", order_count=2),
    ClearingResult(
        **ENV,
        auction_id="h-0001",
        mechanism="average_bid",
        clearing_price_ueur_per_kwh=90_000,
        trade_ids=["t-1"],
        bid_order_ids=["b-1"],
        offer_order_ids=["o-1"],
        buyer_ids=["p-4"],
        seller_ids=["p-3"],
        energy_wh=[500],
        price_ueur_per_kwh=[90_000],
    ),
    Settlement(
        **ENV,
        trade_id="t-1",
        buyer_id="p-4",
        seller_id="p-3",
        contracted_wh=500,
        delivered_wh=480,
        payment_ueur=43_200,
        refund_ueur=1_800,
    ),
    SettlementBatch(
        **ENV,
        delivery_start_s=7200,
        trade_ids=["t-1", "t-2"],
        buyer_ids=["p-4", "p-5"],
        seller_ids=["p-3", "p-3"],
        contracted_wh=[500, 100],
        delivered_wh=[480, 100],
        payment_ueur=[43_200, 9_000],
        refund_ueur=[1_800, 0],
    ),
    DREvent(
        **ENV, event_id="e-1", signal_level=3, start_s=7200, duration_s=3600, target_power_kw=12.5
    ),
    DRCommand(
        **ENV,
        command_id="c-1",
        household_id="h-9",
        appliance="pool_pump",
        action="decrease",
        power_kw=1.0,
        start_s=7200,
        duration_s=1800,
        event_id="e-1",
    ),
    DRResponse(**ENV, command_id="c-1", household_id="h-9", response="opt_out", reason="guests"),
    FlexibilityReport(
        **ENV,
        aggregator_id="ra-1",
        start_s=7200,
        step_s=900,
        demand_kw=[10.0, 12.5],
        flexible_kw={"T1": [1.0, 0.0], "T4": [0.5, 0.5]},
    ),
    CapacityOffer(
        **ENV,
        offer_id="co-1",
        aggregator_id="ra-1",
        start_s=28800,
        duration_s=7200,
        capacity_kw=40.0,
        energy_kwh=60.0,
        price_eur_per_mw_day=4.5,
    ),
    ReserveCall(
        **ENV,
        call_id="rc-1",
        offer_id="co-1",
        aggregator_id="ra-1",
        start_s=30000,
        duration_s=3600,
        power_kw=25.0,
    ),
    Reward(**ENV, reward_id="rw-1", member_id="ev-2", tokens=120, reason="plugged in 08-10"),
    Penalty(**ENV, penalty_id="pn-1", member_id="ev-3", tokens=300, reason="not plugged in"),
    LedgerBlock(**ENV, height=12, block_hash="ab" * 32, block_bytes=bytes(range(256))),
    Ack(**ENV, acked_ids=["x:1", "x:2"]),
    ErrorMessage(**ENV, reply_to="x:3", code="unknown_type", detail="unknown message type 'z'"),
]


def test_samples_cover_every_message_type() -> None:
    assert {sample.type for sample in SAMPLES} == MESSAGE_TYPES
    assert len(MESSAGE_TYPES) == 22  # 21 + order_book_record (a locally cleared book)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.type)
@pytest.mark.parametrize("codec", ["json", "msgpack"])
def test_every_type_round_trips_exactly(sample: Envelope, codec: str) -> None:
    data = encode(sample, codec)  # type: ignore[arg-type]
    again = decode(data, codec)  # type: ignore[arg-type]
    assert type(again) is type(sample)
    assert again == sample
    assert encode(again, codec) == data  # type: ignore[arg-type]


def test_json_wire_form_is_plain_json_with_base64_bytes() -> None:
    block = LedgerBlock(height=0, block_hash="00" * 32, block_bytes=b"\x00\xff")
    wire = json.loads(encode(block))
    assert wire["type"] == "ledger_block"
    assert wire["block_bytes"] == "AP8="  # base64 of 0x00 0xff
    assert wire["schema_version"] == SCHEMA_VERSION
    assert wire["reply_to"] is None


def test_batch_rows_round_trip() -> None:
    rows = [MeterReadingRow("a", 5, 0, 1, False), MeterReadingRow("b", 0, 7, 2, False)]
    batch = MeterReadingBatch.from_rows(rows, region_id="r", interval_start_s=0, interval_s=900)
    assert batch.estimated == []  # all measured: the column stays empty on the wire
    assert list(batch.rows()) == rows
    orders = [OrderRow("o", "p", "offer", 1_000, 40_000),
              OrderRow("b", "q", "bid", 2_000, 90_000)]
    assert list(OrderBatch.from_rows(orders, auction_id="a", region_id="r").rows()) == orders
    trades = [TradeRow("t", "b", "o", "q", "p", 1_000, 90_000)]
    result = ClearingResult.from_rows(trades, auction_id="a", mechanism="pay_as_bid")
    assert list(result.rows()) == trades
    settled = [SettlementRow("t", "q", "p", 1000, 900, 81_000, 9_000)]
    assert list(SettlementBatch.from_rows(settled, delivery_start_s=0).rows()) == settled


names = st.text("abcdefghij-0123456789", min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(
    readings=st.lists(
        st.tuples(st.integers(0, 10**9), st.integers(0, 10**9), st.integers(0, 2**40)),
        max_size=120,
    ),
    start=st.integers(0, 10**9),
)
def test_meter_batch_round_trips_for_any_values(
    readings: list[tuple[int, int, int]], start: int
) -> None:
    batch = MeterReadingBatch(
        region_id="r",
        interval_start_s=start,
        interval_s=900,
        meter_ids=[f"m{i}" for i in range(len(readings))],
        import_wh=[r[0] for r in readings],
        export_wh=[r[1] for r in readings],
        counters=[r[2] for r in readings],
    )
    assert decode(encode(batch)) == batch


@settings(max_examples=60, deadline=None)
@given(
    energy=st.lists(st.integers(1, INT64_MAX), min_size=1, max_size=50),
    price=st.integers(0, INT64_MAX),
    participant=names,
)
def test_order_integers_survive_json_exactly(
    energy: list[int], price: int, participant: str
) -> None:
    batch = OrderBatch(
        auction_id="a",
        region_id="r",
        order_ids=[f"o{i}" for i in range(len(energy))],
        participant_ids=[participant] * len(energy),
        sides=["bid"] * len(energy),
        energy_wh=energy,
        price_ueur_per_kwh=[price] * len(energy),
    )
    again = decode(encode(batch))
    assert isinstance(again, OrderBatch)
    assert again.energy_wh == energy and again.price_ueur_per_kwh == [price] * len(energy)


@pytest.mark.parametrize(
    ("data", "error", "words"),
    [
        (b"not json", MalformedMessageError, "not valid JSON"),
        (b"[1, 2]", MalformedMessageError, "JSON object"),
        (b'{"id": "x"}', MalformedMessageError, "no 'type' field"),
        (b'{"type": "teleport"}', UnknownMessageTypeError, "unknown message type 'teleport'"),
        (b'{"type": 5}', UnknownMessageTypeError, "unknown message type 5"),
        (b'{"type": "ack", "acked_ids": "x"}', MalformedMessageError, "acked_ids"),
        (b'{"type": "ack", "acked_ids": [], "colour": 1}', MalformedMessageError, "colour"),
        (
            b'{"type": "gate_closed", "auction_id": "a", "order_count": -1}',
            MalformedMessageError,
            "order_count",
        ),
        (
            b'{"type": "offer", "auction_id": "a", "order_id": "o", "participant_id": "p",'
            b' "energy_wh": NaN, "price_ueur_per_kwh": 100000}',
            MalformedMessageError,
            "energy_wh",
        ),
        (
            b'{"type": "ack", "acked_ids": [], "schema_version": 1}',  # floats in orders
            SchemaVersionError,
            "schema version 1",
        ),
        (
            b'{"type": "ack", "acked_ids": 7, "schema_version": 99}',
            SchemaVersionError,
            "schema version 99",
        ),
        (
            b'{"type": "meter_reading_batch", "region_id": "r", "interval_start_s": 0,'
            b' "interval_s": 900, "meter_ids": ["a", "a"], "import_wh": [1, 2],'
            b' "export_wh": [0, 0], "counters": [1, 1]}',
            MalformedMessageError,
            "must not repeat",
        ),
        (
            b'{"type": "meter_reading_batch", "region_id": "r", "interval_start_s": 0,'
            b' "interval_s": 900, "meter_ids": ["a"], "import_wh": [1, 2],'
            b' "export_wh": [0], "counters": [1]}',
            MalformedMessageError,
            "equal lengths",
        ),
        (
            b'{"type": "ledger_block", "height": 0, "block_hash": "zz", "block_bytes": ""}',
            MalformedMessageError,
            "block_hash",
        ),
        (b"\xff\xfe", MalformedMessageError, "not valid JSON"),
    ],
)
def test_bad_frames_raise_specific_errors(
    data: bytes, error: type[MessageError], words: str
) -> None:
    with pytest.raises(error, match=words) as caught:
        decode(data)
    assert isinstance(caught.value, MessageError)


def test_error_codes_match_the_wire_vocabulary() -> None:
    assert MalformedMessageError.code == "malformed"
    assert UnknownMessageTypeError.code == "unknown_type"
    assert OversizedMessageError.code == "oversized"
    assert SchemaVersionError.code == "schema_version"


def test_oversized_frame_is_refused_before_parsing() -> None:
    with pytest.raises(OversizedMessageError, match=r"11 bytes exceeds the limit of 10 bytes"):
        decode(b"x" * 11, max_bytes=10)  # not JSON either: the size check comes first
    assert MAX_MESSAGE_BYTES == 1024 * 1024 * 1024  # frames stay small: large ones go in parts
    big = LedgerBlock(height=0, block_hash="00" * 32, block_bytes=b"\0" * MAX_MESSAGE_BYTES)
    with pytest.raises(OversizedMessageError):
        decode(encode(big))


def test_msgpack_garbage_is_malformed_and_unknown_codec_is_refused() -> None:
    with pytest.raises(MalformedMessageError, match="msgpack"):
        decode(b"\xc1", "msgpack")
    with pytest.raises(ValueError, match="unknown codec"):
        encode(SAMPLES[0], "xml")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (
            lambda: GateOpen(
                auction_id="a", delivery_start_s=10, delivery_end_s=10, gate_close_s=0
            ),
            "delivery_end_s",
        ),
        (
            lambda: Offer(
                auction_id="a",
                order_id="o",
                participant_id="p",
                energy_wh=0,
                price_ueur_per_kwh=100_000,
            ),
            "energy_wh",
        ),
        (lambda: DREvent(event_id="e", signal_level=4, start_s=0, duration_s=1), "signal_level"),
        (
            lambda: FlexibilityReport(
                aggregator_id="a",
                start_s=0,
                step_s=900,
                demand_kw=[1.0],
                flexible_kw={"T2": [1.0, 2.0]},
            ),
            "flexible_kw",
        ),
        (
            lambda: OrderBatch(
                auction_id="a",
                region_id="r",
                order_ids=["o"],
                participant_ids=["p"],
                sides=["sell"],
                energy_wh=[1_000],
                price_ueur_per_kwh=[100_000],
            ),
            "sides",
        ),
    ],
)
def test_invalid_construction_names_the_field(build: object, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        build()  # type: ignore[operator]


_OFFER = (b'{"type": "offer", "auction_id": "a", "order_id": "o", "participant_id": "p", '
          b'"energy_wh": %s, "price_ueur_per_kwh": %s}')
_SETTLED = (b'{"type": "settlement_batch", "delivery_start_s": 0, "trade_ids": ["t"], '
            b'"buyer_ids": ["b"], "seller_ids": ["s"], "contracted_wh": [1000], '
            b'"delivered_wh": [900], "payment_ueur": [%s], "refund_ueur": [9000]}')


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (_OFFER % (b"1000.0", b"90000"), "energy_wh"),  # a whole float is still not an int
        (_OFFER % (b"1000.5", b"90000"), "energy_wh"),
        (_OFFER % (b"1000", b"true"), "price_ueur_per_kwh"),
        (_OFFER % (b"true", b"90000"), "energy_wh"),
        (_OFFER % (b'"1000"', b"90000"), "energy_wh"),
        (_OFFER % (b"1000", str(INT64_MAX + 1).encode()), "price_ueur_per_kwh"),
        (_OFFER % (str(2**70).encode(), b"0"), "energy_wh"),
        (_SETTLED % b"81000.0", "payment_ueur"),
        (_SETTLED % b"false", "payment_ueur"),
        (_SETTLED % str(INT64_MAX + 1).encode(), "payment_ueur"),
    ],
)
def test_a_float_bool_or_oversized_integer_is_refused_not_truncated(
    data: bytes, field: str
) -> None:
    with pytest.raises(MalformedMessageError, match=field):
        decode(data)


def test_integer_fields_are_strict_over_msgpack_too() -> None:
    pytest.importorskip("msgpack")
    good = Offer(auction_id="a", order_id="o", participant_id="p", energy_wh=INT64_MAX,
                 price_ueur_per_kwh=0)
    assert decode(encode(good, "msgpack"), "msgpack") == good
    import msgpack  # type: ignore[import-untyped,unused-ignore]

    raw = good.model_dump(mode="python")
    for bad in (1000.0, True, 2**64 - 1):
        frame = msgpack.packb({**raw, "energy_wh": bad}, use_bin_type=True)
        with pytest.raises(MalformedMessageError, match="energy_wh"):
            decode(frame, "msgpack")


def test_a_bool_is_refused_when_building_a_message() -> None:
    with pytest.raises(ValueError, match="payment_ueur"):
        Settlement(trade_id="t", buyer_id="b", seller_id="s", contracted_wh=1,
                   delivered_wh=1, payment_ueur=True, refund_ueur=0)


def test_a_float_schema_version_is_refused() -> None:
    frame = json.dumps({"type": "gate_closed", "auction_id": "a000001", "order_count": 1,
                        "schema_version": float(SCHEMA_VERSION)}).encode()
    with pytest.raises(MalformedMessageError, match="schema_version"):
        decode(frame)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.type)
def test_a_built_message_has_the_same_wire_bytes(sample: Envelope) -> None:
    """``built`` skips validation only: from valid values it makes the very same message."""
    fields = {name: getattr(sample, name) for name in type(sample).model_fields}
    assert encode(type(sample).built(**fields)) == encode(sample)
    # from its required fields alone: pydantic's own unvalidated build, defaults and all
    required = {name: getattr(sample, name)
                for name, info in type(sample).model_fields.items() if info.is_required()}
    built, constructed = type(sample).built(**required), type(sample).model_construct(**required)
    assert built == constructed and list(vars(built)) == list(vars(constructed))
    assert built.model_fields_set == constructed.model_fields_set
    assert encode(built) == encode(constructed)


@pytest.mark.parametrize(("bad", "words"), [
    ({"import_wh": [-1, 0]}, "greater than or equal to 0"),
    ({"meter_ids": ["m1", "m1"]}, "must not repeat"),
    ({"counters": [1]}, "equal lengths"),
    ({"interval_s": 0}, "greater than 0"),
])
def test_a_built_message_with_bad_values_is_refused_by_its_receiver(
        bad: dict[str, object], words: str) -> None:
    """The sender no longer checks what it builds; the receiver's decode still does."""
    fields: dict[str, object] = {"sender": "meters-r1", "region_id": "r1", "interval_start_s": 0,
                                 "interval_s": 900, "meter_ids": ["m1", "m2"],
                                 "import_wh": [1, 0], "export_wh": [0, 0], "counters": [1, 1]}
    fields.update(bad)
    data = encode(MeterReadingBatch.built(**fields))
    with pytest.raises(MalformedMessageError, match=words):
        decode(data)
