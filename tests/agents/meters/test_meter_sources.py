"""The scenario's ``meters:`` choice: members read through a serial Arduino (pty) and ChirpStack
(real Mosquitto, device simulator), the rest simulated, settled on what the devices sent."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gridcoop.agents.bus.messages import MeterReadingBatch
from gridcoop.agents.meters.smart_meters import ReadingColumns
from gridcoop.agents.model.community import CommunityModel
from gridcoop.agents.model.regions import InProcessRegions
from gridcoop.agents.runtime.distributed import DistributedModel
from gridcoop.agents.scenario.registry import build_scenario
from gridcoop.agents.scenario.schema import ScenarioError
from gridcoop.hardware_bridge.bridge_base import HardwareBridge
from gridcoop.hardware_bridge.device_simulator import DEMO_MASTER_KEY, DeviceSimulator
from gridcoop.hardware_bridge.mosquitto import MosquittoBroker, find_mosquitto
from gridcoop.hardware_bridge.registry import Device, DeviceRegistry, simulated_eui
from gridcoop.hardware_bridge.serial_bridge import SerialMeterSource
from tests.hardware_bridge.fake_arduino import FakeArduino

SERIAL_EUI = "70b3d57ed0000aaa"
SERIAL_KEY = bytes(range(16))
EPOCH_S = 1_699_999_200  # the device simulator's virtual start, a multiple of 900 s
BASE: dict[str, Any] = {"households": 6, "regions": 2, "days": 1, "seed": 3}  # h0..h2 r0


def wait_until(check: Callable[[], object], what: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoBroker]:
    exe = find_mosquitto()
    if exe is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but mosquitto is not installed (see .ci/setup.d/bridge.sh)")
        pytest.skip("mosquitto is not installed (see .ci/setup.d/bridge.sh)")
    mqtt = MosquittoBroker(executable=exe, workdir=tmp_path_factory.mktemp("mqtt-meters"))
    mqtt.start()
    yield mqtt
    mqtt.close()


@pytest.fixture
def arduino(tmp_path: Path) -> Iterator[FakeArduino]:
    device = FakeArduino(tmp_path / "ttyACM0", SERIAL_EUI, SERIAL_KEY)
    yield device
    device.close()


def serial_spec(tmp_path: Path, link: str, **extra: Any) -> dict[str, Any]:
    registry = tmp_path / "serial-devices.yaml"
    DeviceRegistry([Device(eui=SERIAL_EUI, key=SERIAL_KEY, name="lab meter")]).dump(registry)
    return {"kind": "serial", "members": ["h1"], "devices": {"h1": SERIAL_EUI},
            "settings": {"url": link, "registry": str(registry), "reset_wait_s": 5.0,
                         "guard": str(tmp_path / "serial-guard.sqlite")}, **extra}


def bridge(model: CommunityModel, index: int) -> HardwareBridge:
    """The index-th hardware source of the model, as the bridge class it is."""
    source = model.meter_sources.hardware[index].source
    assert isinstance(source, HardwareBridge)
    return source


def serial_bridge(model: CommunityModel) -> SerialMeterSource:
    source = bridge(model, 0)
    assert isinstance(source, SerialMeterSource)
    return source


def accepted(model: CommunityModel, index: int) -> int:
    return int(bridge(model, index).stats().get("accepted", 0))


def spy_batches(model: CommunityModel) -> list[MeterReadingBatch]:
    """The hourly batches the aggregators forward to the central market (what is settled)."""
    seen: list[MeterReadingBatch] = []
    original = model.central._on_readings

    def record(batch: MeterReadingBatch) -> None:
        seen.append(batch)
        original(batch)

    model.central._on_readings = record  # type: ignore[method-assign]
    return seen


@pytest.mark.broker
def test_serial_and_chirpstack_members_settle_on_device_readings(
        tmp_path: Path, arduino: FakeArduino, broker: MosquittoBroker) -> None:
    registry = tmp_path / "lora-devices.yaml"
    DeviceRegistry.simulated(2, DEMO_MASTER_KEY).dump(registry)  # device 2 is no member's
    lora = {"kind": "chirpstack", "members": ["h3"], "epoch_s": EPOCH_S,
            "devices": {"h3": simulated_eui(0)},
            "settings": {"broker": f"{broker.host}:{broker.port}", "application_id": "gc-meters",
                         "registry": str(registry), "client_id": f"gc-meters-{os.getpid()}"}}
    meters = {"sources": [serial_spec(tmp_path, arduino.path), lora]}
    model = CommunityModel("neighbourhood", meters=meters, **BASE)
    twin = CommunityModel("neighbourhood", **BASE)  # the same community, all simulated
    sim = DeviceSimulator("chirpstack", broker=f"{broker.host}:{broker.port}", meters=2,
                          application_id="gc-meters", start_s=EPOCH_S, seed=5).start()
    try:
        seen = spy_batches(model)
        assert serial_bridge(model).wait_connected(5)
        arduino.reset()  # the Uno restarts when the port opens: banner first
        model.step()
        twin.step()  # interval 0 runs; nothing to read yet
        arduino.send_reading(242)  # 242 VAh since boot at PF 1 -> 242 Wh
        sim.step()  # round 0, ending at EPOCH_S + 900
        wait_until(lambda: accepted(model, 0) == 1 and accepted(model, 1) == 2, "both readings")
        model.step()
        twin.step()  # reads interval 0
        lora_wh = int(sim.energy_wh_published[0])
        expected = twin.last_import_wh.copy()
        expected[1], expected[3] = 242, lora_wh
        assert model.last_import_wh.tolist() == expected.tolist()
        assert model.last_export_wh[[1, 3]].tolist() == [0, 0]

        model.step()
        twin.step()  # interval 1: no device sent anything -> 0 Wh, estimated
        expected = twin.last_import_wh.copy()
        expected[1] = expected[3] = 0
        assert model.last_import_wh.tolist() == expected.tolist()

        arduino.reading_line(100)  # a frame lost on the way: its 100 VAh ride on the next
        arduino.send_reading(300)
        arduino.send_reading(58)  # two frames in one step add up: 100 + 300 + 58 = 458 Wh
        wait_until(lambda: accepted(model, 0) == 3, "the serial frames")
        model.step()
        twin.step()  # interval 2
        assert model.last_import_wh[1] == 458
        assert model.last_import_wh[3] == 0  # the simulator published nothing more
        hw = model.meter_sources.hardware
        assert hw[0].counts["lost_frames"] == 1 and hw[1].counts["unmapped"] == 1

        model.step()
        twin.step()  # interval 3 ends the first hour; the aggregators forward it
        model.step()
        twin.step()
        r0 = next(b for b in seen if b.region_id == "r0")
        r1 = next(b for b in seen if b.region_id == "r1")
        assert r0.meter_ids == ["m-h0", "m-h1", "m-h2"] and r1.meter_ids[0] == "m-h3"
        assert r0.import_wh[1] == 242 + 0 + 458 + 0  # the hour settled on the device's Wh
        assert r1.import_wh[0] == lora_wh
    finally:
        sim.close()
        model.close()
        twin.close()


def test_serial_member_alone_and_estimated_flags(tmp_path: Path, arduino: FakeArduino) -> None:
    """Without a broker: the batch message flags the silent hardware meter as estimated."""
    model = CommunityModel("neighbourhood", meters={"sources": [serial_spec(tmp_path,
                                                                            arduino.path)]},
                           **BASE)
    try:
        sent: list[MeterReadingBatch] = []
        regions = model.region_host
        assert isinstance(regions, InProcessRegions)
        original = regions.region_meters[0].to_message

        def keep(columns: ReadingColumns, sim_time_s: int) -> MeterReadingBatch:
            sent.append(original(columns, sim_time_s))
            return sent[-1]

        regions.region_meters[0].to_message = keep  # type: ignore[method-assign]
        assert serial_bridge(model).wait_connected(5)
        arduino.reset()
        model.step()
        model.step()  # interval 0: the Arduino has said nothing
        assert sent[-1].estimated == [False, True, False] and sent[-1].import_wh[1] == 0
        arduino.send_reading(77)
        wait_until(lambda: accepted(model, 0) == 1, "the serial frame")
        model.step()
        assert sent[-1].import_wh[1] == 77 and sent[-1].estimated == []
        assert model.meters[1].last_import_wh == 77  # the SmartMeter agent, unchanged
        assert regions.region_meters[1].source.__class__.__name__ == "BankRows"  # simulated
    finally:
        model.close()


def test_simulated_kind_and_default_change_nothing() -> None:
    plain = CommunityModel("neighbourhood", **BASE)
    chosen = CommunityModel("neighbourhood", meters={"default": "simulated", "sources": [
        {"kind": "simulated", "region": "r1"}]}, **BASE)
    try:
        assert plain.run()["ledger_head_hash"] == chosen.run()["ledger_head_hash"]
    finally:
        plain.close()
        chosen.close()


@pytest.mark.parametrize(("meters", "key"), [
    ({"sources": [{"kind": "lora", "members": ["h1"]}]}, "meters.sources.kind"),
    ({"source": []}, "meters.source"),
    ({"default": "serial"}, "meters.default"),
    ({"sources": [{"kind": "serial", "members": ["h1"], "region": "r0",
                   "settings": {"url": "loop://", "registry": "d.yaml"}}]}, "region"),
    ({"sources": [{"kind": "ttn", "members": ["h1"],
                   "settings": {"registry": "d.yaml", "api_key": "NNSXS.x"}}]},
     "settings.api_key"),
    ({"sources": [{"kind": "chirpstack", "members": ["h1"], "settings": {}}]},
     "settings.registry"),
    ({"sources": [{"kind": "serial", "members": ["h1"], "settings": {"registry": "d.yaml"}}]},
     "settings.url"),
    ({"sources": [{"kind": "simulated", "members": ["h1"]},
                  {"kind": "simulated", "members": ["h1", "h2"]}]}, "meters.sources[1]"),
    ({"sources": [{"kind": "serial", "members": ["h1"], "devices": {"h2": "70b3d57ed0000aaa"},
                   "settings": {"url": "loop://", "registry": "d.yaml"}}]}, "devices"),
])
def test_bad_meter_config_names_the_key(meters: dict[str, Any], key: str) -> None:
    with pytest.raises(ScenarioError, match=key.replace("[", r"\[").replace("]", r"\]")):
        build_scenario("neighbourhood", {**BASE, "meters": meters})


@pytest.mark.parametrize(("entry", "key"), [
    ({"kind": "simulated", "members": ["h9"]}, r"meters.sources\[0\].members: unknown member"),
    ({"kind": "simulated", "region": "r7"}, r"meters.sources\[0\].region: unknown region 'r7'"),
    ({"kind": "serial", "members": ["h1"], "settings": {"url": "loop://",
                                                        "registry": "missing.yaml"}},
     r"meters.sources\[0\].settings.registry"),
    ({"kind": "ttn", "members": ["h1"], "settings": {
        "registry": "REG", "application_id": "a", "api_key_env": "GC_TEST_UNSET_VARIABLE"}},
     r"meters.sources\[0\].settings.api_key_env: environment variable GC_TEST_UNSET_VARIABLE"),
    ({"kind": "serial", "members": ["h1"], "settings": {"url": "loop://", "registry": "REG"}},
     r"meters.sources\[0\].devices: no device for member h1"),
    ({"kind": "serial", "members": ["h1"], "devices": {"h1": "70b3d57ed0000bbb"},
      "settings": {"url": "loop://", "registry": "REG"}},
     r"meters.sources\[0\].devices.h1: device '70b3d57ed0000bbb' is not in the registry"),
    ({"kind": "serial", "members": ["h1"], "devices": {"h1": SERIAL_EUI},
      "settings": {"url": "loop://", "registry": "REG", "baudrate": 9600}},
     r"meters.sources\[0\].settings: .*baudrate"),
])
def test_bad_members_regions_and_devices_fail_at_build(tmp_path: Path, entry: dict[str, Any],
                                                       key: str) -> None:
    registry = tmp_path / "devices.yaml"
    DeviceRegistry([Device(eui=SERIAL_EUI, key=SERIAL_KEY)]).dump(registry)
    settings = {k: (str(registry) if v == "REG" else v) for k, v in entry.get("settings",
                                                                               {}).items()}
    spec = {**entry, **({"settings": settings} if settings else {})}
    with pytest.raises(ScenarioError, match=key):
        CommunityModel("neighbourhood", base_dir=str(tmp_path), meters={"sources": [spec]},
                       **BASE)


def test_secrets_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gridcoop.agents.meters.sources import bridge_settings
    from gridcoop.agents.meters.spec import MeterSourceSpec

    monkeypatch.setenv("GC_TEST_TTN_KEY", "NNSXS.secret")
    (tmp_path / "pw").write_text("hunter2\n")
    spec = MeterSourceSpec(kind="ttn", region="r0", settings={
        "registry": "devices.yaml", "api_key_env": "GC_TEST_TTN_KEY", "password_file": "pw"})
    assert bridge_settings(spec, "m", tmp_path) == {
        "registry": str(tmp_path / "devices.yaml"), "api_key": "NNSXS.secret",
        "password": "hunter2"}


def test_processes_refuse_hardware_meters(tmp_path: Path) -> None:
    meters = {"sources": [{"kind": "serial", "members": ["h1"],
                           "settings": {"url": "loop://", "registry": "d.yaml"}}]}
    with pytest.raises(ScenarioError, match=r"meters.sources\[0\] is kind 'serial'.*--processes"):
        DistributedModel("neighbourhood", processes=2, meters=meters, **BASE)


@pytest.mark.parametrize("name", ["hmac_key", "key", "master_key", "device_key"])
def test_device_keys_may_not_be_written_in_the_scenario(name: str) -> None:
    from gridcoop.agents.meters.spec import MeterSourceSpec

    with pytest.raises(ValueError, match=f"settings.{name}: secrets may not be written"):
        MeterSourceSpec(kind="serial", region="r0", settings={
            "registry": "d.yaml", "url": "loop://", name: "00112233445566778899aabbccddeeff"})
    MeterSourceSpec(kind="serial", region="r0", settings={
        "registry": "d.yaml", "url": "loop://", f"{name}_file": "key.hex"})
