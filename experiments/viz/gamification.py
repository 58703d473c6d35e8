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

from gridcoop.experiments.viz.figures import axes_for, rescale
from gridcoop.experiments.viz.formatting import HISTORY_WINDOW_S, hours, recent
from gridcoop.experiments.viz.protocol import PageSource

BOARD_SIZE = 10


@dataclass(frozen=True)
class RankRow:
    """One line of the leaderboard."""

    rank: int
    member_id: str
    tokens: int


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


def rank(tokens: Mapping[str, int]) -> list[RankRow]:
    """Every member ranked, most tokens first (competition ranking, ties by id)."""
    ordered = sorted(tokens.items(), key=lambda item: (-item[1], item[0]))
    rows: list[RankRow] = []
    for position, (member_id, balance) in enumerate(ordered, start=1):
        shared = rows and rows[-1].tokens == balance
        rows.append(RankRow(rows[-1].rank if shared else position, member_id, balance))
    return rows


def leaderboard_view(source: PageSource, size: int = BOARD_SIZE,
                     window_s: int = HISTORY_WINDOW_S) -> LeaderboardView:
    """The top ``size`` and bottom ``size`` members and the recent token totals."""
    tokens = source.tokens()
    ranked = rank(tokens)
    top = ranked[:size]
    bottom = list(reversed(ranked[len(top):]))[:size]
    history = recent(source.token_history(), window_s)
    return LeaderboardView(
        top=tuple(top),
        bottom=tuple(bottom),
        member_count=len(ranked),
        total_tokens=sum(tokens.values()),
        hours=hours(history),
        total_tokens_over_time=tuple(point.total_tokens for point in history),
    )


def draw_tokens(figure: Figure, view: LeaderboardView) -> None:
    """The community's token total over the recent window."""
    (ax,) = axes_for(figure)
    if view.hours:
        ax.plot(view.hours, view.total_tokens_over_time, color="#9467bd", lw=1.5,
                marker="o" if len(view.hours) < 3 else None, ms=3)
        rescale(ax)
    else:
        ax.text(0.5, 0.5, "no tokens yet", ha="center", va="center", transform=ax.transAxes,
                fontsize=9)
    ax.set_title(f"{view.total_tokens:,} tokens held by {view.member_count} members",
                 fontsize=8)
    ax.set_ylabel("tokens (community total)", fontsize=8)
    ax.set_xlabel("simulated hour", fontsize=8)
    ax.tick_params(labelsize=7)
