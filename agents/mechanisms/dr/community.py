"""The DR community in the model: flexibility reports, excess sharing, OpenADR-style commands.

Why an extension and a bus of its own endpoints: each DR period (15 minutes by
default, in 5-minute transaction units) the same exchange runs as between real
parties: every aggregator (``dr-ra-<region>``) reports its members' demand and
flexibility per template (``FlexibilityReport``) to the central market
(``dr-central``); the central market shares the plant's forecast excess
(``market.share_excess``) or relays a utility's SIMPLE event, and sends each
aggregator a ``DREvent``; the aggregator sends each targeted household a
``DRCommand``; the households (``dr-members-<region>``) answer with
``DRResponse`` within their comfort limits; honoured commands drive the fleet.
Once the meters have read the event's last slot the aggregator verifies each
commitment and the market writes the outcome. Every command, every answer and
every verified outcome is a ledger transaction: a ``dr_command`` record per
command (target household, appliance, action, SIMPLE level, start, duration),
a ``dr_outcome`` with the household's answer (``opt_in`` or ``opt_out``),
``reward`` tokens for a commitment honoured, ``penalty`` for one not honoured
(tokens as far as the household holds them, the rest in µ€ at
``token_value_eur_u``). Opting out is the user's right and costs nothing, so
it has no reward or penalty; ``dr_commands.csv`` lists every answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gridcoop.agents.bus.messages import DRCommand, DREvent, DRResponse, FlexibilityReport
from gridcoop.agents.mechanisms.dr import report
from gridcoop.agents.mechanisms.dr.aggregation import aggregate
from gridcoop.agents.mechanisms.dr.behaviour import DROptOuts
from gridcoop.agents.mechanisms.dr.compliance import (
    TokenRules,
    commitments_from,
    verify_arrays,
)
from gridcoop.agents.mechanisms.dr.fleet_params import FleetParams
from gridcoop.agents.mechanisms.dr.flexibility import FlexibilityForecast
from gridcoop.agents.mechanisms.dr.openadr import (
    ApplianceCommand,
    OpenADREvent,
    SignalLevel,
    commands_for_dispatch,
    commands_for_level,
)
from gridcoop.agents.mechanisms.dr.report import EventRecord
from gridcoop.agents.mechanisms.dr.response import (
    CommandResponse,
    ResponseRun,
    command_arrays,
    honoured_commands,
    respond,
)
from gridcoop.agents.mechanisms.dr.scenario import PLANT_REGION, DRCommunity, DRPhysics
from gridcoop.agents.model.extensions import CommunityExtension
from gridcoop.agents.physics.clock import SimClock
from gridcoop.ledger.transactions import DrCommand, DrOutcome, Penalty, Reward
from gridcoop.streams import streams

if TYPE_CHECKING:
    from gridcoop.agents.bus.endpoint import Endpoint
    from gridcoop.agents.model.community import CommunityModel


class DRExtension(CommunityExtension):
    """Runs the DR exchange every period and writes it to the bus, the ledger and the outputs."""

    name = "dr"
    params: FleetParams
    rules: TokenRules
    rng_response: np.random.Generator
    rng_override: np.random.Generator
    simple_at: dict[int, int]
    households: int
    regions: list[str]
    central: Endpoint
    ra_eps: dict[str, Endpoint]
    member_eps: dict[str, Endpoint]
    tokens: dict[str, int]
    penalty_eur_u: int
    opt_outs: DROptOuts

    def __init__(self, model: CommunityModel) -> None:
        super().__init__(model)
        sc = model.scenario
        physics = model.population.physics
        if not isinstance(sc, DRCommunity) or not isinstance(physics, DRPhysics):
            raise TypeError("DRExtension needs a dr-community scenario (DRPhysics nodes)")
        self.sc: DRCommunity = sc
        self.physics: DRPhysics = physics
        self.params = physics.params
        self.clock: SimClock = model.clock
        self.step_s: int = self.clock.step_s
        self.period_steps: int = sc.dr_period_minutes // sc.metering_minutes
        self.rules = TokenRules(self.step_s, sc.tolerance_pct, sc.reward_tokens_per_wh,
                                sc.penalty_tokens_per_wh)
        registry = streams(sc.seed)
        self.rng_response = registry.rng("dr.response")
        self.rng_override = registry.rng("dr.override")
        self.opt_outs = DROptOuts(sc, self.params.household_ids, self.rng_response)
        self.simple_at = self._draw_simple_events(registry.rng("dr.events"))
        pop = model.population
        self.households = len(self.params.household_ids)
        self.regions = [r for r in pop.region_ids if r != PLANT_REGION]
        bus = model.bus
        self.central = bus.endpoint("dr-central")
        self.ra_eps = {r: bus.endpoint(f"dr-ra-{r}") for r in self.regions}
        self.member_eps = {r: bus.endpoint(f"dr-members-{r}") for r in self.regions}
        self.metered_wh: dict[int, np.ndarray] = {}
        self.events: list[EventRecord] = []
        self.open_events: list[EventRecord] = []
        self.command_rows: list[dict[str, Any]] = []
        self.flex_rows: list[dict[str, Any]] = []
        self.tokens: dict[str, int] = {h: 0 for h in self.params.household_ids}
        self._txs: list[Any] = []
        self.penalty_eur_u = 0
        self._last_run: ResponseRun | None = None

    # --- schedule ----------------------------------------------------------------------

    def _draw_simple_events(self, rng: np.random.Generator) -> dict[int, int]:
        """Utility SIMPLE events: first step of a period in the peak hours -> level 1-3."""
        per_day = self.clock.steps_per_day
        lo, hi = self.sc.peak_hours
        first = lo * 3600 // self.step_s // self.period_steps
        last = hi * 3600 // self.step_s // self.period_steps
        out: dict[int, int] = {}
        for day in range(self.clock.days):
            for _ in range(int(rng.poisson(self.sc.simple_events_per_day))):
                period = int(rng.integers(first, max(last, first + 1)))
                out[day * per_day + period * self.period_steps] = int(rng.integers(1, 4))
        return out

    # --- hooks -------------------------------------------------------------------------

    def after_physics(self, k: int) -> None:
        start = k + 1
        if start % self.period_steps or start + self.period_steps > self.clock.total_steps:
            return
        self._round(start)

    def before_seal(self, k: int, now_s: int) -> None:
        if k:
            self._capture(k - 1)
        self._verify_ready()
        self._flush()

    def finish(self) -> None:
        self._capture(self.clock.total_steps - 1)
        self._verify_ready()
        self._flush()

    # --- one DR period -----------------------------------------------------------------

    def _round(self, start: int) -> None:
        """Reports, sharing or a SIMPLE event, commands, answers, for steps start..+period."""
        steps, step_s = self.period_steps, self.step_s
        start_s = self.clock.start_s(start)
        forecast = self.physics.forecast(steps)
        self._report(forecast, start_s)
        reports = [m for m in self.central.drain() if isinstance(m, FlexibilityReport)]
        demand_kw = sum(r.demand_kw[0] for r in reports)
        plant_kw = float(self.physics.production_kw[start:start + steps].mean())
        excess_w = round(max(plant_kw - demand_kw, 0.0) * 1000)
        level = self.simple_at.get(start, 0)
        event_id = f"ev-{start:06d}"
        result = None
        if level:
            event = OpenADREvent(event_id, start_s, steps * step_s, level=SignalLevel(level))
            commands = commands_for_level(event, self.params, forecast.base_kw.mean(axis=0))
        elif excess_w >= self.sc.min_excess_kw * 1000:
            event = OpenADREvent(event_id, start_s, steps * step_s, "LOAD_DISPATCH",
                                 dispatch_kw=excess_w / 1000)
            up = forecast.up_kw.min(axis=0)
            commands, result = commands_for_dispatch(event, self.params, up, forecast.down_kw)
        else:
            return
        record = EventRecord(event_id, start_s, event.signal_name, int(event.level),
                             event.dispatch_kw, event.duration_s, start, start + steps - 1,
                             excess_w=excess_w if result else 0)
        if result is not None:
            record.granted_w, record.to_storage_w = result.granted_w, result.remainder_w
        responses = self._exchange(event, commands)
        record.targets = len(commands)
        record.opted_in = sum(r.opt_in for r in responses)
        self._record_commands(event, commands, responses)
        self.events.append(record)
        if not commands:
            return
        run = self._last_run
        assert run is not None
        honoured = honoured_commands(commands, run, self.physics.homes, self.rng_override)
        if honoured:
            mode, value = command_arrays(self.params, honoured, start_s, steps, step_s)
            self.physics.queue_commands(start, mode, value)
        record.commitments = commitments_from(responses, self.rules)
        record.baseline_wh = self._slot_wh(run.baseline.power_kw)
        self.open_events.append(record)

    def _report(self, forecast: FlexibilityForecast, start_s: int) -> None:
        """Each aggregator reports its members' demand and up flexibility per template."""
        per_ra = aggregate(self.params, forecast, report_step_s=forecast.step_s *
                           forecast.base_kw.shape[0])
        for ra_id, agg in per_ra.items():
            region = ra_id.removeprefix("ra-")
            flex = {f"T{int(t)}": [max(float(v[0]), 0.0)] for t, v in agg.up_kw.items()}
            demand = max(float(agg.demand_kw[0]), 0.0)
            self.ra_eps[region].send("dr-central", FlexibilityReport(
                sim_time_s=start_s, aggregator_id=ra_id, start_s=start_s,
                step_s=agg.step_s, demand_kw=[demand], flexible_kw=flex))
            self.flex_rows.append({"time_s": start_s, "aggregator_id": ra_id,
                                   "demand_kw": round(demand, 4),
                                   **{f"up_{k}_kw": round(v[0], 4) for k, v in flex.items()}})
        self.model.bus.settle()

    def _exchange(self, event: OpenADREvent,
                  commands: list[ApplianceCommand]) -> list[CommandResponse]:
        """Event to the RAs, commands to the households, answers back, over the bus."""
        region_of = {h: self.params.aggregator_ids[i].removeprefix("ra-")
                     for i, h in enumerate(self.params.household_ids)}
        by_region: dict[str, list[ApplianceCommand]] = {}
        for c in commands:
            by_region.setdefault(region_of[c.household_id], []).append(c)
        for region in sorted(by_region):
            self.central.send(f"dr-ra-{region}", DREvent(
                sim_time_s=event.start_s, event_id=event.event_id,
                signal_level=int(event.level), start_s=event.start_s,
                duration_s=event.duration_s, target_power_kw=abs(event.dispatch_kw)))
        self.model.bus.settle()
        for region in sorted(by_region):
            ra = self.ra_eps[region]
            ra.drain()  # the event
            for c in by_region[region]:
                ra.send(f"dr-members-{region}", DRCommand(sim_time_s=event.start_s,
                                                          **c.message_fields()))
        self.model.bus.settle()
        received: list[ApplianceCommand] = []
        by_id = {c.command_id: c for c in commands}
        for region in sorted(by_region):
            for message in self.member_eps[region].drain():
                if isinstance(message, DRCommand):
                    received.append(by_id[message.command_id])
        run = respond(self.params, self.physics.fleet.state, self.physics.homes, received,
                      self.step_s, self.rng_response, self.opt_outs)
        self._last_run = run
        for r in run.responses:
            region = region_of[r.household_id]
            self.member_eps[region].send(f"dr-ra-{region}", DRResponse(
                sim_time_s=event.start_s, **r.message_fields()))
        self.model.bus.settle()
        answered = {m.command_id for region in sorted(by_region)
                    for m in self.ra_eps[region].drain() if isinstance(m, DRResponse)}
        return [r for r in run.responses if r.command_id in answered]

    def _slot_wh(self, power_kw: np.ndarray) -> np.ndarray:
        """(steps, devices) kW -> (households, steps) Wh as the meters count them (rounded)."""
        out = np.zeros((self.households, power_kw.shape[0]))
        np.add.at(out, self.params.household, power_kw.T * self.step_s / 3.6)
        return np.rint(out).astype(np.int64)

    def _record_commands(self, event: OpenADREvent, commands: list[ApplianceCommand],
                         responses: list[CommandResponse]) -> None:
        acc = self.model.accounts
        node = {h: i for i, h in enumerate(self.model.population.node_ids)}
        answer = {r.command_id: r for r in responses}
        for c in commands:
            account = acc.member_account(node[c.household_id])
            r = answer.get(c.command_id)
            command = acc.tx(DrCommand, acc.authority, account, c.device_id, c.action,
                             int(event.level), c.start_s, c.duration_s)
            verdict = "opt_in" if r is not None and r.opt_in else "opt_out"
            self._txs += [command, acc.tx(DrOutcome, acc.authority, account, command.txid_hex,
                                          verdict, "household")]
            self.command_rows.append({
                "command_id": c.command_id, "event_id": c.event_id,
                "household_id": c.household_id, "device_id": c.device_id, "action": c.action,
                "power_kw": c.power_kw, "start_s": c.start_s, "duration_s": c.duration_s,
                "response": verdict, "reason": "" if r is None else r.reason,
                "committed_wh": 0 if r is None else r.committed_wh})
        # Submitted now, not at the seal: the commands hold the market's next nonces, and
        # the central market writes its own (settlement, billing) before the block is sealed.
        self._flush()

    # --- meters and compliance --------------------------------------------------------

    def _capture(self, step: int) -> None:
        """Keep the meters' reading of ``step`` for the DR households (Wh)."""
        if step not in self.metered_wh:
            self.metered_wh[step] = self.model.last_import_wh[: self.households].copy()

    def _verify_ready(self) -> None:
        still = []
        for record in self.open_events:
            if record.last_step not in self.metered_wh:
                still.append(record)
                continue
            self._verify(record)
        self.open_events = still
        oldest = min((r.first_step for r in self.open_events), default=None)
        for step in [s for s in self.metered_wh if oldest is None or s < oldest]:
            del self.metered_wh[step]

    def _verify(self, record: EventRecord) -> None:
        acc = self.model.accounts
        steps = range(record.first_step, record.last_step + 1)
        metered = np.stack([self.metered_wh[s] for s in steps], axis=1)
        h_index = {h: i for i, h in enumerate(self.params.household_ids)}
        rows = [c for c in record.commitments if any(c.expected_wh)]
        if not rows:
            return
        idx = np.array([h_index[c.household_id] for c in rows])
        width = metered.shape[1]
        expected = np.zeros((len(rows), width), dtype=np.int64)
        for j, c in enumerate(rows):
            offset = (c.start_s - record.time_s) // self.step_s
            expected[j, offset:offset + len(c.expected_wh)] = c.expected_wh
        result = verify_arrays(expected, record.baseline_wh[idx], metered[idx], self.rules)
        balances = acc.ledger.state.balances
        for j, c in enumerate(rows):
            account = acc.member_account(int(idx[j]))
            reward = int(result["reward_tokens"][j])
            penalty = int(result["penalty_tokens"][j])
            record.verified += 1
            record.complied += int(result["honoured"][j])
            record.delivered_wh += int(result["delivered_wh"][j])
            record.reward_tokens += reward
            record.penalty_tokens += penalty
            self.tokens[c.household_id] += reward - penalty
            self.opt_outs.note(c.household_id, reward, penalty)
            reason = f"{record.event_id} {c.household_id}"
            if reward:
                self._txs.append(acc.tx(Reward, acc.authority, account, reward,
                                         f"DR compliance {reason}"))
            if penalty:
                held = balances.get((account, "token"), 0) + self._pending_tokens(account)
                from_tokens = min(held, penalty)
                if from_tokens:
                    self._txs.append(acc.tx(Penalty, acc.authority, account, "token",
                                             from_tokens, f"DR opt-in not honoured {reason}"))
                rest_u = (penalty - from_tokens) * self.sc.token_value_eur_u
                if rest_u:
                    self._txs.extend(acc.top_ups(np.array([int(idx[j])]),
                                                  np.array([rest_u]), reason))
                    self._txs.append(acc.tx(Penalty, acc.authority, account, "eur_u", rest_u,
                                             f"DR opt-in not honoured {reason}"))
                    self.penalty_eur_u += rest_u

    def _pending_tokens(self, account: str) -> int:
        """Token rewards and penalties for ``account`` not yet submitted."""
        total = 0
        for stx in self._txs:
            tx = stx.tx
            if isinstance(tx, Reward) and tx.to == account:
                total += tx.amount
            elif isinstance(tx, Penalty) and tx.account == account and tx.asset == "token":
                total -= tx.amount
        return total

    def _flush(self) -> None:
        if self._txs:
            self.model.accounts.submit(self._txs)
            self._txs = []

    # --- results -----------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        return report.summary_kpis(self)

    def tables(self) -> dict[str, pd.DataFrame]:
        return report.tables(self)

    def event_rows(self) -> list[EventRecord]:
        """Every event so far (for the web page's DR panel)."""
        return list(self.events)
