"""The spinning-reserve desk of the central market: takes offers, clears hours, sends calls.

Why a desk agent beside the central market: the energy auction and the
reserve market are separate markets with separate messages; the desk wraps
the pure :class:`gridcoop.market.reserve.ReserveMarket` and
:class:`gridcoop.market.reserve_calls.ReserveCallProcess` and talks to the EV
aggregators over the bus (``reserve-desk``).

Calls are drawn for the whole run up front (the process is seeded and does
not depend on the horizon asked). A call is split at hour boundaries into
*segments*; each segment goes, a metering interval ahead, to the RAs holding
an award in that hour as one ``ReserveCall`` per award.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from gridcoop.agents.bus.messages import CapacityOffer
from gridcoop.agents.bus.messages import ReserveCall as ReserveCallMessage
from gridcoop.agents.mechanisms.ev.scenario import EVCommunityParams
from gridcoop.market.reserve import (
    ReserveAward,
    ReserveClearing,
    ReserveError,
    ReserveMarket,
    ReserveOffer,
    ReserveRequest,
    eur_to_ueur,
    kw_to_w,
    price_per_mw_h_from_mw_day,
)
from gridcoop.market.reserve_calls import (
    CallInstruction,
    CallProcessConfig,
    DeliveryVerdict,
    ReserveCall,
    ReserveCallProcess,
    ShortfallPolicy,
    dispatch_call,
    verify_delivery,
)

DESK = "reserve-desk"


def price_ueur_per_mw_h(price_eur_per_mw_day: float) -> int:
    """€/MW-day (a scenario float) as integer µEUR per MW-hour."""
    return price_per_mw_h_from_mw_day(eur_to_ueur(Decimal(str(price_eur_per_mw_day))))


class ReserveDesk:
    """Offers in, hourly clearing, calls out, deliveries verified against the meters."""

    def __init__(self, endpoint: Any, params: EVCommunityParams, seed: int, communities: int,
                 run_minutes: int, call_resolution_min: int) -> None:
        self.endpoint = endpoint
        self.market = ReserveMarket(params.pricing)
        self.request_w = kw_to_w(params.request_kw) * communities
        ceiling = params.max_price_eur_per_mw_day
        self.max_price = None if ceiling is None else price_ueur_per_mw_h(ceiling)
        config = CallProcessConfig(
            mean_calls_per_year=params.calls_per_year,
            max_calls_per_year=params.max_calls_per_year,
            mean_duration_min=params.mean_call_minutes,
            resolution_min=call_resolution_min)
        self.process = ReserveCallProcess(abs(seed), config)
        self.calls: tuple[ReserveCall, ...] = self.process.calls(0, run_minutes)
        self.policy = ShortfallPolicy(
            tolerance_ppm=round(params.tolerance * 1_000_000),
            penalty_ueur_per_mwh=eur_to_ueur(Decimal(str(params.penalty_eur_per_mwh))))
        self.refused: list[str] = []
        self.instructions: dict[tuple[str, str], CallInstruction] = {}
        self.verdicts: list[DeliveryVerdict] = []

    def take_offers(self) -> int:
        """Queue every ``CapacityOffer`` received (arrival order is the FIFO tie-break)."""
        taken = 0
        for message in self.endpoint.drain():
            if not isinstance(message, CapacityOffer):
                self.refused.append(f"{message.id}: {message.type} is not for the reserve desk")
                continue
            try:
                self.market.submit(ReserveOffer(
                    message.offer_id, message.aggregator_id, message.start_s // 3600,
                    kw_to_w(message.capacity_kw),
                    price_ueur_per_mw_h(message.price_eur_per_mw_day)))
                taken += 1
            except ReserveError as exc:
                self.refused.append(f"{message.id}: {exc}")
        return taken

    def clear_day(self, day: int) -> list[ReserveClearing]:
        """Clear the grid's request for every hour of day ``day``."""
        return [self.market.clear(ReserveRequest(hour, self.request_w, self.max_price))
                for hour in range(day * 24, day * 24 + 24)]

    def send_calls(self, start_min: int, end_min: int, now_s: int) -> list[CallInstruction]:
        """Send the segments of calls that start in ``[start_min, end_min)`` to their RAs."""
        sent: list[CallInstruction] = []
        for call in self.calls:
            if call.start_min >= end_min or call.end_min <= start_min:
                continue
            for hour in range(call.start_min // 60, (call.end_min - 1) // 60 + 1):
                begin = max(call.start_min, hour * 60)
                if not start_min <= begin < end_min:
                    continue
                clearing = self.market.clearing(hour)
                awards: tuple[ReserveAward, ...] = () if clearing is None else clearing.awards
                for ins in dispatch_call(call, awards):
                    self.instructions[(ins.call_id, ins.offer_id)] = ins
                    self.endpoint.send(ins.owner_id, ReserveCallMessage(
                        call_id=ins.call_id, offer_id=ins.offer_id, aggregator_id=ins.owner_id,
                        start_s=ins.start_min * 60, duration_s=(ins.end_min - ins.start_min) * 60,
                        power_kw=ins.power_w / 1000, sim_time_s=now_s))
                    sent.append(ins)
        return sent

    def verify(self, call_id: str, offer_id: str, delivered_wh: int) -> DeliveryVerdict:
        """The meters' verdict on one instruction (shortfall beyond tolerance is penalised)."""
        verdict = verify_delivery([self.instructions[(call_id, offer_id)]],
                                  {(call_id, offer_id): delivered_wh}, self.policy)[0]
        self.verdicts.append(verdict)
        return verdict

    def awards(self, owner_id: str, first_hour: int, end_hour: int) -> list[ReserveAward]:
        return [a for a in self.market.awards(owner_id) if first_hour <= a.hour < end_hour]
