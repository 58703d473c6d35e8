"""The network servers' own schemas: ChirpStack's JSON checked against ``chirpstack-api``'s
protobuf messages, and The Things Stack's current and older uplink shapes.

Why against the protobuf messages: ChirpStack's JSON is the protobuf JSON mapping of
``integration.proto``, so ``json_format.Parse`` (which refuses unknown fields and
wrong types) tells whether a fixture, or a body the bridge builds, is a message
ChirpStack itself could send or accept.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from gridcoop.hardware_bridge import chirpstack, ttn
from gridcoop.hardware_bridge.airtime import data_rate_of_fsk, data_rate_of_lora
from gridcoop.hardware_bridge.registry import DeviceRegistry
from tests.hardware_bridge.conftest import GOLDEN_EUI, IN_CI, load_fixture

try:
    from chirpstack_api import integration
    from google.protobuf import json_format
except ImportError:  # the dev extra installs chirpstack-api
    if IN_CI:
        raise
    integration = None

needs_api = pytest.mark.skipif(integration is None, reason="chirpstack-api is not installed")
APP = "17c82e96-be03-4f38-aef3-f83d48582d97"
BASE = "v3/campus-meters@ttn/devices/meter-ed1-001"


def as_message(body: bytes | dict[str, Any], message: str) -> Any:
    """Parse JSON into ``integration.<message>``; raises on an unknown field or a wrong type."""
    text = body.decode() if isinstance(body, bytes) else json.dumps(body)
    return json_format.Parse(text, getattr(integration, message)())


@needs_api
@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("chirpstack_up_v4_1.json", "UplinkEvent"),
        ("chirpstack_up_v4_0_no_zero_fields.json", "UplinkEvent"),
        ("chirpstack_join.json", "JoinEvent"),
        ("chirpstack_ack.json", "AckEvent"),
        ("chirpstack_txack.json", "TxAckEvent"),
        ("chirpstack_log_fcnt_reset.json", "LogEvent"),
        ("chirpstack_down.json", "DownlinkCommand"),
    ],
)
def test_chirpstack_fixtures_are_chirpstack_messages(fixture: str, message: str) -> None:
    as_message(load_fixture(fixture), message)


@needs_api
def test_the_parsed_fields_are_the_protobuf_fields() -> None:
    raw = load_fixture("chirpstack_up_v4_1.json")
    event = as_message(raw, "UplinkEvent")
    up = chirpstack.parse_uplink(f"application/{APP}/device/{GOLDEN_EUI}/event/up", raw, 0.0)
    assert (up.f_cnt, up.f_port, up.dr, up.session) == (
        event.f_cnt,
        event.f_port,
        event.dr,
        event.dev_addr,
    )
    assert up.dedup_id == event.deduplication_id and up.meter_ref == event.device_info.dev_eui
    assert up.payload == json_format.MessageToDict(event)["data"]
    ack = as_message(load_fixture("chirpstack_ack.json"), "AckEvent")
    parsed = chirpstack.parse_ack("t", load_fixture("chirpstack_ack.json"))
    assert parsed == (ack.queue_item_id, ack.acknowledged, "delivered (network ack)")


@needs_api
@pytest.mark.parametrize("emit_defaults", [True, False])
def test_bodies_the_bridge_builds_are_chirpstack_messages(emit_defaults: bool) -> None:
    up = chirpstack.uplink_event(
        application_id=APP, dev_eui=GOLDEN_EUI, device_name="m", dev_addr="00189440",
        f_cnt=0, f_port=10, payload=b"\x15\x03", time_s=1.5e9, dedup_id="3ac7e3c4-4401-4b8d-"
        "9386-a5c902f9202d", dr=5, emit_defaults=emit_defaults,
    )  # fmt: skip
    parsed = as_message(up, "UplinkEvent")
    assert (parsed.dr, parsed.tx_info.modulation.lora.spreading_factor) == (5, 7)
    join = chirpstack.join_event(application_id=APP, dev_eui=GOLDEN_EUI, dev_addr="01", time_s=1)
    as_message(join, "JoinEvent")
    ack = chirpstack.ack_event(
        dev_eui=GOLDEN_EUI, queue_item_id="6c1a3e0e-2f7b-4c55-9a5e-0b9d7c3e9a11",
        acknowledged=False, f_cnt_down=4, time_s=2.0,
    )  # fmt: skip
    assert as_message(ack, "AckEvent").f_cnt_down == 4
    down = chirpstack.downlink_command(
        corr_id="6c1a3e0e-2f7b-4c55-9a5e-0b9d7c3e9a11", dev_eui=GOLDEN_EUI.upper(),
        payload=bytes.fromhex("0102004d00"), confirmed=True, expires_at_s=1741618800.0,
    )  # fmt: skip
    command = as_message(down, "DownlinkCommand")
    assert (command.dev_eui, command.f_port, command.data) == (GOLDEN_EUI, 20, b"\x01\x02\x00M\x00")
    assert command.expires_at.seconds == 1741618800
    assert json.loads(load_fixture("chirpstack_down.json")) == down


@needs_api
def test_a_misspelt_field_is_caught_by_the_schema_check() -> None:
    body = json.loads(load_fixture("chirpstack_up_v4_1.json"))
    body["fcnt"] = body.pop("fCnt")  # what a hand-written fixture might get wrong
    with pytest.raises(json_format.ParseError, match="fcnt"):
        as_message(body, "UplinkEvent")


def test_eu868_modulations_map_to_their_data_rates() -> None:
    table = {(12, 125_000): 0, (11, 125_000): 1, (10, 125_000): 2, (9, 125_000): 3,
             (8, 125_000): 4, (7, 125_000): 5, (7, 250_000): 6}  # fmt: skip
    for (sf, bw), index in table.items():
        rate = data_rate_of_lora(sf, bw)
        assert rate is not None and rate.index == index
    assert data_rate_of_lora(7, 500_000) is None and data_rate_of_lora(6, 125_000) is None
    fsk = data_rate_of_fsk(50_000)
    assert fsk is not None and fsk.index == 7 and data_rate_of_fsk(9_600) is None


def test_current_ttn_uplink_reads_the_data_rate_from_the_modulation(
    golden_registry: DeviceRegistry,
) -> None:
    up = ttn.parse_uplink(golden_registry, f"{BASE}/up", load_fixture("ttn_up_current.json"), 0)
    assert (up.meter_ref, up.f_port, up.f_cnt, up.dr) == (GOLDEN_EUI, 10, 2087, 5)  # SF7/125
    assert up.dedup_id == "as:up:01JE4R6W3V5N8XQ2T7M9K1C0DZ"
    assert (up.rssi, up.snr) == (-71, 9.5)  # the stronger of the two gateways
    assert up.received_s == pytest.approx(1796530502.261487)  # nanoseconds cut to micro


def test_older_ttn_uplink_still_reads_data_rate_index(golden_registry: DeviceRegistry) -> None:
    up = ttn.parse_uplink(
        golden_registry, f"{BASE}/up", load_fixture("ttn_up_legacy_index.json"), 0
    )
    assert (up.f_cnt, up.dr) == (1523, 3)


@pytest.mark.parametrize(
    ("settings", "dr"),
    [
        ({"data_rate": {"lora": {"bandwidth": 125000, "spreading_factor": 9}}}, 3),
        # the modulation wins when a transitional server sends both
        ({"data_rate": {"lora": {"bandwidth": 250000, "spreading_factor": 7}},
          "data_rate_index": 0}, 6),
        ({"data_rate": {"fsk": {"bit_rate": 50000}}}, 7),
        ({"data_rate": {"lora": {"bandwidth": 500000, "spreading_factor": 8}}}, None),  # US915
        ({"data_rate": {"lrfhss": {"modulation_type": 1}}}, None),
        ({}, 0),  # an older server omitted data_rate_index 0
        ({"data_rate_index": 99}, None),
    ],
)
def test_ttn_data_rate_cases(settings: dict[str, Any], dr: int | None) -> None:
    assert ttn.data_rate_index(settings) == dr


@pytest.mark.parametrize("dr", range(8))
def test_simulated_ttn_uplinks_have_the_current_shape(
    golden_registry: DeviceRegistry, dr: int
) -> None:
    body = ttn.uplink_message(
        application_id="campus-meters", device_id="meter-ed1-001", dev_eui=GOLDEN_EUI,
        session_key_id="AY3k", f_cnt=7, f_port=10, payload=bytes(20), time_s=1.7e9,
        correlation_id="as:up:x", dr=dr,
    )  # fmt: skip
    settings = body["uplink_message"]["settings"]
    assert "data_rate_index" not in settings and "coding_rate" not in settings
    assert set(settings["data_rate"]) == ({"fsk"} if dr == 7 else {"lora"})
    up = ttn.parse_uplink(golden_registry, f"{BASE}/up", json.dumps(body).encode(), 0)
    assert up.dr == dr
    legacy = ttn.uplink_message(
        application_id="campus-meters", device_id="meter-ed1-001", dev_eui=GOLDEN_EUI,
        session_key_id="AY3k", f_cnt=7, f_port=10, payload=bytes(20), time_s=1.7e9,
        correlation_id="as:up:x", dr=dr, legacy_index=True,
    )  # fmt: skip
    assert "data_rate" not in legacy["uplink_message"]["settings"]
    assert ttn.parse_uplink(golden_registry, f"{BASE}/up", json.dumps(legacy).encode(), 0).dr == dr
