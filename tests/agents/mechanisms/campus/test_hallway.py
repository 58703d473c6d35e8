"""The hallway router: surplus Wh to the nearest classrooms, on hand-worked intervals."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from gridcoop.agents.mechanisms.campus.hallway import HallwayRouter


def _wh(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def test_nearest_first_hand_worked() -> None:
    # rooms 0 and 3 are empty and export 500 and 400 Wh; rooms 1, 2, 4 need 300, 200, 600.
    router = HallwayRouter(5, 0, 67_000)
    router.add_interval(_wh(0, 300, 200, 0, 600), _wh(500, 0, 0, 400, 0))
    moved = router.moved_wh
    # room 0 fills room 1 (distance 1): 300, then room 2 (distance 2): 200 -> nothing left
    assert moved[0].tolist() == [0, 300, 200, 0, 0]
    # room 3: at distance 1 the next room (4) comes before the previous one (2, full anyway)
    assert moved[3].tolist() == [0, 0, 0, 0, 400]


def test_tie_break_next_against_previous() -> None:
    # room 1 exports 100 Wh; rooms 0 and 2 (both distance 1) need 100 each.
    importing, exporting = _wh(100, 0, 100), _wh(0, 100, 0)
    nxt = HallwayRouter(3, 0, 1)
    nxt.add_interval(importing, exporting)
    assert nxt.moved_wh[1].tolist() == [0, 0, 100]
    prev = HallwayRouter(3, 0, 1, tie_break="previous")
    prev.add_interval(importing, exporting)
    assert prev.moved_wh[1].tolist() == [100, 0, 0]


def test_max_hops_leaves_farther_need_to_the_grid() -> None:
    # room 0 exports 300 Wh; only room 5 (five rooms away) needs energy.
    importing, exporting = _wh(0, 0, 0, 0, 0, 250), _wh(300, 0, 0, 0, 0, 0)
    near = HallwayRouter(6, 0, 1, max_hops=4)
    near.add_interval(importing, exporting)
    assert near.moved_wh.sum() == 0
    far = HallwayRouter(6, 0, 1, max_hops=None)
    far.add_interval(importing, exporting)
    assert far.moved_wh[0, 5] == 250


def test_flush_turns_transfers_into_trades_and_resets() -> None:
    router = HallwayRouter(3, 10, 67_000)
    router.add_interval(_wh(0, 120, 0), _wh(0, 0, 120))
    ids = tuple(f"n{i}" for i in range(13))
    trades, book = router.flush("a1", ids)
    assert trades.energy_wh.tolist() == [120]
    assert trades.buyer.tolist() == [11] and trades.seller.tolist() == [12]
    assert book.node.tolist() == [11, 12] and book.is_buy.tolist() == [True, False]
    assert book.energy_wh.tolist() == [120, 120] and book.price_u.tolist() == [67_000, 67_000]
    assert router.moved_wh.sum() == 0


def test_split_shares_a_tie_and_passes_what_one_side_cannot_take() -> None:
    # room 2 exports 1,000 Wh; room 3 (next) needs 800, room 1 (previous) needs 200.
    importing, exporting = _wh(0, 200, 0, 800, 0), _wh(0, 0, 1000, 0, 0)
    router = HallwayRouter(5, 0, 1, tie_break="split", next_share=0.65)
    router.add_interval(importing, exporting)
    # offers 650 / 350; room 1 takes 200 of its 350, and the 150 it leaves goes to room 3
    assert router.moved_wh[2].tolist() == [0, 200, 0, 800, 0]
    # 600 Wh, both need 1,000: 390 up (65 %), 210 down
    router = HallwayRouter(5, 0, 1, tie_break="split", next_share=0.65)
    router.add_interval(_wh(0, 1000, 0, 1000, 0), _wh(0, 0, 600, 0, 0))
    assert router.moved_wh[2].tolist() == [0, 210, 0, 390, 0]


def test_source_order_down_serves_the_far_end_first() -> None:
    # rooms 0 and 2 export 300 Wh each; only room 1 needs energy (300 Wh).
    importing, exporting = _wh(0, 300, 0), _wh(300, 0, 300)
    up = HallwayRouter(3, 0, 1, tie_break="split", next_share=0.65)
    up.add_interval(importing, exporting)
    assert up.moved_wh[:, 1].tolist() == [300, 0, 0]
    down = HallwayRouter(3, 0, 1, tie_break="split", next_share=0.65, source_order="down")
    down.add_interval(importing, exporting)
    assert down.moved_wh[:, 1].tolist() == [0, 0, 300]


def nearest_order(classrooms: int, tie_break: str) -> list[list[int]]:
    """For each classroom, the others from nearest to farthest; ``next`` breaks a tie
    toward the higher number, ``previous`` toward the lower."""
    sign = -1 if tie_break == "next" else 1
    return [sorted((j for j in range(classrooms) if j != i), key=lambda j: (abs(i - j), sign * j))
            for i in range(classrooms)]


def test_nearest_order_along_the_hallway() -> None:
    order = nearest_order(8, "next")
    assert order[3] == [4, 2, 5, 1, 6, 0, 7]  # at equal distance the next room first
    assert nearest_order(8, "previous")[3] == [2, 4, 1, 5, 0, 6, 7]
    assert order[0] == [1, 2, 3, 4, 5, 6, 7]
    assert order[7] == [6, 5, 4, 3, 2, 1, 0]


def _nearest_first(importing: list[int], exporting: list[int], tie: str, reach: int,
                   ) -> list[list[int]]:
    """The rule written the plain way: each source fills the rooms in nearest_order."""
    rooms = len(importing)
    need, left = list(importing), list(exporting)
    moved = [[0] * rooms for _ in range(rooms)]
    for i, order in enumerate(nearest_order(rooms, "next" if tie == "next" else "previous")):
        for j in order:
            if abs(i - j) <= reach:
                amount = min(left[i], need[j])
                moved[i][j] += amount
                left[i] -= amount
                need[j] -= amount
    return moved


_ROOMS = st.integers(2, 9)


@given(_ROOMS.flatmap(lambda n: st.tuples(
    st.lists(st.integers(0, 900), min_size=n, max_size=n),
    st.lists(st.integers(0, 900), min_size=n, max_size=n),
    st.sampled_from(["next", "previous"]), st.integers(1, 8))))
def test_next_and_previous_are_nearest_first(case: tuple[list[int], list[int], str, int]) -> None:
    importing, exporting, tie, reach = case
    router = HallwayRouter(len(importing), 0, 1, tie_break=tie, max_hops=reach)  # type: ignore[arg-type]
    router.add_interval(_wh(*importing), _wh(*exporting))
    assert router.moved_wh.tolist() == _nearest_first(importing, exporting, tie, reach)


@given(_ROOMS.flatmap(lambda n: st.tuples(
    st.lists(st.integers(0, 900), min_size=n, max_size=n),
    st.lists(st.integers(0, 900), min_size=n, max_size=n),
    st.floats(0, 1), st.sampled_from(["up", "down"]), st.integers(1, 8))))
def test_split_never_moves_more_than_is_there(
    case: tuple[list[int], list[int], float, str, int],
) -> None:
    importing, exporting, share, order, reach = case
    router = HallwayRouter(len(importing), 0, 1, tie_break="split", next_share=share,
                           max_hops=reach, source_order=order)  # type: ignore[arg-type]
    router.add_interval(_wh(*importing), _wh(*exporting))
    moved = router.moved_wh
    assert (moved >= 0).all()
    assert (moved.sum(axis=1) <= np.array(exporting)).all()
    assert (moved.sum(axis=0) <= np.array(importing)).all()
    far = np.abs(np.subtract.outer(np.arange(len(importing)), np.arange(len(importing)))) > reach
    assert moved[far].sum() == 0
    # nothing is left unrouted while a room within reach still needs energy
    left = np.array(exporting) - moved.sum(axis=1)
    need = np.array(importing) - moved.sum(axis=0)
    for i in np.flatnonzero(left):
        near = [j for j in range(len(importing)) if 0 < abs(i - j) <= reach]
        assert not need[near].any()
