"""The EV community inside the model: forecast, offer, serve calls, verify, reward, pay.

How one run goes (hooks of :class:`gridcoop.agents.model.extensions.CommunityExtension`):

- at construction: the fleet's history (``warmup_days`` before the run, the
  run, one look-ahead day) is simulated with :func:`gridcoop.agents.mechanisms.ev.simulate_fleet`
  and put into the households' physics (:mod:`gridcoop.agents.mechanisms.ev.fleet_physics`); the
  RAs are registered on the ledger; day 0 is forecast, offered and cleared;
- ``before_seal`` at the end of each day: the forecaster is retrained (every
  ``retrain_every_days`` on all days seen), the next day is forecast from each
  EV's Naive Bayes model, each RA offers its hourly firm capacity to the
  reserve desk and the desk clears the grid's request hour by hour; every
  interval: the desk sends the calls starting in the next interval and each RA
  schedules V2G discharge within the owners' limits; at the end of each week
  (once the next morning is known): tokens, penalties and the revenue split go
  on the ledger and to the members;
- ``after_physics``: the baseline and the meters' readings of watched intervals
  are kept and each finished call segment is verified (baseline − metered).

Forecast accuracy is scored on every run day, held out from the training
(the model that forecast a day never saw it): Brier score of the model and of
a constant-rate baseline (each EV's training share of plugged time).
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gridcoop.agents.mechanisms.ev import report
from gridcoop.agents.mechanisms.ev.aggregator import (
    EUR_U,
    CallRecord,
    EVAggregator,
    WeekLedger,
    community_label,
)
from gridcoop.agents.mechanisms.ev.availability import critical_periods
from gridcoop.agents.mechanisms.ev.commitments import (
    CommitmentOutcome,
    default_commitments,
    evaluate_commitments,
)
from gridcoop.agents.mechanisms.ev.desk import DESK, ReserveDesk
from gridcoop.agents.mechanisms.ev.fleet_physics import V2GFleet, V2GPhysics, install
from gridcoop.agents.mechanisms.ev.forecast import NaiveBayesAvailability, hourly, tolerant_labels
from gridcoop.agents.mechanisms.ev.gamification import TokenRules, hour_weights
from gridcoop.agents.mechanisms.ev.locations import location_communities
from gridcoop.agents.mechanisms.ev.newsletter import WeekSummary, week_summary
from gridcoop.agents.mechanisms.ev.owners import ev_policy
from gridcoop.agents.mechanisms.ev.page import EVPageData
from gridcoop.agents.mechanisms.ev.profiles import (
    LEAF_24,
    LEAF_30,
    PILOT_BATTERIES,
    PILOT_PROFILES,
    Fleet,
    make_fleet,
)
from gridcoop.agents.mechanisms.ev.scenario import EVCommunity
from gridcoop.agents.mechanisms.ev.simulate import SimulationOptions, simulate_fleet
from gridcoop.agents.model.extensions import CommunityExtension
from gridcoop.agents.model.population import NodeKind
from gridcoop.market.reserve import kw_to_w
from gridcoop.streams import streams

if TYPE_CHECKING:
    import pandas as pd

    from gridcoop.agents.model.community import CommunityModel


def build_fleet(scenario: EVCommunity, node_ids: list[str], regions: list[int]) -> Fleet:
    """One EV per EV-owner node: the pilot's owners cycled per community, or drawn."""
    p = scenario.ev_community
    if p.fleet == "pilot":
        seen: dict[int, int] = {}
        position = []
        for r in regions:
            position.append(seen.get(r, 0))
            seen[r] = position[-1] + 1
        profiles = [PILOT_PROFILES[i % 7] for i in position]
        batteries = [PILOT_BATTERIES[i % 7] for i in position]
    else:
        rng = streams(scenario.seed).rng("ev.fleet")
        profiles = [int(x) for x in rng.choice(np.arange(1, 5), size=len(node_ids),
                                               p=scenario.ev.profile_shares)]
        batteries = [LEAF_24 if small else LEAF_30
                     for small in rng.random(len(node_ids)) < scenario.ev.leaf24_share]
    fleet = make_fleet(profiles, batteries, ev_ids=node_ids, margin_kwh=p.margin_kwh,
                       committed_kwh=p.committed_kwh)
    charge = np.where(fleet.profile == 1, fleet.charge_power_kw, scenario.ev.charger_kw)
    return dataclasses.replace(fleet, charge_power_kw=charge)


class EVCommunityExtension(CommunityExtension):
    """Every region's EV community, its RA, the reserve desk and the gamification."""

    name = "ev-community"

    def __init__(self, model: CommunityModel) -> None:
        super().__init__(model)
        sc = model.scenario
        if not isinstance(sc, EVCommunity):
            raise TypeError(f"the EV community extension needs an ev-community scenario, "
                            f"got {sc.kind}")
        self.params = p = sc.ev_community
        clock, pop = model.clock, model.population
        self.ev_nodes = np.flatnonzero(pop.kind == NodeKind.EV_OWNER).astype(np.int64)
        ids = [pop.node_ids[i] for i in self.ev_nodes]
        ev_region = pop.region[self.ev_nodes]
        self.fleet = build_fleet(sc, ids, ev_region.tolist())
        self.warmup = p.warmup_days
        options = SimulationOptions(step_min=p.step_minutes,
                                    start_weekday=(sc.start_weekday - self.warmup) % 7,
                                    change_rate=p.change_rate,
                                    warn_probability=p.warn_probability,
                                    unlimited_charger_power=p.unlimited_charger_power,
                                    plug_whenever_parked=p.plug_whenever_parked,
                                    charge_efficiency=p.efficiency,
                                    capacity_fade_per_year=p.capacity_fade_per_year,
                                    chargers=p.chargers_per_community,
                                    community=tuple(ev_region.tolist()),
                                    policy=None if sc.policies.ev is None else ev_policy(
                                        sc.policies.ev, self.fleet.ev_ids,
                                        streams(sc.seed).rng("policy", 2, 0)))
        self.history = simulate_fleet(self.fleet, self.warmup + clock.days + 1,
                                      seed=sc.seed, options=options)
        self.core = V2GFleet(self.history, self.warmup, sc.metering_minutes, p.efficiency)
        model.population = dataclasses.replace(
            pop, physics=install(pop.physics, self.core, self.ev_nodes))
        self.labels = tolerant_labels(self.history.plugged, p.step_minutes)
        self.minutes = self.history.plugged_minutes_by_hour()
        self.rules = TokenRules(base_tokens_per_hour=p.base_tokens_per_hour,
                                critical_periods=self._critical_periods(),
                                critical_factor=p.critical_factor)
        bus = model.bus
        self.desk = ReserveDesk(bus.endpoint(DESK), p, sc.seed,
                                len(set(ev_region.tolist())), clock.days * 1440, p.step_minutes)
        self.aggregators: list[EVAggregator] = []
        self.members_endpoints = []
        self.locations = p.locations()
        for r in sorted(set(ev_region.tolist())):
            region = pop.region_ids[r]
            for location, rows, held, rules in self._communities(ev_region == r):
                label = community_label(region, location)
                ra = EVAggregator(len(self.aggregators), region, rows, self.ev_nodes[rows],
                                  [ids[i] for i in rows], bus.endpoint(f"ev-ra-{label}"), p,
                                  self.core, location, held, rules)
                self.aggregators.append(ra)
                self.members_endpoints.append(bus.endpoint(f"ev-members-{label}"))
        accounts = model.accounts
        accounts.submit([ra.register(accounts) for ra in self.aggregators])
        hours = clock.days * 24
        self.prob_hourly = np.zeros((self.fleet.size, hours))
        self.firm_kw = np.zeros((len(self.aggregators), hours))
        self.expected_kw = np.zeros((len(self.aggregators), hours))
        self.awarded_w = np.zeros((len(self.aggregators), hours), dtype=np.int64)
        self.payment_ueur = np.zeros((len(self.aggregators), hours), dtype=np.int64)
        self.forecaster = NaiveBayesAvailability()
        self.train_rate = np.zeros(self.fleet.size)
        self.sq_error = [0.0, 0.0]
        self.scored_days = 0
        self.pending: list[CallRecord] = []
        self.watch: set[int] = set()
        self.baseline_wh: dict[int, np.ndarray] = {}
        self.metered_wh: dict[int, np.ndarray] = {}
        self.weeks: list[list[tuple[WeekSummary, WeekLedger]]] = []
        self.outcomes: list[CommitmentOutcome] = []
        self.messages = {"capacity_offers": 0, "reserve_calls": 0, "rewards_penalties": 0,
                         "member_notices_received": 0}
        self.prepared_days = 0
        self._prepare_day(0, 0)
        self._dispatch(0, 0)

    def _critical_periods(self) -> tuple[tuple[int, int], ...]:
        """The configured periods, or (``auto``) those of the warm-up history."""
        if self.params.critical_periods == "auto":
            return critical_periods(self.history, 0, self.warmup)
        return tuple(self.params.critical_periods)

    def _communities(self, in_region: np.ndarray) -> list[tuple[str, Any, Any, TokenRules]]:
        """(location, member rows, run hours held, token rules) of a region's communities:
        one holding every hour, or one per location where a member's car was connected."""
        if self.locations is None:
            return [("", np.flatnonzero(in_region), None, self.rules)]
        specs = self.params.communities or ()
        return [(specs[c].name, mine, held, self.rules if (periods := specs[c].critical_periods)
                 is None else dataclasses.replace(self.rules, critical_periods=periods))
                for c, rows, held in self._located
                if (mine := rows[in_region[rows]]).size]

    @functools.cached_property
    def _located(self) -> list[tuple[int, Any, Any]]:
        """Every location's members over the whole fleet and its held hours, worked out
        once; each region keeps its own members."""
        assert self.locations is not None
        hours = (self.warmup + self.model.clock.days) * 24
        return location_communities(self.locations, self.minutes[:, :hours],
                                    self.history.start_weekday, self.warmup * 24)

    # --- days ---------------------------------------------------------------------------

    def _train(self, day: int) -> None:
        hist, spd = self.history, self.history.steps_per_day
        seen = self.warmup + day
        self.forecaster.fit(hist.plugged[:, :seen * spd], hist.step_min, hist.start_weekday,
                            warned=hist.warned[:, :seen])
        self.train_rate = self.labels[:, :seen * spd].mean(axis=1)

    def _prepare_day(self, day: int, now_s: int) -> None:
        """Forecast day ``day`` (held out), offer each RA's capacity, clear the hours."""
        if day % self.params.retrain_every_days == 0:
            self._train(day)
        hist, spd = self.history, self.history.steps_per_day
        hday = self.warmup + day
        prob = self.forecaster.predict_proba(hday, 1, hist.start_weekday,
                                             warned=hist.warned[:, hday:hday + 1])
        truth = self.labels[:, hday * spd:(hday + 1) * spd]
        self.sq_error[0] += float(((prob - truth) ** 2).sum())
        self.sq_error[1] += float(((self.train_rate[:, None] - truth) ** 2).sum())
        self.scored_days += 1
        by_hour = hourly(prob, hist.steps_per_hour, "min")
        self.prob_hourly[:, day * 24:(day + 1) * 24] = by_hour
        for ra in self.aggregators:
            self.messages["capacity_offers"] += ra.offer_day(
                day, ra.held_only(by_hour[ra.rows], day * 24), DESK, now_s)
            cap = ra.capacity[day]
            self.firm_kw[ra.index, day * 24:(day + 1) * 24] = cap.firm_power_kw
            self.expected_kw[ra.index, day * 24:(day + 1) * 24] = cap.expected_power_kw
        self.model.settle()
        self.desk.take_offers()
        index = {ra.name: ra.index for ra in self.aggregators}
        for clearing in self.desk.clear_day(day):
            for award in clearing.awards:
                self.awarded_w[index[award.owner_id], award.hour] += award.accepted_w
                self.payment_ueur[index[award.owner_id], award.hour] += award.payment_ueur
        self.prepared_days = day + 1

    def _dispatch(self, k: int, now_s: int) -> None:
        """Calls starting in metering interval ``k`` go to the RAs, who schedule V2G."""
        minutes = self.model.clock.metering_minutes
        sent = self.desk.send_calls(k * minutes, (k + 1) * minutes, now_s)
        if not sent:
            return
        self.messages["reserve_calls"] += len(sent)
        self.model.settle()
        step_s = minutes * 60
        for ra in self.aggregators:
            for record in ra.handle_inbox():
                first = record.start_s // step_s
                last = (record.start_s + record.duration_s - 1) // step_s
                self.watch.update(range(first, last + 1))
                self.pending.append(record)

    # --- hooks --------------------------------------------------------------------------

    def after_physics(self, k: int) -> None:
        physics = self.model.population.physics
        if k in self.watch and isinstance(physics, V2GPhysics):
            base = physics.baseline_net_kwh * 1000
            self.baseline_wh[k] = np.array([base[ra.nodes].sum() for ra in self.aggregators])
        if k - 1 in self.watch:
            self._read_meters(k - 1)

    def _read_meters(self, k: int) -> None:
        net = self.model.last_import_wh - self.model.last_export_wh
        self.metered_wh[k] = np.array([int(net[ra.nodes].sum()) for ra in self.aggregators],
                                      dtype=np.float64)
        self._verify_ready()

    def _verify_ready(self) -> None:
        step_s = self.model.clock.step_s
        left = []
        for record in self.pending:
            span = range(record.start_s // step_s,
                         (record.start_s + record.duration_s - 1) // step_s + 1)
            if not all(j in self.metered_wh and j in self.baseline_wh for j in span):
                left.append(record)
                continue
            c = record.community
            delivered = sum(self.baseline_wh[j][c] - self.metered_wh[j][c] for j in span)
            verdict = self.desk.verify(record.call_id, record.offer_id,
                                       max(0, round(delivered)))
            record.delivered_wh = verdict.delivered_wh
            record.penalty_ueur = verdict.penalty_ueur
            record.within_tolerance = verdict.within_tolerance
            record.soc_before_kwh = np.array(
                [self.core.soc_at.get((record.first_step, int(r)), np.nan) for r in record.rows])
        self.pending = left

    def before_seal(self, k: int, now_s: int) -> None:
        clock = self.model.clock
        if (k + 1) % clock.steps_per_day == 0:
            day = k // clock.steps_per_day
            if day >= 7 and day % 7 == 0:
                self._settle_week(day // 7 - 1, now_s)
            if k + 1 < clock.total_steps:
                self._prepare_day(day + 1, now_s)
        if k + 1 < clock.total_steps:
            self._dispatch(k + 1, now_s)

    def finish(self) -> None:
        clock = self.model.clock
        last = clock.total_steps - 1
        if last in self.watch:
            self._read_meters(last)
        end_s = clock.start_s(clock.total_steps)
        for week in range(len(self.weeks), -(-clock.days // 7)):
            self._settle_week(week, end_s)

    # --- the week -----------------------------------------------------------------------

    def _settle_week(self, week: int, now_s: int) -> None:
        """Judge the week's windows, write tokens, penalties and the revenue split."""
        days = self.model.clock.days
        first_day, end_day = 7 * week, min(7 * week + 7, days)
        data_end = min(end_day + 1, days)
        h0, h1, h_end = first_day * 24, data_end * 24, end_day * 24
        w0 = self.warmup * 24
        accounts = self.model.accounts
        batch: list[Any] = []
        results: list[tuple[WeekSummary, WeekLedger]] = []
        request_w = [kw_to_w(self.params.request_kw)] * (h1 - h0)
        weekday = (self.model.scenario.start_weekday + first_day) % 7
        for ra in self.aggregators:
            rows = ra.rows
            minutes = ra.held_only(self.minutes[rows, w0 + h0:w0 + h1], h0)
            available = np.rint(self.firm_kw[ra.index, h0:h1] * 1000).astype(np.int64)
            weights = hour_weights(h0, request_w, available.tolist(), ra.rules)
            warned = self.history.warned[rows, self.warmup + first_day:self.warmup + data_end]
            commitments = default_commitments(ra.member_ids, self.fleet.profile[rows],
                                              self.fleet.committed_kwh[rows])
            judged = evaluate_commitments(
                ra.member_ids, commitments, minutes, warned,
                ra.held_only(self.prob_hourly[rows, h0:h1], h0), start_weekday=weekday,
                eligible=ra.offered, break_threshold=self.params.break_threshold,
                min_replacement_probability=self.params.min_replacement_probability,
                hours_held=None if ra.held is None else ra.held[h0:h1])
            outcomes = [dataclasses.replace(o, day=o.day + first_day,
                                            hours=tuple(h + h0 for h in o.hours))
                        for o in judged if o.day < end_day - first_day]
            self.outcomes.extend(outcomes)
            token_minutes = minutes.copy()
            token_minutes[:, h_end - h0:] = 0
            calls = [c for c in ra.calls if h0 * 3600 <= c.start_s < h_end * 3600]
            availability = int(self.payment_ueur[ra.index, h0:h_end].sum())
            penalty = sum(c.penalty_ueur for c in calls)
            balance = accounts.ledger.state.balances.get((ra.account, EUR_U), 0)
            applied = min(penalty, balance + availability)
            firm = ra.held_values(self.firm_kw[ra.index, h0:h_end], h0)
            summary = week_summary(
                f"EV community {ra.label}", week, ra.member_ids, token_minutes, weights,
                outcomes, balance + availability - applied, first_hour=h0, rules=ra.rules,
                calls=len({c.call_id for c in calls}),
                calls_served=len({c.call_id for c in calls if c.within_tolerance}),
                capacity_kw={"firm mean": float(firm.mean()), "firm minimum": float(firm.min())}
                if firm.size else None,  # no hours held: no figure, as in ev_by_community
                abuse_contact=self.params.abuse_contact, days=end_day - first_day)
            txs, ledger_week = ra.week_txs(accounts, summary, availability, penalty, applied,
                                           ra.week_label(week))
            batch.extend(txs)
            results.append((summary, ledger_week))
        accounts.submit(batch)
        self.weeks.append(results)
        for ra, (_, ledger_week) in zip(self.aggregators, results, strict=True):
            self.messages["rewards_penalties"] += ra.notify(
                f"ev-members-{ra.label}", ledger_week, ra.week_label(week), now_s)
        self.model.settle()
        for endpoint in self.members_endpoints:
            self.messages["member_notices_received"] += len(endpoint.drain())

    # --- results ------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        return report.summary_kpis(self)

    def tables(self) -> dict[str, pd.DataFrame]:
        return report.tables(self)

    def write_files(self, out: Path) -> list[Path]:
        return report.write_files(self, out)

    def calls(self) -> list[CallRecord]:
        return [c for ra in self.aggregators for c in ra.calls]

    def page(self) -> EVPageData:
        """The web page's view (``gridcoop.experiments.viz.protocol.EVSource``)."""
        return EVPageData(self)
