"""Who is in a scenario: the nodes, their kinds and regions, and their physics.

Why nodes are sorted by region: each region then owns one contiguous slice of
every array, so a region's meters, orders and readings are numpy views, never
gathers. A neighbourhood's physics is one part per region with the region's own
random streams (``region_streams``), so a process hosting some regions draws
exactly what a single process draws for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.behaviour.battery import MarketSignal
from gridcoop.agents.behaviour.protocols import Decision
from gridcoop.agents.behaviour.resolve import make
from gridcoop.agents.mechanisms.ev.profiles import LEAF_24, LEAF_30
from gridcoop.agents.physics.battery_policy import BatteryControl
from gridcoop.agents.physics.campus import (
    CampusPhysics,
    OccupancySource,
    RandomOccupancy,
    Session,
    TimetableOccupancy,
    random_timetable,
)
from gridcoop.agents.physics.clock import SimClock
from gridcoop.agents.physics.flows import NodePhysics
from gridcoop.agents.physics.households import HouseholdPhysics, HouseholdSetup
from gridcoop.agents.physics.profiles import Profile, read_profile
from gridcoop.agents.physics.regional import RegionalPhysics
from gridcoop.agents.physics.traders import TraderPhysics, load_trader_table
from gridcoop.agents.scenario.schema import (
    CampusMicrogrid,
    MarketOnly,
    Neighbourhood,
    Scenario,
    ScenarioError,
)
from gridcoop.streams import streams

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

#: The model's random streams (named in ``gridcoop.streams``).
STREAMS = ("population", "weather", "load", "appliances", "ev", "forecast", "strategy", "timetable")


class NodeKind(IntEnum):
    """What stands behind a meter."""

    PROSUMER = 0
    EV_OWNER = 1
    DR_HOUSEHOLD = 2
    CLASSROOM = 3
    TRADER = 4


@dataclass(frozen=True, slots=True)
class Population:
    """The nodes of a run (sorted by region) and the physics that drives them."""

    node_ids: tuple[str, ...]
    kind: IntArray
    region: IntArray
    region_ids: tuple[str, ...]
    region_slices: tuple[slice, ...]
    physics: NodePhysics
    pv_kwp: FloatArray
    battery_kwh: FloatArray
    sessions: tuple[Session, ...] = ()
    battery_signal: MarketSignal | None = None  # the prices battery policies see

    @property
    def size(self) -> int:
        return len(self.node_ids)


def seeded_streams(seed: int) -> dict[str, np.random.Generator]:
    """One independent generator per purpose, so adding draws to one leaves the others alone."""
    registry = streams(seed)
    return {name: registry.rng(name) for name in STREAMS}


def region_streams(seed: int, region: int) -> dict[str, np.random.Generator]:
    """Region ``region``'s own generators (physics drawn per region, see ``RegionalPhysics``)."""
    registry = streams(seed)
    return {name: registry.rng(name, region) for name in STREAMS}


def _region_setup(setup: HouseholdSetup, nodes: slice) -> HouseholdSetup:
    """The households of one region, as a setup of their own (one weather zone)."""
    def local(index: IntArray) -> tuple[IntArray, NDArray[np.bool_]]:
        keep = (index >= nodes.start) & (index < nodes.stop)
        return index[keep] - nodes.start, keep

    ev_nodes, ev_keep = local(setup.ev_nodes)
    dr_nodes, _ = local(setup.dr_nodes)
    return HouseholdSetup(
        zone=np.zeros(nodes.stop - nodes.start, dtype=np.int64),
        pv_kwp=setup.pv_kwp[nodes], annual_load_kwh=setup.annual_load_kwh[nodes],
        battery_kwh=setup.battery_kwh[nodes], battery_kw=setup.battery_kw[nodes],
        battery_round_trip=setup.battery_round_trip, ev_nodes=ev_nodes,
        ev_capacity_kwh=setup.ev_capacity_kwh[ev_keep], ev_profile=setup.ev_profile[ev_keep],
        ev_charger_kw=setup.ev_charger_kw, dr_nodes=dr_nodes, pv_profile=setup.pv_profile,
        load_profile=setup.load_profile)


def _slices(region: IntArray, regions: int) -> tuple[slice, ...]:
    bounds = np.searchsorted(region, np.arange(regions + 1))
    return tuple(slice(int(bounds[r]), int(bounds[r + 1])) for r in range(regions))


def _battery_rng(seed: int, region: int) -> np.random.Generator:
    """The stream of region ``region``'s battery policy (bidding groups use key 0)."""
    return streams(seed).rng("policy", 2, region)


def _profile(path: Path | None) -> Profile | None:
    return None if path is None else read_profile(path)


def build_neighbourhood(
    scenario: Neighbourhood, clock: SimClock, streams: dict[str, np.random.Generator]
) -> Population:
    """Households with a kind drawn by ``mix``, dealt round-robin into regions."""
    rng = streams["population"]
    n = scenario.households
    counts = np.floor(
        np.array([scenario.mix.prosumer, scenario.mix.ev_owner, scenario.mix.dr_household]) * n
    ).astype(np.int64)
    counts[
        np.argmax([scenario.mix.prosumer, scenario.mix.ev_owner, scenario.mix.dr_household])
    ] += n - counts.sum()
    kind = rng.permutation(np.repeat(np.arange(3), counts))
    region = np.arange(n) % scenario.regions
    order = np.argsort(region, kind="stable")
    kind, region = kind[order], region[order]
    p = scenario.prosumer
    prosumer = kind == NodeKind.PROSUMER
    pv_kwp = np.where(prosumer, np.round(rng.uniform(p.pv_kwp_min, p.pv_kwp_max, n), 2), 0.0)
    has_battery = prosumer & (rng.random(n) < p.battery_share)
    battery_kwh = np.where(has_battery, p.battery_kwh, 0.0)
    battery_kw = np.where(has_battery, p.battery_kw, 0.0)
    scale = rng.lognormal(-0.5 * scenario.annual_load_sd**2, scenario.annual_load_sd, n)
    annual = scenario.annual_load_kwh * scale
    annual = np.where(kind == NodeKind.DR_HOUSEHOLD, annual * scenario.dr_base_load_share, annual)
    ev_nodes = np.flatnonzero(kind == NodeKind.EV_OWNER)
    leaf24 = rng.random(ev_nodes.size) < scenario.ev.leaf24_share
    ev_capacity = np.where(leaf24, LEAF_24.capacity_kwh, LEAF_30.capacity_kwh)
    ev_profile = rng.choice(np.arange(1, 5), size=ev_nodes.size, p=scenario.ev.profile_shares)
    setup = HouseholdSetup(
        zone=region,
        pv_kwp=pv_kwp,
        annual_load_kwh=annual,
        battery_kwh=battery_kwh,
        battery_kw=battery_kw,
        battery_round_trip=p.battery_round_trip,
        ev_nodes=ev_nodes,
        ev_capacity_kwh=ev_capacity,
        ev_profile=ev_profile.astype(np.int64),
        ev_charger_kw=scenario.ev.charger_kw,
        dr_nodes=np.flatnonzero(kind == NodeKind.DR_HOUSEHOLD),
        pv_profile=_profile(scenario.profile_path("pv")),
        load_profile=_profile(scenario.profile_path("load")),
    )
    slices = _slices(region, scenario.regions)
    width = len(str(n))
    node_ids = tuple(f"h{i:0{width}d}" for i in range(n))
    signal = MarketSignal()
    choice = scenario.policies.battery
    name, params = ("self_consumption", {}) if choice is None else (choice.policy,
                                                                    dict(choice.params))

    def battery(r: int) -> BatteryControl:
        """Region ``r``'s own instance of the battery policy, on its own stream."""
        return BatteryControl(make(Decision.BATTERY, name, params), node_ids[slices[r]], signal,
                              _battery_rng(scenario.seed, r), f"batteries r{r}")

    def part(r: int) -> Callable[[], HouseholdPhysics]:
        return lambda: HouseholdPhysics(_region_setup(setup, slices[r]), clock,
                                        region_streams(scenario.seed, r), scenario.forecast_error,
                                        battery(r))

    physics = RegionalPhysics([part(r) for r in range(scenario.regions)], slices)
    return Population(
        node_ids=node_ids,
        kind=kind.astype(np.int64),
        region=region.astype(np.int64),
        region_ids=tuple(f"r{r}" for r in range(scenario.regions)),
        region_slices=slices,
        physics=physics,
        pv_kwp=pv_kwp,
        battery_kwh=battery_kwh,
        battery_signal=signal,
    )


def build_campus(
    scenario: CampusMicrogrid, clock: SimClock, streams: dict[str, np.random.Generator]
) -> Population:
    """Classrooms numbered along the hallway, one region (the hallway's feeder)."""
    n = scenario.classrooms
    sessions: list[Session] = []
    occupancy: OccupancySource
    if scenario.timetable is not None:
        sessions = [Session(s.classroom, s.weekday, s.start_h, s.end_h) for s in scenario.timetable]
    elif scenario.occupancy_model == "timetable":
        sessions = random_timetable(streams["timetable"], n, scenario.occupancy)
    if scenario.timetable is not None or scenario.occupancy_model == "timetable":
        occupancy = TimetableOccupancy(tuple(sessions), n, clock)
    else:
        occupancy = RandomOccupancy(streams["timetable"], n, scenario.occupancy,
                                    scenario.occupancy_block_minutes, clock)
    peak_kw = scenario.panels_per_classroom * scenario.panel_w / 1000.0
    physics = CampusPhysics(
        n,
        peak_kw,
        scenario.lighting_w / 1000.0,
        occupancy,
        clock,
        streams["weather"],
        streams["forecast"],
        scenario.forecast_error,
    )
    width = len(str(n))
    return Population(
        node_ids=tuple(f"classroom-{i + 1:0{width}d}" for i in range(n)),
        kind=np.full(n, NodeKind.CLASSROOM, dtype=np.int64),
        region=np.zeros(n, dtype=np.int64),
        region_ids=("hallway",),
        region_slices=(slice(0, n),),
        physics=physics,
        pv_kwp=np.full(n, peak_kw),
        battery_kwh=np.zeros(n),
        sessions=tuple(sessions),
    )


def build_market_only(scenario: MarketOnly, clock: SimClock) -> Population:
    """CSV participants (sorted by name), split into ``regions`` contiguous groups."""
    table = load_trader_table(scenario.csv_path("buyers"), scenario.csv_path("sellers"))
    n = len(table.participants)
    if scenario.regions > n:
        raise ScenarioError(f"regions={scenario.regions} exceeds the {n} participants in the CSVs")
    region = np.sort(np.arange(n) % scenario.regions)
    return Population(
        node_ids=table.participants,
        kind=np.full(n, NodeKind.TRADER, dtype=np.int64),
        region=region.astype(np.int64),
        region_ids=tuple(f"r{r}" for r in range(scenario.regions)),
        region_slices=_slices(region, scenario.regions),
        physics=TraderPhysics(table, clock),
        pv_kwp=np.zeros(n),
        battery_kwh=np.zeros(n),
    )


def build_population(
    scenario: Scenario, clock: SimClock, streams: dict[str, np.random.Generator]
) -> Population:
    """The population of any scenario kind."""
    custom = getattr(scenario, "build_population", None)  # kinds that bring their own nodes
    if custom is not None:
        return custom(clock, streams)  # type: ignore[no-any-return]
    if isinstance(scenario, Neighbourhood):
        return build_neighbourhood(scenario, clock, streams)
    if isinstance(scenario, CampusMicrogrid):
        return build_campus(scenario, clock, streams)
    return build_market_only(scenario, clock)
