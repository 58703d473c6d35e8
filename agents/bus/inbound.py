"""The receiving half of an endpoint: reading its sockets, validating, acking, answering.

Split from :mod:`gridcoop.agents.bus.endpoint` so each file reads in one sitting; use
both through :class:`gridcoop.agents.bus.transport.Bus`. Every reader here reads one socket dry
without blocking and returns how many frames it handled; the bus calls them
when a socket is known to have work (a local send marked it) or a poll says so.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

import zmq
from zmq.utils.monitor import recv_monitor_message

from gridcoop.agents.bus.errors import (
    MalformedMessageError,
    MessageError,
    MessageRejectedError,
    OversizedMessageError,
    SenderMismatchError,
)
from gridcoop.agents.bus.messages import Ack, Envelope, ErrorMessage, Message, decode, encode
from gridcoop.agents.bus.parts import Reassembly
from gridcoop.agents.bus.senders import Policy, Senders, check_policy
from gridcoop.agents.bus.sockets import readable, receive_now, send_now
from gridcoop.agents.bus.wire import (
    ACK_CHUNK,
    BUNDLE_MAX,
    ERROR_REPLY_BACKLOG,
    KIND_PUBLISH,
    KIND_REPLY,
    KIND_REQUEST,
    KIND_SEND,
    BusStats,
    Header,
    make_header,
    parse_header,
)

if TYPE_CHECKING:
    from gridcoop.agents.bus.transport import Bus

Handler = Callable[[Message], Envelope]
"""A request handler: gets the request, returns the reply (reply_to, id and sender are stamped)."""


class Inbound:
    """State and readers for everything that arrives at one endpoint."""

    def __init__(self, bus: Bus, name: str) -> None:
        self.name = name
        self.stats = BusStats()
        self._bus = bus
        self._seq = 0
        self._closed = False
        self._in_handler = False
        self._inbox: list[tuple[str, int, Message]] = []
        self._pending: dict[tuple[str, str], tuple[int, list[list[bytes]]]] = {}
        self._pending_by_seq: dict[tuple[str, int], Envelope] = {}
        """The same sends by receiver and seq: an in-process receiver takes the object itself."""
        self._rejections: list[MessageRejectedError] = []
        self._replies: dict[str, Message] = {}
        self._waiting: set[str] = set()
        self._handlers: dict[str, Handler] = {}
        self._outbox: dict[bytes, deque[list[bytes]]] = {}
        """Per connection (ROUTER routing id), replies its peer has no room for yet."""
        self._senders = Senders(bus)
        self.policy: Policy | None = None
        self._parts = Reassembly(bus.max_message_bytes, bus.part_bytes)
        self._dealers: dict[str, zmq.Socket[bytes]] = {}
        self._dealer_readers: dict[str, Callable[[], int]] = {}
        self._monitors: dict[str, zmq.Socket[bytes]] = {}
        self._auth_failed: dict[str, str] = {}
        self._subs: dict[str, zmq.Socket[bytes]] = {}
        """One SUB per publisher, so a publication's sender is the socket it came on."""
        self._awaiting: dict[str, int] = {}
        """Local publisher -> sequence number of its last publication we must still receive."""
        self._published_here: dict[tuple[str, int], Envelope] = {}
        """(local publisher, seq) -> its publication, taken instead of decoding the frame."""
        self.subscriber_counts: dict[str, int] = {}
        self._router = bus._new_socket(zmq.ROUTER, server=True, reader=self._read_router)
        self._router.setsockopt(zmq.ROUTER_MANDATORY, 1)
        # no ROUTER_HANDOVER, and our DEALERs never choose a routing id: the ROUTER names each
        # connection itself, so nobody can take over another peer's connection by its name
        self._xpub = bus._new_socket(zmq.XPUB, server=True)
        self._xpub.setsockopt(zmq.XPUB_VERBOSE, 1)
        self._xpub.setsockopt(zmq.XPUB_NODROP, 1)

    # --- reliable messages and requests (ROUTER) -----------------------------------------

    def _read_router(self) -> int:
        if self._in_handler or self._closed:
            # a handler that sends, requests or drains pumps again: its own ROUTER is read
            # by the outer pump only, so requests are handled one at a time, in order
            return 0
        handled = self._flush_outbox() if self._outbox else 0
        if not readable(self._router):  # the usual answer when a drain looks in
            return handled
        acks: dict[bytes, list[str]] = {}
        copy = self._bus.curve is None
        while readable(self._router):
            frames = receive_now(self._router, copy)
            handled += 1
            self._on_request(frames, acks)
        for ident, ids in acks.items():
            local = self._bus._endpoints.get(self._senders.name_of(ident) or "")
            if local is not None:  # a sender in this process (session checked): told directly
                self._seq += -(-len(ids) // ACK_CHUNK)  # each ack still takes its number
                local._acked(self.name, ids)
                continue
            for start in range(0, len(ids), ACK_CHUNK):
                self._seq += 1
                ack = Ack(acked_ids=ids[start : start + ACK_CHUNK], sender=self.name,
                          id=f"{self.name}:{self._seq}")
                header = make_header(KIND_REPLY, self._bus.codec, 0)
                frames = [header, encode(ack, self._bus.codec)]
                self._reply(ident, frames, self._senders.name_of(ident))
        return handled

    def _on_request(self, raw: list[bytes] | list[zmq.Frame], acks: dict[bytes, list[str]]) -> None:
        frames = [f if isinstance(f, bytes) else f.bytes for f in raw]
        ident, seq = frames[0], 0
        try:
            if len(frames) < 3:
                raise MalformedMessageError(f"expected [routing id, header, payload, ...], "
                                            f"got {len(frames)} frames")
            if ident[:1] != b"\0":
                raise SenderMismatchError(
                    f"the peer chose its own routing id {ident[:32]!r}; gridcoop endpoints never "
                    "do, so it is refused (a take-over of another peer's name?)"
                )
            header = parse_header(frames[1], KIND_SEND + KIND_REQUEST)
            seq = header.seq
            bundled = len(frames) - 2
            if bundled > 1 and (header.kind != KIND_SEND or header.part is not None
                                or bundled > BUNDLE_MAX):
                raise MalformedMessageError(f"{bundled} payloads in one frame set: only whole "
                                            f"reliable sends are bundled, at most {BUNDLE_MAX}")
        except MessageError as exc:
            self.stats.count_rejection(exc.code)
            self._error_reply(ident, seq, None, exc.code, str(exc))
            return
        for offset, frame in enumerate(frames[2:]):  # a bundle: seq, seq + 1, ...
            self._on_payload(ident, header._replace(seq=seq + offset) if offset else header,
                             frame, raw[-1], acks)

    def _on_payload(self, ident: bytes, header: Header, frame: bytes,
                    key_frame: bytes | zmq.Frame, acks: dict[bytes, list[str]]) -> None:
        """One payload: queued and acked, served, or refused by an error reply with its seq."""
        seq, message_id = header.seq, None
        try:
            payload = self._whole(ident, header, frame)
            if payload is None:
                return  # more parts to come
            message = self._decode(header, payload) if payload else self._handed(header)
            if not message.id or not message.sender:
                raise MalformedMessageError(f"{message.type} message has an empty id or sender;"
                                            " send it through an Endpoint, which assigns both")
            message_id = message.id
            self._senders.check(ident, message.sender, key_frame)
            local = self._bus._endpoints.get(message.sender)
            if local is not None and header.session != local._session:
                raise SenderMismatchError(
                    f"{message.sender!r} is an endpoint of this process; another process may "
                    "not speak for it"
                )
            check_policy(self.policy, message, self.name)
        except MessageError as exc:
            self.stats.count_rejection(exc.code)
            self._error_reply(ident, seq, message_id, exc.code, str(exc))
            return
        self._senders.remember(ident, message.sender)
        if header.kind == KIND_REQUEST:
            self._serve_request(ident, seq, message)
        elif self._senders.is_duplicate(message.sender, header.session, message.id):
            self.stats.duplicates += 1
            acks.setdefault(ident, []).append(message.id)
        else:
            self._inbox.append((message.sender, seq, message))
            self.stats.received += 1
            acks.setdefault(ident, []).append(message.id)

    def _whole(self, source: bytes, header: Header, payload: bytes) -> bytes | None:
        """The whole payload: this frame's, or the reassembled parts once the last is in."""
        if header.part is None:
            if len(payload) > self._bus.part_bytes:
                raise OversizedMessageError(
                    f"message of {len(payload)} bytes exceeds the limit of "
                    f"{self._bus.part_bytes} bytes for one frame; larger ones travel in parts"
                )
            return payload
        self.stats.parts_received += 1
        try:
            return self._parts.add(source, header.seq, header.part, payload)
        finally:
            self.stats.parts_dropped = self._parts.dropped

    def _handed(self, header: Header) -> Message:
        """An empty payload: the sender, an endpoint of this process, encoded nothing; take
        its own message object, which it holds until our ack (by its session and seq)."""
        local = self._bus._sessions.get(header.session) if header.kind == KIND_SEND else None
        message = local._pending_by_seq.get((self.name, header.seq)) if local else None
        if message is None:
            raise MalformedMessageError("empty payload: only an endpoint of this process sends "
                                        "one, for a message it still holds for us")
        return cast(Message, message)

    def _decode(self, header: Header, payload: bytes) -> Message:
        return decode(payload, header.codec, self._bus.max_message_bytes)

    def _serve_request(self, ident: bytes, seq: int, message: Message) -> None:
        self.stats.received += 1
        handler = self._handlers.get(message.type)
        if handler is None:
            detail = f"{self.name!r} serves no {message.type!r} requests"
            self._error_reply(ident, seq, message.id, "no_handler", detail)
            return
        self._in_handler = True
        try:
            reply = handler(message)
        except (MessageError, ValueError) as exc:
            self._error_reply(ident, seq, message.id, "rejected", str(exc))
            return
        except Exception as exc:
            self._error_reply(ident, seq, message.id, "internal", f"{type(exc).__name__}: {exc}")
            raise
        finally:
            self._in_handler = False
        if not isinstance(reply, Envelope):
            detail = f"the {message.type!r} handler returned {type(reply).__name__}, not a message"
            self._error_reply(ident, seq, message.id, "internal", detail)
            raise TypeError(detail)
        self._seq += 1
        reply.sender, reply.reply_to = self.name, message.id
        if not reply.id:
            reply.id = f"{self.name}:{self._seq}"
        self.stats.requests_served += 1
        header = make_header(KIND_REPLY, self._bus.codec, seq)
        self._reply(ident, [header, encode(reply, self._bus.codec)], message.sender)

    def _error_reply(self, ident: bytes, seq: int, reply_to: str | None, code: str,
                     detail: str) -> None:
        if len(self._outbox.get(ident, ())) >= ERROR_REPLY_BACKLOG:
            self.stats.replies_undeliverable += 1  # a flood that reads nothing gets no more
            return
        self._seq += 1
        error = ErrorMessage(id=f"{self.name}:{self._seq}", sender=self.name, reply_to=reply_to,
                             code=code, detail=detail[:2000])
        self.stats.error_replies_sent += 1
        self._reply(ident, [make_header(KIND_REPLY, "json", seq), encode(error)], None)

    def _reply(self, ident: bytes, frames: list[bytes], peer_name: str | None) -> None:
        self._outbox.setdefault(ident, deque()).append([ident, *frames])
        self._flush_outbox()
        peer = self._bus._endpoints.get(peer_name) if peer_name is not None else None
        if peer is not None and self.name in peer._dealer_readers:
            self._bus._mark(peer._dealer_readers[self.name])

    def _flush_outbox(self) -> int:
        """Send held replies, per connection: one peer that reads nothing holds up no other."""
        sent = 0
        for ident in list(self._outbox):
            queue = self._outbox[ident]
            while queue:
                try:
                    send_now(self._router, queue[0])
                except zmq.Again:
                    break  # the peer's queue is full: keep the reply and retry on the next pump
                except zmq.ZMQError as exc:
                    if exc.errno != zmq.EHOSTUNREACH:
                        raise
                    self.stats.replies_undeliverable += len(queue)
                    queue.clear()  # the peer is gone: so is what it left unfinished
                    self._senders.forget(ident)
                    self._parts.forget(ident)
                    break
                queue.popleft()
                sent += 1
            if not queue:
                del self._outbox[ident]
        return sent

    # --- acks and replies (DEALERs) ------------------------------------------------------

    def _read_dealer(self, peer: str) -> int:
        dealer, handled = self._dealers.get(peer), 0
        while dealer is not None and not self._closed and readable(dealer):
            self._on_reply(peer, receive_now(dealer))
            handled += 1
        return handled

    def _on_reply(self, peer: str, frames: list[bytes]) -> None:
        try:
            if len(frames) != 2:
                raise MalformedMessageError(f"reply with {len(frames)} frames, expected 2")
            header = parse_header(frames[0], KIND_REPLY)
            seq = header.seq
            message = self._decode(header, frames[1])
        except MessageError as exc:
            self.stats.count_rejection(exc.code)
            return
        if message.reply_to is not None and message.reply_to in self._waiting:
            self._replies[message.reply_to] = message
            return
        if isinstance(message, Ack):
            self._acked(peer, message.acked_ids)
            return
        if isinstance(message, ErrorMessage):
            self.stats.error_replies_received += 1
            rejected = self._pending_by_seq.pop((peer, seq), None)
            if rejected is not None:
                message_id = rejected.id
                self._pending.pop((peer, message_id), None)
                self._rejections.append(
                    MessageRejectedError(
                        f"{peer!r} rejected message {message_id!r} from {self.name!r}: "
                        f"[{message.code}] {message.detail}",
                        message.code,
                        message.detail,
                    )
                )
                return
        self.stats.late_replies += 1

    def _acked(self, peer: str, message_ids: list[str]) -> None:
        """``peer`` has validated and queued these of our reliable sends."""
        for message_id in message_ids:
            entry = self._pending.pop((peer, message_id), None)
            if entry is not None:
                self._pending_by_seq.pop((peer, entry[0]), None)
                self.stats.acked += 1

    def _read_monitors(self) -> None:
        for peer, monitor in self._monitors.items():
            while readable(monitor):
                event = recv_monitor_message(monitor)
                if event["event"] == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                    self._auth_failed.pop(peer, None)
                else:
                    name = zmq.Event(event["event"]).name
                    self._auth_failed[peer] = f"{name}, status {event['value']}"

    # --- publications (SUB) and subscriptions (XPUB) -------------------------------------

    def _read_sub(self) -> int:
        """Read every publisher's SUB (a local publish marks this)."""
        handled = 0
        for publisher in list(self._subs):
            handled += self._read_publisher(publisher)
        return handled

    def _read_publisher(self, publisher: str) -> int:
        sub, handled = self._subs.get(publisher), 0
        while sub is not None and not self._closed and readable(sub):
            self._on_publish(publisher, receive_now(sub))
            handled += 1
        return handled

    def _on_publish(self, publisher: str, frames: list[bytes]) -> None:
        try:
            if len(frames) != 3:
                raise MalformedMessageError(f"publication with {len(frames)} frames, expected 3")
            header = parse_header(frames[1], KIND_PUBLISH)
            payload = self._whole(publisher.encode(), header, frames[2])
            if payload is None:
                return
            message = cast("Message | None", self._published_here.pop(
                (publisher, header.seq), None)) or self._decode(header, payload)
            if message.sender != publisher:
                raise SenderMismatchError(
                    f"a publication of {publisher!r} says it is from {message.sender!r}"
                )
            check_policy(self.policy, message, self.name)
        except MessageError as exc:
            self.stats.count_rejection(exc.code)
            return
        seq = header.seq
        self._inbox.append((message.sender, seq, message))
        needed = self._awaiting.get(message.sender)
        if needed is not None and seq >= needed:
            del self._awaiting[message.sender]
        self.stats.received += 1

    def _read_xpub(self) -> int:
        handled = 0
        while not self._closed and readable(self._xpub):
            event = self._xpub.recv()
            topic = event[1:].decode(errors="replace")
            change = 1 if event[:1] == b"\x01" else -1
            self.subscriber_counts[topic] = self.subscriber_counts.get(topic, 0) + change
            handled += 1
        return handled

    def subscribers(self, topic: str) -> int:
        """How many subscriptions to exactly ``topic`` this endpoint's publisher has seen."""
        self._read_xpub()
        return self.subscriber_counts.get(topic, 0)
