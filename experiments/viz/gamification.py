"""The gamification panel: the leaderboard (top and bottom ten) and tokens over time.

Ranking is standard competition ranking on the token balance (equal balances
share a rank, the next rank skips: 1, 2, 2, 4), with ties listed by member id
so the list is stable from one redraw to the next. The bottom list never
repeats a member already in the top list: with ten members or fewer there is
no bottom list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from matplotlib.figure import Figure

from gridcoop.experiments.viz.figures import add_hover, axes_for, rescale
from gridcoop.experiments.viz.formatting import HISTORY_WINDOW_S, first_per_hour, hours, recent
from gridcoop.experiments.viz.protocol import PageSource

BOARD_SIZE = 10


@dataclass(frozen=True)
class RankRow:
    """One line of the leaderboard."""

    rank: int
    member_id: str
    tokens: int


ALL_KINDS = "all"
"""The filter value that ranks every token kind together."""


@dataclass(frozen=True)
class LeaderboardView:
    """Top and bottom of the ranking, plus the community's tokens over time."""

    top: tuple[RankRow, ...]
    bottom: tuple[RankRow, ...]
    """Least tokens first."""
    member_count: int
    total_tokens: int
    hours: tuple[float, ...]
    total_tokens_over_time: tuple[int, ...]
    kind: str = ALL_KINDS
    kinds: tuple[str, ...] = ()
    """Every token kind the community has (the filter's choices)."""
    series: tuple[tuple[str, tuple[int, ...]], ...] = ()
    """Each shown kind's community total over ``hours``."""


def holdings(by_kind: Mapping[str, Mapping[str, int]], kind: str = ALL_KINDS) -> dict[str, int]:
    """Each holder's tokens of ``kind``, or of every kind added up."""
    if kind != ALL_KINDS:
        return dict(by_kind.get(kind, {}))
    total: dict[str, int] = {}
    for balances in by_kind.values():
        for holder, amount in balances.items():
            total[holder] = total.get(holder, 0) + amount
    return total


def rank(tokens: Mapping[str, int]) -> list[RankRow]:
    """Every member ranked, most tokens first (competition ranking, ties by id)."""
    ordered = sorted(tokens.items(), key=lambda item: (-item[1], item[0]))
    rows: list[RankRow] = []
    for position, (member_id, balance) in enumerate(ordered, start=1):
        shared = rows and rows[-1].tokens == balance
        rows.append(RankRow(rows[-1].rank if shared else position, member_id, balance))
    return rows


def leaderboard_view(source: PageSource, size: int = BOARD_SIZE,
                     window_s: int | None = HISTORY_WINDOW_S,
                     kind: str = ALL_KINDS) -> LeaderboardView:
    """The top ``size`` and bottom ``size`` holders of ``kind`` and the recent token totals."""
    by_kind = source.tokens_by_kind()
    tokens = holdings(by_kind, kind)
    ranked = rank(tokens)
    top = ranked[:size]
    bottom = list(reversed(ranked[len(top):]))[:size]
    history = first_per_hour(recent(source.token_history(), window_s))
    kinds = tuple(by_kind)
    shown = kinds if kind == ALL_KINDS else (kind,)
    return LeaderboardView(
        top=tuple(top),
        bottom=tuple(bottom),
        member_count=len(ranked),
        total_tokens=sum(tokens.values()),
        hours=hours(history),
        total_tokens_over_time=tuple(
            point.total_tokens if kind == ALL_KINDS else point.by_kind.get(kind, 0)
            for point in history),
        kind=kind,
        kinds=kinds,
        series=tuple((name, tuple(point.by_kind.get(name, 0) for point in history))
                     for name in shown),
    )


KIND_COLOURS = {"energy": "#9467bd", "EV": "#1f77b4", "DR": "#2ca02c", "footprint": "#ff7f0e",
                "lighting": "#d62728"}


def draw_tokens(figure: Figure, view: LeaderboardView) -> None:
    """Each shown token kind's community total over the chosen range (the card's summary
    says the total now)."""
    (ax,) = axes_for(figure)
    if view.hours and view.series:
        for name, values in view.series:
            ax.plot(view.hours, values, color=KIND_COLOURS.get(name, "#7f7f7f"), lw=1.5,
                    marker="o" if len(view.hours) < 3 else None, ms=3, label=name)
            add_hover(ax, view.hours, values,
                      [f"hour {h:.2f}: {v:,} {name} tokens" for h, v in
                       zip(view.hours, values, strict=True)])
        ax.legend(fontsize=7, loc="upper left")
        rescale(ax)
    else:
        ax.text(0.5, 0.5, "no tokens yet", ha="center", va="center", transform=ax.transAxes,
                fontsize=9)
    shown = "all kinds" if view.kind == ALL_KINDS else f"{view.kind} tokens"
    ax.set_title(f"community total of {shown}, one point per simulated hour", fontsize=8)
    ax.set_ylabel("tokens (community total)", fontsize=8)
    ax.set_xlabel("simulated hour", fontsize=8)
    ax.tick_params(labelsize=7)
