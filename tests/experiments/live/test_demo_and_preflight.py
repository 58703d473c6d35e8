"""`gridcoop live demo` (broker, device simulator, community, page; Ctrl-C stops them all),
the docs' walkthrough run exactly as written, `--check`'s preflight, and the refusal log."""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from gridcoop.experiments.live.config import LiveConfigError, load_config
from gridcoop.experiments.live.preflight import inside_package, preflight
from gridcoop.experiments.live.refusals import RefusalLog
from gridcoop.hardware_bridge.mosquitto import find_mosquitto
from tests.experiments.viz.conftest import free_port

ROOT = Path(__file__).resolve().parents[3]
GRIDCOOP = [sys.executable, "-m", "gridcoop.experiments.cli"]
IN_CI = os.environ.get("CI", "").lower() == "true"


def need_mosquitto() -> None:
    if find_mosquitto() is None:
        if IN_CI:
            pytest.fail("CI=true but mosquitto is not installed")
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")


def config_file(tmp: Path, **source: Any) -> Path:
    data = {"community": {"name": "t", "seed": 1, "meters": [
                {"node": "lab", "device": "70b3d57ed0000001", "source": "lns"}]},
            "sources": {"lns": {"kind": "chirpstack", "registry": "devices.yaml",
                                "port": free_port(), **source}},
            "ledger": {"path": "ledger.sqlite"}}
    path = tmp / "live.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_preflight_names_every_missing_need(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRIDCOOP_TEST_UNSET", raising=False)
    config = load_config(config_file(tmp_path, credentials={
        "username": "u", "password_env": "GRIDCOOP_TEST_UNSET"}))
    problems = preflight(config)
    assert len(problems) == 3, problems
    assert problems[0].startswith("sources.lns.registry: ") and "does not exist" in problems[0]
    assert "GRIDCOOP_TEST_UNSET is not set" in problems[1]
    assert "does not answer" in problems[2]
    assert len(preflight(config, network=False)) == 2


def test_password_file_is_relative_to_the_config_and_private(tmp_path: Path) -> None:
    (tmp_path / "devices.yaml").write_text("devices: []\n")
    secret = tmp_path / "mqtt.pass"
    secret.write_text("s3cret\n")
    secret.chmod(0o644)
    config = load_config(config_file(tmp_path, credentials={"username": "u",
                                                            "password_file": "mqtt.pass"}))
    cwd = os.getcwd()
    try:
        os.chdir("/")  # relative to the config, not to where the command runs
        assert config.sources["lns"].credentials.password() == "s3cret"
        assert any("chmod 600" in p for p in preflight(config, network=False))
        secret.chmod(0o600)
        assert preflight(config, network=False) == []
    finally:
        os.chdir(cwd)


def test_inline_secret_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LiveConfigError, match="secrets may not be written"):
        load_config(config_file(tmp_path, credentials={"username": "u", "password": "x"}))


def test_the_example_config_may_not_write_into_the_package() -> None:
    example = ROOT / "experiments" / "live" / "examples" / "campus-live.yaml"
    config = load_config(example)
    assert inside_package(config.resolve(config.ledger.path))
    assert any(p.startswith("ledger.path: ") and "inside the installed gridcoop package" in p
               for p in preflight(config, network=False))


class FakeGuard:
    def __init__(self) -> None:
        self.counters: Counter[str] = Counter()
        self.rows: list[tuple[str, str, str, float]] = []

    def refuse(self, meter: str, reason: str, detail: str) -> None:
        self.counters[f"rejected.{reason}"] += 1
        self.rows.insert(0, (meter, reason, detail, 0.0))

    def rejections(self, limit: int) -> list[tuple[str, str, str, float]]:
        return self.rows[:limit]


class FakeSource:
    def __init__(self) -> None:
        self.guard = FakeGuard()


def test_every_refused_frame_is_logged_with_its_reason_and_a_restart_is_named(
        caplog: pytest.LogCaptureFixture) -> None:
    source = FakeSource()
    source.guard.refuse("m1", "bad_mac", "MIC mismatch")
    log = RefusalLog({"lns": source})  # refusals before the start are not news
    assert log.check("lns", source) == []
    source.guard.refuse("m2", "duplicate", "delivery 7")
    source.guard.refuse("m3", "seq_regression", "(boot 1, seq 2) after (boot 1, seq 40)")
    source.guard.refuse("m3", "seq_regression", "(boot 1, seq 3) after (boot 1, seq 40)")
    with caplog.at_level(logging.WARNING, logger="gridcoop.live"):
        lines = log.check("lns", source)
    assert lines[0] == "network server lns: 1 frame(s) from m2 refused (duplicate: delivery 7)"
    assert lines[1].startswith("network server lns: 2 frame(s) from m3 refused "
                               "(seq_regression: ")
    assert "looks RESTARTED" in lines[1]
    assert len(caplog.records) == 2
    source.guard.refuse("m3", "seq_regression", "(boot 1, seq 4) after (boot 1, seq 40)")
    assert "RESTARTED" not in log.check("lns", source)[0]  # said once per meter


def _processes_using(path: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if str(path).encode() in cmdline:
                found.append(int(entry.name))
    return found


@pytest.mark.slow
def test_demo_serves_its_page_and_stops_everything_on_ctrl_c(tmp_path: Path) -> None:
    need_mosquitto()
    port = free_port()
    log = (tmp_path / "demo.log").open("w")
    process = subprocess.Popen([*GRIDCOOP, "live", "demo", "--dir", str(tmp_path / "demo"),
                                "--port", str(port), "--speedup", "150"],
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, (tmp_path / "demo.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "demo.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                time.sleep(0.5)
        time.sleep(5)  # a few intervals
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=90) == 0, (tmp_path / "demo.log").read_text()
    finally:
        if process.poll() is None:
            process.kill()
        log.close()
    text = (tmp_path / "demo.log").read_text()
    assert "demo stopped" in text and "Traceback" not in text
    assert "calling" not in text  # no per-step framework noise
    assert _processes_using(tmp_path / "demo" / "broker") == []  # the broker is gone
    verify = subprocess.run([*GRIDCOOP, "ledger", "verify",
                             str(tmp_path / "demo" / "ledger.sqlite")],
                            capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def walkthrough() -> list[str]:
    """The commands of docs/guides/live.md's walkthrough block, as written."""
    text = (ROOT / "docs" / "guides" / "live.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- walkthrough: run by tests -->\s*```sh\n(.*?)```", text, re.S)
    assert block is not None, "docs/guides/live.md lost its walkthrough block"
    return [line for line in block.group(1).splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


@pytest.mark.slow
def test_the_docs_walkthrough_runs_exactly_as_written(tmp_path: Path) -> None:
    need_mosquitto()
    commands = walkthrough()
    assert any(c.startswith("gridcoop live demo") for c in commands)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    for command in commands:
        done = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
