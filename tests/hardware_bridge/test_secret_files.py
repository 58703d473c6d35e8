"""Device registries and master keys: owner-only files, never argv, any content a ConfigError.

The loader regressions are the shapes of input that used to escape as
``TypeError``/``AttributeError``/``RecursionError``/``ValueError`` (the trust
review counted 497 such exceptions in 2,400 inputs); the hypothesis targets in
``tests/fuzz`` cover the rest.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from gridcoop.experiments.cli import main
from gridcoop.hardware_bridge.device_simulator import DEMO_MASTER_KEY
from gridcoop.hardware_bridge.errors import ConfigError
from gridcoop.hardware_bridge.registry import DeviceRegistry
from gridcoop.hardware_bridge.secret_files import MASTER_KEY_ENV, master_key
from tests.hardware_bridge.conftest import GOLDEN_EUI, GOLDEN_KEY

KEY_HEX = GOLDEN_KEY.hex()


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("name", ["devices.yaml", "devices.json"])
def test_dump_writes_owner_only_and_load_reads_it_back(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("old, world-readable content")
    path.chmod(0o644)
    fleet = DeviceRegistry.simulated(3, DEMO_MASTER_KEY)
    fleet.dump(path)
    assert mode_of(path) == 0o600
    assert [d.to_entry() for d in DeviceRegistry.load(path)] == [d.to_entry() for d in fleet]
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_registry_others_can_read_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "devices.yaml"
    DeviceRegistry.simulated(1, DEMO_MASTER_KEY).dump(path)
    path.chmod(mode)
    with pytest.raises(ConfigError, match=f"mode {mode:04o}.*chmod 600"):
        DeviceRegistry.load(path)


def test_a_missing_or_unreadable_registry_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        DeviceRegistry.load(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="cannot be read"):
        DeviceRegistry.load(tmp_path)


ENTRY = {"eui": GOLDEN_EUI, "key": KEY_HEX}
HOSTILE_DOCUMENTS: list[tuple[str, bool, str]] = [
    ("devices: [1, 2]", False, "expected a mapping"),
    ("devices: [[1, 2]]", False, "expected a mapping"),
    ("- eui: 70b3d57ed0000001\n  key: [1]", False, "key must be str or int"),
    (f"- {{eui: {GOLDEN_EUI}, key: {KEY_HEX}, dr: '3'}}", False, "dr must be int"),
    (f"- {{eui: {GOLDEN_EUI}, key: {KEY_HEX}, dr: 99}}", False, "dr must be within"),
    (f"- {{eui: {GOLDEN_EUI}, key: {KEY_HEX}, interval_s: 1.5}}", False, "interval_s must"),
    (f"- {{eui: {GOLDEN_EUI}, key: {KEY_HEX}, interval_s: 0}}", False, "interval_s must"),
    (f"- {{eui: {GOLDEN_EUI}, key: {KEY_HEX}, require_mac: 'false'}}", False, "must be bool"),
    (f"- {{eui: {GOLDEN_EUI}, key: {KEY_HEX}, power_factor: .nan}}", False, "power_factor"),
    (f"- {{eui: {GOLDEN_EUI}, key: {KEY_HEX}, power_factor: {'9' * 400}}}", False,
     "power_factor"),
    (f"- {{eui: {GOLDEN_EUI}, key: {KEY_HEX}, name: {{a: 1}}}}", False, "name must be"),
    (f"- {{eui: {'1' * 5000}, key: {KEY_HEX}}}", False, "not valid YAML"),
    (f"- {{eui: {'1' * 300}, key: {KEY_HEX}}}", False, "longer than"),
    (f"- {{eui: true, key: {KEY_HEX}}}", False, "eui must be"),
    (f"- {{eui: {GOLDEN_EUI}, key: zz}}", False, "key is not hex"),
    (f"- {{eui: nothex, key: {KEY_HEX}}}", False, "not 8 bytes"),
    ("- {? [1, 2] : 3}", False, "not valid YAML"),
    (f"- {{eui: {GOLDEN_EUI}, key: {KEY_HEX}, 7: 3}}", False, "unknown fields"),
    ("[" * 50_000 + "]" * 50_000, False, "not valid YAML"),
    ("devices: !!python/object:os.system {}", False, "not valid YAML"),
    ("{devices: [&a {eui: 1}, *a]}", False, "needs 'eui' and 'key'"),
    ('{"devices": [' + "[" * 100_000 + "]" * 100_000 + "]}", True, "not valid JSON"),
    ('{"devices": [{"eui": 1e999, "key": "00"}]}', True, "not valid JSON"),
    ('{"devices": [{"eui": ' + "9" * 5000 + "}]}", True, "not valid JSON"),
    ('{"devices": 5}', True, "expected a list"),
    ("\ud800", False, "not valid YAML"),
]


@pytest.mark.parametrize(("text", "is_json", "message"), HOSTILE_DOCUMENTS)
def test_hostile_registry_documents_are_config_errors(
    text: str, is_json: bool, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        DeviceRegistry.parse(text, is_json)


def test_a_non_utf8_registry_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "devices.yaml"
    path.write_bytes(b"devices: [\xff\xfe]")
    path.chmod(0o600)
    with pytest.raises(ConfigError, match="not UTF-8"):
        DeviceRegistry.load(path)


def test_master_key_from_file_or_environment(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MASTER_KEY_ENV, raising=False)
    assert master_key(None) is None
    path = tmp_path / "master.key"
    path.write_text(KEY_HEX + "\n")
    path.chmod(0o600)
    assert master_key(path) == GOLDEN_KEY
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="other users"):
        master_key(path)
    monkeypatch.setenv(MASTER_KEY_ENV, "ab" * 32)
    assert master_key(None) == bytes([0xAB]) * 32
    monkeypatch.setenv(MASTER_KEY_ENV, "ab" * 4)
    with pytest.raises(ConfigError, match="at least 16"):
        master_key(None)


def test_devices_cli_refuses_a_key_on_argv_and_takes_one_from_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(MASTER_KEY_ENV, raising=False)
    runner = CliRunner()
    out = tmp_path / "devices.yaml"
    refused = runner.invoke(main, ["devices", "registry", "--master-key", KEY_HEX,
                                   "--meters", "2", "--out", str(out)])
    assert refused.exit_code == 2
    assert "not accepted" in refused.output and "Traceback" not in refused.output
    assert not out.exists()
    key_file = tmp_path / "master.key"
    key_file.write_text(KEY_HEX)
    key_file.chmod(0o600)
    done = runner.invoke(main, ["devices", "registry", "--master-key-file", str(key_file),
                                "--meters", "2", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert mode_of(out) == 0o600
    assert [d.key for d in DeviceRegistry.load(out)] == [
        d.key for d in DeviceRegistry.simulated(2, GOLDEN_KEY)
    ]
    key_file.chmod(0o644)
    readable = runner.invoke(main, ["devices", "registry", "--master-key-file", str(key_file),
                                    "--out", str(out)])
    assert readable.exit_code == 2 and "chmod 600" in readable.output
