"""The peers benchmark's books: one answer per hour, and gridcoop trades exactly it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from gridcoop.experiments.bench import peers
from gridcoop.experiments.bench.peer_books import Books, cleared_wh, make_books
from gridcoop.experiments.cli import main
from gridcoop.market import Order, Side, clear


def test_books_have_no_ties_and_an_empty_first_hour() -> None:
    books = make_books(30, 2, seed=5)
    assert books.demand_wh.shape == books.supply_wh.shape == (48, 30)
    assert (books.demand_eur_per_mwh % 2 == 1).all() and (books.supply_eur_per_mwh % 2 == 0).all()
    assert not books.demand_wh[0].any() and not books.supply_wh[0].any()
    assert np.array_equal(make_books(30, 2, seed=5).demand_wh, books.demand_wh)


def test_the_reference_is_what_the_market_clears() -> None:
    books = make_books(12, 1, seed=9)
    reference = cleared_wh(books)
    for hour in (1, 8, 13, 20):
        orders = [Order(f"d{u}", f"d{u}", Side.BUY, int(books.demand_wh[hour, u]),
                        int(books.demand_eur_per_mwh[u]) * 1000, hour, u)
                  for u in range(books.units)]
        orders += [Order(f"s{u}", f"s{u}", Side.SELL, int(books.supply_wh[hour, u]),
                         int(books.supply_eur_per_mwh[u]) * 1000, hour, books.units + u)
                   for u in range(books.units)]
        result = clear(orders, mechanism="pay_as_clear")
        assert sum(t.energy_wh for t in result.trades) == reference[hour]


def test_a_hand_worked_hour() -> None:
    books = Books(demand_wh=np.array([[0, 0], [300, 200]]),
                  demand_eur_per_mwh=np.array([101, 51]),
                  supply_wh=np.array([[0, 0], [250, 400]]),
                  supply_eur_per_mwh=np.array([20, 60]))
    # 300 Wh at 101 meet 250 Wh at 20 and 50 Wh at 60; 200 Wh at 51 stays below 60
    assert cleared_wh(books).tolist() == [0, 300]


def test_gridcoop_trades_the_reference_volume_every_hour(tmp_path: Path) -> None:
    books = make_books(6, 1, seed=3)
    scenario = peers.write_scenario(books, tmp_path, "block")
    figures = peers.run_scenario(str(scenario))
    assert figures["traded_wh"] == cleared_wh(books).tolist()
    assert sum(figures["traded_wh"]) > 0


def test_sizes_to_compare_come_from_the_environment_or_the_default(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(peers.SIZES_ENV, raising=False)
    assert peers.compared_sizes() == (50, 200)
    monkeypatch.setenv(peers.SIZES_ENV, " 50, 200,1000 ")
    assert peers.compared_sizes() == (50, 200, 1000)
    for wrong in ("0", "50,", "x", "-5", "2.5"):
        with pytest.raises(ValueError, match="positive integers"):
            peers.parse_sizes(wrong)


def test_a_bad_size_is_a_usage_error() -> None:
    for args, env in ((["bench", "peers", "--peer-sizes", "50,x"], {}),
                      (["bench", "peers"], {peers.SIZES_ENV: "abc"})):
        result = CliRunner().invoke(main, args, env=env)
        assert result.exit_code == 2
        assert "positive integers separated by commas" in result.output
        assert "Traceback" not in result.output


def test_the_largest_hourly_difference_is_reported() -> None:
    reference = [0, 1_000, 2_000]
    runs = [({"loop_s": 2.0, "loop_cpu_s": 1.5, "traded_wh": [0, 1_003, 2_000]}, 3.0),
            ({"loop_s": 1.0, "loop_cpu_s": 1.8, "traded_wh": [0, 1_000, 1_995]}, 4.0)]
    best = peers._best(runs, reference)
    assert best == {"loop_s": 1.0, "loop_cpu_s": 1.5, "process_s": 3.0,
                    "volume_agrees_every_hour": False, "hours_differing": [1],
                    "largest_hourly_difference_wh": 5}


def test_finding_assume_leaves_no_file_in_the_working_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Importing ASSUME writes assume.log in the cwd; the probe reads its metadata instead.
    The stand-in interpreter does what importing ASSUME does, if asked to."""
    python = tmp_path / "cache" / "gridcoop" / f"assume-{peers.ASSUME_VERSION}" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text('#!/bin/sh\ncase "$*" in *"import assume"*) : > assume.log;; esac\n'
                      'case "$*" in *importlib.metadata*) exit 0;; esac\nexit 1\n')
    python.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(peers.ASSUME_ENV, raising=False)
    assert peers.assume_python() == (str(python), f"virtual environment {python.parent.parent}")
    assert list(work.iterdir()) == []
