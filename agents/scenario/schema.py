"""The scenario schema: every parameter a run of the community model takes.

Why it lives in ``agents`` (and not in ``experiments``): ``CommunityModel``
validates its own keyword arguments with it, and ``agents`` may not import
``experiments``. The YAML files, the ``--set`` parser and the listing live in
``gridcoop.experiments.scenarios``, which imports this module.

Errors name the bad key by its dotted path and suggest the closest known key
(``difflib``), e.g. ``unknown parameter 'houshold'; did you mean 'households'?``.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from gridcoop.agents.meters.spec import MeterSources
from gridcoop.agents.scenario.consensus import ConsensusSpec
from gridcoop.agents.scenario.policies import Policies
from gridcoop.market import clear, mechanism_names
from gridcoop.market.errors import InvalidOptionError
from gridcoop.market.tariffs import TimeOfUseTariff


def _registered_mechanism(name: str) -> str:
    """A mechanism name is valid when the market's registry holds it (so a newly registered
    mechanism can run in a community without touching the schema)."""
    if name not in mechanism_names():
        raise ValueError(f"no clearing mechanism named {name!r}; known mechanisms: "
                         f"{', '.join(mechanism_names())}")
    return name


Mechanism = Annotated[str, AfterValidator(_registered_mechanism)]
Signing = Literal["full", "block"]


class ScenarioError(ValueError):
    """A scenario file or parameter that cannot be run; the message says how to fix it."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tariffs(_Strict):
    """Grid tariffs: time-of-use retail, feed-in, and a fee per kWh traded locally.

    Defaults are the pilot's: feed-in 0.039 €/kWh, retail 0.095 €/kWh in the
    peak period 13:00-23:00; the off-peak 0.065 €/kWh is an assumption (the
    pilot gives none). ``retail_eur_per_kwh_by_hour`` (24 prices) replaces the
    two periods when given.
    """

    peak_eur_per_kwh: Annotated[float, Field(ge=0, le=10)] = 0.095
    off_peak_eur_per_kwh: Annotated[float, Field(ge=0, le=10)] = 0.065
    peak_start_hour: Annotated[int, Field(ge=0, le=23)] = 13
    peak_end_hour: Annotated[int, Field(ge=0, le=24)] = 23
    retail_eur_per_kwh_by_hour: tuple[float, ...] | None = None
    feed_in_eur_per_kwh: Annotated[float, Field(ge=0, le=10)] = 0.039
    grid_fee_eur_per_kwh: Annotated[float, Field(ge=0, le=10)] = 0.0

    @model_validator(mode="after")
    def _sane(self) -> Tariffs:
        table = self.retail_eur_per_kwh_by_hour
        if table is not None and (len(table) != 24 or min(table) < 0):
            raise ValueError("tariffs.retail_eur_per_kwh_by_hour needs 24 prices >= 0, "
                             f"got {len(table)}")
        if min(self.to_market().retail_eur_per_kwh_by_hour) < self.feed_in_eur_per_kwh:
            raise ValueError("a retail price below the feed-in tariff leaves no room for a "
                             "market; raise the retail prices or lower feed_in_eur_per_kwh")
        return self

    def to_market(self) -> TimeOfUseTariff:
        """The clearing house's tariff object."""
        if self.retail_eur_per_kwh_by_hour is not None:
            return TimeOfUseTariff.from_table(
                list(self.retail_eur_per_kwh_by_hour),
                feed_in_eur_per_kwh=self.feed_in_eur_per_kwh,
                grid_fee_eur_per_kwh=self.grid_fee_eur_per_kwh)
        if self.peak_start_hour == self.peak_end_hour % 24:
            return TimeOfUseTariff.flat(self.peak_eur_per_kwh,
                                        feed_in_eur_per_kwh=self.feed_in_eur_per_kwh,
                                        grid_fee_eur_per_kwh=self.grid_fee_eur_per_kwh)
        return TimeOfUseTariff.two_period(
            peak_eur_per_kwh=self.peak_eur_per_kwh, off_peak_eur_per_kwh=self.off_peak_eur_per_kwh,
            peak_start_hour=self.peak_start_hour, peak_end_hour=self.peak_end_hour,
            feed_in_eur_per_kwh=self.feed_in_eur_per_kwh,
            grid_fee_eur_per_kwh=self.grid_fee_eur_per_kwh)


class Strategy(_Strict):
    """How members price their orders, as a share of the spread feed-in → retail.

    ``zero_intelligence``: each member draws a fixed markup from its range and a
    small jitter per auction; ``fixed``: everyone at ``fixed_share``.
    ``quantity_share`` of the forecast is ordered (below 1 hedges forecast error:
    fewer undelivered trades, less traded); orders under ``min_order_kwh`` are dropped.
    """

    kind: Literal["zero_intelligence", "fixed"] = "zero_intelligence"
    seller_share: tuple[float, float] = (0.1, 0.6)
    buyer_share: tuple[float, float] = (0.4, 0.9)
    fixed_share: Annotated[float, Field(ge=0, le=1)] = 0.5
    jitter: Annotated[float, Field(ge=0, le=0.5)] = 0.05
    min_order_kwh: Annotated[float, Field(gt=0, le=10)] = 0.01
    quantity_share: Annotated[float, Field(gt=0, le=1)] = 1.0

    @model_validator(mode="after")
    def _ranges(self) -> Strategy:
        for name in ("seller_share", "buyer_share"):
            low, high = getattr(self, name)
            if not 0.0 <= low <= high <= 1.0:
                raise ValueError(f"strategy.{name} must be [low, high] with 0 <= low <= high <= 1")
        return self


class ScenarioBase(_Strict):
    """Parameters every scenario kind shares."""

    name: str = ""
    description: str = ""
    days: Annotated[int, Field(ge=1, le=3660)] = 7
    seed: int = 0
    metering_minutes: Literal[1, 5, 10, 15, 30, 60] = 15
    market_minutes: Literal[15, 30, 60] = 60
    mechanism: Mechanism = "average_bid"
    mechanism_options: dict[str, bool | int | str] = {}
    signing: Signing = "full"
    start_day_of_year: Annotated[int, Field(ge=1, le=365)] = 60
    start_weekday: Annotated[int, Field(ge=0, le=6)] = 0
    tariffs: Tariffs = Tariffs()
    strategy: Strategy = Strategy()
    policies: Policies = Policies()

    forecast_error: Annotated[float, Field(ge=0, le=2)] = 0.15
    feeder_capacity_kw: Annotated[float, Field(gt=0)] | None = None
    initial_balance_eur: Annotated[float, Field(ge=0, le=1e6)] = 200.0
    meters: MeterSources = MeterSources()
    consensus: ConsensusSpec | None = None  # neighbours attest exports before settlement

    @model_validator(mode="after")
    def _intervals(self) -> ScenarioBase:
        if self.market_minutes % self.metering_minutes:
            raise ValueError(
                f"market_minutes={self.market_minutes} must be a multiple of "
                f"metering_minutes={self.metering_minutes}"
            )
        options: dict[str, Any] = dict(self.mechanism_options)
        if options:
            try:  # an empty book runs the mechanism's own checks of its options' values
                clear([], self.mechanism, **options)
            except InvalidOptionError as exc:
                raise ValueError(str(exc)) from None
        return self


class Mix(_Strict):
    """Shares of household kinds; they must add up to 1."""

    prosumer: Annotated[float, Field(ge=0, le=1)] = 0.4
    ev_owner: Annotated[float, Field(ge=0, le=1)] = 0.2
    dr_household: Annotated[float, Field(ge=0, le=1)] = 0.4

    @model_validator(mode="after")
    def _sums(self) -> Mix:
        total = self.prosumer + self.ev_owner + self.dr_household
        if abs(total - 1.0) > 1e-9:
            raise ValueError(
                f"mix shares add up to {total:g}; make prosumer + ev_owner + dr_household = 1"
            )
        return self


class ProsumerParams(_Strict):
    """PV size range and home batteries of prosumers."""

    pv_kwp_min: Annotated[float, Field(ge=0, le=100)] = 2.0
    pv_kwp_max: Annotated[float, Field(ge=0, le=100)] = 6.0
    battery_share: Annotated[float, Field(ge=0, le=1)] = 0.3
    battery_kwh: Annotated[float, Field(ge=0, le=200)] = 5.0
    battery_kw: Annotated[float, Field(ge=0, le=100)] = 2.5
    battery_round_trip: Annotated[float, Field(gt=0, le=1)] = 0.9

    @model_validator(mode="after")
    def _range(self) -> ProsumerParams:
        if self.pv_kwp_min > self.pv_kwp_max:
            raise ValueError("prosumer.pv_kwp_min must not exceed prosumer.pv_kwp_max")
        return self


class EVParams(_Strict):
    """The fleet: share of 24 kWh Leafs (the rest 30 kWh) and behaviour profiles 1-4."""

    leaf24_share: Annotated[float, Field(ge=0, le=1)] = 5 / 7
    profile_shares: tuple[float, float, float, float] = (0.1, 0.2, 0.3, 0.4)
    charger_kw: Annotated[float, Field(gt=0, le=350)] = 3.65

    @model_validator(mode="after")
    def _shares(self) -> EVParams:
        if min(self.profile_shares) < 0 or abs(sum(self.profile_shares) - 1.0) > 1e-9:
            raise ValueError("ev.profile_shares must be four shares >= 0 adding up to 1")
        return self


class Neighbourhood(ScenarioBase):
    """N households split into aggregator regions (feeders)."""

    kind: Literal["neighbourhood"] = "neighbourhood"
    signing: Signing = "block"
    households: Annotated[int, Field(ge=1, le=100_000)] = 100
    regions: Annotated[int, Field(ge=1, le=1000)] = 4
    mix: Mix = Mix()
    annual_load_kwh: Annotated[float, Field(gt=0, le=100_000)] = 2800.0
    annual_load_sd: Annotated[float, Field(ge=0, le=2)] = 0.3
    dr_base_load_share: Annotated[float, Field(ge=0, le=1)] = 0.3
    prosumer: ProsumerParams = ProsumerParams()
    ev: EVParams = EVParams()
    pv_profile_csv: str = ""
    load_profile_csv: str = ""
    base_dir: str = ""

    def profile_path(self, which: Literal["pv", "load"]) -> Path | None:
        """A measured profile CSV (columns hour,value), relative to ``base_dir``; None if unset."""
        raw = self.pv_profile_csv if which == "pv" else self.load_profile_csv
        if not raw:
            return None
        path = Path(raw)
        return path if path.is_absolute() else Path(self.base_dir or ".") / path

    @model_validator(mode="after")
    def _regions(self) -> Neighbourhood:
        if self.regions > self.households:
            raise ValueError(
                f"regions={self.regions} exceeds households={self.households}; "
                "every region needs at least one household"
            )
        return self


class SessionSpec(_Strict):
    """One weekly class: classroom number (0-based), weekday (0 = Monday), hours."""

    classroom: Annotated[int, Field(ge=0)]
    weekday: Annotated[int, Field(ge=0, le=6)]
    start_h: Annotated[float, Field(ge=0, le=24)]
    end_h: Annotated[float, Field(ge=0, le=24)]


class CampusMicrogrid(ScenarioBase):
    """Campus case 2: classrooms along a hallway share their panels' surplus."""

    kind: Literal["campus-microgrid"] = "campus-microgrid"
    signing: Signing = "block"
    days: Annotated[int, Field(ge=1, le=3660)] = 91
    start_day_of_year: Annotated[int, Field(ge=1, le=365)] = 46
    classrooms: Annotated[int, Field(ge=2, le=200)] = 8
    panels_per_classroom: Annotated[int, Field(ge=0, le=100)] = 2
    panel_w: Annotated[float, Field(ge=0, le=1000)] = 250.0
    lighting_w: Annotated[float, Field(ge=0, le=100_000)] = 750.0
    occupancy: Annotated[float, Field(ge=0, le=1)] = 0.5
    occupancy_model: Literal["random", "timetable"] = "random"
    occupancy_block_minutes: Annotated[int, Field(ge=1, le=1440)] = 60
    timetable: tuple[SessionSpec, ...] | None = None
    allocation: Literal["nearest", "market"] = "nearest"
    tie_break: Literal["next", "previous", "split"] = "split"
    next_share: Annotated[float, Field(ge=0, le=1)] = 0.65
    source_order: Literal["up", "down"] = "down"
    max_hops: Annotated[int, Field(ge=1, le=200)] | None = 4
    transfer_price_eur_per_kwh: Annotated[float, Field(ge=0, le=10)] = 0.067

    @model_validator(mode="after")
    def _sessions(self) -> CampusMicrogrid:
        for s in self.timetable or ():
            if s.classroom >= self.classrooms:
                raise ValueError(
                    f"timetable names classroom {s.classroom}, but there are only "
                    f"{self.classrooms} (numbered 0..{self.classrooms - 1})"
                )
            if s.end_h <= s.start_h:
                raise ValueError(f"timetable session {s} ends before it starts")
        return self


class MarketOnly(ScenarioBase):
    """Buyers and sellers from CSV files (hourly quantity and limit price), no physics.

    Each CSV has columns ``hour, participant, quantity_kwh, price_eur_per_kwh``;
    ``hour`` counts market intervals from the start of the run. Relative paths
    are resolved against ``base_dir`` (the scenario file's folder).
    """

    kind: Literal["market-only"] = "market-only"
    days: Annotated[int, Field(ge=1, le=3660)] = 2
    buyers_csv: str = ""
    sellers_csv: str = ""
    base_dir: str = ""
    regions: Annotated[int, Field(ge=1, le=1000)] = 1
    forecast_error: Annotated[float, Field(ge=0, le=2)] = 0.0

    def csv_path(self, which: Literal["buyers", "sellers"]) -> Path:
        raw = self.buyers_csv if which == "buyers" else self.sellers_csv
        if not raw:
            raise ScenarioError(
                f"market-only needs {which}_csv (a CSV of hour, participant, quantity_kwh, "
                f"price_eur_per_kwh); `gridcoop run market-only` ships an example"
            )
        path = Path(raw)
        return path if path.is_absolute() else Path(self.base_dir or ".") / path


Scenario = Neighbourhood | CampusMicrogrid | MarketOnly


def _check_keys(model: type[BaseModel], params: dict[str, Any], prefix: str) -> None:
    """Reject unknown keys with a suggestion, recursing into nested parameter groups."""
    fields = model.model_fields
    for key, value in params.items():
        if key not in fields:
            path = f"{prefix}{key}"
            close = difflib.get_close_matches(str(key), list(fields), n=1, cutoff=0.5)
            hint = (
                f"; did you mean '{prefix}{close[0]}'?"
                if close
                else (
                    f"; known parameters{' of ' + prefix.rstrip('.') if prefix else ''}: "
                    + ", ".join(sorted(fields))
                )
            )
            raise ScenarioError(f"unknown parameter '{path}'{hint}")
        annotation = fields[key].annotation
        if (
            isinstance(value, dict)
            and isinstance(annotation, type)
            and issubclass(annotation, BaseModel)
        ):
            _check_keys(annotation, value, f"{prefix}{key}.")


def _explain(exc: ValidationError, kind: str) -> ScenarioError:
    problems = []
    for err in exc.errors(include_url=False)[:5]:
        where = ".".join(str(p) for p in err["loc"] if not isinstance(p, int)) or "(scenario)"
        got = (
            f" (got {err['input']!r})"
            if "input" in err and not isinstance(err["input"], dict)
            else ""
        )
        problems.append(f"{where}: {err['msg']}{got}")
    return ScenarioError(f"invalid {kind} scenario: " + "; ".join(problems))


def validate_params(model: type[ScenarioBase], kind: str, params: dict[str, Any]) -> Scenario:
    """``params`` validated by the schema class ``model`` of ``kind`` (defaults fill the rest)."""
    values = dict(params)
    values.pop("kind", None)
    _check_keys(model, values, "")
    try:
        scenario: Scenario = model.model_validate({**values, "kind": kind})  # type: ignore[assignment]
    except ValidationError as exc:
        raise _explain(exc, kind) from None
    return scenario


def merge_params(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``overrides``, merging nested groups key by key."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_params(merged[key], value)
        else:
            merged[key] = value
    return merged
