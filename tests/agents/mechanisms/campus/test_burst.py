"""The footprint burst through the real path: reader processes, the CurveZMQ bus, the desk."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from gridcoop.agents.mechanisms.campus.burst import (
    busiest_interval,
    interval_requests,
    run_burst,
)
from gridcoop.ledger.ledger import Ledger
from gridcoop.ledger.transactions import Mint


@pytest.mark.slow
def test_a_burst_is_minted_exactly_and_bad_requests_are_refused_without_loss(
        tmp_path: Path) -> None:
    people = [f"s{i:02d}" for i in range(30)]
    requests = [(f"room-{1 + n % 2}", 40, people[n], 100 + n) for n in range(24)]
    metered = {("room-1", 40): sum(r[3] for r in requests if r[0] == "room-1"),
               ("room-2", 40): sum(r[3] for r in requests if r[0] == "room-2")}
    bad = [(0, ("room-1", 40, "nobody", 5)),          # not in the card directory
           (0, ("room-2", 40, "s29", 5)),             # reader-1 reads room-1 only
           (1, ("room-2", 40, "s01", 101)),           # s01's room-2 request again
           (1, ("room-2", 40, "s28", 1))]             # room-2's reading is fully claimed
    result = run_burst(requests, metered, people, 900, tmp_path, senders=2, bad=bad)
    assert (result.requests, result.senders, result.accepted, result.minted) == (24, 2, 24, 24)
    assert result.refused == {"unknown card": 1, "wrong reader": 1, "duplicate": 1,
                              "over the meter": 1}
    assert (result.lost, result.duplicated) == (0, 0)
    assert result.minted_wh == sum(r[3] for r in requests)
    assert len(result.accept_ms) == 24 and result.verified
    assert all(s >= a >= 0 for a, s in zip(result.accept_ms, result.seal_ms, strict=True))
    ledger = Ledger.open(tmp_path / "tokens.sqlite", readonly=True)
    try:
        block = ledger.block(result.height)
        mints = [stx.tx for stx in block.transactions() if isinstance(stx.tx, Mint)]
        assert len(mints) == 24 and len({(m.to, m.memo) for m in mints}) == 24
        assert {m.memo for m in mints} == {"footprint room-1 36000", "footprint room-2 36000"}
        assert ledger.head.header.time_s == 41 * 900
    finally:
        ledger.close()


def test_the_busiest_interval_and_its_requests() -> None:
    tokens = pd.DataFrame({"interval": [3, 3, 4, 4, 4, 5], "classroom": ["r1", "r2", "r1",
                                                                          "r1", "r2", "r1"],
                           "person_id": ["a", "b", "a", "c", "b", "a"],
                           "tokens": [5, 6, 7, 0, 9, 1]})
    # interval 4 has three rows but one with no tokens: 3 and 4 tie at two, the earlier wins
    assert busiest_interval(tokens) == 3
    assert interval_requests(tokens, 4) == [("r1", 4, "a", 7), ("r2", 4, "b", 9)]
    with pytest.raises(ValueError, match="no tokens"):
        busiest_interval(tokens.assign(tokens=0))
