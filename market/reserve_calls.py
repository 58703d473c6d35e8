"""Spinning-reserve calls: when the grid calls, what each award must deliver, and penalties.

Calls are rare: contracts cap them at about 20 a year, about an hour each
(docs/domain/communities.md). :class:`ReserveCallProcess` draws them from a seeded Poisson
process, capped per contract year; :func:`dispatch_call` turns a call into the
energy each accepted offer must deliver; :func:`verify_delivery` compares that
with metered energy and prices any shortfall; :func:`settle_reserve` nets
availability payments, activation payments and penalties per owner.

Units: time in integer minutes from the start of the run (hour ``h`` is
minutes ``[60 h, 60 h + 60)``); energy in integer watt-hours; money in integer
micro-euros; energy prices in micro-euros per MWh. A call activates the whole
accepted capacity (``activation_ppm`` = 1,000,000 by default).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from gridcoop.market.reserve import ReserveAward, ReserveError, div_round_half_even
from gridcoop.streams import streams

MINUTES_PER_YEAR = 365 * 24 * 60
WH_PER_MWH = 1_000_000
PPM = 1_000_000


class InvalidCallProcessError(ReserveError):
    """The call process was configured with an impossible rate, cap or duration."""


class MissingMeterReadingError(ReserveError):
    """A dispatched award has no metered delivery to verify it against."""


class InvalidShortfallPolicyError(ReserveError):
    """A shortfall policy has a negative or out-of-range value."""


@dataclass(frozen=True, slots=True)
class CallProcessConfig:
    """How reserve calls arrive.

    Arrivals are a Poisson process of ``mean_calls_per_year`` per 365-day
    contract year, of which at most ``max_calls_per_year`` are kept. Durations
    are exponential with mean ``mean_duration_min``, rounded to
    ``resolution_min`` and clipped to ``[resolution_min, max_duration_min]``
    (with the defaults the realised mean is about 57 minutes). A call that
    would start before the previous one ends is moved to that end.
    """

    mean_calls_per_year: float = 20.0
    max_calls_per_year: int = 20
    mean_duration_min: float = 60.0
    max_duration_min: int = 180
    resolution_min: int = 5
    activation_ppm: int = PPM

    def __post_init__(self) -> None:
        rate = self.mean_calls_per_year
        if not isinstance(rate, int | float) or not math.isfinite(rate) or rate < 0:
            raise InvalidCallProcessError(
                f"mean_calls_per_year must be a finite number >= 0, got {rate!r}"
            )
        if self.max_calls_per_year < 0:
            raise InvalidCallProcessError(
                f"max_calls_per_year must be >= 0, got {self.max_calls_per_year}"
            )
        if self.resolution_min < 1 or 60 % self.resolution_min:
            raise InvalidCallProcessError(
                f"resolution_min must divide 60 (e.g. 5), got {self.resolution_min}"
            )
        duration = self.mean_duration_min
        if not isinstance(duration, int | float) or not math.isfinite(duration) or duration <= 0:
            raise InvalidCallProcessError(
                f"mean_duration_min must be a finite number > 0, got {duration!r}"
            )
        if self.max_duration_min < self.resolution_min:
            raise InvalidCallProcessError(
                f"max_duration_min ({self.max_duration_min}) must be >= resolution_min "
                f"({self.resolution_min})"
            )
        if not 0 < self.activation_ppm <= PPM:
            raise InvalidCallProcessError(
                f"activation_ppm must be in 1..{PPM}, got {self.activation_ppm}"
            )


@dataclass(frozen=True, slots=True)
class ReserveCall:
    """One call of the grid on the reserve: from ``start_min`` for ``duration_min``."""

    call_id: str
    start_min: int
    duration_min: int
    activation_ppm: int = PPM

    @property
    def end_min(self) -> int:
        return self.start_min + self.duration_min


class ReserveCallProcess:
    """Seeded reserve calls, the same for a given seed whatever the horizon asked.

    Each contract year ``y`` has its own stream (``reserve.calls`` split by year,
    see ``gridcoop.streams``), so the calls of the first 90 days do not change
    when a run is longer.
    """

    def __init__(self, seed: int, config: CallProcessConfig | None = None) -> None:
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise InvalidCallProcessError(f"seed must be an int >= 0, got {seed!r}")
        self.seed = seed
        self.config = config or CallProcessConfig()

    def _drawn(self, year: int) -> list[tuple[int, int]]:
        """The (start, duration) pairs drawn for contract year ``year``, before chaining."""
        cfg = self.config
        rng = streams(self.seed).rng("reserve.calls", year)
        offsets: list[float] = []  # in years, so tiny rates never underflow
        if cfg.mean_calls_per_year > 0:
            rate = cfg.mean_calls_per_year
            t = float(rng.standard_exponential()) / rate
            while t < 1.0 and len(offsets) < cfg.max_calls_per_year:
                offsets.append(t)
                t += float(rng.standard_exponential()) / rate
        step = cfg.resolution_min
        longest = cfg.max_duration_min - cfg.max_duration_min % step
        drawn: list[tuple[int, int]] = []
        for offset in offsets:
            duration_min = float(rng.standard_exponential()) * cfg.mean_duration_min
            duration = step * round(duration_min / step)
            minute = int(offset * MINUTES_PER_YEAR)
            drawn.append(
                (
                    year * MINUTES_PER_YEAR + minute - minute % step,
                    min(max(step, duration), longest),
                )
            )
        return drawn

    def calls(self, start_min: int, end_min: int) -> tuple[ReserveCall, ...]:
        """Calls starting in ``[start_min, end_min)``, in time order, never overlapping.

        A call drawn to start before the previous one ends starts at that end;
        one pushed out of its contract year is dropped, so no year exceeds the cap.
        """
        if start_min < 0 or end_min < start_min:
            raise InvalidCallProcessError(
                f"need 0 <= start_min <= end_min, got {start_min} and {end_min}"
            )
        out: list[ReserveCall] = []
        previous_end = 0
        # Chain from year 0 so a window sees the same calls as the whole run.
        for year in range(end_min // MINUTES_PER_YEAR + 1):
            year_end = (year + 1) * MINUTES_PER_YEAR
            for index, (start, duration) in enumerate(self._drawn(year)):
                start = max(start, previous_end)
                if start >= year_end:
                    continue
                previous_end = start + duration
                if start_min <= start < end_min:
                    out.append(
                        ReserveCall(
                            f"call-{year}-{index}", start, duration, self.config.activation_ppm
                        )
                    )
        return tuple(out)

    def year_calls(self, year: int) -> tuple[ReserveCall, ...]:
        """All calls of contract year ``year`` (minutes counted from the run's start)."""
        if year < 0:
            raise InvalidCallProcessError(f"year must be >= 0, got {year}")
        return self.calls(year * MINUTES_PER_YEAR, (year + 1) * MINUTES_PER_YEAR)


@dataclass(frozen=True, slots=True)
class CallInstruction:
    """What one award must deliver during the part of a call inside its hour."""

    call_id: str
    offer_id: str
    owner_id: str
    hour: int
    start_min: int
    end_min: int
    power_w: int
    energy_wh: int


def dispatch_call(call: ReserveCall, awards: Iterable[ReserveAward]) -> tuple[CallInstruction, ...]:
    """The instructions a call gives to the awards of the hours it overlaps.

    Power is ``accepted_w × activation_ppm / 10^6`` (half to even) and energy
    ``power_w × overlap_min / 60`` Wh (half to even). Awards of hours the call
    does not touch get nothing.
    """
    out: list[CallInstruction] = []
    for award in awards:
        hour_start, hour_end = award.hour * 60, award.hour * 60 + 60
        start, end = max(call.start_min, hour_start), min(call.end_min, hour_end)
        if end <= start or award.accepted_w == 0:
            continue
        power_w = div_round_half_even(award.accepted_w * call.activation_ppm, PPM)
        energy_wh = div_round_half_even(power_w * (end - start), 60)
        out.append(
            CallInstruction(
                call.call_id,
                award.offer_id,
                award.owner_id,
                award.hour,
                start,
                end,
                power_w,
                energy_wh,
            )
        )
    return tuple(out)


@dataclass(frozen=True, slots=True)
class ShortfallPolicy:
    """How a shortfall is judged and priced.

    A delivery short by at most ``tolerance_ppm`` of the required energy is
    accepted without penalty; beyond that the whole shortfall is charged at
    ``penalty_ueur_per_mwh``. Delivered energy up to the requirement is paid at
    ``activation_price_ueur_per_mwh`` (0 by default: availability only).
    """

    tolerance_ppm: int = 50_000
    penalty_ueur_per_mwh: int = 200_000_000
    activation_price_ueur_per_mwh: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.tolerance_ppm <= PPM:
            raise InvalidShortfallPolicyError(
                f"tolerance_ppm must be in 0..{PPM}, got {self.tolerance_ppm}"
            )
        if self.penalty_ueur_per_mwh < 0 or self.activation_price_ueur_per_mwh < 0:
            raise InvalidShortfallPolicyError("penalty and activation prices must be >= 0")


@dataclass(frozen=True, slots=True)
class DeliveryVerdict:
    """The meters' verdict on one instruction."""

    call_id: str
    offer_id: str
    owner_id: str
    required_wh: int
    delivered_wh: int
    shortfall_wh: int
    within_tolerance: bool
    penalty_ueur: int
    activation_payment_ueur: int


def verify_delivery(
    instructions: Sequence[CallInstruction],
    delivered_wh: Mapping[tuple[str, str], int],
    policy: ShortfallPolicy | None = None,
) -> tuple[DeliveryVerdict, ...]:
    """Check metered energy against each instruction and price the shortfalls.

    ``delivered_wh`` maps ``(call_id, offer_id)`` to the metered watt-hours
    (an int >= 0; pass 0 explicitly when nothing was delivered).
    """
    rules = policy or ShortfallPolicy()
    missing = [
        (i.call_id, i.offer_id) for i in instructions if (i.call_id, i.offer_id) not in delivered_wh
    ]
    if missing:
        raise MissingMeterReadingError(
            f"no metered delivery for {missing}; pass the meters' Wh (0 if none) for each"
        )
    verdicts: list[DeliveryVerdict] = []
    for ins in instructions:
        got = delivered_wh[(ins.call_id, ins.offer_id)]
        if not isinstance(got, numbers.Integral) or isinstance(got, bool) or got < 0:
            raise MissingMeterReadingError(
                f"metered delivery for {(ins.call_id, ins.offer_id)} must be an int >= 0 Wh, "
                f"got {got!r}"
            )
        got = int(got)
        shortfall = max(0, ins.energy_wh - got)
        tolerated = shortfall * PPM <= rules.tolerance_ppm * ins.energy_wh
        penalty = (
            0
            if tolerated
            else div_round_half_even(shortfall * rules.penalty_ueur_per_mwh, WH_PER_MWH)
        )
        paid = div_round_half_even(
            min(got, ins.energy_wh) * rules.activation_price_ueur_per_mwh, WH_PER_MWH
        )
        verdicts.append(
            DeliveryVerdict(
                ins.call_id,
                ins.offer_id,
                ins.owner_id,
                ins.energy_wh,
                got,
                shortfall,
                tolerated,
                penalty,
                paid,
            )
        )
    return tuple(verdicts)


@dataclass(slots=True)
class ReserveSettlement:
    """Money one owner earned and owes in the reserve market (µEUR)."""

    owner_id: str
    availability_ueur: int = 0
    activation_ueur: int = 0
    penalty_ueur: int = 0
    hours_awarded: int = 0
    calls_served: int = 0
    calls_short: int = 0
    call_ids: list[str] = field(default_factory=list)

    @property
    def net_ueur(self) -> int:
        return self.availability_ueur + self.activation_ueur - self.penalty_ueur


def settle_reserve(
    awards: Iterable[ReserveAward], verdicts: Iterable[DeliveryVerdict]
) -> dict[str, ReserveSettlement]:
    """Net availability payments, activation payments and penalties per owner.

    A call counts as served for an owner when every one of its verdicts was
    within tolerance, short otherwise.
    """
    out: dict[str, ReserveSettlement] = {}
    for award in awards:
        entry = out.setdefault(award.owner_id, ReserveSettlement(award.owner_id))
        entry.availability_ueur += award.payment_ueur
        entry.hours_awarded += 1
    calls: dict[tuple[str, str], bool] = {}
    for verdict in verdicts:
        entry = out.setdefault(verdict.owner_id, ReserveSettlement(verdict.owner_id))
        entry.activation_ueur += verdict.activation_payment_ueur
        entry.penalty_ueur += verdict.penalty_ueur
        key = (verdict.owner_id, verdict.call_id)
        calls[key] = calls.get(key, True) and verdict.within_tolerance
    for (owner, call_id), served in calls.items():
        entry = out[owner]
        entry.call_ids.append(call_id)
        if served:
            entry.calls_served += 1
        else:
            entry.calls_short += 1
    return out
