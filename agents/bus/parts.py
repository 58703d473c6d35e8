"""Large payloads travel in parts: split on sending, reassembled (bounded, checked) on receipt.

Why parts and not one frame: a daily ledger block of a large community is
hundreds of MiB; one frame that size would make every receiver accept frames
that size from anyone who reaches the port. Frames stay at most ``part_bytes``;
a message may be up to ``max_message_bytes`` (both :class:`~gridcoop.agents.bus.transport.Bus`
settings). The receiver keeps at most one unfinished message per connection
(a sender sends one message's parts one after another on its pipe, so a new
sequence number means the previous one will not be finished: it is dropped
and counted), never more than ``max_message_bytes`` of it, and checks length
and BLAKE2b digest before it decodes. A reliable message is acknowledged once,
when whole; if parts were lost the sender resends all of them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from gridcoop.agents.bus.errors import MalformedMessageError, OversizedMessageError
from gridcoop.agents.bus.wire import Part

PART_BYTES = 1024 * 1024
"""Default largest frame a bus sends (1 MiB); larger payloads go in parts."""


def digest(payload: bytes) -> str:
    return hashlib.blake2b(payload, digest_size=16).hexdigest()


def layout(total: int, part_bytes: int) -> tuple[int, int]:
    """How a payload of ``total`` bytes is cut: (number of parts, bytes per part but the last).

    Equal parts, as few as ``part_bytes`` allows: sender and receiver compute the same
    layout, so a part of any other length is refused at once.
    """
    count = -(-total // part_bytes)
    return count, -(-total // count)


def split(payload: bytes, part_bytes: int) -> list[tuple[Part | None, bytes]]:
    """The payload as one frame (``None``) or as parts of at most ``part_bytes`` each."""
    if len(payload) <= part_bytes:
        return [(None, payload)]
    check = digest(payload)
    count, size = layout(len(payload), part_bytes)
    view = memoryview(payload)
    return [(Part(i, count, len(payload), check), bytes(view[i * size:(i + 1) * size]))
            for i in range(count)]


@dataclass
class _Partial:
    seq: int
    part: Part
    received: dict[int, bytes] = field(default_factory=dict)
    size: int = 0


class Reassembly:
    """Unfinished messages, at most one per connection, each at most ``max_message_bytes``."""

    def __init__(self, max_message_bytes: int, part_bytes: int) -> None:
        self.max_message_bytes = max_message_bytes
        self.part_bytes = part_bytes
        self.dropped = 0
        self._partial: dict[bytes, _Partial] = {}

    def add(self, source: bytes, seq: int, part: Part, data: bytes) -> bytes | None:
        """Take one part from ``source`` (a connection); the whole payload once complete.

        Raises :class:`OversizedMessageError` or :class:`MalformedMessageError` (the
        unfinished message from ``source`` is then forgotten).
        """
        if part.total > self.max_message_bytes:
            self.forget(source)
            raise OversizedMessageError(
                f"a message in parts of {part.total} bytes exceeds the limit of "
                f"{self.max_message_bytes} bytes; raise max_message_bytes on the receiver"
            )
        count, size = layout(max(part.total, 1), self.part_bytes)
        expected = size if part.number < count - 1 else part.total - size * (count - 1)
        if part.parts != count or not 0 <= part.number < count or count < 2 or \
                len(data) != expected:
            self.forget(source)
            raise MalformedMessageError(
                f"part {part.number} of {part.parts} ({len(data)} bytes) is not how a payload "
                f"of {part.total} bytes is cut into parts of at most {self.part_bytes} bytes "
                "(every bus of a run must use the same part_bytes)"
            )
        partial = self._partial.get(source)
        if partial is not None and (partial.seq != seq or partial.part[1:] != part[1:]):
            self.dropped += len(partial.received)
            partial = None
        if partial is None:
            partial = self._partial[source] = _Partial(seq, part)
        if part.number not in partial.received:
            partial.size += len(data)
            partial.received[part.number] = data
        if len(partial.received) < part.parts:
            return None
        del self._partial[source]
        payload = b"".join(partial.received[i] for i in range(part.parts))
        if len(payload) != part.total or digest(payload) != part.digest:
            raise MalformedMessageError(
                f"message {seq} reassembled from {part.parts} parts does not match its length "
                "or digest (altered or mixed up in transit)")
        return payload

    def forget(self, source: bytes) -> None:
        """Drop what ``source`` left unfinished (refused, or its connection went away)."""
        partial = self._partial.pop(source, None)
        if partial is not None:
            self.dropped += len(partial.received)

    @property
    def pending_bytes(self) -> int:
        return sum(p.size for p in self._partial.values())
