"""ChirpStack v4: canned events parsed tolerantly, and a bridge on a real Mosquitto."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator

import pytest

from gridcoop.hardware_bridge import chirpstack
from gridcoop.hardware_bridge.chirpstack import ChirpStackBridge
from gridcoop.hardware_bridge.codec import AckFrame, MeterFrame, encode_ack, encode_reading
from gridcoop.hardware_bridge.command_codec import encode_command
from gridcoop.hardware_bridge.errors import MalformedMessageError
from gridcoop.hardware_bridge.mosquitto import MosquittoBroker
from gridcoop.hardware_bridge.mqtt_transport import MqttTransport
from gridcoop.hardware_bridge.netjson import parse_time
from gridcoop.hardware_bridge.readings import Command, CommandAck, MeterReading
from gridcoop.hardware_bridge.registry import DeviceRegistry
from tests.hardware_bridge.conftest import GOLDEN_EUI, GOLDEN_KEY, gather, load_fixture, wait_until

APP = "17c82e96-be03-4f38-aef3-f83d48582d97"
UP_TOPIC = f"application/{APP}/device/{GOLDEN_EUI}/event/up"


def test_parse_v4_1_uplink_with_every_field() -> None:
    up = chirpstack.parse_uplink(UP_TOPIC, load_fixture("chirpstack_up_v4_1.json"), now_s=0.0)
    assert (up.meter_ref, up.f_port, up.f_cnt, up.dr) == (GOLDEN_EUI, 10, 1523, 0)
    assert up.payload == "FQMBnAAS1ocBpQPICQYPAOmIkzY="  # data, not the codec's object
    assert up.dedup_id == "3ac7e3c4-4401-4b8d-9386-a5c902f9202d" and up.session == "00189440"
    assert up.received_s == pytest.approx(1741616102.41231)  # 2025-03-10T14:15:02.412310Z
    assert (up.rssi, up.snr) == (-97, 7.25)


def test_parse_v4_0_uplink_without_zero_fields_or_object() -> None:
    up = chirpstack.parse_uplink(
        UP_TOPIC, load_fixture("chirpstack_up_v4_0_no_zero_fields.json"), now_s=0.0
    )
    assert (up.f_cnt, up.dr, up.f_port) == (0, 0, 10)  # absent means zero
    assert up.session == "01a2b3c4" and up.rssi == -101


def test_object_null_and_missing_data_are_tolerated() -> None:
    body = json.loads(load_fixture("chirpstack_up_v4_1.json"))
    body["object"] = None
    del body["data"]
    up = chirpstack.parse_uplink(UP_TOPIC, json.dumps(body).encode(), now_s=5.0)
    assert up.payload == ""  # refused later as a short payload, not a crash


@pytest.mark.parametrize(
    ("topic", "payload", "message"),
    [
        (UP_TOPIC.replace(GOLDEN_EUI, "70b3d57ed0000002"), None, "differs from"),
        (UP_TOPIC, b"not json", "not JSON"),
        (UP_TOPIC, b"[1, 2]", "JSON object"),
        ("application/x/up", b"{}", "is not application"),
        (UP_TOPIC, b'{"fCnt": "many"}', "not an integer"),
        (UP_TOPIC, b'{"time": "yesterday"}', "RFC 3339"),
    ],
)
def test_malformed_events(topic: str, payload: bytes | None, message: str) -> None:
    body = payload if payload is not None else load_fixture("chirpstack_up_v4_1.json")
    with pytest.raises(MalformedMessageError, match=message):
        chirpstack.parse_uplink(topic, body, now_s=0.0)


def test_downlink_command_shape() -> None:
    body = chirpstack.downlink_command(
        corr_id="6c1a3e0e-2f7b-4c55-9a5e-0b9d7c3e9a11",
        dev_eui="70B3D57ED0000001",
        payload=bytes.fromhex("0102004d00"),
        confirmed=True,
        expires_at_s=1741618800.0,
    )
    assert body == {
        "id": "6c1a3e0e-2f7b-4c55-9a5e-0b9d7c3e9a11",
        "devEui": "70b3d57ed0000001",
        "confirmed": True,
        "fPort": 20,
        "data": "AQIATQA=",
        "expiresAt": "2025-03-10T15:00:00Z",
    }


@pytest.fixture
def bridge(
    broker: MosquittoBroker, golden_registry: DeviceRegistry, client_id: str
) -> Iterator[ChirpStackBridge]:
    now = [1_741_616_000.0]
    cs = ChirpStackBridge(
        golden_registry,
        application_id=APP,
        broker=broker.address,
        client_id=client_id,
        clock=lambda: now[0],
        ack_timeout_s=600,
    )
    cs.fake_now = now  # type: ignore[attr-defined]
    yield cs
    cs.close()


def publish_up(client: MqttTransport, body: dict[str, object] | bytes) -> None:
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    client.publish(UP_TOPIC, payload, 1)


def up_event(
    seq: int,
    energy: int,
    f_cnt: int,
    *,
    dedup: str | None = None,
    dev_addr: str = "00189440",
    f_port: int = 10,
    payload: bytes | None = None,
) -> dict[str, object]:
    frame = MeterFrame(
        boot=3,
        seq=seq,
        energy_vah=energy,
        irms_ca=421,
        s_avg_va=968,
        s_max_va=2310,
        interval_min=15,
        relay_on=True,
    )
    data = (
        payload
        if payload is not None
        else encode_reading(frame, dev_eui=GOLDEN_EUI, key=GOLDEN_KEY)
    )
    return chirpstack.uplink_event(
        application_id=APP,
        dev_eui=GOLDEN_EUI,
        device_name="meter-ed1-001",
        dev_addr=dev_addr,
        f_cnt=f_cnt,
        f_port=f_port,
        payload=data,
        time_s=1_741_616_102.0 + 900 * (seq - 412),
        dedup_id=dedup or str(uuid.uuid4()),
    )


def events(cs: ChirpStackBridge, name: str) -> int:
    return cs.stats().get(f"events.{name}", 0)


@pytest.mark.broker
def test_canned_uplinks_through_mosquitto(
    bridge: ChirpStackBridge, mqtt_client: MqttTransport
) -> None:
    readings: list[MeterReading] = []
    publish_up(mqtt_client, load_fixture("chirpstack_up_v4_1.json"))  # seq 412, fCnt 1523
    publish_up(mqtt_client, load_fixture("chirpstack_up_v4_1.json"))  # QoS 1 redelivery
    mqtt_client.publish(
        f"application/{APP}/device/{GOLDEN_EUI}/event/log",
        load_fixture("chirpstack_log_fcnt_reset.json"),
        1,
    )
    mqtt_client.publish(
        f"application/{APP}/device/{GOLDEN_EUI}/event/join", load_fixture("chirpstack_join.json"), 1
    )
    publish_up(mqtt_client, load_fixture("chirpstack_up_v4_0_no_zero_fields.json"))  # fCnt 0
    wait_until(lambda: events(bridge, "up") >= 3, what="three uplinks")
    readings = bridge.drain()
    assert [(r.seq, r.import_wh, r.mac_verified) for r in readings] == [
        (412, 1_234_567, True),
        (413, 242, True),  # the re-join reset fCnt to 0 and the reading still counts
    ]
    stats = bridge.stats()
    assert stats["rejected.duplicate"] == 1 and stats["joins"] == 1
    assert stats["events.log.UPLINK_F_CNT_RESET"] == 1


@pytest.mark.broker
def test_refusals_over_mqtt(bridge: ChirpStackBridge, mqtt_client: MqttTransport) -> None:
    publish_up(mqtt_client, up_event(412, 1000, 100))
    publish_up(mqtt_client, up_event(413, 1200, 90))  # frame counter went backwards
    publish_up(mqtt_client, up_event(413, 1200, 101, payload=b"\x15\x03"))  # short
    tampered = bytearray(
        encode_reading(
            MeterFrame(3, 413, 1200, 421, 968, 2310, 15), dev_eui=GOLDEN_EUI, key=GOLDEN_KEY
        )
    )
    tampered[5] ^= 0x40
    publish_up(mqtt_client, up_event(413, 1200, 102, payload=bytes(tampered)))  # bad MAC
    bad_b64 = up_event(413, 1200, 103)
    bad_b64["data"] = "%%%not-base64"
    publish_up(mqtt_client, bad_b64)
    stranger = up_event(413, 1200, 104)
    stranger["deviceInfo"] = {"devEui": "70b3d57ed00000ff"}
    mqtt_client.publish(
        UP_TOPIC.replace(GOLDEN_EUI, "70b3d57ed00000ff"), json.dumps(stranger).encode(), 1
    )
    mqtt_client.publish(UP_TOPIC, b"{broken json", 1)
    publish_up(mqtt_client, up_event(413, 1200, 105))  # the honest next frame
    wait_until(lambda: events(bridge, "up") >= 8, what="eight uplinks")
    readings = bridge.drain()
    assert [(r.seq, r.import_wh) for r in readings] == [(412, 1000), (413, 200)]
    stats = bridge.stats()
    for reason in (
        "fcnt_regression",
        "short_payload",
        "bad_mac",
        "bad_base64",
        "unknown_device",
        "malformed_message",
    ):
        assert stats[f"rejected.{reason}"] == 1, reason
    assert stats["lost_network_frames"] == 4  # fCnt 100 -> 105 with four refused frames


@pytest.mark.broker
def test_downlinks_and_ack_correlation(
    broker: MosquittoBroker, bridge: ChirpStackBridge, mqtt_client: MqttTransport
) -> None:
    mqtt_client.subscribe(f"application/{APP}/device/+/command/down", 1)
    wait_until(lambda: mqtt_client.wait_ready(0.1), what="subscription")
    commands = [
        Command(GOLDEN_EUI, 2, 77, "off", confirmed=True, expires_in_s=600),
        Command(GOLDEN_EUI, 255, 79, "dr_event", 2, duration_min=60, confirmed=True),
        Command(GOLDEN_EUI, 1, 80, "on", confirmed=True),
        Command(GOLDEN_EUI, 1, 81, "restore"),
    ]
    for command in commands:
        bridge.send(command)
    sent = gather([], mqtt_client.messages, 4, what="four downlinks")
    bodies = [json.loads(payload) for _, payload in sent]
    assert [topic for topic, _ in sent] == [
        f"application/{APP}/device/{GOLDEN_EUI}/command/down"
    ] * 4
    first = bodies[0]
    assert set(first) == {"id", "devEui", "confirmed", "fPort", "data", "expiresAt"}
    assert str(uuid.UUID(first["id"])) == first["id"]
    assert (first["devEui"], first["confirmed"], first["fPort"]) == (GOLDEN_EUI, True, 20)
    assert base64.b64decode(first["data"]) == encode_command(commands[0], key=GOLDEN_KEY)
    # the bridge clock 1 741 616 000 s is 2025-03-10T14:13:20Z; + 600 s expiry
    assert first["expiresAt"] == "2025-03-10T14:23:20Z"
    assert "expiresAt" not in bodies[3] and bodies[3]["confirmed"] is False

    ack_topic = f"application/{APP}/device/{GOLDEN_EUI}/event/ack"

    def network_ack(index: int, acknowledged: bool) -> None:
        body = chirpstack.ack_event(
            dev_eui=GOLDEN_EUI,
            queue_item_id=bodies[index]["id"],
            acknowledged=acknowledged,
            f_cnt_down=index,
            time_s=0,
        )
        mqtt_client.publish(ack_topic, json.dumps(body), 1)

    network_ack(0, True)  # delivered; the device's own ack follows as an fPort-12 uplink
    device_ack = encode_ack(AckFrame(cmd_id=77, result=0), dev_eui=GOLDEN_EUI, key=GOLDEN_KEY)
    publish_up(mqtt_client, up_event(412, 0, 7, f_port=12, payload=device_ack))
    network_ack(1, False)  # confirmed downlink never acknowledged by the device
    network_ack(2, True)  # delivered, but the device never answers
    wait_until(lambda: events(bridge, "ack") >= 3 and events(bridge, "up") >= 1)
    acks: list[CommandAck] = bridge.acks()
    assert [(a.command_id, a.status, a.via, a.correlation_id) for a in acks] == [
        (77, "acked", "device", bodies[0]["id"]),
        (79, "timeout", "network", bodies[1]["id"]),
    ]
    bridge.fake_now[0] += 600  # type: ignore[attr-defined]  # the ack timeout passes
    late = bridge.acks()
    assert sorted((a.command_id, a.status, a.via) for a in late) == [
        (80, "acked", "network"),  # delivered, no device ack: acked via the network only
        (81, "timeout", "bridge"),
    ]
    assert bridge.stats()["pending_commands"] == 0


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2025-03-10T14:15:02.412310+00:00", 1741616102.41231),  # ChirpStack
        ("2025-03-10T14:15:02.412Z", 1741616102.412),  # TTN
        ("2025-03-10T14:15:02.412310123Z", 1741616102.41231),  # nanoseconds: cut to micro
        ("2025-03-10T15:15:02+01:00", 1741616102.0),
        ("2025-03-10T14:15:02", 1741616102.0),  # no offset: UTC, whatever the local zone
    ],
)
def test_rfc3339_times(text: str, seconds: float) -> None:
    assert parse_time(text) == pytest.approx(seconds)
    assert parse_time(None) is None and parse_time("") is None
