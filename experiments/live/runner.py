"""``LiveRunner``: one interval at a time, paced to live time, written to the live ledger.

Each step k (interval ``[epoch + k*I, epoch + (k+1)*I)``) runs once live time
passes the interval's end plus the grace: poll every network server, decide
measured / estimated energies, evaluate the DR rules, send the queued commands,
collect command outcomes, and seal one block. The ledger's head says which
step comes next, so a restarted process (even after SIGKILL) goes on from there;
steps whose time passed while it was down run at once, their silent meters
estimated until the readings (or the next counter) come.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from gridcoop.experiments.live.clock import LiveClock
from gridcoop.experiments.live.commands import CommandQueue, ImportThresholdRule, QueuedCommand
from gridcoop.experiments.live.community import LiveCommunity
from gridcoop.experiments.live.config import LiveConfig, LiveConfigError, NetworkServer
from gridcoop.experiments.live.journal import LEDGER_ACTIONS, Interval, LiveJournal
from gridcoop.experiments.live.metering import RealMeters
from gridcoop.experiments.live.refusals import RefusalLog
from gridcoop.experiments.live.remote import RemoteAgents
from gridcoop.hardware_bridge import make_source
from gridcoop.hardware_bridge.errors import BridgeError, CommandError
from gridcoop.hardware_bridge.readings import Command
from gridcoop.streams import streams

log = logging.getLogger("gridcoop.live")


def _label(appliance: int, command_id: int, action: str) -> str:
    """How logs and the interval rows name a command (``a2/cmd77/off``); never parsed."""
    return f"a{appliance}/cmd{command_id}/{action}"


def _anchor(config: LiveConfig, ledger_path: Path) -> LiveClock:
    """The live clock; a rehearsal's anchor is kept beside the ledger so restarts agree."""
    c = config.clock
    if c.speedup == 1.0 and c.start_unix_s is None:
        return LiveClock()
    file = ledger_path.with_name(ledger_path.name + ".clock.json")
    if c.start_unix_s is not None:
        return LiveClock(speedup=c.speedup, start_unix_s=c.start_unix_s, epoch_s=c.epoch_s or 0)
    if file.exists():
        saved = json.loads(file.read_text(encoding="utf-8"))
        return LiveClock(speedup=c.speedup, start_unix_s=saved["start_unix_s"],
                         epoch_s=saved["epoch_s"])
    clock = LiveClock(speedup=c.speedup, epoch_s=c.epoch_s)
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(json.dumps({"start_unix_s": clock.start_unix_s, "epoch_s": clock.epoch_s}),
                    encoding="utf-8")
    return clock


class LiveRunner:
    """The live community: real meters through the bridge, simulated ones, commands, a ledger."""

    def __init__(self, config: LiveConfig, *, queue: CommandQueue | None = None) -> None:
        self.config = config
        self.interval_s = config.interval_s
        self.queue = queue or CommandQueue()
        ledger_path = config.resolve(config.ledger.path)
        self.clock = _anchor(config, ledger_path)
        real = [(m.node, m.device) for m in config.community.meters]
        self.sim_nodes = [f"sim-{i:05d}" for i in range(config.community.simulated_meters)]
        nodes = [n for n, _ in real] + self.sim_nodes
        first_epoch = config.clock.epoch_s if config.clock.epoch_s is not None else \
            int(self.clock.now() // self.interval_s * self.interval_s)
        self.journal = LiveJournal(ledger_path, nodes=nodes, name=config.community.name,
                                   epoch_s=first_epoch,
                                   interval_s=self.interval_s, signing=config.ledger.signing)
        self.epoch_s = self.journal.epoch_s
        self.grace_s = config.clock.grace_s if config.clock.grace_s is not None \
            else self.interval_s
        self.sources: dict[str, Any] = {}
        self.connected: dict[str, bool] = {}
        self._drops: dict[str, int] = {}
        try:
            for name in sorted({m.source for m in config.community.meters}):
                self.sources[name] = self._open_source(name, config.sources[name], ledger_path)
                self.connected[name] = True
            registries = {dev: self.sources[m.source].registry
                          for m in config.community.meters for dev in (m.device,)}
            self.meters = RealMeters.build(real, registries, self.interval_s, self.epoch_s)
        except BaseException:
            self.close()
            raise
        self.source_of = {t.node: self.sources[m.source]
                          for t, m in zip(self.meters.tracks, config.community.meters, strict=True)}
        self.node_of_device = {t.device: t.node for t in self.meters.tracks}
        self.device_of = {t.node: t.device for t in self.meters.tracks}
        self._restore()
        self.rules = [ImportThresholdRule(threshold_kw=r.threshold_kw, node=r.node,
                                          appliance=r.appliance, action=r.action, level=r.level,
                                          restore_below_kw=r.restore_below_kw)
                      for r in config.commands.rules]
        self.sent: dict[int, tuple[str, str, str]] = {}
        self.events: list[str] = []
        self._restore_commands()
        self.community: LiveCommunity | None = None
        try:
            if config.community.model is not None:
                self.community = LiveCommunity(config, ledger_path, self.epoch_s)
                self._replay()
            self.remote = RemoteAgents(config, self.queue) if config.bus is not None else None
        except BaseException:
            self.close()
            raise
        self.refusals = RefusalLog(self.sources)
        self.history: list[dict[str, Any]] = []
        self.stop_event = threading.Event()
        self._sim_mean_wh = config.community.simulated_mean_w * self.interval_s / 3600

    def _open_source(self, name: str, server: NetworkServer, ledger_path: Path) -> Any:
        guard = server.guard or ledger_path.with_name(f"{ledger_path.stem}.guard-{name}.sqlite")
        common: dict[str, Any] = {
            "registry": self.config.resolve(server.registry),
            "guard": self.config.resolve(guard), "clock": self.clock.now,
            "ack_timeout_s": self.config.commands.ack_timeout_s}
        password = server.credentials.password()
        if server.kind == "serial":
            return make_source("serial", url=server.url, **common)
        broker = f"{server.host}:{server.port}"
        if server.kind == "chirpstack":
            return make_source("chirpstack", application_id=server.application_id, broker=broker,
                               qos=server.qos, tls=server.tls, username=server.credentials.username,
                               password=password, client_id=server.client_id, **common)
        if password is None:
            raise LiveConfigError(f"sources.{name}.credentials: The Things Stack needs an API key; "
                                  "set password_env or password_file")
        return make_source("ttn", application_id=server.application_id, tenant=server.tenant,
                           api_key=password, broker=broker, tls=server.tls,
                           username=server.credentials.username, client_id=server.client_id,
                           **common)

    def _restore(self) -> None:
        """Baselines and last measured ends from the ledger (nothing from memory survives)."""
        ends = self.journal.last_measured_end([t.node for t in self.meters.tracks])
        for track in self.meters.tracks:
            track.baseline = self.journal.baseline(track.node)
            track.last_end_s = ends.get(track.node)
        step = self.journal.next_step
        if not self.journal.created:
            msg = (f"resumed from {self.journal.path} at interval {step} (ledger height "
                   f"{self.journal.ledger.height}); replay guard and baselines restored")
            log.warning("%s", msg)

    def _restore_commands(self) -> None:
        """Commands still awaiting an outcome and the rules' state, from the ledger's records.

        A pending command is put back into its bridge's pending table (same device,
        command id and send time), so a late device ack is recorded against it and
        its timeout still runs; a rule whose last command is its shedding action is
        active again, so a restart does not fire it twice.
        """
        if self.journal.created:
            return
        waiting, last_action = self.journal.command_state()
        for c in waiting:
            source = self.source_of.get(c.node)
            if source is None:
                continue
            self.sent[c.command_id] = (c.node, _label(c.appliance, c.command_id, c.action),
                                       c.action)
            device = self.device_of[c.node]
            pending = getattr(source, "pending", None)
            if pending is not None:
                pending.add(Command(device, c.appliance, c.command_id, c.action), device,
                            f"restored-{c.command_id}", float(c.start_s))
        for rule in self.rules:
            rule.active = (last_action.get((rule.node, str(rule.appliance)))
                           == LEDGER_ACTIONS.get(rule.action, "decrease"))
        if self.sent or any(r.active for r in self.rules):
            msg = (f"restored {len(self.sent)} command(s) awaiting an outcome and "
                   f"{sum(r.active for r in self.rules)} active rule(s) from the ledger")
            log.warning("%s", msg)
            self.events.append(msg)

    def _replay(self) -> None:
        """Rebuild the community model from the journal (no pacing) up to the next interval."""
        community = self.community
        assert community is not None
        unsent: list[QueuedCommand] = []
        for step in range(self.journal.next_step):
            measured, estimated = self.journal.step_intervals(step, community.real_nodes)
            community.advance(step, measured, estimated, replay=True)
            unsent = community.new_commands()  # only the last step's were never sent
        if self.journal.next_step:
            msg = (f"community model replayed from the journal: {self.journal.next_step} "
                   f"interval(s), model ledger head {community.status()['model_head_hash'][:16]}")
            log.warning("%s", msg)
        for request in unsent:
            self.queue.push(request)

    # --- one interval -----------------------------------------------------------------

    @property
    def next_step(self) -> int:
        return self.journal.next_step

    def deadline_s(self, step: int) -> int:
        return self.epoch_s + (step + 1) * self.interval_s + self.grace_s

    def _simulated(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        n = len(self.sim_nodes)
        rng = streams(self.config.community.seed).rng("live.simulated_meters", step)
        imports = np.rint(self._sim_mean_wh * rng.lognormal(0.0, 0.3, n)).astype(np.int64)
        return imports, np.zeros(n, dtype=np.int64)

    def _poll(self) -> None:
        now = int(self.clock.now())
        for name, source in self.sources.items():
            transport = getattr(source, "transport", None)
            up = bool(getattr(transport, "connected", True))
            drops = int(getattr(transport, "disconnects", 0))
            missed = drops - self._drops.get(name, 0)  # outages that began and ended between polls
            self._drops[name] = drops
            msg = ""
            if up != self.connected[name]:
                self.connected[name] = up
                msg = (f"network server {name}: connection {'back' if up else 'lost'}"
                       + ("" if up else "; readings held by the server arrive when it "
                                        "returns, silent meters are estimated meanwhile"))
            elif up and missed > 0:
                msg = (f"network server {name}: connection lost {missed} time(s) since the "
                       "last interval (broker or network server restart) and back; readings "
                       "sent meanwhile arrive from the server's queue")
            if msg:
                log.warning("%s", msg)
                self.events.append(msg)
            try:
                self.meters.offer(source.poll(now))
            except BridgeError as exc:
                log.warning("network server %s: poll failed (%s); retrying next interval", name,
                            exc)
            self.events.extend(self.refusals.check(name, source))

    def _send(self, request: QueuedCommand, now_s: int) -> list[Any]:
        source = self.source_of.get(request.node)
        if source is None:
            log.warning("command for node %s, which has no real meter; dropped", request.node)
            return []
        device = next(t.device for t in self.meters.tracks if t.node == request.node)
        command_id = self.journal.next_command_id()
        record = _label(request.appliance, command_id, request.action)
        refused = False
        try:
            source.send(Command(device, request.appliance, command_id, request.action,
                                level=request.level, duration_min=request.duration_min,
                                confirmed=self.config.commands.confirmed))
            self.sent[command_id] = (request.node, record, request.action)
        except CommandError as exc:
            log.warning("command %s to %s refused before sending: %s", record, request.node, exc)
            refused = True
        log.info("command %s to %s (%s)", record, request.node, request.reason)
        txs = [self.journal.command(request.node, request.appliance, request.action,
                                    request.level, now_s, max(request.duration_min * 60, 1)),
               self.journal.outcome(request.node, command_id, "refused", "bridge")
               if refused else None]
        return [tx for tx in txs if tx is not None]

    def step(self, step: int) -> dict[str, Any]:
        """Decide, command and record interval ``step`` (must be the ledger's next one)."""
        if step != self.journal.next_step:
            raise ValueError(f"interval {step} is not the next one ({self.journal.next_step})")
        if self.remote is not None:
            self.remote.pump()
        self._poll()
        decided = self.meters.decide(step)
        self.events.extend(decided.events)
        start_s = self.epoch_s + step * self.interval_s
        end_s = start_s + self.interval_s
        txs = [self.journal.measured(m) for m in decided.measured]
        base = step * (len(self.meters.tracks) + 1)
        txs += [self.journal.estimated(e, base + i + 1) for i, e in enumerate(decided.estimated)]
        sim_imp, sim_exp = self._simulated(step)
        sim_imp_total = int(sim_imp.sum())
        if self.sim_nodes:
            txs += [self.journal.measured(Interval(node, start_s, self.interval_s, int(i), int(x),
                                                   step + 1))
                    for node, i, x in zip(self.sim_nodes, sim_imp, sim_exp, strict=True)]
        real_wh = sum((m.import_wh - m.export_wh) * min(1.0, self.interval_s / m.span_s)
                      for m in decided.measured)
        real_wh += sum(e.import_wh - e.export_wh for e in decided.estimated)
        import_kw = (real_wh + sim_imp_total - int(sim_exp.sum())) / self.interval_s * 3.6
        for rule in self.rules:
            request = rule.evaluate(import_kw)
            if request is not None:
                self.queue.push(request)
        now_s = int(self.clock.now())
        for request in self.queue.drain():
            txs += self._send(request, now_s)
        acks = []
        for source in self.sources.values():
            for ack in source.acks():
                node, record, _ = self.sent.pop(
                    ack.command_id, (self.node_of_device.get(ack.device_id, ""),
                                     f"cmd{ack.command_id} (unknown)", ""))
                if not node:
                    continue
                outcome = f"{record}/{ack.status}:{ack.via or 'none'}"
                log.info("command %s: %s %s", outcome, ack.status, ack.detail)
                acks.append(outcome)
                recorded = self.journal.outcome(node, ack.command_id, ack.status, ack.via)
                if recorded is None:
                    log.warning("ack of command %s, which is not pending on the ledger; not "
                                "recorded", ack.command_id)
                else:
                    txs.append(recorded)
        height = self.journal.commit_step(txs, end_s)
        if self.community is not None:  # fed from the sealed block, exactly as on replay
            measured, estimated = self.journal.step_intervals(step, self.community.real_nodes)
            self.community.advance(step, measured, estimated)
            for request in self.community.new_commands():  # sent with the next interval
                self.queue.push(request)
        row = {"step": step, "start_s": start_s, "import_kw": import_kw,
               "measured": len(decided.measured) + len(self.sim_nodes),
               "estimated": len(decided.estimated), "silent": self.meters.silent,
               "acks": acks, "height": height, "late_s": now_s - end_s}
        self.history.append(row)
        return row

    # --- the loop ---------------------------------------------------------------------

    def run(self, *, max_steps: int | None = None) -> int:
        """Step at each interval's deadline until stopped, ``days`` pass or ``max_steps``."""
        done = 0
        days = self.config.clock.days
        last = None if days is None else days * 86400 // self.interval_s
        while not self.stop_event.is_set() and (max_steps is None or done < max_steps):
            step = self.journal.next_step
            if last is not None and step >= last:
                break
            if not self.clock.sleep_until(self.deadline_s(step), self.stop_event):
                break
            self.step(step)
            done += 1
        return done

    def stop(self) -> None:
        self.stop_event.set()

    def status(self) -> dict[str, Any]:
        out = {"next_step": self.journal.next_step, "height": self.journal.ledger.height,
               "head_hash": self.journal.ledger.head_hash, "silent": self.meters.silent,
               "connected": dict(self.connected), "events": self.events[-20:]}
        if self.community is not None:
            out.update(self.community.status())
        return out

    def close(self) -> None:
        community = getattr(self, "community", None)
        if community is not None:
            community.close()
        for source in getattr(self, "sources", {}).values():
            source.close()
        remote = getattr(self, "remote", None)
        if remote is not None:
            remote.close()
        journal = getattr(self, "journal", None)
        if journal is not None:
            journal.close()

    def __enter__(self) -> LiveRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


MESA_LOGGER = "MESA"
"""Mesa's loggers (``MESA.<module>``) log every model step at INFO/DEBUG."""


def configure_logging(path: str | os.PathLike[str] | None = None) -> None:
    """Log live events (silences, reboots, outages, resumes) to stderr and optionally a file."""
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if path is not None:
        handlers.append(logging.FileHandler(path, encoding="utf-8"))
    logging.basicConfig(level=logging.INFO, handlers=handlers,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger(MESA_LOGGER).setLevel(logging.WARNING)  # no "calling model.step" lines
