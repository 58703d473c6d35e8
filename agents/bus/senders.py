"""Who sent a message: the connection's name, its CurveZMQ key, its role, its resends.

Split from :mod:`gridcoop.agents.bus.inbound`, which asks these questions of every
reliable message and publication it receives. Why connections and not names:
the ROUTER names each connection itself (peers may not choose a routing id), a
connection speaks for the name of its first valid message only, under CurveZMQ
the key behind it must be listed for that name, and the endpoint's
:data:`Policy` decides which kinds that name may send.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

import zmq

from gridcoop.agents.bus.curve import ANY_NAME
from gridcoop.agents.bus.errors import ForbiddenMessageError, SenderMismatchError
from gridcoop.agents.bus.messages import Message

if TYPE_CHECKING:
    from gridcoop.agents.bus.transport import Bus

Policy = Callable[[Message], str | None]
"""Who may send what here: gets a message whose sender is authenticated (under CurveZMQ)
and returns why it is refused, or None to accept it."""

KNOWN_CONNECTIONS = 10_000
"""Connections whose name is remembered (the oldest are forgotten)."""

DEDUP_WINDOW = 100_000
"""Reliable message ids remembered per sender to recognise resends."""

KNOWN_SENDERS = 10_000
"""Senders whose recent ids are remembered (the oldest are forgotten)."""


def check_policy(policy: Policy | None, message: Message, receiver: str) -> None:
    """Raise :class:`ForbiddenMessageError` when ``policy`` refuses ``message``."""
    if policy is not None:
        reason = policy(message)
        if reason is not None:
            raise ForbiddenMessageError(
                f"{message.type} from {message.sender!r} refused by {receiver!r}: {reason}"
            )


class Senders:
    """The names of one endpoint's connections and the ids each sender sent lately."""

    def __init__(self, bus: Bus) -> None:
        self._bus = bus
        self._names: dict[bytes, str] = {}
        self._seen: dict[str, tuple[bytes, set[str], deque[str]]] = {}

    def name_of(self, ident: bytes) -> str | None:
        return self._names.get(ident)

    def check(self, ident: bytes, sender: str, last: bytes | zmq.Frame) -> None:
        """One connection speaks for one name; under CurveZMQ its key must be listed for it
        (``last`` is a received frame: a ``zmq.Frame`` carries the key)."""
        known = self._names.get(ident)
        if known is not None and known != sender:
            raise SenderMismatchError(
                f"envelope sender {sender!r} differs from {known!r}, the name this connection "
                "speaks as"
            )
        if not isinstance(last, bytes):
            self._check_key(last, sender)

    def remember(self, ident: bytes, sender: str) -> None:
        if ident not in self._names:
            if len(self._names) >= KNOWN_CONNECTIONS:
                del self._names[next(iter(self._names))]
            self._names[ident] = sender

    def forget(self, ident: bytes) -> None:
        self._names.pop(ident, None)

    def _check_key(self, frame: zmq.Frame, sender: str) -> None:
        """Under CurveZMQ, the client's key must be listed for the name it sends as."""
        curve = self._bus.curve
        key = str(frame.get("User-Id")).encode()
        if curve is None or key == curve.keys.public:
            return
        names = curve.names_for(key) or ()
        if sender not in names and ANY_NAME not in names:
            raise SenderMismatchError(
                f"the CurveZMQ key {key.decode()[:8]}... may not speak for {sender!r}; "
                "list that name with the key in allowed_clients"
            )

    def is_duplicate(self, sender: str, session: bytes, message_id: str) -> bool:
        """A resend of a message already queued? Ids are remembered per sender session: a
        restarted sender starts a new session, and its ids count again from 1."""
        known = self._seen.get(sender)
        if known is None or known[0] != session:
            if sender not in self._seen and len(self._seen) >= KNOWN_SENDERS:
                del self._seen[next(iter(self._seen))]
            known = self._seen[sender] = (session, set(), deque())
        _, seen, order = known
        if message_id in seen:
            return True
        seen.add(message_id)
        order.append(message_id)
        if len(order) > DEDUP_WINDOW:
            seen.discard(order.popleft())
        return False
