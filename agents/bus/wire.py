"""Frame layout, counters and peer addresses of the bus (imported via :mod:`.transport`).

Frames (ZeroMQ multipart):

* DEALER -> ROUTER (reliable send or request): ``[header, payload]``; the ROUTER
  prepends the sender's routing id, which is its endpoint name. A bundle of
  reliable sends (``Endpoint.send_many``) is ``[header, payload, payload, ...]``:
  the header's sequence number is the first payload's, each next payload's is
  one more, and the payloads together fit one frame of ``part_bytes``.
* ROUTER -> DEALER (ack, error or reply): ``[header, payload]``.
* XPUB -> SUB (publish): ``[topic, header, payload]``.

``header`` is one kind byte (``S`` send, ``Q`` request, ``P`` publish, ``R``
reply), one codec byte (``j`` JSON, ``m`` msgpack), the sender's sequence
number in ASCII digits and, for sends and requests, ``.`` and the sending
endpoint's session (8 hex digits, random per endpoint object): a receiver
that outlives a restarted peer must not take the new incarnation's
``ra-1:1`` for a resend of the old one's. A reply carries the sequence number
of the frame it answers, so even an undecodable frame can be matched to what
was sent.
``payload`` is :func:`gridcoop.agents.bus.messages.encode` output.

A payload larger than the bus's ``part_bytes`` travels in parts
(:mod:`gridcoop.agents.bus.parts`): one frame set per part, each header
followed by ``~INDEX/COUNT/TOTAL/DIGEST`` (part number, number of parts, the
whole payload's length and its BLAKE2b-128 digest in hex); the receiver
reassembles the parts of one message per connection, within
``max_message_bytes``, and checks length and digest before decoding.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import NamedTuple

from gridcoop.agents.bus.errors import MalformedMessageError
from gridcoop.agents.bus.messages import Codec

KIND_SEND = b"S"
KIND_REQUEST = b"Q"
KIND_PUBLISH = b"P"
KIND_REPLY = b"R"

BUNDLE_MAX = 256
"""Most messages in one bundle of sends; a larger frame set is refused whole."""

ACK_CHUNK = 10_000
"""Most ids in one Ack (about 300 kB), well under any sane max_message_bytes."""

ERROR_REPLY_BACKLOG = 1_000
"""Most error replies held for one connection that does not read them (a flood's)."""

CODEC_BYTE: dict[str, bytes] = {"json": b"j", "msgpack": b"m"}
_CODEC_OF: dict[bytes, Codec] = {b"j": "json", b"m": "msgpack"}


class Part(NamedTuple):
    """Where one frame's bytes sit in a payload sent in parts."""

    number: int
    parts: int
    total: int
    digest: str


class Header(NamedTuple):
    kind: bytes
    codec: Codec
    seq: int
    session: bytes
    part: Part | None


def make_header(kind: bytes, codec: Codec, seq: int, session: bytes = b"",
                part: Part | None = None) -> bytes:
    header = kind + CODEC_BYTE[codec] + str(seq).encode()
    if session:
        header += b"." + session
    if part is not None:
        header += f"~{part.number}/{part.parts}/{part.total}/{part.digest}".encode()
    return header


def _bad_header(header: bytes, kinds: bytes) -> MalformedMessageError:
    return MalformedMessageError(
        f"bad frame header {header[:32]!r}: expected one of {kinds!r}, a codec byte "
        "(j or m) and a sequence number; use gridcoop.agents.bus.transport to talk to "
        "a gridcoop bus"
    )


def _parse_part(text: bytes) -> Part | None:
    fields_ = text.split(b"/")
    if len(fields_) != 4 or not all(f.isdigit() and len(f) <= 19 for f in fields_[:3]):
        return None
    digest = fields_[3]
    if len(digest) != 32 or not all(c in b"0123456789abcdef" for c in digest):
        return None
    index, count, total = (int(f) for f in fields_[:3])
    if count < 2 or index >= count:
        return None
    return Part(index, count, total, digest.decode())


def parse_header(header: bytes, kinds: bytes) -> Header:
    """Split a header into (kind, codec, seq, session, part); ``kinds`` lists the kinds
    allowed here. Any bytes give a :class:`Header` or :class:`MalformedMessageError`."""
    if len(header) > 256:
        raise _bad_header(header, kinds)
    kind = header[:1]
    codec = _CODEC_OF.get(header[1:2])
    rest, tilde, part_text = header[2:].partition(b"~")
    digits, _, session = rest.partition(b".")
    part = _parse_part(part_text) if tilde else None
    if (
        not kind
        or kind not in kinds
        or codec is None
        or not digits.isdigit()
        or not digits.isascii()
        or len(digits) > 19
        or len(session) > 16
        or (session != b"" and not session.isalnum())
        or (tilde and part is None)
    ):
        raise _bad_header(header, kinds)
    return Header(kind, codec, int(digits), session, part)


@dataclass(frozen=True)
class PeerAddress:
    """Where to reach an endpoint from another process: hand this over out of band."""

    router: str
    pub: str
    server_public_key: bytes | None = None


@dataclass
class BusStats:
    """Counters of one endpoint (or, summed, of a whole bus). Nothing is dropped uncounted."""

    sent: int = 0
    """Reliable messages and requests sent (resends not included)."""
    published: int = 0
    received: int = 0
    """Valid messages delivered to the inbox or to a request handler."""
    acked: int = 0
    """Our reliable messages the peer acknowledged."""
    resent: int = 0
    duplicates: int = 0
    """Reliable messages received again (after a resend); acked, not delivered twice."""
    rejected_malformed: int = 0
    rejected_unknown_type: int = 0
    rejected_oversized: int = 0
    rejected_schema_version: int = 0
    rejected_sender_mismatch: int = 0
    rejected_forbidden: int = 0
    """Valid messages of a kind their sender's role may not send here."""
    parts_received: int = 0
    """Frames that carried one part of a larger message."""
    parts_dropped: int = 0
    """Parts of unfinished messages given up (a newer message came on that connection)."""
    error_replies_sent: int = 0
    error_replies_received: int = 0
    requests_served: int = 0
    replies_undeliverable: int = 0
    """Acks or replies whose peer had gone away (ROUTER_MANDATORY said EHOSTUNREACH)."""
    late_replies: int = 0
    """Replies that arrived after their request had timed out."""
    auth_refused: int = 0
    """CurveZMQ handshakes refused by this bus's ZAP handler (bus-wide only)."""

    @property
    def rejected(self) -> int:
        return (
            self.rejected_malformed
            + self.rejected_unknown_type
            + self.rejected_oversized
            + self.rejected_schema_version
            + self.rejected_sender_mismatch
            + self.rejected_forbidden
        )

    def count_rejection(self, code: str) -> None:
        name = f"rejected_{code}"
        setattr(self, name, getattr(self, name) + 1)

    def __add__(self, other: BusStats) -> BusStats:
        return BusStats(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )
