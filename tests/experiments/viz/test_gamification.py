"""Leaderboard ranking and tokens over time."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st
from matplotlib.figure import Figure

from gridcoop.experiments.viz.gamification import RankRow, draw_tokens, leaderboard_view, rank
from tests.experiments.viz.fakes import FakeSource, TokenPoint


def test_competition_ranking_with_ties_by_id() -> None:
    assert rank({"a": 50, "b": 70, "c": 70, "d": 10}) == [
        RankRow(1, "b", 70), RankRow(1, "c", 70), RankRow(3, "a", 50), RankRow(4, "d", 10)]


def test_top_and_bottom_do_not_overlap() -> None:
    source = FakeSource(token_balances={"a": 50, "b": 70, "c": 70, "d": 10})
    view = leaderboard_view(source, size=2)
    assert [r.member_id for r in view.top] == ["b", "c"]
    # bottom: least tokens first
    assert view.bottom == (RankRow(4, "d", 10), RankRow(3, "a", 50))
    assert view.total_tokens == 200 and view.member_count == 4


def test_ten_members_or_fewer_have_no_bottom_list() -> None:
    view = leaderboard_view(FakeSource(token_balances={f"m{i}": i for i in range(8)}))
    assert len(view.top) == 8 and view.bottom == ()


def test_twenty_five_members() -> None:
    view = leaderboard_view(FakeSource(token_balances={f"m{i:02d}": i for i in range(25)}))
    assert [r.member_id for r in view.top] == [f"m{i:02d}" for i in range(24, 14, -1)]
    assert [r.member_id for r in view.bottom] == [f"m{i:02d}" for i in range(10)]
    assert view.bottom[0].rank == 25


def test_tokens_over_time() -> None:
    # one point per simulated hour: the first the page saw in each (4500 s is hour 1's second)
    source = FakeSource(token_points=[TokenPoint(0, 0), TokenPoint(3600, 12),
                                      TokenPoint(4500, 15)],
                        token_balances={"a": 15})
    view = leaderboard_view(source)
    assert view.hours == (0.0, 1.0) and view.total_tokens_over_time == (0, 12)
    assert view.total_tokens == 15
    figure = Figure()
    draw_tokens(figure, view)
    assert figure.axes[0].get_title() == ("community total of all kinds, one point per "
                                          "simulated hour")


@given(st.dictionaries(st.text(min_size=1, max_size=4), st.integers(-100, 100), max_size=40))
def test_ranking_properties(tokens: dict[str, int]) -> None:
    rows = rank(tokens)
    assert sorted(r.member_id for r in rows) == sorted(tokens)
    for before, after in itertools.pairwise(rows):
        assert before.tokens >= after.tokens
        assert (after.rank == before.rank) == (after.tokens == before.tokens)
    view = leaderboard_view(FakeSource(token_balances=tokens))
    shown = [r.member_id for r in view.top] + [r.member_id for r in view.bottom]
    assert len(shown) == len(set(shown)) == min(len(tokens), 20)
