"""The community drawn as a network, with this interval's energy flows.

The central market sits in the middle with the grid beside it, the
aggregators on a ring around it, and each aggregator's members on an outer arc
in its sector. Each member's edge carries its net metered energy this
interval (export minus import); an aggregator's edge carries the sum of its
members', and the market-grid edge the community's, so what the picture shows
is conserved at every node. Line width is proportional to kWh (with a thin
floor so that small flows stay visible), green towards the market, red
towards the members.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from gridcoop.experiments.viz.figures import axes_for
from gridcoop.experiments.viz.formatting import PageDataError
from gridcoop.experiments.viz.protocol import PageSource

MARKET = "market"
GRID = "grid"
MAX_EDGE_WIDTH_PT = 8.0
ZERO_EDGE_WIDTH_PT = 0.4
MIN_FLOW_WIDTH_PT = 0.6
"""Floor for a non-zero flow, so a member's 0.1 kWh stays visible beside a feeder's 30 kWh."""
AGGREGATOR_RADIUS = 1.0
MEMBER_RADIUS = 2.0
SECTOR_FILL = 0.8
"""Share of each aggregator's angular sector its members spread over."""

KIND_COLOURS: dict[str, str] = {
    MARKET: "#222222",
    GRID: "#7f7f7f",
    "aggregator": "#9467bd",
    "prosumer": "#ff9f1c",
    "ev_owner": "#1f77b4",
    "dr_household": "#2ca02c",
    "consumer": "#8c564b",
    "classroom": "#e377c2",
}
_SPARE_COLOURS = ("#17becf", "#bcbd22", "#d62728", "#aec7e8", "#98df8a", "#c5b0d5")
EXPORT_COLOUR = "#2ca02c"
IMPORT_COLOUR = "#d62728"


@dataclass(frozen=True)
class NetworkNode:
    """One dot of the picture; ``kind`` is ``market``, ``grid``, ``aggregator`` or a member kind."""

    node_id: str
    label: str
    kind: str
    x: float
    y: float


@dataclass(frozen=True)
class NetworkEdge:
    """Energy ``energy_kwh`` >= 0 flowing from ``source`` to ``target`` this interval."""

    source: str
    target: str
    energy_kwh: float
    width_pt: float
    towards_market: bool
    """True when the energy flows up (members selling), False when it flows down."""


@dataclass(frozen=True)
class NetworkView:
    """Everything the network picture needs."""

    nodes: tuple[NetworkNode, ...]
    edges: tuple[NetworkEdge, ...]
    member_kinds: tuple[str, ...]
    grid_import_kwh: float
    grid_export_kwh: float
    max_edge_kwh: float
    step_count: int


def kind_colour(kind: str, known_kinds: Sequence[str] = ()) -> str:
    """A fixed colour per kind; unknown kinds get spare colours in sorted order."""
    if kind in KIND_COLOURS:
        return KIND_COLOURS[kind]
    extra = sorted(k for k in set(known_kinds) | {kind} if k not in KIND_COLOURS)
    return _SPARE_COLOURS[extra.index(kind) % len(_SPARE_COLOURS)]


def edge_width_pt(energy_kwh: float, max_energy_kwh: float) -> float:
    """Line width proportional to kWh (the largest flow gets ``MAX_EDGE_WIDTH_PT``),
    never thinner than ``MIN_FLOW_WIDTH_PT`` when energy flows."""
    if energy_kwh <= 0.0 or max_energy_kwh <= 0.0:
        return ZERO_EDGE_WIDTH_PT
    return max(MIN_FLOW_WIDTH_PT, MAX_EDGE_WIDTH_PT * energy_kwh / max_energy_kwh)


def _ring(count: int, radius: float) -> list[tuple[float, float]]:
    """``count`` angles evenly around a circle, the first at the top."""
    return [(radius, math.pi / 2 - 2 * math.pi * i / count) for i in range(count)]


def layout(regions: Sequence[str], members_by_region: dict[str, list[str]]
           ) -> dict[str, tuple[float, float]]:
    """Deterministic positions for ``agg:<id>`` and ``mem:<id>`` nodes.

    Members of region ``""`` trade at the market directly and take the sector
    of an extra, invisible aggregator so they do not overlap the others.
    """
    positions: dict[str, tuple[float, float]] = {MARKET: (0.0, 0.0), GRID: (0.0, -0.5)}
    sectors = list(regions) + ([""] if members_by_region.get("") else [])
    if not sectors:
        return positions
    width = 2 * math.pi / len(sectors)
    between = math.pi / 2 - width / 2  # the grid sits between the first two aggregators
    positions[GRID] = (0.5 * math.cos(between), 0.5 * math.sin(between))
    for (radius, angle), region in zip(_ring(len(sectors), AGGREGATOR_RADIUS), sectors,
                                       strict=True):
        if region:
            positions[f"agg:{region}"] = (radius * math.cos(angle), radius * math.sin(angle))
        members = members_by_region.get(region, [])
        span = width * SECTOR_FILL
        for i, member in enumerate(members):
            share = (i + 0.5) / len(members) - 0.5 if len(members) > 1 else 0.0
            theta = angle - share * span
            r = MEMBER_RADIUS + (0.25 if i % 2 else 0.0) * (len(members) > 8)
            positions[f"mem:{member}"] = (r * math.cos(theta), r * math.sin(theta))
    return positions


def _edge(node: str, parent: str, net_export_kwh: float, max_kwh: float) -> NetworkEdge:
    if net_export_kwh >= 0:
        return NetworkEdge(node, parent, net_export_kwh, edge_width_pt(net_export_kwh, max_kwh),
                           True)
    return NetworkEdge(parent, node, -net_export_kwh, edge_width_pt(-net_export_kwh, max_kwh),
                       False)


def network_view(source: PageSource) -> NetworkView:
    """The network picture's data: nodes, positions, this interval's flows."""
    regions = list(source.regions())
    if len(set(regions)) != len(regions) or "" in regions:
        raise PageDataError(f"aggregator ids must be unique and non-empty, got {regions}")
    known_regions = set(regions)
    members = list(source.members())
    member_region: dict[str, str] = {}
    members_by_region: dict[str, list[str]] = {}
    for member in members:
        if member.member_id in member_region:
            raise PageDataError(f"member {member.member_id!r} is listed twice")
        if member.region_id and member.region_id not in known_regions:
            raise PageDataError(
                f"member {member.member_id!r} belongs to unknown aggregator "
                f"{member.region_id!r}; known: {sorted(known_regions)}"
            )
        member_region[member.member_id] = member.region_id
        members_by_region.setdefault(member.region_id, []).append(member.member_id)

    net: dict[str, float] = dict.fromkeys(member_region, 0.0)
    for flow in source.interval_flows():
        if flow.member_id not in member_region:
            raise PageDataError(f"energy flow for unknown member {flow.member_id!r}")
        if flow.import_kwh < 0 or flow.export_kwh < 0:
            raise PageDataError(
                f"member {flow.member_id!r}: import and export must be >= 0 kWh, got "
                f"{flow.import_kwh} and {flow.export_kwh}"
            )
        net[flow.member_id] += flow.export_kwh - flow.import_kwh

    region_net = dict.fromkeys(regions, 0.0)
    for member_id, value in net.items():
        if member_region[member_id]:
            region_net[member_region[member_id]] += value
    community_net = sum(net.values())
    max_kwh = max([abs(v) for v in (*net.values(), *region_net.values(), community_net)],
                  default=0.0)

    edges = [_edge(f"mem:{m}", f"agg:{r}" if r else MARKET, net[m], max_kwh)
             for m, r in member_region.items()]
    edges += [_edge(f"agg:{r}", MARKET, region_net[r], max_kwh) for r in regions]
    edges.append(_edge(MARKET, GRID, community_net, max_kwh))

    positions = layout(regions, members_by_region)
    nodes = [NetworkNode(MARKET, "central market", MARKET, *positions[MARKET]),
             NetworkNode(GRID, "grid", GRID, *positions[GRID])]
    nodes += [NetworkNode(f"agg:{r}", r, "aggregator", *positions[f"agg:{r}"]) for r in regions]
    nodes += [NetworkNode(f"mem:{m.member_id}", m.member_id, m.kind,
                          *positions[f"mem:{m.member_id}"]) for m in members]
    return NetworkView(
        nodes=tuple(nodes),
        edges=tuple(edges),
        member_kinds=tuple(sorted({m.kind for m in members})),
        grid_import_kwh=max(0.0, -community_net),
        grid_export_kwh=max(0.0, community_net),
        max_edge_kwh=max_kwh,
        step_count=source.step_count,
    )


_MARKERS = {MARKET: ("s", 160), GRID: ("^", 120), "aggregator": ("D", 90)}


def draw_network(figure: Figure, view: NetworkView) -> None:
    """Draw the network into an empty figure."""
    (ax,) = axes_for(figure, margins={"left": 0.0, "right": 0.72, "bottom": 0.0, "top": 0.93})
    where = {node.node_id: (node.x, node.y) for node in view.nodes}
    flowing = [e for e in view.edges if e.energy_kwh > 0]
    idle = [e for e in view.edges if e.energy_kwh <= 0]
    if idle:
        ax.add_collection(LineCollection([(where[e.source], where[e.target]) for e in idle],
                                         linewidths=ZERO_EDGE_WIDTH_PT, colors="#cccccc",
                                         zorder=1))
    if flowing:
        ax.add_collection(LineCollection(
            [(where[e.source], where[e.target]) for e in flowing],
            linewidths=[e.width_pt for e in flowing],
            colors=[EXPORT_COLOUR if e.towards_market else IMPORT_COLOUR for e in flowing],
            alpha=0.75, zorder=2))
    by_kind: dict[str, list[NetworkNode]] = {}
    for node in view.nodes:
        by_kind.setdefault(node.kind, []).append(node)
    for kind, nodes in by_kind.items():
        marker, size = _MARKERS.get(kind, ("o", 36))
        ax.scatter([n.x for n in nodes], [n.y for n in nodes], s=size, marker=marker,
                   c=kind_colour(kind, view.member_kinds), label=kind.replace("_", " "),
                   zorder=3, edgecolors="white", linewidths=0.5)
    for node in view.nodes:
        if node.kind in (MARKET, "aggregator"):
            ax.annotate(node.label, (node.x, node.y), textcoords="offset points",
                        xytext=(0, 7), ha="center", fontsize=7, zorder=4)
    handles, _ = ax.get_legend_handles_labels()
    handles += [Line2D([], [], color=EXPORT_COLOUR, lw=3, label="flow towards market"),
                Line2D([], [], color=IMPORT_COLOUR, lw=3, label="flow towards members")]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7,
              frameon=False)
    ax.set_title(f"step {view.step_count}: grid import {view.grid_import_kwh:.2f} kWh, "
                 f"export {view.grid_export_kwh:.2f} kWh\nwidest line {view.max_edge_kwh:.2f} kWh",
                 fontsize=7)
    ax.set_aspect("equal")
    ax.set_xlim(-2.6, 2.6)
    ax.set_ylim(-2.6, 2.6)
    ax.axis("off")
