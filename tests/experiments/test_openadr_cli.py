"""``gridcoop openadr vtn`` and ``ven`` talking to each other as two processes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from gridcoop.experiments.cli import main
from gridcoop.hardware_bridge.mosquitto import free_port
from tests.hardware_bridge.conftest import need

try:
    import openleadr
except ImportError:
    openleadr = None

CLI = [sys.executable, "-m", "gridcoop.experiments.cli", "openadr"]


@pytest.mark.slow
def test_a_ven_process_registers_and_answers_a_vtn_process() -> None:
    need("ok" if openleadr is not None else None, "openleadr (pip install '.[openadr]')")
    port = free_port()
    vtn = subprocess.Popen(
        [*CLI, "vtn", "--port", str(port), "--poll-s", "1", "--ven", "house-1=VEN-1",
         "--event", "2:900", "--event", "1:600", "--lead-s", "2", "--for-s", "25"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        url = json.loads(vtn.stdout.readline() if vtn.stdout else "{}")["url"]
        ven = subprocess.run(
            [*CLI, "ven", "--vtn-url", url, "--name", "house-1", "--opt-in-from", "2",
             "--for-s", "10"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        vtn_out, _ = vtn.communicate(timeout=120)
    finally:
        vtn.kill()
    assert ven.returncode == 0, ven.stderr
    ven_lines = [json.loads(line) for line in ven.stdout.splitlines()]
    assert ven_lines[0] == {"record": "registered", "ven_id": "VEN-1"}
    assert sorted((x["level"], x["duration_s"], x["opted_in"]) for x in ven_lines[1:]) == [
        (1, 600, False), (2, 900, True)]  # fmt: skip
    vtn_lines = [json.loads(line) for line in vtn_out.splitlines()]
    kinds = [x["record"] for x in vtn_lines]
    assert kinds.count("VenRegistered") == 1 and kinds.count("EventSent") == 2
    assert sorted((x["event_id"] in {e["event_id"] for e in ven_lines[1:]}, x["opted_in"])
                  for x in vtn_lines if x["record"] == "OptReceived") == [
        (True, False), (True, True)]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["vtn", "--port", "8080", "--ven", "house-1"], "must look like A=B"),
        (["vtn", "--port", "8080", "--event", "2:x"], "two integers"),
        (["vtn", "--port", "8080", "--event", "4:60"], "0-3"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["openadr", *args])
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output
