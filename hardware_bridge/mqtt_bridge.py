"""The part of the ChirpStack and TTN bridges that is just MQTT plumbing."""

from __future__ import annotations

from abc import abstractmethod
from collections import Counter
from typing import Any

from gridcoop.hardware_bridge.bridge_base import HardwareBridge, RegistryLike
from gridcoop.hardware_bridge.errors import MalformedMessageError
from gridcoop.hardware_bridge.mqtt_transport import MqttTransport, parse_broker


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
        self.events: Counter[str] = Counter()
        if transport is None:
            host, port = parse_broker(broker)
            transport = MqttTransport(host, port, **(transport_options or {}))
        self.transport = transport
        for topic, qos in self._subscriptions():
            transport.subscribe(topic, qos)
        try:
            transport.start(connect_timeout_s)
        except Exception:
            super().close()
            raise

    @abstractmethod
    def _subscriptions(self) -> list[tuple[str, int]]:
        """The (topic filter, QoS) pairs this network server's uplinks and events arrive on."""

    @abstractmethod
    def _route(self, topic: str, payload: bytes) -> None:
        """Handle one message (subclasses); raise ``MalformedMessageError`` for junk."""

    def _pump(self) -> None:
        for topic, payload in self.transport.messages():
            try:
                self._route(topic, payload)
            except MalformedMessageError as exc:
                self.events["malformed"] += 1
                self.guard.reject(
                    self._meter_of_topic(topic), "malformed_message", str(exc), self.clock()
                )

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
        self.transport.close()
