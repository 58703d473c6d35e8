"""The Things Stack v3: canned messages, device-id mapping, QoS 0, push and correlation."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest

from gridcoop.hardware_bridge import ttn
from gridcoop.hardware_bridge.codec import AckFrame, MeterFrame, encode_ack, encode_reading
from gridcoop.hardware_bridge.command_codec import encode_command
from gridcoop.hardware_bridge.errors import CommandError, MalformedMessageError
from gridcoop.hardware_bridge.mosquitto import MosquittoBroker
from gridcoop.hardware_bridge.mqtt_transport import MqttTransport
from gridcoop.hardware_bridge.readings import Command
from gridcoop.hardware_bridge.registry import Device, DeviceRegistry
from gridcoop.hardware_bridge.ttn import TtnBridge
from tests.hardware_bridge.conftest import GOLDEN_EUI, GOLDEN_KEY, gather, load_fixture, wait_until

APP, TENANT, DEVICE = "campus-meters", "ttn", "meter-ed1-001"
BASE = f"v3/{APP}@{TENANT}/devices/{DEVICE}"


def test_parse_uplink_sample(golden_registry: DeviceRegistry) -> None:
    up = ttn.parse_uplink(golden_registry, f"{BASE}/up", load_fixture("ttn_up.json"), 0.0)
    assert (up.meter_ref, up.f_port, up.f_cnt, up.dr) == (GOLDEN_EUI, 10, 1523, 0)
    assert up.dedup_id == "as:up:01HRX3Q9Z8K2"  # the application server's uplink id
    assert up.session == "AY3kXo0m2Q3d5lS8h9qT1w==" and up.rssi == -97
    assert up.received_s == pytest.approx(1741616102.398)  # uplink_message.received_at


def test_parse_uplink_with_f_cnt_omitted(golden_registry: DeviceRegistry) -> None:
    up = ttn.parse_uplink(
        golden_registry, f"{BASE}/up", load_fixture("ttn_up_fcnt_0_after_join.json"), 0.0
    )
    # no dev_eui in the message: the registry maps the device id; f_cnt 0 is omitted by TTN
    assert (up.meter_ref, up.f_cnt, up.dr, up.session) == (
        GOLDEN_EUI,
        0,
        0,
        "BFreshSessionKeyId000==",
    )


def test_unknown_and_inconsistent_devices(golden_registry: DeviceRegistry) -> None:
    body = json.loads(load_fixture("ttn_up.json"))
    body["end_device_ids"]["dev_eui"] = "70B3D57ED0000002"
    with pytest.raises(MalformedMessageError, match="registry says"):
        ttn.parse_uplink(golden_registry, f"{BASE}/up", json.dumps(body).encode(), 0.0)
    stranger = ttn.parse_uplink(
        golden_registry,
        f"v3/{APP}@{TENANT}/devices/meter-x/up",
        json.dumps({"uplink_message": {"f_port": 10}}).encode(),
        0.0,
    )
    assert stranger.meter_ref == "meter-x"  # refused later as unknown_device


def test_topics_with_and_without_tenant() -> None:
    assert ttn.device_topic(APP, TENANT, DEVICE, "down/push") == f"{BASE}/down/push"
    assert ttn.device_topic(APP, "", DEVICE, "up") == f"v3/{APP}/devices/{DEVICE}/up"
    assert ttn.split_topic(f"{BASE}/down/ack") == (DEVICE, "down/ack")
    with pytest.raises(MalformedMessageError):
        ttn.split_topic("v3/app/things/x/up")


@pytest.fixture
def bridge(
    broker: MosquittoBroker, golden_registry: DeviceRegistry, client_id: str
) -> Iterator[TtnBridge]:
    now = [1_741_616_000.0]
    tt = TtnBridge(
        golden_registry,
        application_id=APP,
        tenant=TENANT,
        broker=broker.address,
        client_id=client_id,
        clock=lambda: now[0],
        ack_timeout_s=60,
    )
    tt.fake_now = now  # type: ignore[attr-defined]
    yield tt
    tt.close()


def up_message(
    seq: int,
    energy: int,
    f_cnt: int,
    *,
    f_port: int = 10,
    payload: bytes | None = None,
    corr: str | None = None,
) -> bytes:
    frame = MeterFrame(
        boot=3,
        seq=seq,
        energy_vah=energy,
        irms_ca=421,
        s_avg_va=968,
        s_max_va=2310,
        interval_min=15,
    )
    data = payload or encode_reading(frame, dev_eui=GOLDEN_EUI, key=GOLDEN_KEY)
    body = ttn.uplink_message(
        application_id=APP,
        device_id=DEVICE,
        dev_eui=GOLDEN_EUI,
        session_key_id="AY3kXo0m2Q3d5lS8h9qT1w==",
        f_cnt=f_cnt,
        f_port=f_port,
        payload=data,
        time_s=1_741_616_102.0 + seq,
        correlation_id=corr or f"as:up:{seq}-{f_cnt}-{f_port}",
    )
    return json.dumps(body).encode()


def events(tt: TtnBridge, name: str) -> int:
    return tt.stats().get(f"events.{name}", 0)


@pytest.mark.broker
def test_canned_uplinks_join_and_duplicates(bridge: TtnBridge, mqtt_client: MqttTransport) -> None:
    mqtt_client.publish(f"{BASE}/up", load_fixture("ttn_up.json"), 0)
    mqtt_client.publish(f"{BASE}/up", load_fixture("ttn_up.json"), 0)  # same as:up id
    mqtt_client.publish(f"{BASE}/join", load_fixture("ttn_join.json"), 0)
    mqtt_client.publish(f"{BASE}/up", load_fixture("ttn_up_fcnt_0_after_join.json"), 0)
    wait_until(lambda: events(bridge, "up") >= 3, what="three uplinks")
    readings = bridge.drain()
    assert [(r.seq, r.import_wh, r.source) for r in readings] == [
        (412, 1_234_567, "ttn"),
        (413, 242, "ttn"),
    ]
    stats = bridge.stats()
    assert stats["rejected.duplicate"] == 1 and stats["joins"] == 1


@pytest.mark.broker
def test_f_cnt_regression_is_refused(bridge: TtnBridge, mqtt_client: MqttTransport) -> None:
    mqtt_client.publish(f"{BASE}/up", up_message(412, 1000, 10), 0)
    mqtt_client.publish(f"{BASE}/up", up_message(413, 1100, 9), 0)
    mqtt_client.publish(f"{BASE}/up", up_message(413, 1100, 11), 0)
    wait_until(lambda: events(bridge, "up") >= 3)
    assert [r.seq for r in bridge.drain()] == [412, 413]
    assert bridge.stats()["rejected.fcnt_regression"] == 1


@pytest.mark.broker
def test_push_format_and_correlation(bridge: TtnBridge, mqtt_client: MqttTransport) -> None:
    mqtt_client.subscribe(f"v3/{APP}@{TENANT}/devices/+/down/push", 0)
    wait_until(lambda: mqtt_client.wait_ready(0.1), what="subscription")
    commands = [
        Command(GOLDEN_EUI, 2, 77, "off", confirmed=True),
        Command(GOLDEN_EUI, 2, 78, "decrease", 20),
        Command(DEVICE, 255, 79, "dr_event", 2, duration_min=60),  # addressed by TTN device id
    ]
    for command in commands:
        bridge.send(command)
    sent = gather([], mqtt_client.messages, 3, what="three pushes")
    assert {topic for topic, _ in sent} == {f"{BASE}/down/push"}
    pushes = [json.loads(payload)["downlinks"] for _, payload in sent]
    assert all(len(p) == 1 for p in pushes)
    first = pushes[0][0]
    assert set(first) == {"f_port", "frm_payload", "priority", "confirmed", "correlation_ids"}
    assert (first["f_port"], first["priority"], first["confirmed"]) == (20, "NORMAL", True)
    assert base64.b64decode(first["frm_payload"]) == encode_command(commands[0], key=GOLDEN_KEY)
    corr = [p[0]["correlation_ids"][0] for p in pushes]
    assert all(c.startswith("bridge:cmd:") for c in corr)

    ack = {
        "end_device_ids": {"device_id": DEVICE},
        "correlation_ids": ["as:downlink:x", corr[0]],
        "downlink_ack": {
            "f_port": 20,
            "f_cnt": 11,
            "confirmed": True,
            "correlation_ids": [corr[0], "ns:downlink:y"],
        },
    }
    mqtt_client.publish(f"{BASE}/down/ack", json.dumps(ack), 0)
    device_ack = encode_ack(AckFrame(cmd_id=77, result=0), dev_eui=GOLDEN_EUI, key=GOLDEN_KEY)
    mqtt_client.publish(f"{BASE}/up", up_message(1, 0, 1, f_port=12, payload=device_ack), 0)
    failed = {
        "end_device_ids": {"device_id": DEVICE},
        "downlink_failed": {
            "downlink": {"f_port": 20, "correlation_ids": [corr[1]]},
            "error": {
                "namespace": "pkg/networkserver",
                "name": "application_downlink_too_long",
                "code": 3,
            },
        },
    }
    mqtt_client.publish(f"{BASE}/down/failed", json.dumps(failed), 0)
    nack = {
        "end_device_ids": {"device_id": DEVICE},
        "downlink_nack": {"f_port": 20, "correlation_ids": [corr[2]]},
    }
    mqtt_client.publish(f"{BASE}/down/nack", json.dumps(nack), 0)
    wait_until(lambda: events(bridge, "down/nack") >= 1 and events(bridge, "up") >= 1)
    acks = sorted((a.command_id, a.status, a.via, a.detail) for a in bridge.acks())
    assert acks == [
        (77, "acked", "device", ""),
        (78, "nacked", "network", "downlink failed: application_downlink_too_long"),
        (79, "nacked", "network", "device nacked the downlink"),
    ]


@pytest.mark.broker
def test_device_without_ttn_id_cannot_be_commanded(broker: MosquittoBroker, client_id: str) -> None:
    registry = DeviceRegistry([Device(eui=GOLDEN_EUI, key=GOLDEN_KEY)])
    tt = TtnBridge(registry, application_id=APP, broker=broker.address, client_id=client_id)
    try:
        with pytest.raises(CommandError, match="no TTN device_id"):
            tt.send(Command(GOLDEN_EUI, 1, 1, "on"))
        assert tt.stats()["pending_commands"] == 0
    finally:
        tt.close()
