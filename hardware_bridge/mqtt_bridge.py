"""The part of the ChirpStack and TTN bridges that is just MQTT plumbing.

Why one message at a time, a pump thread and manual acknowledgement: anyone
with broker access can publish anything on the application topics. Each
message is decoded on its own; a refusal (any project error) is counted and
logged with its reason and never touches the next message. A QoS 1 message is
acknowledged to the broker only after its outcome (reading or refusal) is
committed to the replay guard, so a crash in between makes the broker deliver
it again rather than lose it. The pump thread records and acknowledges messages
as they arrive (the broker holds only a bounded window of unacknowledged ones);
``poll`` runs the same pump first, so it always sees everything received so far.
"""

from __future__ import annotations

import logging
import threading
from abc import abstractmethod
from collections import Counter
from typing import Any

from gridcoop.hardware_bridge.bridge_base import HardwareBridge, RegistryLike
from gridcoop.hardware_bridge.errors import BridgeError, PayloadError, StoreError
from gridcoop.hardware_bridge.mqtt_transport import Inbound, MqttTransport, parse_broker

log = logging.getLogger(__name__)

MALFORMED = "malformed_message"
REFUSED = "refused_message"
DECODER_FAULT = "decoder_fault"
GUARD_WRITE_FAILED = "guard_write_failed"
MAX_EVENT_KINDS = 64  # distinct event counters; topic parts are chosen by whoever publishes
BATCH = 200  # messages recorded per guard commit in the pump thread
IDLE_S = 0.02  # the pump thread's pause when the inbox is empty


class BoundedCounter(Counter[str]):
    """A Counter that folds keys beyond ``MAX_EVENT_KINDS`` into ``other``."""

    def __setitem__(self, key: str, value: int) -> None:
        if key not in self and key != "other" and len(self) >= MAX_EVENT_KINDS - 1:
            key, value = "other", self["other"] + value  # a new key's count starts at 0
        super().__setitem__(key, value)


class MqttBridge(HardwareBridge):
    """A hardware bridge whose frames arrive as MQTT messages from a network server."""

    def __init__(
        self,
        registry: RegistryLike,
        *,
        broker: str = "127.0.0.1:1883",
        transport: MqttTransport | None = None,
        transport_options: dict[str, Any] | None = None,
        connect_timeout_s: float = 10.0,
        **bridge_options: Any,
    ) -> None:
        super().__init__(registry, **bridge_options)
        self.events: Counter[str] = BoundedCounter()
        self._unacked: list[Inbound] = []
        self._taken_last = False
        self._stop = threading.Event()
        if transport is None:
            host, port = parse_broker(broker)
            options = {"manual_ack": True, **(transport_options or {})}
            transport = MqttTransport(host, port, **options)
        self.transport = transport
        for topic, qos in self._subscriptions():
            transport.subscribe(topic, qos)
        try:
            transport.start(connect_timeout_s)
        except Exception:
            super().close()
            raise
        self._thread = threading.Thread(target=self._run, name="mqtt-bridge-pump", daemon=True)
        self._thread.start()

    @abstractmethod
    def _subscriptions(self) -> list[tuple[str, int]]:
        """The (topic filter, QoS) pairs this network server's uplinks and events arrive on."""

    @abstractmethod
    def _route(self, topic: str, payload: bytes) -> None:
        """Handle one message (subclasses); raise ``MalformedMessageError`` for junk."""

    # -- one message at a time ---------------------------------------------------------
    def _handle(self, message: Inbound) -> None:
        """Route one message; any failure is a counted, logged refusal of this one only."""
        try:
            self._route(message.topic, message.payload)
            return
        except PayloadError as exc:
            kind, detail = MALFORMED, str(exc)
        except BridgeError as exc:  # e.g. an unknown TTN device id
            kind, detail = REFUSED, str(exc)
        except Exception as exc:  # a decoder defect must not cost other messages
            log.exception("message on %.120s: unexpected decoder failure", message.topic)
            kind, detail = DECODER_FAULT, f"{type(exc).__name__}: {exc}"
        self.events[kind] += 1
        log.warning("refused message on %.120s: %s: %.200s", message.topic, kind, detail)
        self.guard.reject(self._meter_of_topic(message.topic), kind, detail, self.clock())

    def _pump(self, limit: int | None = None) -> None:
        """Handle every message received so far (or ``limit``), record, then acknowledge."""
        taken = 0
        while limit is None or taken < limit:
            message = self.transport.next_message()
            if message is None:
                break
            taken += 1
            self._unacked.append(message)
            self._handle(message)
        self._taken_last = taken > 0
        self._record()

    def _record(self) -> None:
        """Commit the guard (raises ``StoreError``), then acknowledge what it now holds."""
        if not self._unacked:
            return
        self.guard.commit()
        for message in self._unacked:
            self.transport.ack(message)
        self._unacked.clear()

    def _run(self) -> None:
        """Record and acknowledge messages as they arrive, between polls.

        A message is only ever taken from the inbox under the bridge's lock, so
        a ``poll`` or ``drain`` always sees every message received before it.
        """
        while not self._stop.is_set():
            with self._lock:
                if self._closed:
                    return
                before = len(self._unacked)
                try:
                    self._pump(BATCH)
                    busy = len(self._unacked) > before or self._taken_last
                except StoreError as exc:  # kept unacknowledged; retried a second later
                    self.events[GUARD_WRITE_FAILED] += 1
                    log.warning("%s", exc)
                    busy = False
                    self._stop.wait(1.0)
                except Exception:  # the thread must outlive a defect; poll pumps as well
                    log.exception("MQTT bridge pump failed; retrying")
                    busy = False
                    self._stop.wait(1.0)
            if not busy:
                self._stop.wait(IDLE_S)

    @staticmethod
    def _meter_of_topic(topic: str) -> str:
        parts = topic.split("/")
        for marker in ("device", "devices"):
            if marker in parts and parts.index(marker) + 1 < len(parts):
                return parts[parts.index(marker) + 1]
        return topic

    def stats(self) -> dict[str, int]:
        counters = super().stats()
        counters.update({f"events.{k}": v for k, v in self.events.items()})
        counters["mqtt.connects"] = self.transport.connects
        counters["mqtt.disconnects"] = self.transport.disconnects
        return counters

    def _close_transport(self) -> None:
        self._stop.set()
        try:
            self._pump()
        except StoreError as exc:  # unacknowledged: the broker delivers them again
            log.warning("%s", exc)
        self.transport.close()
