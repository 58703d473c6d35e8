"""Aggregators on other hosts: a CurveZMQ tcp endpoint that turns their commands into requests.

Why CurveZMQ with an allow-list: a DR command switches someone's appliance off;
only a peer whose public key the config lists (and only under its listed name)
may send one. Unknown keys are refused during the handshake.
"""

from __future__ import annotations

import json
import logging

import zmq.auth

from gridcoop.agents.bus.curve import CurveConfig, CurveKeyPair
from gridcoop.agents.bus.schema import DRCommand
from gridcoop.agents.bus.transport import Bus
from gridcoop.experiments.live.commands import CommandQueue, QueuedCommand
from gridcoop.experiments.live.config import LiveConfig

log = logging.getLogger("gridcoop.live")
ENDPOINT = "live"


class RemoteAgents:
    """The ``live`` endpoint of a tcp bus with CurveZMQ; ``pump`` moves commands into the queue."""

    def __init__(self, config: LiveConfig, queue: CommandQueue) -> None:
        assert config.bus is not None
        settings = config.bus
        keys = CurveKeyPair.load(config.resolve(settings.secret_key_file))
        allowed: dict[bytes, set[str]] = {}
        for peer in settings.peers:
            public, _ = zmq.auth.load_certificate(str(config.resolve(peer.public_key_file)))
            allowed.setdefault(public, set()).add(peer.name)
        self.queue = queue
        self.bus = Bus("tcp", host=settings.host, curve=CurveConfig(keys, allowed_clients=allowed))
        self.endpoint = self.bus.endpoint(ENDPOINT)
        address = self.bus.address_of(ENDPOINT)
        self.address_file = config.resolve(config.ledger.path).with_suffix(".bus.json")
        self.address_file.write_text(json.dumps({
            "router": address.router, "pub": address.pub,
            "server_public_key": (address.server_public_key or b"").decode()}), encoding="utf-8")
        log.info("remote aggregators connect to %s (CurveZMQ; %d allowed peer keys)",
                 address.router, len(allowed))

    def pump(self) -> int:
        """Read the sockets; queue every DR command received. Returns how many."""
        self.bus.pump(0.0)
        count = 0
        for message in self.endpoint.drain():
            if isinstance(message, DRCommand):
                appliance = int(message.appliance) if message.appliance.isdigit() else 255
                self.queue.push(QueuedCommand(message.household_id, appliance, message.action,
                                              duration_min=message.duration_s // 60,
                                              reason=f"from {message.sender}"))
                count += 1
        return count

    @property
    def auth_refused(self) -> int:
        return int(self.bus.stats.auth_refused)

    def close(self) -> None:
        self.bus.close()
