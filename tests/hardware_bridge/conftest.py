"""Shared fixtures: a private Mosquitto per session, device registries, tool checks.

Missing tools (mosquitto, gcc, avr-gcc, arduino-mk) skip their tests with a
reason, except under CI=true where they fail: CI must run everything.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from gridcoop.hardware_bridge.mosquitto import MosquittoBroker, find_mosquitto
from gridcoop.hardware_bridge.mqtt_transport import MqttTransport
from gridcoop.hardware_bridge.registry import Device, DeviceRegistry

T = TypeVar("T")
IN_CI = os.environ.get("CI", "").lower() == "true"
FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN_EUI = "70b3d57ed0000001"
GOLDEN_KEY = bytes(range(16))  # 000102...0f, the reference's golden-vector key


def need(tool: str | None, what: str) -> str:
    """The tool's path, or skip (fail under CI=true) saying what is missing."""
    if tool:
        return tool
    message = f"{what} is not installed (see .ci/setup.d/bridge.sh)"
    if IN_CI:
        pytest.fail(f"CI=true but {message}")
    pytest.skip(message)


def which(name: str) -> str | None:
    return shutil.which(name)


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoBroker]:
    """One Mosquitto for the whole session (never restarted; see ``restartable_broker``)."""
    exe = need(find_mosquitto(), "mosquitto")
    mqtt = MosquittoBroker(executable=exe, workdir=tmp_path_factory.mktemp("mosquitto"))
    mqtt.start()
    yield mqtt
    mqtt.close()


@pytest.fixture
def restartable_broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """A broker of its own with persistence, for the restart test."""
    exe = need(find_mosquitto(), "mosquitto")
    mqtt = MosquittoBroker(executable=exe, workdir=tmp_path / "mqtt", persistence=True)
    mqtt.start()
    yield mqtt
    mqtt.close()


@pytest.fixture
def golden_registry() -> DeviceRegistry:
    """The reference's sample device: devEUI 70b3d57ed0000001, key 00..0f, TTN id meter-ed1-001."""
    return DeviceRegistry([Device(eui=GOLDEN_EUI, key=GOLDEN_KEY, device_id="meter-ed1-001")])


@pytest.fixture
def client_id(request: pytest.FixtureRequest) -> str:
    """A client id unique to the test (persistent sessions must not leak between tests)."""
    return f"t-{request.node.name[:40]}-{os.getpid()}"


def load_fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def wait_until(check: Callable[[], object], timeout_s: float = 10.0, what: str = "") -> None:
    """Poll ``check`` until it is truthy (brokers and ptys deliver asynchronously)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what or check}")


def gather(
    into: list[T],
    fetch: Callable[[], list[T]],
    count: int,
    timeout_s: float = 10.0,
    what: str = "",
) -> list[T]:
    """Keep calling ``fetch`` (drain, acks, messages) until ``into`` holds ``count`` items."""

    def enough() -> bool:
        into.extend(fetch())
        return len(into) >= count

    wait_until(enough, timeout_s, what or f"{count} items")
    return into


@pytest.fixture
def mqtt_client(broker: MosquittoBroker, client_id: str) -> Iterator[MqttTransport]:
    """A plain MQTT client playing the network server: publishes canned events."""
    client = MqttTransport(
        broker.host, broker.port, client_id=f"{client_id}-ns", persistent_session=False
    )
    client.start(10)
    yield client
    client.close()
