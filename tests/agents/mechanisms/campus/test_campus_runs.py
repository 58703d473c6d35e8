"""campus-footprint and campus-lighting through `gridcoop run`: outputs, ledger tokens, seeds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from click.testing import CliRunner

import gridcoop.experiments.scenarios  # noqa: F401  (registers the campus-case kinds)
from gridcoop.agents.mechanisms.campus.extension import FootprintExtension
from gridcoop.agents.mechanisms.campus.scenario import CampusCasePhysics
from gridcoop.experiments.cli import main
from gridcoop.ledger.ledger import Ledger
from gridcoop.ledger.transactions import Mint


def _run(kind: str, out: Path, *extra: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["run", kind, "--days", "7", "--out", str(out), "--quiet",
                                       "--set", "students=200", "--set", "teachers=8", *extra],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    verify = CliRunner().invoke(main, ["ledger", "verify", str(out / "ledger.sqlite")])
    assert verify.exit_code == 0, verify.output
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return summary


def test_footprint_tokens_on_the_ledger_equal_the_metered_wh_per_interval(tmp_path: Path) -> None:
    summary = _run("campus-footprint", tmp_path)
    for name in ("footprint_per_person.csv", "footprint_per_interval.csv",
                 "footprint_unattributed.csv", "footprint_report.md", "bills.csv"):
        assert (tmp_path / name).exists(), name
    assert "# Energy footprint" in (tmp_path / "footprint_report.md").read_text()
    ledger = Ledger.open(tmp_path / "ledger.sqlite", readonly=True)
    try:
        mints = [stx.tx for block in ledger.blocks() for stx in block.transactions()
                 if isinstance(stx.tx, Mint) and stx.tx.memo.startswith("footprint ")]
        registered = len(ledger.state.members)
    finally:
        ledger.close()
    assert registered >= 208  # 200 students, 8 teachers, 2 classrooms, the market
    on_ledger: dict[tuple[str, int], int] = {}
    for tx in mints:
        _, room, start = tx.memo.split(" ")
        on_ledger[(room, int(start))] = on_ledger.get((room, int(start)), 0) + tx.amount
    assert len(mints) == summary["footprint_ledger_txs"]
    # the metered Wh per interval are the meters' own (timeseries of the model is per
    # community; the per-interval table is per classroom) and every interval with people
    # present has exactly its metered Wh on the ledger
    per_interval = pd.read_csv(tmp_path / "footprint_per_interval.csv")
    unattributed = pd.read_csv(tmp_path / "footprint_unattributed.csv")
    assert sum(on_ledger.values()) == summary["footprint_tokens"]
    assert summary["footprint_tokens"] + summary["footprint_unattributed_wh"] == summary[
        "footprint_metered_wh"]
    for row in per_interval.itertuples():
        assert on_ledger[(row.classroom, row.interval * 900)] == row.tokens
    assert not set(zip(unattributed["classroom"], unattributed["interval"] * 900,
                       strict=True)) & set(on_ledger)


def test_footprint_metered_wh_is_what_the_meters_read(tmp_path: Path) -> None:
    from gridcoop.agents.model.community import CommunityModel

    model = CommunityModel("campus-footprint", days=2, students=100, teachers=4)
    try:
        model.run()
        ext = model.extensions[0]
        physics = model.population.physics
        assert isinstance(ext, FootprintExtension)
        assert isinstance(physics, CampusCasePhysics)
        assert ext.result is not None
        assert (ext.metered_wh == physics.term.energy_wh).all()
        per_interval = ext.result.tokens.groupby("interval")["tokens"].sum()
        metered = ext.metered_wh.sum(axis=1)
        empty = ext.result.unattributed.groupby("interval")["energy_wh"].sum()
        for interval, tokens in per_interval.items():
            assert tokens + int(empty.get(interval, 0)) == metered[interval]
    finally:
        model.close()


def test_footprint_same_seed_same_summary(tmp_path: Path) -> None:
    first = _run("campus-footprint", tmp_path / "a", "--seed", "3")
    second = _run("campus-footprint", tmp_path / "b", "--seed", "3")
    assert first == second


def test_lighting_writes_its_tables_and_report(tmp_path: Path) -> None:
    summary = _run("campus-lighting", tmp_path, "--days", "14")
    for name in ("lighting_gaps.csv", "lighting_per_session.csv", "lighting_per_person.csv",
                 "lighting_rankings.csv", "lighting_waste_by_classroom.csv",
                 "lighting_report.md"):
        assert (tmp_path / name).exists(), name
    rankings = pd.read_csv(tmp_path / "lighting_rankings.csv")
    assert set(rankings["period_kind"]) >= {"week", "month"} or len(rankings) > 0
    gaps = pd.read_csv(tmp_path / "lighting_gaps.csv")
    per_session = pd.read_csv(tmp_path / "lighting_per_session.csv")
    # gap energy attributed exactly once: to a session, or to nobody
    assert per_session["gap_wh"].sum() + summary["lighting_unattributed_wh"] == gaps[
        "gap_wh"].sum() == summary["lighting_gap_wh"]
    waste = pd.read_csv(tmp_path / "lighting_waste_by_classroom.csv")
    assert len(waste) == 2 and (waste["waste_eur_per_year"] > 0).all()


def test_campus_kinds_reject_a_non_monday_start(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["run", "campus-footprint", "--out", str(tmp_path),
                                       "--set", "start_day_of_year=51"])
    assert result.exit_code != 0 and "Monday" in result.output


def test_footprint_tokens_are_minted_in_the_block_sealed_with_their_reading() -> None:
    from gridcoop.agents.model.community import CommunityModel

    model = CommunityModel("campus-footprint", days=2, students=100, teachers=4)
    try:
        model.run()
        ext = model.extensions[0]
        assert isinstance(ext, FootprintExtension) and ext.result is not None
        ledger = model.accounts.ledger
        mints = [(block.header.time_s, stx.tx) for block in ledger.blocks()
                 for stx in block.transactions()
                 if isinstance(stx.tx, Mint) and stx.tx.memo.startswith("footprint ")]
    finally:
        model.close()
    written = ext.result.tokens[ext.result.tokens["tokens"] > 0]
    # one request per person and classroom interval in, one transaction on the ledger out
    assert len(mints) == len(written) == ext.ledger_txs == len(ext.desk.taken)
    assert len({(tx.to, tx.memo) for _, tx in mints}) == len(mints)
    assert not ext.desk.refused
    # interval k is read at the start of k + 1 and its tokens are sealed then, not once a day
    assert {time_s - int(tx.memo.split(" ")[2]) for time_s, tx in mints} == {900}
    assert len({time_s for time_s, _ in mints}) == written["interval"].nunique()
