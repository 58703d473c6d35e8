"""The live config's refusals, and the CurveZMQ endpoint: a listed peer's command is queued,
an unknown key is refused in the handshake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import zmq

from gridcoop.agents.bus.curve import CurveConfig, CurveKeyPair
from gridcoop.agents.bus.schema import DRCommand
from gridcoop.agents.bus.transport import Bus
from gridcoop.agents.bus.wire import PeerAddress
from gridcoop.experiments.live.commands import CommandQueue, ImportThresholdRule
from gridcoop.experiments.live.config import LiveConfigError, load_config, parse_config
from gridcoop.experiments.live.remote import RemoteAgents

EXAMPLE = Path(__file__).resolve().parents[3] / "experiments/live/examples/campus-live.yaml"


def _base() -> dict[str, Any]:
    return {"community": {"meters": [{"node": "h1", "device": "70b3d57ed0000001",
                                      "source": "lns"}]},
            "sources": {"lns": {"kind": "chirpstack", "registry": "devices.yaml"}},
            "ledger": {"path": "ledger.sqlite"}}


def test_the_example_config_is_valid() -> None:
    config = load_config(EXAMPLE)
    assert config.interval_s == 900 and config.commands.rules[0].node == "lab-1"


def test_an_inline_password_is_refused() -> None:
    data = _base()
    data["sources"]["lns"]["credentials"] = {"username": "u", "password": "hunter2"}
    with pytest.raises(LiveConfigError, match=r"sources.lns.credentials.password: secrets may "
                                              r"not be written"):
        parse_config(data)


def test_a_misspelt_key_names_the_closest_one() -> None:
    data = _base()
    data["sources"]["lns"]["prot"] = 1883
    with pytest.raises(LiveConfigError, match=r"sources.lns.prot: unknown key; did you mean "
                                              r"'port'\?"):
        parse_config(data)


def test_a_meter_on_an_undefined_source_is_refused() -> None:
    data = _base()
    data["community"]["meters"][0]["source"] = "ttn"
    with pytest.raises(LiveConfigError, match="names source 'ttn'; defined sources: \\['lns'\\]"):
        parse_config(data)


def test_password_env_must_be_set(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _base()
    data["sources"]["lns"]["credentials"] = {"password_env": "GRIDCOOP_TEST_PW"}
    config = parse_config(data)
    monkeypatch.delenv("GRIDCOOP_TEST_PW", raising=False)
    with pytest.raises(LiveConfigError, match="GRIDCOOP_TEST_PW is not set"):
        config.sources["lns"].credentials.password()
    monkeypatch.setenv("GRIDCOOP_TEST_PW", "s3")
    assert config.sources["lns"].credentials.password() == "s3"


def test_threshold_rule_fires_once_and_restores() -> None:
    rule = ImportThresholdRule(threshold_kw=5, node="h1", appliance=2, restore_below_kw=3)
    assert rule.evaluate(4.9) is None
    first = rule.evaluate(5.1)
    assert first is not None and first.action == "off"
    assert rule.evaluate(6.0) is None  # already shed
    again = rule.evaluate(2.0)
    assert again is not None and again.action == "on"


def _remote(tmp_path: Path) -> tuple[RemoteAgents, CommandQueue, CurveKeyPair, PeerAddress]:
    server, peer = CurveKeyPair.generate(), CurveKeyPair.generate()
    _, server_secret = server.save(tmp_path, "live")
    peer_public, _ = peer.save(tmp_path, "ra-remote")
    data = _base()
    data["bus"] = {"secret_key_file": str(server_secret),
                   "peers": [{"name": "ra-remote", "public_key_file": str(peer_public)}]}
    data["ledger"] = {"path": str(tmp_path / "ledger.sqlite")}
    queue = CommandQueue()
    remote = RemoteAgents(parse_config(data, tmp_path), queue)
    address = remote.bus.address_of("live")
    assert address.server_public_key is not None
    return remote, queue, peer, address


def _command(name: str) -> DRCommand:
    return DRCommand(command_id="c1", household_id="h1", appliance="2", action="off",
                     start_s=0, duration_s=900, sender=name)


def test_a_listed_peer_queues_a_command(tmp_path: Path) -> None:
    remote, queue, peer, address = _remote(tmp_path)
    with Bus("tcp", curve=CurveConfig(peer, {address.server_public_key or b"": {"live"}})) as bus:
        endpoint = bus.endpoint("ra-remote")
        bus.add_peer("live", address)
        endpoint.send("live", _command("ra-remote"))
        for _ in range(50):
            remote.pump()
            bus.pump(0.05)
            if len(queue):
                break
        items = queue.drain()
    remote.close()
    assert [(c.node, c.appliance, c.action) for c in items] == [("h1", 2, "off")]


def test_a_peer_with_an_unknown_key_cannot_send(tmp_path: Path) -> None:
    remote, queue, _, address = _remote(tmp_path)
    stranger = CurveKeyPair.generate()
    with Bus("tcp", curve=CurveConfig(stranger, {address.server_public_key or b"": {"live"}}),
             ack_timeout_s=0.5, retries=0) as bus:
        endpoint = bus.endpoint("ra-remote")
        bus.add_peer("live", address)
        with pytest.raises((zmq.ZMQError, RuntimeError, TimeoutError)):
            endpoint.send("live", _command("ra-remote"))
            for _ in range(20):
                remote.pump()
                bus.pump(0.05)
            bus.settle(1.0)
        for _ in range(10):
            remote.pump()
    assert len(queue) == 0
    assert remote.auth_refused >= 1
    remote.close()
