"""From a received frame to a reading: checks, refusals and the energy arithmetic."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridcoop.hardware_bridge.codec import AckFrame, MeterFrame, encode_ack, encode_reading
from gridcoop.hardware_bridge.errors import ConfigError, UnknownDeviceError
from gridcoop.hardware_bridge.ingest import DeviceAck, Ingest, Uplink
from gridcoop.hardware_bridge.readings import MeterReading
from gridcoop.hardware_bridge.registry import Device, DeviceRegistry, derive_key, simulated_eui
from gridcoop.hardware_bridge.replay_guard import ReplayGuard
from tests.hardware_bridge.conftest import GOLDEN_EUI, GOLDEN_KEY

GOLDEN_B64 = "FQMBnAAS1ocBpQPICQYPAOmIkzY="


def frame(seq: int, energy: int, boot: int = 3) -> MeterFrame:
    return MeterFrame(
        boot=boot,
        seq=seq,
        energy_vah=energy,
        irms_ca=421,
        s_avg_va=968,
        s_max_va=2310,
        interval_min=15,
        relay_on=True,
    )


def uplink(
    payload: bytes | str,
    *,
    received_s: float = 1_741_616_102.4,
    f_port: int = 10,
    eui: str = GOLDEN_EUI,
    dedup: str | None = None,
    f_cnt: int | None = None,
) -> Uplink:
    return Uplink(eui, f_port, payload, "chirpstack", received_s, dedup, "00189440", f_cnt)


def make(registry: DeviceRegistry, **options: bool) -> Ingest:
    return Ingest(registry, ReplayGuard(), **options)


def test_golden_uplink_becomes_a_reading(golden_registry: DeviceRegistry) -> None:
    ingest = make(golden_registry)
    reading = ingest.process(uplink(GOLDEN_B64, f_cnt=1523))
    assert isinstance(reading, MeterReading)
    # first sighting: seq 412 -> 413 intervals of 15 min since boot, all 1 234 567 VAh (PF 1)
    assert reading.meter_id == GOLDEN_EUI and reading.source == "chirpstack"
    assert (reading.import_wh, reading.export_wh) == (1_234_567, 0)
    assert reading.interval_s == 413 * 900
    assert reading.interval_start_s == 1_741_616_102 - 413 * 900
    assert reading.mac_verified and (reading.boot, reading.seq) == (3, 412)
    assert reading.extra["irms_a"] == pytest.approx(4.21)
    assert reading.extra["s_avg_va"] == 968 and reading.extra["f_cnt"] == 1523
    follow = encode_reading(frame(413, 1_234_809), dev_eui=GOLDEN_EUI, key=GOLDEN_KEY)
    nxt = ingest.process(uplink(follow, received_s=1_741_617_002.4, f_cnt=1524))
    assert isinstance(nxt, MeterReading)
    assert (nxt.import_wh, nxt.interval_s, nxt.interval_start_s) == (242, 900, 1_741_616_102)


def test_a_lost_frame_is_folded_into_the_next_reading(golden_registry: DeviceRegistry) -> None:
    ingest = make(golden_registry)
    for seq, energy in ((10, 1000), (12, 1500)):  # 11 is lost on the air
        payload = encode_reading(frame(seq, energy), dev_eui=GOLDEN_EUI, key=GOLDEN_KEY)
        reading = ingest.process(uplink(payload, received_s=seq * 900.0, f_cnt=seq))
    assert isinstance(reading, MeterReading)
    assert (reading.import_wh, reading.interval_s, reading.lost_frames) == (500, 1800, 1)
    assert reading.interval_start_s == 12 * 900 - 1800


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ("FQMB!!nAAS1ocB", "bad_base64"),
        (bytes.fromhex("1503019c0012"), "short_payload"),
        (bytes.fromhex("1503019c0012d68701a503c809060f00e9889337"), "bad_mac"),
        (bytes.fromhex("1103019c0012d68701a503c809060f00"), "missing_mac"),
        (bytes.fromhex("2503019c0012d68701a503c809060f00e9889336"), "bad_version"),
    ],
)
def test_bad_frames_are_refused_and_counted(
    golden_registry: DeviceRegistry, payload: bytes | str, reason: str
) -> None:
    ingest = make(golden_registry)
    assert ingest.process(uplink(payload)) is None
    assert ingest.guard.counters[f"rejected.{reason}"] == 1
    assert ingest.guard.counters["accepted"] == 0
    # the bridge keeps running: the honest frame afterwards is accepted
    assert isinstance(ingest.process(uplink(GOLDEN_B64)), MeterReading)


def test_unknown_device_and_port(golden_registry: DeviceRegistry) -> None:
    ingest = make(golden_registry)
    assert ingest.process(uplink(GOLDEN_B64, eui="70b3d57ed0000099")) is None
    assert ingest.process(uplink(GOLDEN_B64, f_port=11)) is None
    assert ingest.guard.counters["rejected.unknown_device"] == 1
    assert ingest.guard.counters["rejected.unknown_port"] == 1


def test_unauthenticated_frames_only_when_allowed(golden_registry: DeviceRegistry) -> None:
    bare = encode_reading(frame(1, 10), dev_eui=GOLDEN_EUI, key=None)
    lenient = make(golden_registry, accept_unauthenticated=True)
    reading = lenient.process(uplink(bare))
    assert isinstance(reading, MeterReading) and reading.mac_verified is False
    # even the lenient bridge never accepts a MAC that is present and wrong
    tampered = bytearray(encode_reading(frame(2, 20), dev_eui=GOLDEN_EUI, key=GOLDEN_KEY))
    tampered[-1] ^= 0xFF
    assert lenient.process(uplink(bytes(tampered))) is None
    assert lenient.guard.counters["rejected.bad_mac"] == 1


def test_export_meters_and_power_factor() -> None:
    pv = Device(eui=GOLDEN_EUI, key=GOLDEN_KEY, direction="export", power_factor=0.9)
    ingest = make(DeviceRegistry([pv]))
    totals = 0
    energies = [0, 333, 667, 1001, 1334]
    for seq, energy in enumerate(energies):
        payload = encode_reading(frame(seq, energy), dev_eui=GOLDEN_EUI, key=GOLDEN_KEY)
        reading = ingest.process(uplink(payload, received_s=(seq + 1) * 900.0, f_cnt=seq))
        assert isinstance(reading, MeterReading) and reading.import_wh == 0
        totals += reading.export_wh
    # floored on the cumulative scale: floor(1334 x 0.9) = floor(1200.6) = 1200, no drift
    assert totals == 1200


def test_alignment_to_the_interval_grid(golden_registry: DeviceRegistry) -> None:
    ingest = make(golden_registry, align_to_interval=True)
    reading = ingest.process(uplink(GOLDEN_B64, received_s=900 * 1000 + 37.0))
    assert isinstance(reading, MeterReading)
    assert reading.interval_start_s + reading.interval_s == 900 * 1000


def test_ack_frames_become_device_acks(golden_registry: DeviceRegistry) -> None:
    ingest = make(golden_registry)
    payload = encode_ack(AckFrame(cmd_id=77, result=2), dev_eui=GOLDEN_EUI, key=GOLDEN_KEY)
    result = ingest.process(uplink(payload, f_port=12, f_cnt=5))
    assert isinstance(result, DeviceAck)
    assert (result.frame.cmd_id, result.frame.result_name) == (77, "busy")


def test_registry_files_and_lookups(tmp_path: Path) -> None:
    master = bytes(range(32))
    registry = DeviceRegistry.simulated(3, master, export_every=3)
    path = tmp_path / "devices.yaml"
    registry.dump(path)
    loaded = DeviceRegistry.load(path)
    assert [d.eui for d in loaded] == [simulated_eui(i) for i in range(3)]
    assert loaded.by_device_id("meter-00002").key == derive_key(master, simulated_eui(1))
    assert loaded.resolve("meter-00003").direction == "export"
    assert loaded.by_eui(simulated_eui(0).upper()).eui == simulated_eui(0)
    with pytest.raises(UnknownDeviceError):
        loaded.by_eui("70b3d57ed0ffffff")
    json_path = tmp_path / "devices.json"
    loaded.dump(json_path)
    assert len(DeviceRegistry.load(json_path)) == 3


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"eui": GOLDEN_EUI}, "needs 'eui' and 'key'"),
        ({"eui": GOLDEN_EUI, "key": "00"}, "16 bytes"),
        ({"eui": "nothex", "key": GOLDEN_KEY.hex()}, "16 hex digits"),
        ({"eui": GOLDEN_EUI, "key": GOLDEN_KEY.hex(), "direction": "both"}, "direction"),
        ({"eui": GOLDEN_EUI, "key": GOLDEN_KEY.hex(), "colour": "red"}, "unknown fields"),
        ({"eui": GOLDEN_EUI, "key": GOLDEN_KEY.hex(), "interval_s": 60}, "at least 181 s"),
    ],
)
def test_bad_registry_entries(entry: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        DeviceRegistry.from_entries([entry])


def test_duplicate_devices_are_refused() -> None:
    entry = {"eui": GOLDEN_EUI, "key": GOLDEN_KEY.hex(), "device_id": "a"}
    with pytest.raises(ConfigError, match="registered twice"):
        DeviceRegistry.from_entries([entry, entry])
