"""The scenario's ``meters:`` group: which members' meters are read through real hardware.

Why a module of its own: the schema is validated with the scenario (pydantic,
``extra="forbid"``), while building the sources (``gridcoop.agents.meters.sources``)
needs the population; keeping the schema here keeps ``gridcoop.agents.scenario.schema`` small
and free of bridge imports.

```yaml
meters:
  default: simulated
  sources:
    - kind: chirpstack            # or serial / ttn / simulated
      members: [h0003, h0007]     # or region: r1
      devices: {h0003: 70b3d57ed0000001}
      settings: {broker: "127.0.0.1:1883", application_id: gridcoop, registry: devices.yaml}
```
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


SourceKind = Literal["simulated", "serial", "chirpstack", "ttn"]
SECRET_WORDS = ("password", "passwd", "key", "secret", "token")
"""Setting names that would hold a secret (a password, an API key, a device's MAC key or a
master key); only ``<name>_env`` / ``<name>_file`` are allowed, in a scenario and in live
mode's config (``gridcoop.experiments.live.config``) alike."""


class MeterSourceSpec(_Strict):
    """Some members' meters read through one hardware bridge (``hardware_bridge.make_source``).

    ``members`` or ``region`` says whose meters; ``devices`` maps a member to its
    device (devEUI or TTN device id) in the registry, else the registry device
    whose ``name`` is the member or its meter id (``m-<member>``) is used.
    ``settings`` are the bridge's keywords (``registry``, ``broker``, ``url``, ...);
    secrets only as ``<name>_env`` / ``<name>_file``. ``epoch_s`` is the device
    clock's time of model second 0 (default: the wall time when the model is built).
    """

    kind: SourceKind
    members: tuple[str, ...] = ()
    region: str | None = None
    devices: dict[str, str] = {}
    settings: dict[str, Any] = {}
    epoch_s: float | None = None

    @model_validator(mode="after")
    def _whose(self) -> MeterSourceSpec:
        if bool(self.members) == (self.region is not None):
            raise ValueError(f"meters.sources ({self.kind}): give either members: [...] or "
                             "region: <id>, not both or neither")
        if len(set(self.members)) != len(self.members):
            raise ValueError(f"meters.sources ({self.kind}).members lists a member twice")
        for key in self.settings:
            name = str(key).lower()
            if any(w in name for w in SECRET_WORDS) and not name.endswith(("_env", "_file")):
                raise ValueError(f"meters.sources ({self.kind}).settings.{key}: secrets may not "
                                 f"be written in the scenario; name the environment variable "
                                 f"({key}_env) or the file ({key}_file) that holds it")
            if key in ("meter_ids", "meter_id", "energy", "import_wh", "export_wh"):
                raise ValueError(f"meters.sources ({self.kind}).settings.{key}: the model feeds "
                                 "simulated meters itself; remove it")
        if self.kind == "simulated" and (self.settings or self.devices):
            raise ValueError("meters.sources (simulated) takes no settings or devices")
        if self.kind != "simulated" and "registry" not in self.settings:
            raise ValueError(f"meters.sources ({self.kind}).settings.registry is missing: the "
                             "device registry file (`gridcoop devices registry`)")
        if self.kind == "serial" and "url" not in self.settings:
            raise ValueError("meters.sources (serial).settings.url is missing (e.g. /dev/ttyACM0)")
        stray = sorted(set(self.devices) - set(self.members)) if self.members else []
        if stray:
            raise ValueError(f"meters.sources ({self.kind}).devices names {stray}, which are not "
                             "in its members")
        return self


class MeterSources(_Strict):
    """Which meters are read through real hardware; every other meter stays ``simulated``.

    Hardware sources are meant for live-mode pacing (``gridcoop live``); a batch
    ``gridcoop run`` reads, at each step, what the devices have sent by then
    (see ``gridcoop.agents.meters.sources``). Members and regions are checked against the
    population when the model is built.
    """

    default: Literal["simulated"] = "simulated"
    sources: tuple[MeterSourceSpec, ...] = ()

    @model_validator(mode="after")
    def _once(self) -> MeterSources:
        seen: dict[str, int] = {}
        for i, spec in enumerate(self.sources):
            for whose in (*spec.members, *([f"region {spec.region}"] if spec.region else [])):
                if whose in seen:
                    raise ValueError(f"meters.sources[{i}]: {whose} is already read by "
                                     f"meters.sources[{seen[whose]}]; give each meter one source")
                seen[whose] = i
        return self

    @property
    def hardware(self) -> bool:
        """Whether any meter is read through a hardware bridge."""
        return any(spec.kind != "simulated" for spec in self.sources)
