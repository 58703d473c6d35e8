"""Shared fixtures: a private Mosquitto per session, device registries, tool checks.

Missing tools (mosquitto, gcc, avr-gcc, arduino-mk) skip their tests with a
reason, except under CI=true where they fail: CI must run everything.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware_bridge.mosquitto import MosquittoBroker, find_mosquitto
from hardware_bridge.registry import Device, DeviceRegistry

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
