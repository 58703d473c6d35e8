"""The hardware bridge: real (or simulated) meters in, appliance commands out.

Public faces: ``decode_uplink`` / ``encode_command`` (the radio payload codec),
``make_source`` / ``make_sink`` (a transport from scenario settings), and the
shared shapes ``MeterReading``, ``Command``, ``CommandAck``, ``MeterSource``,
``CommandSink``. Imports nothing of market, ledger, agents or experiments.
"""

from gridcoop.hardware_bridge.codec import (
    AckFrame,
    MeterFrame,
    decode_uplink,
    encode_ack,
    encode_reading,
)
from gridcoop.hardware_bridge.command_codec import decode_command, encode_command
from gridcoop.hardware_bridge.errors import (
    BadBase64Error,
    BadMacError,
    BridgeError,
    ChecksumError,
    CommandError,
    ConfigError,
    DutyCycleError,
    MalformedMessageError,
    MissingMacError,
    PayloadError,
    PayloadTooLargeError,
    ShortPayloadError,
    TransportError,
    UnknownDeviceError,
    UnknownOpcodeError,
    UnknownPortError,
    UnsupportedVersionError,
)
from gridcoop.hardware_bridge.factory import SOURCE_KINDS, make_sink, make_source
from gridcoop.hardware_bridge.readings import (
    Command,
    CommandAck,
    CommandSink,
    MeterReading,
    MeterSource,
)
from gridcoop.hardware_bridge.registry import Device, DeviceRegistry, derive_key

__all__ = [
    "SOURCE_KINDS",
    "AckFrame",
    "BadBase64Error",
    "BadMacError",
    "BridgeError",
    "ChecksumError",
    "Command",
    "CommandAck",
    "CommandError",
    "CommandSink",
    "ConfigError",
    "Device",
    "DeviceRegistry",
    "DutyCycleError",
    "MalformedMessageError",
    "MeterFrame",
    "MeterReading",
    "MeterSource",
    "MissingMacError",
    "PayloadError",
    "PayloadTooLargeError",
    "ShortPayloadError",
    "TransportError",
    "UnknownDeviceError",
    "UnknownOpcodeError",
    "UnknownPortError",
    "UnsupportedVersionError",
    "decode_command",
    "decode_uplink",
    "derive_key",
    "encode_ack",
    "encode_command",
    "encode_reading",
    "make_sink",
    "make_source",
]
