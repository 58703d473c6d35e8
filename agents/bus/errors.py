"""The exceptions of the messages and the bus, in one place so both modules share them.

Why specific classes: a receiver catches :class:`MessageError` and keeps running;
a sender catches :class:`BusError` subclasses to tell a slow peer
(:class:`BackpressureError`) from a lost one (:class:`AckTimeoutError`) from a
refusal (:class:`MessageRejectedError`, :class:`AuthenticationError`).
Each message says what was wrong and what to do.
"""

from __future__ import annotations


class MessageError(ValueError):
    """A frame could not be turned into a valid message. ``code`` names the kind on the wire."""

    code = "malformed"


class MalformedMessageError(MessageError):
    """Not JSON, not an object, a missing or wrongly typed field, or a broken frame layout."""

    code = "malformed"


class UnknownMessageTypeError(MessageError):
    """The ``type`` field names no message this build knows."""

    code = "unknown_type"


class OversizedMessageError(MessageError):
    """The frame is larger than the configured maximum; it was refused unread."""

    code = "oversized"


class SchemaVersionError(MessageError):
    """The sender speaks another schema version."""

    code = "schema_version"


class SenderMismatchError(MessageError):
    """The envelope's ``sender`` is not the connected peer, or its key may not speak for it."""

    code = "sender_mismatch"


class ForbiddenMessageError(MessageError):
    """A valid message of a kind its (authenticated) sender's role may not send here."""

    code = "forbidden"


class BusError(RuntimeError):
    """Something went wrong moving messages (not in their content)."""


class BusClosedError(BusError):
    """The bus or endpoint was closed; create a new one."""


class SocketLimitError(BusError):
    """No further socket could be opened: the ZeroMQ context's or the process's open-file
    limit is reached (many regions in one process need many sockets)."""


class UnknownPeerError(BusError):
    """No endpoint of that name is known to this bus; create it or ``add_peer`` it first."""


class BackpressureError(BusError):
    """A send would block past the send timeout: the peer is not draining (high-water mark reached).

    Nothing was dropped: the message was not queued, so the caller may drain the peer and retry.
    """


class AckTimeoutError(BusError):
    """Reliable messages were not acknowledged in time (peer not pumping, gone, or refusing us)."""

    def __init__(self, message: str, unacked_ids: list[str]) -> None:
        super().__init__(message)
        self.unacked_ids = unacked_ids


class RequestTimeoutError(BusError):
    """A request got no reply in time."""


class MessageRejectedError(BusError):
    """The peer answered a message with an error reply (``code`` and ``detail`` from the reply)."""

    def __init__(self, message: str, code: str, detail: str) -> None:
        super().__init__(message)
        self.code = code
        self.detail = detail


class AuthenticationError(BusError):
    """The CurveZMQ handshake with a peer failed: our key is not allowed there, or keys differ."""


class CurveConfigError(BusError):
    """The CurveZMQ configuration is unusable (bad key, missing secret, inproc transport)."""
