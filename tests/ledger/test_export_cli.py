"""``gridcoop ledger verify|show|export`` and the CSV/Parquet export."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from gridcoop.experiments.cli import main
from gridcoop.ledger.export import export_ledger
from tests.ledger.conftest import Community, build_community, build_stored_ledger


@pytest.fixture
def stored(tmp_path: Path) -> tuple[Path, Community]:
    path = tmp_path / "ledger.sqlite"
    c = build_stored_ledger(path)
    return path, c


def test_verify_ok_exits_zero(stored: tuple[Path, Community]) -> None:
    path, _c = stored
    result = CliRunner().invoke(main, ["ledger", "verify", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: 4 blocks")
    result = CliRunner().invoke(main, ["ledger", "verify", "--json", "--workers", "0",
                                       str(path)])
    assert json.loads(result.output)["ok"] is True


def test_verify_tampered_exits_nonzero_naming_the_block(stored: tuple[Path, Community]) -> None:
    path, _c = stored
    with sqlite3.connect(path) as db:
        txs = bytearray(db.execute("SELECT txs FROM blocks WHERE height = 2").fetchone()[0])
        txs[len(txs) // 2] ^= 0x10
        db.execute("UPDATE blocks SET txs = ? WHERE height = 2", (bytes(txs),))
    result = CliRunner().invoke(main, ["ledger", "verify", str(path)])
    assert result.exit_code == 1
    assert "INVALID at block 2" in result.output


def test_verify_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["ledger", "verify", str(tmp_path / "nope.sqlite")])
    assert result.exit_code != 0 and "no ledger" in result.output


def test_show(stored: tuple[Path, Community]) -> None:
    path, c = stored
    result = CliRunner().invoke(main, ["ledger", "show", str(path)])
    assert result.exit_code == 0, result.output
    assert "height 3" in result.output and "4 blocks, 18 transactions" in result.output
    summary = json.loads(CliRunner().invoke(main, ["ledger", "show", "--json",
                                                   str(path)]).output)
    # alice: 1,000,000 + 42,500 x 400/500 = 1,034,000; bob: 1,000,000 - 42,500 + 8,500
    assert summary["balances"][c.accounts["alice"]]["eur_u"] == 1_034_000
    assert summary["balances"][c.accounts["bob"]]["eur_u"] == 966_000
    assert summary["balances"][c.accounts["carol"]]["token"] == 7
    assert summary["members"] == {"aggregator": 1, "market": 1, "member": 3, "meter": 1}
    assert summary["open_shortfalls"] == 1 and summary["listings"] == {"CLEARED": 1}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_tables(stored: tuple[Path, Community], tmp_path: Path, fmt: str) -> None:
    path, c = stored
    written = export_ledger(path, tmp_path / "out", fmt, chunk_rows=3)
    read = pd.read_csv if fmt == "csv" else pd.read_parquet
    blocks = read(written["blocks"])
    txs = read(written["transactions"])
    balances = read(written["balances"])
    assert list(blocks["height"]) == [0, 1, 2, 3]
    assert len(txs) == blocks["tx_count"].sum() == 18  # 1 genesis + 9 setup + 6 market + 2
    trade = txs[txs["kind"] == "trade"].iloc[0]
    assert trade["amount"] == 42_500 and trade["energy_wh"] == 500
    assert trade["party"] == c.accounts["alice"] and trade["party2"] == c.accounts["bob"]
    assert bool(trade["signed"])
    alice = balances[(balances["account"] == c.accounts["alice"])
                     & (balances["asset"] == "eur_u")]
    assert int(alice["balance"].iloc[0]) == 1_034_000


def test_export_cli(stored: tuple[Path, Community], tmp_path: Path) -> None:
    path, _c = stored
    result = CliRunner().invoke(main, ["ledger", "export", str(path), "--format", "parquet",
                                       "--out", str(tmp_path / "x")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "x" / "transactions.parquet").exists()
    default = CliRunner().invoke(main, ["ledger", "export", str(path)])
    assert default.exit_code == 0
    assert (path.parent / "ledger-export" / "blocks.csv").exists()


def test_a_dr_command_and_its_outcome_verify_show_and_export(tmp_path: Path) -> None:
    path = tmp_path / "dr.sqlite"
    c = build_community(path, signing="full")
    command = c.wallet("agg").dr_command(c.accounts["bob"], "2", "off", 1, 0, 900)
    c.wallet("agg").dr_outcome(c.accounts["bob"], command.txid_hex, "acked", "device")
    c.book.seal_block(900)
    c.book.close()
    assert CliRunner().invoke(main, ["ledger", "verify", str(path)]).exit_code == 0
    shown = CliRunner().invoke(main, ["ledger", "show", str(path)])
    assert shown.exit_code == 0 and "3 blocks, 12 transactions" in shown.output
    txs = pd.read_csv(export_ledger(path, tmp_path / "out", "csv")["transactions"])
    sent = txs[txs["kind"] == "dr_command"].iloc[0]
    outcome = txs[txs["kind"] == "dr_outcome"].iloc[0]
    assert sent["party"] == outcome["party"] == c.accounts["bob"] and sent["ref"] == "2"
    assert outcome["ref"] == sent["txid"] == command.txid_hex
    assert json.loads(outcome["body"])["outcome"] == "acked"
