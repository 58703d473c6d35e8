"""An in-memory stand-in for ``MqttTransport`` (unit tests only): messages in, acks out.

The real transport is exercised against Mosquitto in the ``broker`` tests; this
one lets a test feed thousands of hostile messages quickly and see exactly
which ones were acknowledged, and when.
"""

from __future__ import annotations

import queue

from gridcoop.hardware_bridge.mqtt_transport import Inbound


class FakeTransport:
    """Duck-typed ``MqttTransport``: ``deliver`` plays the broker, ``acked`` records acks."""

    manual_ack = True

    def __init__(self) -> None:
        self.connects = 1
        self.disconnects = 0
        self.connected = True
        self.inbox: queue.SimpleQueue[Inbound] = queue.SimpleQueue()
        self.acked: list[int] = []
        self.published: list[tuple[str, bytes | str, int]] = []
        self.subscribed: list[tuple[str, int]] = []
        self._mid = 0

    def subscribe(self, topic: str, qos: int) -> None:
        self.subscribed.append((topic, qos))

    def start(self, timeout_s: float = 10.0) -> FakeTransport:
        return self

    def deliver(self, topic: str, payload: bytes, qos: int = 1) -> int:
        self._mid += 1
        self.inbox.put(Inbound(topic, payload, self._mid, qos, self.connects))
        return self._mid

    def next_message(self, timeout_s: float = 0.0) -> Inbound | None:
        try:
            return self.inbox.get(timeout=timeout_s) if timeout_s > 0 else self.inbox.get_nowait()
        except queue.Empty:
            return None

    def ack(self, message: Inbound) -> bool:
        self.acked.append(message.mid)
        return True

    def publish(self, topic: str, payload: bytes | str, qos: int, retain: bool = False) -> None:
        self.published.append((topic, payload, qos))

    def close(self, flush_s: float = 2.0) -> None:
        self.connected = False
