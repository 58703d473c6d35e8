"""Every way the bridge can refuse input, as its own exception class.

Why a hierarchy: transports catch ``PayloadError`` (drop one frame, count it,
keep running) while configuration mistakes (``ConfigError``) must stop a run
before it starts. Each message says what was wrong and what to do.
"""

from __future__ import annotations


class BridgeError(Exception):
    """Base class of every error raised by ``hardware_bridge``."""


class ConfigError(BridgeError, ValueError):
    """A setting, device entry or radio plan is invalid; fix the configuration."""


class DutyCycleError(ConfigError):
    """A configured interval/data rate would break the radio duty cycle or a fair-use limit."""


class PayloadTooLargeError(ConfigError):
    """A frame does not fit the application payload limit of a data rate."""


class PayloadError(BridgeError, ValueError):
    """One frame could not be decoded (or a field cannot be encoded); the frame is dropped
    and counted, the bridge keeps running."""


class BadBase64Error(PayloadError):
    """A payload field was not valid base64."""


class ShortPayloadError(PayloadError):
    """A frame is shorter (or longer) than its format requires."""


class UnknownPortError(PayloadError):
    """A frame arrived on an fPort the codec does not know."""


class UnsupportedVersionError(PayloadError):
    """A frame carries a format version this bridge does not decode."""


class UnknownOpcodeError(PayloadError):
    """A command frame carries an opcode that is not defined."""


class BadMacError(PayloadError):
    """A frame's MAC did not verify: forged, corrupted, or the wrong device key."""


class MissingMacError(PayloadError):
    """A frame carries no MAC but the bridge requires authenticated readings."""


class MalformedMessageError(PayloadError):
    """A network-server or serial message is not in the expected shape."""


class ChecksumError(MalformedMessageError):
    """A serial line failed its XOR checksum (noise, or a line cut by a reset)."""


class UnknownDeviceError(BridgeError, LookupError):
    """A frame or command names a device that is not in the registry."""


class CommandError(BridgeError, ValueError):
    """A command cannot be encoded: bad action, level, appliance or command id."""


class TransportError(BridgeError, OSError):
    """A broker or serial port could not be reached or was lost."""


class StoreError(BridgeError, OSError):
    """The replay guard's SQLite file could not be opened, read or written (disk full,
    read-only file system, not a guard file); nothing it held was changed."""


class FirmwareBuildError(BridgeError, RuntimeError):
    """The firmware did not compile or link; the message holds the compiler output."""
