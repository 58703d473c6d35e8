"""A thin wrapper over paho-mqtt 2 (VERSION2 callbacks): connect, resubscribe, queue.

Why a wrapper: the ChirpStack and TTN bridges and the device simulator need the
same things from MQTT (reconnect forever, resubscribe on every connect, a
persistent session where the server allows one, messages handed to the caller's
thread through a queue) and nothing else. Paho's network thread only enqueues.

With ``manual_ack`` a QoS 1 message is acknowledged to the broker only when the
caller says it is recorded (``ack``), so a crash before that makes the broker
deliver it again instead of losing it. An acknowledgement is sent only on the
connection the message arrived on: after a reconnect the broker resends what
was not acknowledged, and the copy is acknowledged instead.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import NamedTuple

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from gridcoop.hardware_bridge.errors import ConfigError, TransportError


def parse_broker(address: str) -> tuple[str, int]:
    """``host:port`` (or ``host``, port 1883) to a pair."""
    host, _, port = address.rpartition(":") if ":" in address else (address, "", "1883")
    try:
        return host or "127.0.0.1", int(port)
    except ValueError as exc:
        raise ConfigError(f"broker {address!r} is not HOST:PORT") from exc


class Inbound(NamedTuple):
    """One received message and what is needed to acknowledge it."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    connection: int  # the ``connects`` count when it arrived


class MqttTransport:
    """One MQTT connection with remembered subscriptions and an inbound queue."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        client_id: str,
        mqtt5: bool = True,
        persistent_session: bool = True,
        session_expiry_s: int = 86_400,
        username: str | None = None,
        password: str | None = None,
        tls: bool = False,
        keepalive_s: int = 30,
        reconnect_min_s: float = 0.1,
        reconnect_max_s: float = 2.0,
        max_inflight: int = 1000,
        manual_ack: bool = False,
    ) -> None:
        self.host, self.port = host, port
        self.mqtt5 = mqtt5
        self.persistent_session = persistent_session
        self.session_expiry_s = session_expiry_s
        self.keepalive_s = keepalive_s
        self.connects = 0
        self.disconnects = 0
        self.session_resumed = 0
        self.manual_ack = manual_ack
        self._inbox: queue.SimpleQueue[Inbound] = queue.SimpleQueue()
        self._subscriptions: dict[str, int] = {}
        self._pending_subacks: set[int] = set()
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._ready = threading.Event()
        if mqtt5:
            client = mqtt.Client(
                CallbackAPIVersion.VERSION2,
                client_id=client_id,
                protocol=mqtt.MQTTv5,
                manual_ack=manual_ack,
            )
        else:
            client = mqtt.Client(
                CallbackAPIVersion.VERSION2,
                client_id=client_id,
                protocol=mqtt.MQTTv311,
                clean_session=not persistent_session,
                manual_ack=manual_ack,
            )
        if username is not None:
            client.username_pw_set(username, password)
        if tls:
            client.tls_set()
        client.reconnect_delay_set(reconnect_min_s, reconnect_max_s)  # type: ignore[arg-type]
        client.max_inflight_messages_set(max_inflight)
        client.max_queued_messages_set(0)  # unlimited: QoS 1 publishes wait out an outage
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        self.client = client
        self._started = False

    # -- paho callbacks (network thread) ----------------------------------------------
    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            return
        with self._lock:
            self.connects += 1
            if flags.session_present:
                self.session_resumed += 1
            self._pending_subacks.clear()
            for topic, qos in self._subscriptions.items():
                _, mid = client.subscribe(topic, qos)
                if mid is not None:
                    self._pending_subacks.add(mid)
            self._connected.set()
            if not self._pending_subacks:
                self._ready.set()

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        with self._lock:
            self.disconnects += 1
            self._connected.clear()
            self._ready.clear()

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        reason_codes: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        with self._lock:
            self._pending_subacks.discard(mid)
            if self._connected.is_set() and not self._pending_subacks:
                self._ready.set()

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        self._inbox.put(
            Inbound(message.topic, bytes(message.payload), message.mid, message.qos, self.connects)
        )

    # -- caller side -------------------------------------------------------------------
    def start(self, timeout_s: float = 10.0) -> MqttTransport:
        """Connect (retrying in the background) and wait until subscriptions are active."""
        if not self._started:
            properties = None
            if self.mqtt5:
                properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
                properties.SessionExpiryInterval = (
                    self.session_expiry_s if self.persistent_session else 0
                )
            if self.mqtt5:
                self.client.connect_async(
                    self.host,
                    self.port,
                    self.keepalive_s,
                    clean_start=not self.persistent_session,
                    properties=properties,
                )
            else:
                self.client.connect_async(self.host, self.port, self.keepalive_s)
            self.client.loop_start()
            self._started = True
        if not self.wait_ready(timeout_s):
            self.close()
            raise TransportError(
                f"no MQTT connection to {self.host}:{self.port} within {timeout_s:g} s; "
                "check the broker address, credentials and that the broker is running"
            )
        return self

    def wait_ready(self, timeout_s: float) -> bool:
        """Connected and every subscription acknowledged."""
        return self._ready.wait(timeout_s)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def subscribe(self, topic: str, qos: int) -> None:
        with self._lock:
            self._subscriptions[topic] = qos
            if self._connected.is_set():
                self._ready.clear()
                _, mid = self.client.subscribe(topic, qos)
                if mid is not None:
                    self._pending_subacks.add(mid)

    def publish(self, topic: str, payload: bytes | str, qos: int, retain: bool = False) -> None:
        """Publish; QoS 1/2 messages queue inside paho during an outage, QoS 0 ones fail."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc == mqtt.MQTT_ERR_NO_CONN and qos == 0:
            raise TransportError(
                f"not connected to {self.host}:{self.port}; QoS 0 message to {topic} not sent"
            )
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            raise TransportError(f"publish to {topic} failed: {mqtt.error_string(info.rc)}")

    def messages(self, limit: int | None = None) -> list[tuple[str, bytes]]:
        """Everything received so far (topic, payload), oldest first (acknowledged if manual)."""
        out: list[tuple[str, bytes]] = []
        while limit is None or len(out) < limit:
            message = self.next_message()
            if message is None:
                break
            self.ack(message)
            out.append((message.topic, message.payload))
        return out

    def get(self, timeout_s: float) -> tuple[str, bytes] | None:
        """Wait for one message (acknowledged if manual)."""
        message = self.next_message(timeout_s)
        if message is None:
            return None
        self.ack(message)
        return message.topic, message.payload

    def next_message(self, timeout_s: float = 0.0) -> Inbound | None:
        """The oldest message not yet taken (waiting up to ``timeout_s``), or None."""
        try:
            if timeout_s <= 0:
                return self._inbox.get_nowait()
            return self._inbox.get(timeout=timeout_s)
        except queue.Empty:
            return None

    def ack(self, message: Inbound) -> bool:
        """Acknowledge a QoS 1/2 message now that it is recorded (manual mode only).

        Returns False when the message came on an earlier connection: the broker
        has resent it, and that copy gets the acknowledgement.
        """
        if not self.manual_ack or message.qos == 0:
            return True
        if message.connection != self.connects or not self.connected:
            return False
        return self.client.ack(message.mid, message.qos) == mqtt.MQTT_ERR_SUCCESS

    def outstanding(self) -> int:
        """Publishes paho has not yet handed over (queued or awaiting PUBACK)."""
        return len(self.client._out_messages)

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until every QoS 1 publish is acknowledged (True) or the timeout passes."""
        deadline = time.monotonic() + timeout_s
        while self.outstanding() and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.outstanding() == 0

    def close(self, flush_s: float = 2.0) -> None:
        """Disconnect, after giving outstanding QoS 1 publishes ``flush_s`` to be acknowledged."""
        if self._started:
            if self.connected:
                self.flush(flush_s)
            self.client.disconnect()
            self.client.loop_stop()
            self._started = False
