"""Each hostile input the trust review found, as a regression test (no broker needed).

The MQTT pump is driven through ``FakeTransport`` so the tests can see exactly
which messages were acknowledged and when; ``test_hostile_mqtt.py`` does the
same against a real Mosquitto.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridcoop.hardware_bridge import chirpstack
from gridcoop.hardware_bridge.chirpstack import ChirpStackBridge
from gridcoop.hardware_bridge.codec import MeterFrame, encode_reading
from gridcoop.hardware_bridge.device_simulator import DeviceSimulator
from gridcoop.hardware_bridge.errors import MalformedMessageError, StoreError
from gridcoop.hardware_bridge.ingest import Ingest, Uplink
from gridcoop.hardware_bridge.mqtt_transport import MqttTransport
from gridcoop.hardware_bridge.registry import Device, DeviceRegistry
from gridcoop.hardware_bridge.replay_guard import ReplayGuard
from tests.fuzz.budget import FUZZ
from tests.hardware_bridge.conftest import GOLDEN_EUI, GOLDEN_KEY, wait_until
from tests.hardware_bridge.fake_mqtt import FakeTransport
from tests.hardware_bridge.test_hostile_mqtt import POISONS

APP = "hostile"


@pytest.fixture
def fleet() -> DeviceSimulator:
    offline = MqttTransport("127.0.0.1", 1, client_id="offline")
    return DeviceSimulator("chirpstack", meters=20, seed=2, start_s=0, application_id=APP,
                           transport=offline)


@pytest.fixture
def fake() -> FakeTransport:
    return FakeTransport()


@pytest.fixture
def bridge(fleet: DeviceSimulator, fake: FakeTransport) -> Iterator[ChirpStackBridge]:
    cs = ChirpStackBridge(fleet.registry, application_id=APP, transport=fake)  # type: ignore[arg-type]
    yield cs
    cs.close()


@pytest.mark.parametrize("poison", sorted(POISONS))
def test_each_poison_is_malformed_or_harmless(poison: str) -> None:
    topic = chirpstack.event_topic(APP, GOLDEN_EUI, "up")
    if poison == "huge_rssi":  # radio metadata only: an unusable rssi is left out
        assert chirpstack.parse_uplink(topic, POISONS[poison], 0.0).rssi is None
        return
    with pytest.raises(MalformedMessageError):
        chirpstack.parse_uplink(topic, POISONS[poison], 0.0)


def test_poison_between_valid_messages_costs_nothing_and_everything_is_acked(
    bridge: ChirpStackBridge, fleet: DeviceSimulator, fake: FakeTransport
) -> None:
    messages = fleet.build_round()
    poison_topic = chirpstack.event_topic(APP, fleet.devices[3].eui, "up")
    mids = [fake.deliver(t, p) for t, p in messages[:10]]
    mids += [fake.deliver(poison_topic, body) for body in POISONS.values()]
    mids += [fake.deliver(t, p) for t, p in messages[10:]]
    readings = bridge.drain()
    assert len(readings) == 20
    assert sorted(fake.acked) == mids
    stats = bridge.stats()
    assert stats["rejected.malformed_message"] == 2  # the rssi one decodes; its frame does not
    assert stats["rejected.bad_version"] == 1
    assert stats["accepted"] == 20


def test_a_message_is_acknowledged_only_after_the_guard_commit(
    bridge: ChirpStackBridge, fleet: DeviceSimulator, fake: FakeTransport,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk() -> None:
        raise StoreError("replay guard: cannot write (database or disk is full)")

    with bridge._lock:  # the pump thread must not record before the failing commit is in place
        monkeypatch.setattr(bridge.guard, "commit", full_disk)
        for topic, body in fleet.build_round()[:5]:
            fake.deliver(topic, body)
    with pytest.raises(StoreError):
        bridge.poll(10**12)
    assert fake.acked == []  # the broker keeps them and delivers them again after a crash
    monkeypatch.undo()
    assert len(bridge.drain()) == 5  # held, not lost, while the disk was full
    assert sorted(fake.acked) == [1, 2, 3, 4, 5]


def test_a_decoder_defect_refuses_one_message_only(
    bridge: ChirpStackBridge, fleet: DeviceSimulator, fake: FakeTransport,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    real = chirpstack.parse_uplink

    def buggy(topic: str, payload: bytes, now_s: float) -> Uplink:
        if payload == b"{}":
            raise ZeroDivisionError("a defect")
        return real(topic, payload, now_s)

    monkeypatch.setattr(chirpstack, "parse_uplink", buggy)
    messages = fleet.build_round()
    fake.deliver(messages[0][0], b"{}")
    for topic, body in messages:
        fake.deliver(topic, body)
    assert len(bridge.drain()) == 20
    assert bridge.stats()["rejected.decoder_fault"] == 1
    assert len(fake.acked) == 21


def test_the_pump_thread_records_and_acks_between_polls(
    bridge: ChirpStackBridge, fleet: DeviceSimulator, fake: FakeTransport
) -> None:
    for topic, body in fleet.build_round():
        fake.deliver(topic, body)
    wait_until(lambda: len(fake.acked) == 20, 5.0, "acks from the pump thread")
    assert len(bridge.drain()) == 20  # held for poll, acknowledged already


def test_event_counters_are_bounded(bridge: ChirpStackBridge, fake: FakeTransport) -> None:
    for index in range(500):
        fake.deliver(f"application/{APP}/device/{GOLDEN_EUI}/event/kind{index}", b"{}")
    bridge.drain()
    assert len(bridge.events) <= 64
    assert bridge.events["other"] > 400


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 19), st.binary(max_size=200)), max_size=8),
       st.sampled_from(["up", "join", "ack", "log", "txack"]))
def test_any_junk_between_valid_messages_costs_nothing(
    junk: list[tuple[int, bytes]], event: str
) -> None:
    offline = MqttTransport("127.0.0.1", 1, client_id="offline")
    sim = DeviceSimulator("chirpstack", meters=20, seed=2, start_s=0, application_id=APP,
                          transport=offline)
    fake = FakeTransport()
    cs = ChirpStackBridge(sim.registry, application_id=APP, transport=fake)  # type: ignore[arg-type]
    try:
        messages = sim.build_round()
        for index, payload in junk:
            fake.deliver(chirpstack.event_topic(APP, sim.devices[index].eui, event), payload)
        for topic, body in messages:
            fake.deliver(topic, body)
        assert len(cs.drain()) == 20
        assert len(fake.acked) == len(junk) + 20
        assert cs.stats().get("rejected.decoder_fault", 0) == 0
    finally:
        cs.close()


# -- the replay guard -------------------------------------------------------------------


def signed_uplink(seq: int, f_cnt: int, dedup: str) -> Uplink:
    frame = MeterFrame(boot=1, seq=seq, energy_vah=10 * seq, irms_ca=1, s_avg_va=1, s_max_va=1,
                       interval_min=15)
    payload = encode_reading(frame, dev_eui=GOLDEN_EUI, key=GOLDEN_KEY)
    return Uplink(GOLDEN_EUI, 10, payload, "chirpstack", 1000.0 + seq, dedup, "01020304", f_cnt)


@pytest.mark.parametrize("f_cnt", [10**30, 2**63, 2**32, -1])
def test_a_signed_frame_with_an_impossible_fcnt_does_not_jam_the_guard(
    tmp_path: Path, golden_registry: DeviceRegistry, f_cnt: int
) -> None:
    path = tmp_path / "guard.sqlite"
    guard = ReplayGuard(path)
    ingest = Ingest(golden_registry, guard)
    assert ingest.process(signed_uplink(1, 5, "a")) is not None
    guard.commit()
    assert ingest.process(signed_uplink(2, f_cnt, "b")) is None  # refused, nothing changed
    guard.commit()
    assert ingest.process(signed_uplink(2, 6, "c")) is not None  # the honest frame still lands
    guard.commit()
    assert guard.counters["rejected.bad_fcnt"] == 1
    guard.close()
    reopened = ReplayGuard(path)
    state = reopened.state(GOLDEN_EUI)
    assert state is not None and (state.seq, state.f_cnt) == (2, 6)
    reopened.close()


class FailingConnection:
    """Wraps a SQLite connection; the first ``executemany`` after ``arm`` fails."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.armed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)

    def executemany(self, sql: str, rows: Any) -> Any:
        if self.armed:
            self.armed = False
            raise sqlite3.OperationalError("database or disk is full")
        return self.db.executemany(sql, rows)


def test_a_failed_commit_rolls_back_and_is_retried(
    tmp_path: Path, golden_registry: DeviceRegistry
) -> None:
    guard = ReplayGuard(tmp_path / "guard.sqlite")
    wrapper = FailingConnection(guard._db)
    guard._db = wrapper  # type: ignore[assignment]
    ingest = Ingest(golden_registry, guard)
    assert ingest.process(signed_uplink(1, 1, "a")) is not None
    wrapper.armed = True
    with pytest.raises(StoreError, match="disk is full"):
        guard.commit()
    assert not wrapper.db.in_transaction  # rolled back, not left open after BEGIN
    guard.commit()  # the kept changes go in now
    guard.close()
    reopened = ReplayGuard(tmp_path / "guard.sqlite")
    assert reopened.state(GOLDEN_EUI) is not None
    reopened.close()


def test_unauthenticated_joins_do_not_grow_the_guard(tmp_path: Path) -> None:
    guard = ReplayGuard(tmp_path / "guard.sqlite")
    for index in range(10_000):
        guard.reset_session(f"{index:016x}", "0" * 10_000)
    guard.commit()
    assert guard.counters["joins"] == 10_000
    rows = guard._db.execute("SELECT COUNT(*) FROM meter_state").fetchone()[0]
    assert rows == 0
    guard.close()


def test_a_join_resets_a_known_meters_session(golden_registry: DeviceRegistry) -> None:
    guard = ReplayGuard()
    ingest = Ingest(golden_registry, guard)
    assert ingest.process(signed_uplink(1, 7, "a")) is not None
    guard.reset_session(GOLDEN_EUI, "new-session")
    state = guard.state(GOLDEN_EUI)
    assert state is not None and (state.session, state.f_cnt) == ("new-session", None)


def test_rejection_log_keeps_bounded_text() -> None:
    guard = ReplayGuard()
    guard.reject("m" * 100_000, "unknown_device", "d" * 100_000, 0.0)
    meter, _, detail, _ = guard.rejections(1)[0]
    assert len(meter) == 200 and len(detail) == 200


def test_text_sqlite_cannot_store_never_jams_the_guard(
    tmp_path: Path, golden_registry: DeviceRegistry
) -> None:
    guard = ReplayGuard(tmp_path / "guard.sqlite")
    ingest = Ingest(golden_registry, guard)
    guard.reject("\ud800meter", "malformed_message", "time '\udfff' is not RFC 3339", 0.0)
    up = signed_uplink(1, 1, "dedup-\ud800")
    assert ingest.process(Uplink(**{**_fields(up), "session": "s\ud800"})) is not None
    guard.commit()  # used to fail: "surrogates not allowed", and every commit after it
    assert ingest.process(signed_uplink(1, 2, "dedup-\ud800")) is None  # same delivery id
    assert ingest.process(signed_uplink(2, 2, "next")) is not None
    guard.close()


def _fields(up: Uplink) -> dict[str, Any]:
    return {name: getattr(up, name) for name in Uplink.__slots__}


def test_an_unreadable_guard_file_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "guard.sqlite"
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(StoreError, match="cannot open"):
        ReplayGuard(path)


def test_unknown_devices_leave_no_state(golden_registry: DeviceRegistry) -> None:
    guard = ReplayGuard()
    ingest = Ingest(DeviceRegistry([Device(eui=GOLDEN_EUI, key=GOLDEN_KEY)]), guard)
    for index in range(1000):
        up = Uplink(f"{index:016x}", 10, b"\x00" * 20, "chirpstack", 0.0, f"d{index}", "s", index)
        assert ingest.process(up) is None
    guard.commit()
    assert guard.counters["rejected.unknown_device"] == 1000
    assert guard.state(f"{5:016x}") is None
    assert guard._db.execute("SELECT COUNT(*) FROM seen_delivery").fetchone()[0] == 0
