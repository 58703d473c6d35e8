"""Commands in flight and how their outcome is decided (one outcome per command).

Why these rules: a Class A device hears a downlink only after its own uplink,
so an answer can take a whole metering interval. The device's own ack uplink
(fPort 12, MAC-checked) is authoritative and final, including refusals. A
network server's negative outcome (unacknowledged confirmed downlink, TTN
nack/failed) is final too. A network-level positive ack only proves delivery:
if no device ack follows before the timeout, the command is reported acked
"via network"; with no sign of life at all it is reported as a timeout.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridcoop.hardware_bridge.codec import AckFrame
from gridcoop.hardware_bridge.readings import Command, CommandAck


@dataclass(slots=True)
class Pending:
    command: Command
    meter_id: str
    correlation_id: str
    sent_s: float
    delivered: bool = False


class PendingCommands:
    """Correlates network acks (by id) and device acks (by devEUI + command id)."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._by_corr: dict[str, Pending] = {}
        self._by_cmd: dict[tuple[str, int], Pending] = {}
        self.unmatched = 0

    def __len__(self) -> int:
        return len(self._by_corr)

    def add(self, command: Command, meter_id: str, correlation_id: str, now_s: float) -> None:
        old = self._by_cmd.get((meter_id, command.command_id))
        if old is not None:  # a resend supersedes the earlier copy
            self._by_corr.pop(old.correlation_id, None)
        item = Pending(command, meter_id, correlation_id, now_s)
        self._by_corr[correlation_id] = item
        self._by_cmd[(meter_id, command.command_id)] = item

    def get(self, correlation_id: str) -> Pending | None:
        return self._by_corr.get(correlation_id)

    def _finish(self, item: Pending, status: str, detail: str, via: str) -> CommandAck:
        self._by_corr.pop(item.correlation_id, None)
        self._by_cmd.pop((item.meter_id, item.command.command_id), None)
        return CommandAck(
            device_id=item.command.device_id,
            command_id=item.command.command_id,
            status=status,
            detail=detail,
            correlation_id=item.correlation_id,
            via=via,
        )

    def device_ack(self, meter_id: str, frame: AckFrame) -> CommandAck | None:
        """The device answered; None if no such command is pending (late or repeated ack)."""
        item = self._by_cmd.get((meter_id, frame.cmd_id))
        if item is None:
            self.unmatched += 1
            return None
        status = "acked" if frame.result == 0 else "nacked"
        return self._finish(item, status, "" if frame.result == 0 else frame.result_name, "device")

    def network_outcome(self, correlation_id: str, ok: bool, detail: str) -> CommandAck | None:
        """A network server reported delivery (ok) or failure; failures are final."""
        item = self._by_corr.get(correlation_id)
        if item is None:
            self.unmatched += 1
            return None
        if ok:
            item.delivered = True
            return None
        status = "timeout" if "not acknowledged" in detail else "nacked"
        return self._finish(item, status, detail, "network")

    def fail(self, correlation_id: str, detail: str) -> CommandAck | None:
        """The bridge could not hand the command over (port closed, broker down)."""
        item = self._by_corr.get(correlation_id)
        return None if item is None else self._finish(item, "nacked", detail, "bridge")

    def expire(self, now_s: float) -> list[CommandAck]:
        """Outcomes of commands older than the timeout."""
        out: list[CommandAck] = []
        for item in [p for p in self._by_corr.values() if now_s - p.sent_s >= self.timeout_s]:
            if item.delivered:
                out.append(self._finish(item, "acked", "delivered; no device ack", "network"))
            else:
                out.append(
                    self._finish(item, "timeout", f"no answer in {self.timeout_s:g} s", "bridge")
                )
        return out
