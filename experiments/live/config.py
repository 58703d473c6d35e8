"""The live config: which meters are real, how to reach the network server, where the ledger is.

Why pydantic with ``extra="forbid"``: a typo in a live config (``brokr:``) must
stop the start with the bad key and the closest known one, not run a campus with
a default. Secrets never sit in the file: a password or API key is named by the
environment variable or the file that holds it, and an inline one is refused.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gridcoop.agents.meters.spec import SECRET_WORDS


class LiveConfigError(ValueError):
    """The live config is wrong; the message names the key and what to do."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Credentials(_Strict):
    """Where the secret lives: an environment variable or a file (mode 0600)."""

    username: str | None = None
    password_env: str | None = None
    password_file: Path | None = None

    def password(self) -> str | None:
        """Read the secret now (at start), failing with the variable or file to set."""
        if self.password_env:
            value = os.environ.get(self.password_env)
            if value is None:
                raise LiveConfigError(f"credentials.password_env: environment variable "
                                      f"{self.password_env} is not set; export it before start")
            return value
        if self.password_file:
            try:
                return self.password_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise LiveConfigError(f"credentials.password_file: cannot read "
                                      f"{self.password_file} ({exc})") from exc
        return None


class NetworkServer(_Strict):
    """A ChirpStack / TTN application over MQTT, or an Arduino on a serial port."""

    kind: Literal["chirpstack", "ttn", "serial"]
    registry: Path
    host: str = "127.0.0.1"
    port: int = Field(1883, ge=1, le=65535)
    tls: bool = False
    application_id: str = "gridcoop"
    tenant: str = "ttn"
    url: str | None = None  # serial: device path or pyserial URL
    qos: int = Field(1, ge=0, le=1)
    guard: Path | None = None  # the replay guard's SQLite file (default next to the ledger)
    credentials: Credentials = Credentials()
    client_id: str | None = None

    @model_validator(mode="after")
    def _serial_url(self) -> NetworkServer:
        if self.kind == "serial" and not self.url:
            raise ValueError("a serial source needs url (e.g. /dev/ttyACM0)")
        return self


class RealMeter(_Strict):
    """A household/classroom whose meter is real: its node id, device EUI, and source name.

    ``member`` is the community model's member the meter measures (its model meter
    is ``m-<member>``); ``appliances`` maps the model's device ids of that member
    (e.g. a DR household's ``h3-hvac``) to appliance numbers on the real device.
    """

    node: str
    device: str
    source: str
    member: str | None = None
    appliances: dict[str, int] = {}


class ModelSettings(_Strict):
    """The community model live mode runs (``agents.CommunityModel``): kind, horizon, params.

    The metering and market intervals, the seed and the signing policy come from
    the live config (``clock``, ``community.seed``, ``ledger.signing``).
    """

    scenario: str = "neighbourhood"
    days: int = Field(7, ge=1, le=366)
    params: dict[str, Any] = {}


class Community(_Strict):
    name: str = "campus"
    seed: int = 0
    meters: list[RealMeter] = []
    simulated_meters: int = Field(0, ge=0, le=100_000)
    simulated_mean_w: float = Field(400.0, ge=0)
    model: ModelSettings | None = None


class Clock(_Strict):
    metering_minutes: int = Field(15, ge=1, le=1440)
    market_minutes: int = Field(60, ge=1, le=1440)
    speedup: float = Field(1.0, gt=0)
    start_unix_s: float | None = None  # wall time of live second epoch_s (rehearsals)
    epoch_s: int | None = None  # live time of step 0 (default: the first start, on the grid)
    grace_s: int | None = None  # lateness accepted after an interval ends (default: one interval)
    days: int | None = Field(None, ge=1)  # stop after this many days (None: run until stopped)

    @model_validator(mode="after")
    def _tile(self) -> Clock:
        if 1440 % self.metering_minutes:
            raise ValueError(f"metering_minutes={self.metering_minutes} must divide a day (1440)")
        if self.market_minutes % self.metering_minutes:
            raise ValueError(f"market_minutes={self.market_minutes} must be a multiple of "
                             f"metering_minutes={self.metering_minutes}")
        return self


class LedgerSettings(_Strict):
    path: Path
    signing: Literal["full", "block"] = "full"


class Rule(_Strict):
    """A DR rule of live mode: above ``threshold_kw`` community import, command one appliance."""

    kind: Literal["import_threshold"] = "import_threshold"
    threshold_kw: float = Field(gt=0)
    node: str
    appliance: int = Field(ge=0, le=255)
    action: Literal["off", "on", "decrease", "dr_event"] = "off"
    level: int = Field(0, ge=0, le=100)
    restore_below_kw: float | None = None


class Commands(_Strict):
    ack_timeout_s: float = Field(1800.0, gt=0)
    confirmed: bool = False
    rules: list[Rule] = []


class Peer(_Strict):
    name: str
    public_key_file: Path


class BusSettings(_Strict):
    """CurveZMQ for agents on other hosts: this process's secret key file and the allowed peers."""

    host: str = "127.0.0.1"
    secret_key_file: Path
    peers: list[Peer] = []


class LiveConfig(_Strict):
    community: Community
    sources: dict[str, NetworkServer] = {}
    clock: Clock = Clock()
    ledger: LedgerSettings
    commands: Commands = Commands()
    bus: BusSettings | None = None
    base_dir: Path = Path(".")

    @model_validator(mode="after")
    def _references(self) -> LiveConfig:
        nodes: set[str] = set()
        for meter in self.community.meters:
            if meter.source not in self.sources:
                raise ValueError(f"community.meters: node {meter.node} names source "
                                 f"{meter.source!r}; defined sources: {sorted(self.sources)}")
            if meter.node in nodes:
                raise ValueError(f"community.meters: node {meter.node} is listed twice")
            nodes.add(meter.node)
            if meter.member is not None and self.community.model is None:
                raise ValueError(f"community.meters: node {meter.node} names model member "
                                 f"{meter.member!r} but community.model is not set")
        members = [m.member for m in self.community.meters if m.member is not None]
        if len(set(members)) != len(members):
            raise ValueError("community.meters: two real meters name the same model member")
        for rule in self.commands.rules:
            if rule.node not in nodes:
                raise ValueError(f"commands.rules: node {rule.node!r} has no real meter; "
                                 "commands go to real devices only")
        return self

    def resolve(self, path: Path) -> Path:
        """A path of the config, relative to the config file's folder."""
        return path if path.is_absolute() else self.base_dir / path

    @property
    def interval_s(self) -> int:
        return self.clock.metering_minutes * 60


def _inline_secrets(data: Any, where: str = "") -> list[str]:
    found: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            name = str(key).lower()
            path = f"{where}.{key}" if where else str(key)
            if any(w in name for w in SECRET_WORDS) and not name.endswith(("_env", "_file")):
                found.append(path)
            found.extend(_inline_secrets(value, path))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found.extend(_inline_secrets(value, f"{where}[{i}]"))
    return found


def _known_keys(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


def _explain(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            last = str(err["loc"][-1])
            pool = {k for m in (LiveConfig, Community, NetworkServer, RealMeter, Clock,
                                ModelSettings, LedgerSettings, Commands, Rule, BusSettings, Peer,
                                Credentials)
                    for k in _known_keys(m)}
            close = difflib.get_close_matches(last, sorted(pool), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            lines.append(f"{loc}: unknown key{hint}")
        else:
            lines.append(f"{loc}: {err['msg']}")
    return "; ".join(lines)


def parse_config(data: Any, base_dir: Path = Path(".")) -> LiveConfig:
    """Validate a config mapping (as read from YAML)."""
    if not isinstance(data, dict):
        raise LiveConfigError("a live config is a YAML mapping with community, sources, ledger")
    secrets = _inline_secrets(data)
    if secrets:
        raise LiveConfigError(f"{', '.join(secrets)}: secrets may not be written in the config; "
                              "name the environment variable (password_env) or the file "
                              "(password_file) that holds them")
    try:
        config = LiveConfig.model_validate({**data, "base_dir": base_dir})
    except ValidationError as exc:
        raise LiveConfigError(_explain(exc)) from None
    return _secret_files_resolved(config)


def _secret_files_resolved(config: LiveConfig) -> LiveConfig:
    """Password files relative to the config's folder, like every other path of it (the
    credentials read them themselves, where the config's folder is not known)."""
    sources = {}
    for name, server in config.sources.items():
        file = server.credentials.password_file
        if file is not None and not file.is_absolute():
            credentials = server.credentials.model_copy(
                update={"password_file": config.resolve(file)})
            server = server.model_copy(update={"credentials": credentials})
        sources[name] = server
    return config.model_copy(update={"sources": sources})


def load_config(path: str | os.PathLike[str]) -> LiveConfig:
    """Read and validate a live config file; relative paths are relative to its folder."""
    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LiveConfigError(f"cannot read live config {file}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise LiveConfigError(f"{file} is not UTF-8 text (byte {exc.start})") from None
    except yaml.YAMLError as exc:
        raise LiveConfigError(f"{file} is not valid YAML: {exc}") from exc
    except RecursionError:  # PyYAML composes nested collections recursively
        raise LiveConfigError(f"{file} nests its values too deeply to be a live config") from None
    return parse_config(data, file.parent.resolve())
