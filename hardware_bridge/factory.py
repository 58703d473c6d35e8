"""Build a meter source or command sink from a scenario's plain settings.

Why a factory keyed by string: scenario files say ``source: chirpstack`` (or
``simulated``, ``serial``, ``ttn``) with plain keyword settings, and the
SmartMeter agent must not care which one it got. Transports are imported only
when asked for, so a simulated run never loads paho or pyserial.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from gridcoop.hardware_bridge.errors import ConfigError
from gridcoop.hardware_bridge.readings import CommandSink, MeterSource

SOURCE_KINDS = ("simulated", "serial", "chirpstack", "ttn")


def _constructor(kind: str, sink: bool) -> Callable[..., Any]:
    if kind == "simulated":
        from gridcoop.hardware_bridge import simulated

        return simulated.SimulatedCommandSink if sink else simulated.SimulatedMeterBank
    if kind == "serial":
        from gridcoop.hardware_bridge.serial_bridge import SerialMeterSource

        return SerialMeterSource
    if kind == "chirpstack":
        from gridcoop.hardware_bridge.chirpstack import ChirpStackBridge

        return ChirpStackBridge
    if kind == "ttn":
        from gridcoop.hardware_bridge.ttn import TtnBridge

        return TtnBridge
    raise ConfigError(
        f"meter source kind {kind!r} is unknown; use one of {', '.join(SOURCE_KINDS)}"
    )


def _build(kind: str, sink: bool, settings: dict[str, Any]) -> Any:
    constructor = _constructor(kind, sink)
    if kind == "simulated" and not sink and "meter_id" in settings:
        from gridcoop.hardware_bridge.simulated import SimulatedMeterSource

        constructor = SimulatedMeterSource
    try:
        inspect.signature(constructor).bind(**settings)
    except TypeError as exc:
        accepted = ", ".join(
            name
            for name, p in inspect.signature(constructor).parameters.items()
            if p.kind is not inspect.Parameter.VAR_KEYWORD
        )
        raise ConfigError(
            f"settings for a {kind} {'sink' if sink else 'source'} are wrong ({exc}); "
            f"it takes: {accepted} (hardware bridges also take guard, clock, ack_timeout_s, "
            "align_to_interval, accept_unauthenticated)"
        ) from exc
    return constructor(**settings)


def make_source(kind: str, **settings: Any) -> MeterSource:
    """A ``MeterSource`` of ``kind``.

    * ``simulated``: ``meter_ids=[...]`` with ``import_wh``/``export_wh`` arrays
      (meters x intervals) or ``energy=callable(interval) -> (import, export)``;
      or ``meter_id=..., energy=...`` for one meter. Also ``interval_s``, ``start_s``.
    * ``serial``: ``url`` (device path or pyserial URL), ``registry``, ``baud``, ...
    * ``chirpstack``: ``registry``, ``application_id``, ``broker="host:port"``, ``qos``, ...
    * ``ttn``: ``registry``, ``application_id``, ``tenant``, ``api_key``, ``broker``, ...

    Hardware sources also implement ``CommandSink`` (acks travel with readings):
    use the same object to send commands to those meters.
    """
    source: MeterSource = _build(kind, False, settings)
    return source


def make_sink(kind: str, **settings: Any) -> CommandSink:
    """A ``CommandSink`` of ``kind``; for hardware kinds prefer the source object itself."""
    sink: CommandSink = _build(kind, True, settings)
    return sink
