"""``gridcoop ledger show`` and ``export`` speak in member ids, € and kWh."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from gridcoop.experiments.cli import main
from tests.ledger.conftest import build_stored_ledger


def test_show_and_export_speak_in_member_ids_euros_and_kwh(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    build_stored_ledger(path)

    result = CliRunner().invoke(main, ["ledger", "show", str(path)])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split()[1:] for line in result.output.splitlines()
            if line.startswith("grid-")}
    # alice: 1,000,000 µ€ + 42,500 µ€ x 400/500 = 1,034,000 µ€ = 1.03 €
    assert rows["grid-alice"] == ["1.03", "0.000", "0"]
    assert rows["grid-bob"] == ["0.97", "0.000", "0"]
    assert rows["grid-carol"][-1] == "7"
    assert "supply" in result.output and "€" in result.output

    out = tmp_path / "x"
    assert CliRunner().invoke(main, ["ledger", "export", str(path), "--out", str(out)]
                              ).exit_code == 0
    txs = pd.read_csv(out / "transactions.csv")
    sale = txs[txs["kind"] == "trade"].iloc[0]
    assert (sale["party_member"], sale["party2_member"]) == ("grid-alice", "grid-bob")
    assert sale["amount_eur"] == 0.0425 and sale["energy_kwh"] == 0.5
    balances = pd.read_csv(out / "balances.csv")
    alice = balances[(balances["member_id"] == "grid-alice") & (balances["asset"] == "eur_u")]
    assert float(alice["balance_eur"].iloc[0]) == 1.034


def test_export_of_a_run_with_columnar_auction_records(tmp_path: Path) -> None:
    """A model run records whole auctions as binary-row records; the export shows each
    record's signed JSON head as its body."""
    import json

    from gridcoop.agents.model.community import CommunityModel
    from gridcoop.experiments.scenarios import load_scenario

    path = tmp_path / "ledger.sqlite"
    kind, params = load_scenario("dr-community", days=1)
    model = CommunityModel(kind, ledger_path=str(path), replicas="shared", ledger_workers=0,
                           **params)
    model.run()
    model.close()
    out = tmp_path / "export"
    result = CliRunner().invoke(main, ["ledger", "export", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    txs = pd.read_csv(out / "transactions.csv")
    records = txs[txs["kind"].isin(["auction", "settlement"])]
    assert len(records) > 0
    heads = [json.loads(body) for body in records["body"]]
    auction = next(h for h in heads if h["kind"] == "auction")
    assert {"listing_id", "orders", "orders_root", "trades", "trades_root"} <= set(auction)
