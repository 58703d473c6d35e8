"""What a run keeps of each settled trade, and the trades table written interval by interval."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridcoop.agents import CommunityModel
from gridcoop.agents.model.outputs import TRADE_COLUMNS, trades_table, write_tables
from gridcoop.agents.trading.book import Trades
from gridcoop.agents.trading.settled import PackedIds, SettledTrades

ID_TEXT = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40).filter(
    lambda s: not s.endswith("\0"))


@given(st.lists(ID_TEXT, max_size=20))
def test_packed_ids_read_back_as_given(ids: list[str]) -> None:
    packed = PackedIds(ids)
    assert len(packed) == len(ids)
    assert packed[:] == ids
    assert [packed[i] for i in range(len(ids))] == ids


def test_settled_trades_keep_ids_positions_energy_and_price() -> None:
    z = np.array
    trades = Trades(["a000001:r1:0", "a000001:central:0"], ["b1", "b2"], ["o1", "o2"],
                    z([3, 0]), z([1, 2]), z([500, 1_250]), z([120_000, 95_000]))
    kept = SettledTrades.keep(trades)
    assert len(kept) == 2
    assert list(kept.trade_ids) == ["a000001:r1:0", "a000001:central:0"]
    assert kept.buyer.dtype == kept.seller.dtype == np.int32
    assert kept.buyer.tolist() == [3, 0] and kept.seller.tolist() == [1, 2]
    assert kept.energy_wh.tolist() == [500, 1_250] and kept.price_u.tolist() == [120_000, 95_000]


@pytest.fixture(scope="module")
def run() -> Iterator[CommunityModel]:
    model = CommunityModel("neighbourhood", households=30, days=1, seed=4)
    model.run()
    yield model
    model.close()


def test_trades_written_interval_by_interval_equal_the_whole_table(
        run: CommunityModel, tmp_path: Path) -> None:
    intervals = {interval for interval, _, _ in run.central.trade_log}
    assert len(intervals) > 2  # several parts are appended
    written = write_tables(run, tmp_path)
    assert written[0] == tmp_path / "trades.csv"
    expected = trades_table(run).to_csv(index=False)
    assert (tmp_path / "trades.csv").read_text() == expected
    assert len(pd.read_csv(tmp_path / "trades.csv")) == sum(len(t) for _, t, _ in
                                                             run.central.trade_log)


def test_a_run_without_trades_writes_the_header(run: CommunityModel, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run.central, "trade_log", [])
    write_tables(run, tmp_path)
    assert (tmp_path / "trades.csv").read_text() == ",".join(TRADE_COLUMNS) + "\n"
    assert trades_table(run).to_csv(index=False) == ",".join(TRADE_COLUMNS) + "\n"
