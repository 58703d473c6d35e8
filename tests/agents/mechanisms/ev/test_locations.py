"""Location communities: one community per connected period, tokens and revenue split by it.

Hand-worked: one Monday, a campus community on weekdays 08:00-18:00 and a
home community for the rest of the week. Owner A is plugged at both, owner B
only at home. Weights: 10 tokens an hour, 30 in the critical hours 8-10 and
18-21 (no grid request, so no scarcity term).

- A at campus: 25 min at 8 (×30 = 750), 60 at 9 (1,800), 60 in each of
  10-16 (7 × 600 = 4,200): 6,750 token-minutes, 112 tokens (30 left over).
- A at home: 60 in each of 0-6 (4,200), 3 min at 7 (30), 60 in 18-20
  (3 × 1,800 = 5,400), 60 in 21-23 (1,800): 11,430, 190 tokens (30 left).
- A in one community: 18,180, 303 tokens; split by location A gets 302,
  because each community rounds its own tokens down.
- B at home: 60 in 0-6 (4,200), 60 in 19-20 (3,600), 60 in 21-23 (1,800):
  9,600, 160 tokens; B never connects at campus, so is not a member there.
- Revenue: campus's 1,000,000 µ€ all go to A (its only member); home's
  3,000,001 µ€ split 190 : 160 give A 1,628,571.97 and B 1,371,429.03, the
  floors leave 1 µ€, which goes to the larger remainder (A): A 1,628,572,
  B 1,371,429. A's revenue is 2,628,572 µ€ over the two communities.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcoop.agents.mechanisms.ev.commitments import (
    Commitment,
    CommitmentStatus,
    evaluate_commitments,
)
from gridcoop.agents.mechanisms.ev.gamification import TokenRules, hour_weights, plugged_tokens
from gridcoop.agents.mechanisms.ev.locations import (
    Location,
    hour_owner,
    location_communities,
    memberships,
    week_table,
)
from gridcoop.agents.mechanisms.ev.profiles import EVConfigError
from gridcoop.agents.mechanisms.ev.revenue import split_revenue


def located_minutes(minutes_by_hour: np.ndarray, owner: np.ndarray, location: int) -> np.ndarray:
    """Plugged minutes per hour that count for ``location`` (others 0): the tests' view."""
    return np.asarray(np.where(owner == location, minutes_by_hour, 0), dtype=np.int64)


CAMPUS = Location("campus", ((8, 18),), "weekdays")
HOME = Location("home", None)
RULES = TokenRules(base_tokens_per_hour=10, critical_periods=((8, 10), (18, 21)),
                   critical_factor=3)


def _monday() -> np.ndarray:
    a = np.zeros(24, dtype=np.int64)
    a[0:7], a[7], a[8], a[9:17], a[18:24] = 60, 3, 25, 60, 60
    b = np.zeros(24, dtype=np.int64)
    b[0:7], b[19:24] = 60, 60
    return np.stack([a, b])


def test_week_table_gives_each_hour_to_one_community() -> None:
    table = week_table([CAMPUS, HOME])
    assert table[0, 8:18].tolist() == [0] * 10  # Monday working hours: campus
    assert table[0, :8].tolist() == [1] * 8 and table[0, 18:].tolist() == [1] * 6
    assert table[5].tolist() == [1] * 24  # Saturday: home all day
    owner = hour_owner(table, 8, start_weekday=6)  # Sunday first: campus from day 1
    assert owner[:24].tolist() == [1] * 24 and owner[24 + 8] == 0 and owner.size == 8 * 24
    partial = week_table([CAMPUS])
    assert partial[0, 7] == -1 and partial[6, 12] == -1  # no one holds the rest


def test_two_communities_split_tokens_and_revenue_exactly() -> None:
    minutes = _monday()
    owner = hour_owner(week_table([CAMPUS, HOME]), 1, start_weekday=0)
    weights = hour_weights(0, [0] * 24, [1_000] * 24, RULES)
    campus, home = (located_minutes(minutes, owner, c) for c in (0, 1))
    assert (campus + home == minutes).all()
    assert memberships(minutes, owner, 2).tolist() == [[True, True], [False, True]]
    assert plugged_tokens(campus, weights) == [112, 0]
    assert plugged_tokens(home, weights) == [190, 160]
    assert plugged_tokens(minutes, weights) == [303, 160]  # one community: 1 more for A
    assert split_revenue(1_000_000, {"A": 112}) == {"A": 1_000_000}
    assert split_revenue(3_000_001, {"A": 190, "B": 160}) == {"A": 1_628_572, "B": 1_371_429}


def test_members_are_those_connected_there_and_held_hours_follow_the_run() -> None:
    minutes = np.zeros((3, 48), dtype=np.int64)
    minutes[0, 9] = 5  # Monday 09:00: campus
    minutes[1, 30] = 60  # Tuesday 06:00: home
    minutes[2, 20] = 1  # Monday 20:00: home
    found = location_communities([CAMPUS, HOME], minutes[:2], start_weekday=0, first_hour=24)
    assert [(c, rows.tolist()) for c, rows, _ in found] == [(0, [0]), (1, [1])]
    held = found[0][2]
    assert held.size == 48 and held[8:18].all() and not held[:8].any()  # Tuesday, Wednesday


def test_a_window_is_judged_on_the_hours_its_community_holds() -> None:
    minutes = np.zeros((1, 24), dtype=np.int64)
    minutes[0, 9:13] = 60  # plugged 09-13 only
    commitment = [Commitment("A", 5.0, 9, 17)]
    morning = np.zeros(24, dtype=bool)
    morning[8:13] = True
    kept = evaluate_commitments(["A"], commitment, minutes, np.zeros((1, 1), dtype=bool),
                                np.zeros((1, 24)), hours_held=morning)
    assert [(o.hours, o.status) for o in kept] == [((9, 10, 11, 12), CommitmentStatus.KEPT)]
    broken = evaluate_commitments(["A"], commitment, minutes, np.zeros((1, 1), dtype=bool),
                                  np.zeros((1, 24)), hours_held=~morning)
    assert [(o.hours, o.status) for o in broken] == [((13, 14, 15, 16),
                                                      CommitmentStatus.UNANNOUNCED)]
    assert evaluate_commitments(["A"], commitment, minutes, np.zeros((1, 1), dtype=bool),
                                np.zeros((1, 24)), hours_held=np.zeros(24, dtype=bool)) == []


@pytest.mark.parametrize(("locations", "message"), [
    ([CAMPUS, Location("lunch", ((12, 14),))], "campus and lunch both hold Monday 12:00"),
    ([HOME, Location("b", None)], "only one community may take the rest"),
    ([Location("a", ((20, 8),))], r"period \(20, 8\) must satisfy"),
    ([Location("a", ((0, 1),), "monday")], "days must be one of"),
])
def test_bad_locations_are_one_line_errors(locations: list[Location], message: str) -> None:
    with pytest.raises(EVConfigError, match=message):
        week_table(locations)


@st.composite
def partitions(draw: st.DrawFn) -> list[Location]:
    """Locations whose periods cut every day into pieces (the last takes the rest or not)."""
    cuts = sorted(set(draw(st.lists(st.integers(1, 23), max_size=4))))
    bounds = [0, *cuts, 24]
    count = draw(st.integers(1, min(3, len(bounds) - 1)))
    pieces: list[list[tuple[int, int]]] = [[] for _ in range(count)]
    for i, (start, end) in enumerate(pairwise(bounds)):
        pieces[i % count].append((start, end))
    rest = draw(st.booleans())
    return [Location(f"c{i}", None if rest and i == count - 1 else tuple(p))
            for i, p in enumerate(pieces)]


@settings(max_examples=60, deadline=None)
@given(locations=partitions(), seed=st.integers(0, 2**31), start_weekday=st.integers(0, 6))
def test_communities_that_partition_the_day_sum_to_the_single_community(
        locations: list[Location], seed: int, start_weekday: int) -> None:
    rng = np.random.default_rng(seed)
    days = 2
    minutes = rng.integers(0, 61, size=(4, days * 24)).astype(np.int64)
    minutes[rng.random(minutes.shape) < 0.3] = 0
    weights = rng.integers(0, 100, size=days * 24).astype(np.int64)
    owner = hour_owner(week_table(locations), days, start_weekday)
    parts = [located_minutes(minutes, owner, c) for c in range(len(locations))]
    assert (np.sum(parts, axis=0) == minutes).all()  # every plugged minute counts once
    exact = [int(x) for x in minutes @ weights]
    assert [sum(int((p @ weights)[i]) for p in parts) for i in range(4)] == exact
    single = plugged_tokens(minutes, weights)
    split = [sum(t) for t in zip(*(plugged_tokens(p, weights) for p in parts), strict=True)]
    for one, many in zip(single, split, strict=True):
        assert 0 <= one - many <= len(locations) - 1  # each community floors its own
    member = memberships(minutes, owner, len(locations))
    assert (member.any(axis=1) == (minutes > 0).any(axis=1)).all()
