"""The EV community scenario kinds: ``ev-community`` (the pilot) and ``ev-community-large``.

Why subclasses of ``Neighbourhood``: the EV owners are households like any
other (base load, a smart meter, orders in the energy market); the kinds only
change the defaults (who lives there) and add the ``ev_community`` group, the
parameters of the aggregator, the spinning-reserve market and the
gamification. Each aggregator region is one EV community with its own RA.

Listed in ``gridcoop.agents.scenario.registry.KINDS`` as ``ev-community`` and
``ev-community-large``, with the extension that runs them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from gridcoop.agents.mechanisms.ev.locations import Location, week_table
from gridcoop.agents.mechanisms.ev.profiles import EVConfigError
from gridcoop.agents.scenario.schema import Mix, Neighbourhood, Signing, _Strict

Periods = tuple[tuple[int, int], ...]


class LocationCommunity(_Strict):
    """One location community: a name and the hours a car connected there is connected.

    ``periods``: ``(start, end)`` hours on the ``days`` (``all``, ``weekdays``
    or ``weekend``), or ``rest`` (every hour of the week no other community
    holds). ``critical_periods``: this community's own, or ``null`` for the
    ``ev_community`` ones (found from the whole fleet when ``auto``).
    """

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,23}$")]
    periods: Literal["rest"] | Periods
    days: Literal["all", "weekdays", "weekend"] = "all"
    critical_periods: Periods | None = None

    def location(self) -> Location:
        return Location(self.name, None if self.periods == "rest" else tuple(self.periods),
                        self.days)


class EVCommunityParams(_Strict):
    """The aggregator, reserve market and gamification settings of the EV communities.

    ``fleet``: ``pilot`` gives each community the pilot's seven owners (profiles
    4, 4, 3, 3, 2, 4, 3; five 24 kWh and two 30 kWh Leafs, cycled when a
    community has more EVs); ``random`` draws profiles and batteries from the
    scenario's ``ev`` shares. ``warmup_days`` of history are simulated before
    the run to train the forecaster, which is retrained every
    ``retrain_every_days`` on everything seen so far. Each hour the RA offers
    ``offer_share`` of its firm capacity (reached with ``confidence``) at
    ``price_eur_per_mw_day``; the grid asks ``request_kw`` per community.

    The pilot's simplifying assumptions are the defaults, each switchable:
    ``unlimited_charger_power`` (a plugged EV is full at once; False charges at
    the charger's power), ``plug_whenever_parked`` (every stay is plugged from
    arrival; False keeps each profile's plug-in chance and delay),
    ``efficiency`` 1 (no losses; below 1 is the one-way efficiency of charging
    and of V2G discharge alike), ``capacity_fade_per_year`` 0 (a constant
    capacity; above 0 the usable capacity falls linearly by that share of the
    nominal one per year, from the first warm-up day), ``chargers_per_community``
    ``null`` (no queues: a charger for every EV; a number is the chargers each
    community shares, first come first served, an EV finding none waiting
    parked and unplugged until one is freed).
    ``critical_periods`` is ``auto`` (found from the warm-up history: the hours
    of the typical day where the grid's demand stands highest against the
    plugged-in battery capacity, see ``availability``) or explicit hours.
    """

    fleet: Literal["pilot", "random"] = "pilot"
    step_minutes: Literal[1, 5] = 5
    warmup_days: Annotated[int, Field(ge=7, le=365)] = 28
    retrain_every_days: Annotated[int, Field(ge=1, le=365)] = 7
    change_rate: Annotated[float, Field(ge=0, le=1)] = 0.15
    warn_probability: Annotated[float, Field(ge=0, le=1)] = 0.6
    margin_kwh: Annotated[float, Field(ge=0, le=100)] = 2.0
    committed_kwh: Annotated[float, Field(ge=0, le=100)] = 5.0
    confidence: Annotated[float, Field(gt=0, lt=1)] = 0.9
    offer_share: Annotated[float, Field(gt=0, le=1)] = 1.0
    price_eur_per_mw_day: Annotated[float, Field(ge=0, le=1e5)] = 120.0
    max_price_eur_per_mw_day: Annotated[float, Field(ge=0, le=1e5)] | None = None
    request_kw: Annotated[float, Field(ge=0, le=1e6)] = 10.0
    pricing: Literal["pay-as-bid", "pay-as-clear"] = "pay-as-bid"
    calls_per_year: Annotated[float, Field(ge=0, le=10_000)] = 20.0
    max_calls_per_year: Annotated[int, Field(ge=0, le=10_000)] = 20
    mean_call_minutes: Annotated[float, Field(gt=0, le=600)] = 60.0
    penalty_eur_per_mwh: Annotated[float, Field(ge=0, le=1e5)] = 200.0
    tolerance: Annotated[float, Field(ge=0, le=1)] = 0.05
    break_threshold: Annotated[float, Field(ge=0, le=1)] = 0.9
    min_replacement_probability: Annotated[float, Field(ge=0, le=1)] = 0.7
    base_tokens_per_hour: Annotated[int, Field(ge=0, le=10_000)] = 10
    critical_factor: Annotated[int, Field(ge=1, le=100)] = 3
    critical_periods: Literal["auto"] | Periods = "auto"
    unlimited_charger_power: bool = True
    plug_whenever_parked: bool = True
    efficiency: Annotated[float, Field(gt=0, le=1)] = 1.0
    capacity_fade_per_year: Annotated[float, Field(ge=0, lt=1)] = 0.0
    chargers_per_community: Annotated[int, Field(ge=0, le=100_000)] | None = None
    abuse_contact: str = "the community aggregator"
    communities: tuple[LocationCommunity, ...] | None = None

    @model_validator(mode="after")
    def _periods(self) -> EVCommunityParams:
        own = [(f"communities.{c.name}.critical_periods", c.critical_periods)
               for c in self.communities or () if c.critical_periods is not None]
        fleet = [] if self.critical_periods == "auto" else [("critical_periods",
                                                            self.critical_periods)]
        for where, periods in fleet + own:
            for start, end in periods:
                if not 0 <= start < end <= 24:
                    raise ValueError(f"ev_community.{where}: ({start}, {end}) must satisfy "
                                     "0 <= start < end <= 24")
        if self.communities is not None:
            names = [c.name for c in self.communities]
            if not names or len(set(names)) != len(names):
                raise ValueError(f"ev_community.communities: give one or more communities with "
                                 f"distinct names, got {names}")
            try:
                week_table(self.locations() or ())
            except EVConfigError as exc:
                raise ValueError(f"ev_community.communities: {exc}") from None
        return self

    def locations(self) -> tuple[Location, ...] | None:
        """The location communities, or ``None``: one community per region, every hour."""
        if self.communities is None:
            return None
        return tuple(c.location() for c in self.communities)


class EVCommunity(Neighbourhood):
    """The pilot: 7 Nissan Leafs (five 24 kWh, two 30 kWh) in one community, 3 months."""

    kind: Literal["ev-community"] = "ev-community"  # type: ignore[assignment]
    signing: Signing = "block"
    days: Annotated[int, Field(ge=1, le=3660)] = 91
    households: Annotated[int, Field(ge=1, le=100_000)] = 7
    regions: Annotated[int, Field(ge=1, le=1000)] = 1
    mix: Mix = Mix(prosumer=0.0, ev_owner=1.0, dr_household=0.0)
    ev_community: EVCommunityParams = EVCommunityParams()

    @model_validator(mode="after")
    def _has_evs(self) -> EVCommunity:
        if int(self.households * self.mix.ev_owner) < 1:
            raise ValueError("an EV community needs EV owners: raise mix.ev_owner or households")
        if 60 % self.metering_minutes or self.metering_minutes % self.ev_community.step_minutes:
            raise ValueError(
                f"metering_minutes={self.metering_minutes} must be a multiple of "
                f"ev_community.step_minutes={self.ev_community.step_minutes} and divide 60")
        return self


class EVCommunityLarge(EVCommunity):
    """Hundreds of EVs in several communities (one per region), among prosumers."""

    kind: Literal["ev-community-large"] = "ev-community-large"  # type: ignore[assignment]
    days: Annotated[int, Field(ge=1, le=3660)] = 28
    households: Annotated[int, Field(ge=1, le=100_000)] = 400
    regions: Annotated[int, Field(ge=1, le=1000)] = 4
    mix: Mix = Mix(prosumer=0.25, ev_owner=0.75, dr_household=0.0)
    # Not the pilot: real chargers and the owners' plug-in habits.
    ev_community: EVCommunityParams = EVCommunityParams(
        fleet="random", request_kw=100.0, unlimited_charger_power=False,
        plug_whenever_parked=False)
