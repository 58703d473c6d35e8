"""The community model inside live mode: real meters swapped in, the market on live time.

Why event sourcing: the model keeps its books, escrow and bus in memory and
always starts a fresh ledger, but the live journal durably records, in order,
every interval's measured and estimated energies. The model is fed *only*
from the journal's sealed blocks (never from the bridge directly), so after a
restart it is rebuilt from the config and the recorded intervals are replayed
into a fresh model ledger as fast as possible; with the same seed the replay
is exact, and the model's head hash after each interval (kept in a side file)
proves it. Live interval ``k`` is the model's metering interval ``k`` (model
time 0 is the live epoch); it is read by the model's step ``k + 1``.

Why estimated intervals settle at grid tariffs: an estimate is not a
measurement, so it may not deliver (or receive) local energy. A member whose
reading is estimated anywhere in a delivery interval delivers and receives
nothing through its trades of that interval (the escrow is refunded, as for
any undelivered trade); its estimated import and export are billed at the grid
tariffs in a batch of their own, memo ``estimated a<interval>``. The model is
a plain ``CommunityModel``: the central market's one settlement path does
this when given :class:`JournalEstimates` (an ``EstimatePricing`` part), and
the journal's readings reach the meters through the model's one way to swap a
region's meter source (``region_host.wrap_meter_source``).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from gridcoop.agents.model.community import CommunityModel
from gridcoop.experiments.live.commands import QueuedCommand
from gridcoop.experiments.live.config import LiveConfig, LiveConfigError
from gridcoop.experiments.live.journal import Interval, JournalError
from gridcoop.experiments.live.page import LivePublisher, LiveSnapshot
from gridcoop.hardware_bridge.readings import MeterReading

log = logging.getLogger("gridcoop.live")
IntArray = np.ndarray


class JournalEstimates:
    """Which members' readings the journal estimated; the model bills those at the grid
    tariffs (``EstimatePricing``, see ``gridcoop.agents.trading.central``)."""

    def __init__(self, steps_per_market: int) -> None:
        self.steps_per_market = steps_per_market
        self.estimated_steps: dict[int, list[int]] = {}  # metering interval -> node indices
        self.estimated_settled: list[tuple[int, list[int]]] = []

    def estimated(self, interval: int, size: int) -> np.ndarray:
        """Members with an estimated reading in any metering interval of ``interval``."""
        mask = np.zeros(size, dtype=bool)
        per = self.steps_per_market
        for k in range(interval * per, (interval + 1) * per):
            mask[self.estimated_steps.pop(k, [])] = True
        return mask

    def settled(self, interval: int, nodes: list[int]) -> None:
        self.estimated_settled.append((interval, nodes))


class LiveRegionSource:
    """A region's meter source: the live journal's readings for real members, physics for the rest.

    Wraps the region's simulated bank (which the model's physics feeds) and
    replaces the real members' columns by what ``put`` gave for that interval.
    """

    def __init__(self, inner: Any, interval_s: int) -> None:
        self.inner = inner
        self.interval_s = interval_s
        self.pending: dict[int, dict[str, tuple[int, int, bool]]] = {}

    def put(self, start_s: int, readings: dict[str, tuple[int, int, bool]]) -> None:
        self.pending[start_s] = readings

    def poll(self, until_s: int) -> list[MeterReading]:
        block = self.inner.poll_block(until_s)
        out: list[MeterReading] = []
        for col, start in enumerate(block.interval_start_s.tolist()):
            real = self.pending.pop(int(start), {})
            for i, meter in enumerate(block.meter_ids):
                seq = block.first_seq + col + 1
                if meter in real:
                    imp, exp, estimated = real[meter]
                    out.append(MeterReading(meter, int(start), self.interval_s, imp, exp,
                                            estimated=estimated, seq=seq, source="live"))
                else:
                    out.append(MeterReading(meter, int(start), self.interval_s,
                                            int(block.import_wh[i, col]),
                                            int(block.export_wh[i, col]), seq=seq))
        return out

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()


def model_readings(start_s: int, interval_s: int, measured: list[Interval],
                   estimated: list[Interval]) -> dict[str, tuple[int, int, bool]]:
    """One live interval (from live second ``start_s``) as the model's per-node reading.

    Each node gets (import Wh, export Wh, estimated).
    A measured reading ending in this interval counts its energy prorated to one
    interval (a reading spanning a silent gap is the gap's true-up on the journal;
    the model already settled the gap's intervals as estimated). Otherwise the
    estimate counts, flagged; a node with neither reads 0, flagged estimated.
    """
    out: dict[str, tuple[int, int, bool]] = {}
    end_s = start_s + interval_s
    for m in measured:
        m_end = m.start_s + m.span_s
        if start_s < m_end <= end_s and m.span_s > 0:
            imp, exp, _ = out.get(m.node, (0, 0, False))
            out[m.node] = (imp + m.import_wh * interval_s // max(m.span_s, interval_s),
                           exp + m.export_wh * interval_s // max(m.span_s, interval_s), False)
    for e in estimated:
        if e.node not in out:
            out[e.node] = (e.import_wh, e.export_wh, True)
    return out


class LiveCommunity:
    """The model live mode steps: built from the config, fed from the journal, replayable."""

    def __init__(self, config: LiveConfig, ledger_path: Path, epoch_s: int) -> None:
        self.epoch_s = epoch_s  # live second of model second 0
        settings = config.community.model
        if settings is None:
            raise LiveConfigError("community.model is not set; live mode runs no model")
        self.interval_s = config.interval_s
        self.model_path = ledger_path.with_name(f"{ledger_path.stem}.model.sqlite")
        self.heads_path = ledger_path.with_name(f"{ledger_path.stem}.model-heads.jsonl")
        for suffix in ("", "-wal", "-shm", "-journal"):  # rebuilt by replay, see module
            Path(f"{self.model_path}{suffix}").unlink(missing_ok=True)
        params = dict(settings.params)
        params.update(seed=config.community.seed, days=settings.days,
                      metering_minutes=config.clock.metering_minutes,
                      market_minutes=config.clock.market_minutes)
        params.setdefault("signing", config.ledger.signing)
        self.estimates = JournalEstimates(config.clock.market_minutes
                                          // config.clock.metering_minutes)
        try:
            self.model = CommunityModel(settings.scenario, ledger_path=self.model_path,
                                        estimates=self.estimates, **params)
        except ValueError as exc:
            raise LiveConfigError(f"community.model: {exc}") from exc
        pop = self.model.population
        index = {node: i for i, node in enumerate(pop.node_ids)}
        self.member_of: dict[str, str] = {}
        for meter in config.community.meters:
            if meter.member is None:
                continue
            if meter.member not in index:
                raise LiveConfigError(
                    f"community.meters: node {meter.node} names model member {meter.member!r}, "
                    f"which the {settings.scenario} model does not have (members: "
                    f"{', '.join(pop.node_ids[:8])}{' ...' if pop.size > 8 else ''})")
            self.member_of[meter.node] = meter.member
        self.node_of_member = {m: n for n, m in self.member_of.items()}
        self.appliances = {m.node: dict(m.appliances) for m in config.community.meters}
        self.index = index
        self.sources: dict[str, LiveRegionSource] = {}
        for r, region in enumerate(pop.region_ids):
            nodes = set(pop.node_ids[pop.region_slices[r]])
            if nodes & set(self.node_of_member):
                def wrap(inner: Any, region: str = region) -> LiveRegionSource:
                    self.sources[region] = LiveRegionSource(inner, self.interval_s)
                    return self.sources[region]  # keeps the bank open (wrapped)

                self.model.region_host.wrap_meter_source(region, wrap)
        self.region_of = {pop.node_ids[i]: pop.region_ids[int(pop.region[i])]
                          for i in range(pop.size)}
        self.lock = threading.RLock()
        self.horizon_logged = False
        self._rows_seen: dict[str, int] = {}
        self.recorded_heads = self._read_heads()
        self.steps_fed = 0
        self.publisher: LivePublisher | None = None  # set when the web page is attached

    # --- heads side file ------------------------------------------------------------

    def _read_heads(self) -> dict[int, str]:
        heads: dict[int, str] = {}
        if not self.heads_path.exists():
            return heads
        for line in self.heads_path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a kill
            heads[int(row["step"])] = str(row["head"])
        return heads

    def _record_head(self, step: int) -> None:
        ledger = self.model.accounts.ledger
        line = json.dumps({"step": step, "height": ledger.height, "head": ledger.head_hash})
        with self.heads_path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
            out.flush()
            os.fsync(out.fileno())

    # --- stepping ---------------------------------------------------------------------

    @property
    def real_nodes(self) -> list[str]:
        return list(self.member_of)

    def advance(self, step: int, measured: list[Interval], estimated: list[Interval], *,
                replay: bool = False) -> bool:
        """Give live interval ``step`` to the model and run its step ``step + 1``.

        Returns False (and logs once) past the model's horizon (``community.model.days``).
        """
        if step != self.steps_fed:
            raise JournalError(f"the model is at live interval {self.steps_fed}, not {step}")
        model = self.model
        with self.lock:
            if model.steps + 1 >= model.clock.total_steps:  # its last step reads ahead: stop
                if not self.horizon_logged:
                    log.warning("community model horizon (%d days) reached at interval %d; the "
                                "journal goes on, the market stops", model.clock.days, step)
                    self.horizon_logged = True
                self.steps_fed += 1
                return False
            start_s = step * self.interval_s
            readings = model_readings(self.epoch_s + start_s, self.interval_s, measured,
                                      estimated)
            flagged: list[int] = []
            by_region: dict[str, dict[str, tuple[int, int, bool]]] = {r: {} for r in self.sources}
            for node, member in self.member_of.items():
                imp, exp, est = readings.get(node, (0, 0, True))
                by_region[self.region_of[member]][f"m-{member}"] = (imp, exp, est)
                if est:
                    flagged.append(self.index[member])
            for region, values in by_region.items():
                self.sources[region].put(start_s, values)
            if flagged:
                self.estimates.estimated_steps[step] = flagged
            while model.steps < step + 2:
                model.step()
            self.steps_fed += 1
            head = model.accounts.ledger.head_hash
        recorded = self.recorded_heads.get(step)
        if recorded is not None and recorded != head:
            raise JournalError(
                f"the community model's ledger after interval {step} has head {head[:16]}, the "
                f"run before the restart recorded {recorded[:16]}: the model's config or code "
                f"changed since; restore them, or start a new live ledger")
        if not replay or recorded is None:
            self._record_head(step)
        if not replay:
            self.publish()
        return True

    def publish(self) -> None:
        """Give the attached page a snapshot of the model (from the stepping thread)."""
        if self.publisher is not None:
            with self.lock:
                snapshot = LiveSnapshot.of(self.model, self.status())
            self.publisher.publish(snapshot)

    def new_commands(self) -> list[QueuedCommand]:
        """Commands the model's extensions issued to real members since the last call.

        An extension exposes ``command_rows`` (dicts with ``household_id``,
        ``device_id``, ``action``, ``duration_s``), as the DR community does; a
        row for a member with a real meter becomes a request for the appliance the
        config maps its ``device_id`` to (``community.meters[].appliances``). A
        device with no mapping stays simulated (logged).
        """
        out = []
        for extension in self.model.extensions:
            rows = getattr(extension, "command_rows", None)
            if rows is None:
                continue
            seen = self._rows_seen.get(extension.name, 0)
            self._rows_seen[extension.name] = len(rows)
            for row in rows[seen:]:
                node = self.node_of_member.get(str(row.get("household_id")))
                if node is None:
                    continue
                device = str(row.get("device_id", ""))
                action = str(row.get("action"))
                appliance = self.appliances.get(node, {}).get(device)
                if appliance is None:
                    log.info("model command %s %s for %s: no appliance mapped in the config "
                             "(community.meters[].appliances); it stays simulated", action,
                             device, node)
                    continue
                duration_s = int(row.get("duration_s", 0))
                out.append(QueuedCommand(node, appliance, action,
                                         duration_min=-(-duration_s // 60),
                                         reason=f"{extension.name} {row.get('command_id', '')}"))
        return out

    def status(self) -> dict[str, Any]:
        with self.lock:
            ledger = self.model.accounts.ledger
            return {"model_steps": int(self.model.steps), "model_height": ledger.height,
                    "model_head_hash": ledger.head_hash, "trades": int(self.model.kpis.trades),
                    "estimated_settled": len(self.estimates.estimated_settled)}

    def close(self) -> None:
        with self.lock:
            self.model.close()
