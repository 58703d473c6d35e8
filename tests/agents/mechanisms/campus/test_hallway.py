"""The hallway router: surplus Wh to the nearest classrooms, on hand-worked intervals."""

from __future__ import annotations

import numpy as np

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
