"""The EV and DR panels: capacity vs commitment, reserve calls, DR events and compliance.

Both return ``None`` when the scenario has no such community, and the page
then says so in one line instead of drawing an empty chart.
"""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.figure import Figure

from gridcoop.experiments.viz.figures import add_hover, axes_for, rescale
from gridcoop.experiments.viz.formatting import HISTORY_WINDOW_S, PageDataError, hours, recent
from gridcoop.experiments.viz.protocol import PageSource

LATEST_EVENTS = 10
OPENADR_LEVELS = ("normal", "moderate", "high", "emergency shed")
"""OpenADR 2.0b SIMPLE signal levels 0-3."""


@dataclass(frozen=True)
class ReserveCallView:
    """One reserve call and the share of it served."""

    hour: float
    requested_kw: float
    served_kw: float
    served_share: float


@dataclass(frozen=True)
class EVView:
    """The EV community: hourly capacity vs commitment, and the reserve calls."""

    hours: tuple[float, ...]
    available_kw: tuple[float, ...]
    committed_kw: tuple[float, ...]
    short_hours: int
    """Hours in the window where the available capacity fell below the commitment."""
    calls: tuple[ReserveCallView, ...]
    """Every call so far, oldest first."""
    calls_fully_served: int


def ev_view(source: PageSource, window_s: int | None = HISTORY_WINDOW_S) -> EVView | None:
    """The EV panel's data, or ``None`` when the scenario has no EV community."""
    ev = source.ev()
    if ev is None:
        return None
    rows = recent(ev.capacity(), window_s)
    calls: list[ReserveCallView] = []
    for call in ev.reserve_calls():
        if call.requested_kw < 0 or call.served_kw < 0:
            raise PageDataError(f"reserve call at {call.time_s} s has a negative power")
        share = min(1.0, call.served_kw / call.requested_kw) if call.requested_kw > 0 else 1.0
        calls.append(ReserveCallView(call.time_s / 3600, call.requested_kw, call.served_kw,
                                     share))
    return EVView(
        hours=hours(rows),
        available_kw=tuple(row.available_kw for row in rows),
        committed_kw=tuple(row.committed_kw for row in rows),
        short_hours=sum(1 for row in rows if row.available_kw < row.committed_kw),
        calls=tuple(calls),
        calls_fully_served=sum(1 for call in calls if call.served_share >= 1.0),
    )


def draw_ev(figure: Figure, view: EVView) -> None:
    """Available capacity and commitment per hour; reserve calls as markers."""
    (ax,) = axes_for(figure)
    if view.hours:
        ax.fill_between(view.hours, view.available_kw, step="post", color="#1f77b4", alpha=0.3,
                        label="available")
        ax.step(view.hours, view.committed_kw, where="post", color="#d62728", lw=1.2,
                label="committed")
        start = view.hours[0]
        shown = [call for call in view.calls if call.hour >= start]
        if shown:
            ax.scatter([c.hour for c in shown], [c.requested_kw for c in shown], marker="v",
                       color="#000000", label="reserve call (requested)", zorder=3)
            ax.scatter([c.hour for c in shown], [c.served_kw for c in shown], marker="^",
                       color="#2ca02c", label="served", zorder=3)
        ax.legend(fontsize=7, loc="upper left")
        rescale(ax)
        add_hover(ax, view.hours, view.available_kw,
                  [f"hour {h:g}: available {a:.1f} kW, committed {c:.1f} kW"
                   for h, a, c in zip(view.hours, view.available_kw, view.committed_kw,
                                      strict=True)])
    else:
        ax.text(0.5, 0.5, "no capacity forecast yet", ha="center", va="center",
                transform=ax.transAxes, fontsize=9)
    ax.set_title(f"{len(view.calls)} reserve calls, {view.calls_fully_served} fully served; "
                 f"{view.short_hours} h short of commitment", fontsize=8)
    ax.set_ylabel("kW", fontsize=8)
    ax.set_xlabel("simulated hour", fontsize=8)
    ax.tick_params(labelsize=7)


@dataclass(frozen=True)
class DREventView:
    """One DR event as a table row."""

    hour: float
    level: int
    level_name: str
    targets: int
    opted_in: int
    complied: int
    compliance: float | None
    """Complied / opted in; ``None`` when nobody opted in."""


@dataclass(frozen=True)
class DRView:
    """The DR community: the latest events and the overall compliance."""

    latest: tuple[DREventView, ...]
    """Newest first."""
    event_count: int
    events_by_level: tuple[int, int, int, int]
    compliance: float | None
    opt_in_share: float | None


def dr_view(source: PageSource, latest: int = LATEST_EVENTS) -> DRView | None:
    """The DR panel's data, or ``None`` when the scenario has no DR community."""
    dr = source.dr()
    if dr is None:
        return None
    events: list[DREventView] = []
    by_level = [0, 0, 0, 0]
    for event in dr.events():
        if not 0 <= event.level <= 3:
            raise PageDataError(f"DR event at {event.time_s} s has level {event.level}; "
                                "OpenADR SIMPLE levels are 0-3")
        if not 0 <= event.complied <= event.opted_in <= event.targets:
            raise PageDataError(
                f"DR event at {event.time_s} s: need 0 <= complied <= opted in <= targets, "
                f"got {event.complied}, {event.opted_in}, {event.targets}")
        by_level[event.level] += 1
        events.append(DREventView(
            event.time_s / 3600, event.level, OPENADR_LEVELS[event.level], event.targets,
            event.opted_in, event.complied,
            event.complied / event.opted_in if event.opted_in else None))
    opted = sum(e.opted_in for e in events)
    targets = sum(e.targets for e in events)
    return DRView(
        latest=tuple(reversed(events[-latest:])) if latest > 0 else (),
        event_count=len(events),
        events_by_level=(by_level[0], by_level[1], by_level[2], by_level[3]),
        compliance=sum(e.complied for e in events) / opted if opted else None,
        opt_in_share=opted / targets if targets else None,
    )


def draw_dr(figure: Figure, view: DRView) -> None:
    """Targets, opt-ins and compliant households for the latest events."""
    (ax,) = axes_for(figure)
    events = list(reversed(view.latest))
    if events:
        x = range(len(events))
        ax.bar(x, [e.targets for e in events], color="#cccccc", label="targets")
        ax.bar(x, [e.opted_in for e in events], color="#aec7e8", label="opted in")
        ax.bar(x, [e.complied for e in events], color="#2ca02c", label="complied")
        ax.set_xticks(list(x), [f"{e.hour:.0f} h\nL{e.level}" for e in events], fontsize=6)
        ax.legend(fontsize=7, loc="upper left")
        rescale(ax)
    else:
        ax.text(0.5, 0.5, "no DR event yet", ha="center", va="center", transform=ax.transAxes,
                fontsize=9)
    share = "-" if view.compliance is None else f"{view.compliance:.0%}"
    ax.set_title(f"{view.event_count} DR events; compliance {share}", fontsize=8)
    ax.set_ylabel("households", fontsize=8)
    ax.tick_params(labelsize=7)
