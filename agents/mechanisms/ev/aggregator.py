"""The EV community's regional aggregator: offers capacity, serves calls, pays its members.

Why it talks over the bus: capacity offers go to the spinning-reserve desk as
``CapacityOffer`` messages and calls come back as ``ReserveCall`` messages
(docs/protocols.md, "Bus messages"); rewards and penalties reach the
members as ``Reward`` / ``Penalty`` messages after they are on the ledger.

Money and tokens go on the ledger through the model's writer
(:class:`gridcoop.agents.model.accounts.CommunityLedger`): each week the grid pays the RA's
availability (``mint``), the RA pays any shortfall penalty (``penalty``), and
passes what is left to its members split by behaviour (``transfer``, summing
exactly to the week's net market revenue); plugged-in tokens and replacement
bonuses are ``reward`` transactions and broken commitments ``penalty``
transactions in tokens (never more than the member holds).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gridcoop.agents.bus.messages import CapacityOffer, Penalty, ReserveCall, Reward
from gridcoop.agents.mechanisms.ev.capacity import HourlyCapacity, community_capacity
from gridcoop.agents.mechanisms.ev.fleet_physics import V2GFleet
from gridcoop.agents.mechanisms.ev.gamification import TokenRules
from gridcoop.agents.mechanisms.ev.newsletter import WeekSummary
from gridcoop.agents.mechanisms.ev.profiles import BoolArray, FloatArray, IntArray
from gridcoop.agents.mechanisms.ev.scenario import EVCommunityParams
from gridcoop.agents.mechanisms.ev.v2g import allocate_call, v2g_limit_kwh
from gridcoop.ledger.identity import Member, grid_id_digest
from gridcoop.ledger.transactions import Mint, RegisterMember, Transfer
from gridcoop.ledger.transactions import Penalty as PenaltyTx
from gridcoop.ledger.transactions import Reward as RewardTx
from gridcoop.market.reserve import div_round_half_even, kw_to_w

TOKEN = "token"
EUR_U = "eur_u"


@dataclass
class CallRecord:
    """One instruction of a call as this RA served it (energies in Wh)."""

    call_id: str
    offer_id: str
    community: int
    start_s: int
    duration_s: int
    power_w: int
    requested_wh: int
    allocated_wh: int
    rows: IntArray
    energy_wh: IntArray
    need_kwh: FloatArray
    margin_kwh: FloatArray
    first_step: int
    delivered_wh: int | None = None
    penalty_ueur: int = 0
    within_tolerance: bool | None = None
    soc_before_kwh: FloatArray = field(default_factory=lambda: np.zeros(0))


@dataclass
class WeekLedger:
    """What one week's settlement put on the ledger for one community."""

    availability_ueur: int
    penalty_ueur: int
    penalty_applied_ueur: int
    distributed_ueur: int
    shares_ueur: dict[str, int]
    tokens: dict[str, int]
    bonus: dict[str, int]
    penalty_tokens: dict[str, int]
    penalty_tokens_applied: dict[str, int]


def community_label(region_id: str, location: str) -> str:
    """The region, or region and location: names the RA, its members' endpoint and files."""
    return f"{region_id}-{location}" if location else region_id


class EVAggregator:
    """One EV community's RA (``ev-ra-<region>``, or ``ev-ra-<region>-<location>``).

    A location community (``location`` named) holds only the run's hours
    ``held`` (bool per hour): its members' forecasts, plugged minutes and calls
    count only then (:mod:`gridcoop.agents.mechanisms.ev.locations`).
    """

    def __init__(self, index: int, region_id: str, rows: IntArray, nodes: IntArray,
                 member_ids: Sequence[str], endpoint: Any, params: EVCommunityParams,
                 core: V2GFleet, location: str = "", held: BoolArray | None = None,
                 rules: TokenRules | None = None) -> None:
        self.index = index
        self.region_id = region_id
        self.location = location
        self.label = community_label(region_id, location)
        self.held = held
        self.rules = rules or TokenRules()
        self.name = endpoint.name
        self.rows = np.asarray(rows, dtype=np.int64)
        self.nodes = np.asarray(nodes, dtype=np.int64)
        self.member_ids = tuple(member_ids)
        self.endpoint = endpoint
        self.params = params
        self.core = core
        fleet = core.fleet
        self.offered = fleet.offered[self.rows]
        self.power_kw = fleet.v2g_power_kw[self.rows]
        self.energy_kwh = fleet.committed_kwh[self.rows]
        self.capacity: dict[int, HourlyCapacity] = {}  # day -> forecast capacity
        self.offered_w: dict[int, int] = {}  # absolute hour -> offered W
        self.calls: list[CallRecord] = []
        self.refused: list[str] = []
        self.account = ""

    # --- the ledger account -------------------------------------------------------------

    def register(self, accounts: Any) -> Any:
        """The RA's account (role ``aggregator``); returns its registration transaction."""
        member, keys = Member.from_seed(accounts.master, self.name, self.name, "", "aggregator")
        accounts.adopt_keys(member.account, keys)
        self.account = member.account
        return accounts.tx(RegisterMember, accounts.authority, member.account,
                            member.public_key.hex(), "aggregator", member.profile_digest(),
                            grid_id_digest(accounts.chain_id, self.name))

    def week_label(self, week: int) -> str:
        """The memo label of a week's transactions: the location names the community."""
        return f"{self.location} week {week + 1}" if self.location else f"week {week + 1}"

    def held_only(self, by_hour: Any, first_hour: int) -> Any:
        """Zero the hours (columns from run hour ``first_hour``) this community does not hold."""
        if self.held is None:
            return by_hour
        return np.where(self.held[first_hour:first_hour + by_hour.shape[1]], by_hour, 0)

    def held_values(self, values: FloatArray, first_hour: int) -> FloatArray:
        """The values of the hours (from run hour ``first_hour``) this community holds
        (none when it holds none of them)."""
        if self.held is None:
            return values
        return values[self.held[first_hour:first_hour + values.size]]

    # --- day ahead --------------------------------------------------------------------

    def offer_day(self, day: int, prob_by_hour: FloatArray, desk: str, now_s: int) -> int:
        """Build day ``day``'s hourly capacity from the forecast; offer it. Returns offers sent."""
        p = self.params
        cap = community_capacity(prob_by_hour, self.power_kw, self.energy_kwh, self.offered,
                                 confidence=p.confidence)
        self.capacity[day] = cap
        sent = 0
        for h in range(24):
            hour = day * 24 + h
            capacity_w = int(np.floor(cap.firm_power_kw[h] * p.offer_share * 1000 + 1e-6))
            if capacity_w <= 0:
                continue
            self.offered_w[hour] = capacity_w
            self.endpoint.send(desk, CapacityOffer(
                offer_id=f"{self.name}-h{hour}", aggregator_id=self.name, start_s=hour * 3600,
                duration_s=3600, capacity_kw=capacity_w / 1000,
                energy_kwh=round(float(cap.expected_energy_kwh[h]), 6),
                price_eur_per_mw_day=p.price_eur_per_mw_day, sim_time_s=now_s))
            sent += 1
        return sent

    # --- calls ----------------------------------------------------------------------------

    def handle_inbox(self) -> list[CallRecord]:
        """Serve every ``ReserveCall`` received: share it among plugged EVs within limits."""
        served = []
        for message in self.endpoint.drain():
            if isinstance(message, ReserveCall):
                served.append(self.serve(message))
            else:
                self.refused.append(f"{message.id}: {message.type} is not for {self.name}")
        return served

    def serve(self, call: ReserveCall) -> CallRecord:
        """Discharge the call's energy from EVs that stay plugged in throughout, never below
        what each owner needs for the next trip plus a margin
        (:mod:`gridcoop.agents.mechanisms.ev.v2g`)."""
        core, rows = self.core, self.rows
        step_s = core.history.step_min * 60
        first = core.fleet_step(0) + call.start_s // step_s
        steps = max(1, call.duration_s // step_s)
        power_w = kw_to_w(call.power_kw)
        requested = div_round_half_even(power_w * (call.duration_s // 60), 60)
        plugged = core.history.plugged[rows, first:first + steps].all(axis=1) & self.offered
        end_h = -(-(call.start_s + call.duration_s) // 3600)
        if self.held is not None and not self.held[call.start_s // 3600:end_h].all():
            plugged[:] = False  # the cars are in another community for part of the call
        fleet = core.fleet
        need = core.history.need_kwh[rows, first].astype(np.float64)
        margin = fleet.margin_kwh[rows]
        limits = v2g_limit_kwh(core.safe_soc_kwh(rows, first), need, margin, plugged,
                               fleet.v2g_power_kw[rows], steps * step_s / 3600, self.energy_kwh)
        allocation = allocate_call(requested, limits, self.member_ids)
        giving = allocation.energy_wh > 0
        if giving.any():
            core.schedule(rows[giving], allocation.energy_wh[giving], first, steps)
        record = CallRecord(call.call_id, call.offer_id, self.index, call.start_s,
                            call.duration_s, power_w, requested, allocation.served_wh,
                            rows[giving], allocation.energy_wh[giving], need[giving],
                            margin[giving], first)
        self.calls.append(record)
        return record

    # --- the week -------------------------------------------------------------------------

    def week_txs(self, accounts: Any, summary: WeekSummary, availability_ueur: int,
                 penalty_ueur: int, penalty_applied_ueur: int, label: str
                 ) -> tuple[list[Any], WeekLedger]:
        """The week's ledger transactions (money first, then tokens) and what they moved."""
        market = accounts.authority
        balances = accounts.ledger.state.balances
        batch: list[Any] = []
        if availability_ueur:
            batch.append(accounts.tx(Mint, market, self.account, EUR_U, availability_ueur,
                                      f"spinning-reserve availability {self.name} {label}"))
        if penalty_applied_ueur:
            batch.append(accounts.tx(PenaltyTx, market, self.account, EUR_U,
                                      penalty_applied_ueur,
                                      f"spinning-reserve shortfall {self.name} {label}"))
        node_of = dict(zip(self.member_ids, self.nodes.tolist(), strict=True))
        shares: dict[str, int] = {}
        tokens: dict[str, int] = {}
        bonus: dict[str, int] = {}
        asked: dict[str, int] = {}
        applied: dict[str, int] = {}
        for row in summary.rows:
            account = accounts.member_account(node_of[row.member_id])
            shares[row.member_id] = row.revenue_ueur
            if row.revenue_ueur:
                batch.append(accounts.tx(Transfer, self.account, account, EUR_U,
                                          row.revenue_ueur, f"reserve revenue {label}"))
            held = balances.get((account, TOKEN), 0)
            for amount, reason, book in ((row.tokens, f"plugged in {label}", tokens),
                                         (row.bonus, f"replacement {label}", bonus)):
                book[row.member_id] = amount
                if amount:
                    batch.append(accounts.tx(RewardTx, self.account, account, amount, reason))
                    held += amount
            asked[row.member_id] = row.penalty
            take = min(row.penalty, held)
            applied[row.member_id] = take
            if take:
                batch.append(accounts.tx(PenaltyTx, self.account, account, TOKEN, take,
                                          f"broken commitment {label}"))
        distributed = sum(shares.values())
        return batch, WeekLedger(availability_ueur, penalty_ueur, penalty_applied_ueur,
                                 distributed, shares, tokens, bonus, asked, applied)

    def notify(self, members_endpoint: str, week: WeekLedger, label: str, now_s: int) -> int:
        """Tell each member what the ledger now holds for them (after it is written)."""
        sent = 0
        for member in self.member_ids:
            for amount, kind in ((week.tokens.get(member, 0), "plugged in"),
                                 (week.bonus.get(member, 0), "replacement")):
                if amount:
                    self.endpoint.send(members_endpoint, Reward(
                        reward_id=f"{self.name}:{label}:{kind}:{member}", member_id=member,
                        tokens=amount, reason=f"{kind} {label}", sim_time_s=now_s))
                    sent += 1
            taken = week.penalty_tokens_applied.get(member, 0)
            if taken:
                self.endpoint.send(members_endpoint, Penalty(
                    penalty_id=f"{self.name}:{label}:{member}", member_id=member, tokens=taken,
                    reason=f"broken commitment {label}", sim_time_s=now_s))
                sent += 1
        return sent
