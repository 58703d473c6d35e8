"""Market-only CSVs read as columns give exactly the table the row-by-row reader gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gridcoop.agents.physics.traders import (
    TraderCsvError,
    TraderTable,
    _read_columns,
    _table_from_rows,
    load_trader_table,
)
from gridcoop.experiments.bench.peer_books import make_books


def _same(a: TraderTable, b: TraderTable) -> None:
    assert a.participants == b.participants
    for name in ("buy_kwh", "buy_price", "sell_kwh", "sell_price"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def _write(path: Path, rows: list[str]) -> Path:
    path.write_text("hour,participant,quantity_kwh,price_eur_per_kwh\n" + "".join(
        f"{r}\n" for r in rows), encoding="utf-8")
    return path


def test_generated_books_read_the_same_both_ways(tmp_path: Path) -> None:
    buyers, sellers = make_books(60, 2, 3).write_csvs(tmp_path)
    assert _read_columns(buyers) is not None and _read_columns(sellers) is not None
    _same(load_trader_table(buyers, sellers), _table_from_rows(buyers, sellers))


def test_names_are_stripped_and_shared_between_the_files(tmp_path: Path) -> None:
    buyers = _write(tmp_path / "b.csv", ["0, ann ,1.1,0.3", "2,bob,0.1,0.30000000000000004",
                                         "1,ann,2e-3,0.25"])
    sellers = _write(tmp_path / "s.csv", ["1,bob,0.7,0.1", "0,cy,5,0"])
    table = load_trader_table(buyers, sellers)
    _same(table, _table_from_rows(buyers, sellers))
    assert table.participants == ("ann", "bob", "cy") and table.intervals == 3
    assert table.buy_kwh[0, 0] == 1.1 and table.buy_price[2, 1] == 0.30000000000000004


@pytest.mark.parametrize("rows", [
    ["0,ann,0,0.3", "0,ann,1.5,0.2"],  # a row after one of zero quantity: merged
    ["0,ann,1.5,0.2", "1, bob ,3_0,0.1"],  # what float() reads and pandas does not
])
def test_what_columns_refuse_goes_row_by_row(rows: list[str], tmp_path: Path) -> None:
    buyers, sellers = _write(tmp_path / "b.csv", rows), _write(tmp_path / "s.csv", ["0,cy,1,0"])
    assert _read_columns(buyers) is None
    _same(load_trader_table(buyers, sellers), _table_from_rows(buyers, sellers))


@pytest.mark.parametrize(("rows", "says"), [
    (["0,ann,1,0.3", "0,ann,2,0.3"], "participant 'ann' has two rows for hour 0"),
    (["0,ann,1,0.3", "1,,2,0.3"], "b.csv:3: need hour >= 0, a participant name"),
    (["0,ann,nan,0.3"], "b.csv:2: need hour >= 0"),
    (["1.5,ann,1,0.3"], "b.csv:2: hour must be an integer"),
])
def test_bad_rows_are_named_as_before(rows: list[str], says: str, tmp_path: Path) -> None:
    buyers, sellers = _write(tmp_path / "b.csv", rows), _write(tmp_path / "s.csv", ["0,cy,1,0"])
    with pytest.raises(TraderCsvError, match=says):
        load_trader_table(buyers, sellers)
