"""The page source of a real CommunityModel, checked against the ledger and the meters."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from gridcoop.agents.model.community import CommunityModel
from gridcoop.experiments.viz.community import CommunitySource, community_source
from gridcoop.experiments.viz.ledger_panel import ChainVerifier, ledger_view
from gridcoop.experiments.viz.ledger_source import BlockRefusedError
from gridcoop.experiments.viz.render import PageState, render_page
from gridcoop.experiments.viz.source import NotAPageSourceError, as_page_source
from gridcoop.ledger.columns import TRADE_ROW
from gridcoop.ledger.transactions import AuctionRecord

STEPS = 60  # 15 h of 15-minute intervals: the morning's PV has traded


@pytest.fixture(scope="module")
def model() -> Iterator[CommunityModel]:
    community = CommunityModel("neighbourhood", households=20, regions=2, seed=3, days=2)
    for _ in range(STEPS):
        community.step()
    yield community
    community.close()


def test_members_regions_and_flows_come_from_the_population_and_meters(
        model: CommunityModel) -> None:
    source = as_page_source(model)
    assert isinstance(source, CommunitySource) and source is community_source(model)
    assert [m.member_id for m in source.members()] == list(model.population.node_ids)
    assert {m.kind for m in source.members()} <= {"prosumer", "ev_owner", "dr_household"}
    assert tuple(source.regions()) == ("r0", "r1")
    flows = source.interval_flows()
    assert [f.import_kwh for f in flows] == [w / 1000 for w in model.last_import_wh.tolist()]
    assert [f.export_kwh for f in flows] == [w / 1000 for w in model.last_export_wh.tolist()]
    assert source.step_count == STEPS and source.time_s == STEPS * 900


def test_energy_balance_is_the_collected_series_and_closes(model: CommunityModel) -> None:
    rows = as_page_source(model).energy_balance()
    series = model.datacollector.model_vars
    assert len(rows) == STEPS
    for row, prod_kw, imp_kw in zip(rows, series["production_kw"], series["grid_import_kw"],
                                    strict=True):
        assert row.production_kwh == pytest.approx(prod_kw * 0.25)  # kW x 15 min
        assert row.import_kwh == pytest.approx(imp_kw * 0.25)
        # production + import = consumption + export + storage
        assert row.production_kwh + row.import_kwh == pytest.approx(
            row.consumption_kwh + row.export_kwh + row.storage_kwh)
    assert [r.time_s for r in rows] == [900 * k for k in range(STEPS)]


def test_auction_prices_and_volumes_match_the_trades_on_the_ledger(
        model: CommunityModel) -> None:
    ledger = model.accounts.ledger
    on_ledger: dict[int, tuple[int, int]] = {}
    for block in ledger.blocks():
        for stx in block.transactions():
            tx = stx.tx
            if isinstance(tx, AuctionRecord):
                interval = int(tx.listing_id[1:7])
                for _seller, _buyer, energy_wh, price in TRADE_ROW.iter_unpack(tx.trades):
                    wh, value = on_ledger.get(interval, (0, 0))
                    on_ledger[interval] = (wh + energy_wh, value + energy_wh * price)
    rows = as_page_source(model).auctions()
    # an auction every hour for the next hour: after 15 h, intervals 1..15 were cleared
    assert [r.time_s for r in rows] == [3600 * i for i in range(1, 16)]
    assert on_ledger, "no local trade in the first 15 hours; pick another seed"
    for row in rows:
        interval = row.time_s // 3600
        if interval not in on_ledger:
            assert row.clearing_price_eur_per_kwh is None and row.volume_kwh == 0
            continue
        wh, value = on_ledger[interval]
        assert row.volume_kwh == wh / 1000
        assert row.clearing_price_eur_per_kwh == pytest.approx(value / wh / 1e6)
        assert row.feed_in_eur_per_kwh == 0.039
        hour = interval % 24
        assert row.retail_eur_per_kwh == (0.095 if 13 <= hour < 23 else 0.065)


def test_ledger_reader_lists_and_verifies(model: CommunityModel) -> None:
    reader = as_page_source(model).ledger()
    assert reader is not None
    ledger = model.accounts.ledger
    assert reader.head_hash == ledger.head_hash and reader.height == ledger.height
    assert [b.height for b in reader.latest_blocks(3)] == [ledger.height - i for i in range(3)]
    newest = [stx for block in ledger.blocks() for stx in block.transactions()][-5:]
    txs = reader.latest_transactions(5)
    assert [t.tx_id for t in txs] == [s.txid_hex for s in reversed(newest)]
    reader.verify()
    view = ledger_view(as_page_source(model), ChainVerifier())
    assert view is not None and view.verification.verified


def test_tokens_are_ledger_balances(model: CommunityModel) -> None:
    source = as_page_source(model)
    tokens = source.tokens()
    assert len(tokens) == 20 and all(isinstance(t, int) and t >= 0 for t in tokens.values())
    ledger = model.accounts.ledger
    first = model.population.node_ids[0]
    assert tokens[first] == ledger.balance(model.accounts.member_account(0), "wh")
    history = source.token_history()
    assert history[-1].total_tokens == model.kpis.tokens_wh


def test_every_panel_renders_from_a_real_model(model: CommunityModel) -> None:
    panels = {p.key: p for p in render_page(as_page_source(model), PageState())}
    assert panels["network"].summary == "20 members in 2 aggregator regions"
    assert panels["prices"].summary.startswith("15 auctions")
    assert panels["ledger"].badge is not None and panels["ledger"].badge.ok
    assert panels["ev"].absent and panels["dr"].absent


def test_a_tampered_block_loses_the_badge(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    community = CommunityModel("neighbourhood", households=10, regions=1, seed=1, days=1,
                               ledger_path=str(path))
    try:
        while community.accounts.ledger.height < 3 and community.steps < 96:
            community.step()
        assert community.accounts.ledger.height >= 3
        with sqlite3.connect(path) as db:
            (txs,) = db.execute("SELECT txs FROM blocks WHERE height = 1").fetchone()
            flipped = bytearray(txs)
            flipped[len(flipped) // 2] ^= 0x01
            db.execute("UPDATE blocks SET txs = ? WHERE height = 1", (bytes(flipped),))
        reader = CommunitySource(community).ledger()
        with pytest.raises(BlockRefusedError, match="block 1 refused by the page's replica"):
            reader.verify()
        view = ledger_view(CommunitySource(community), ChainVerifier())
        assert view is not None and not view.verification.verified
        assert view.verification.message.startswith("BlockRefusedError: block 1")
    finally:
        community.close()


def test_other_objects_are_refused_with_advice() -> None:
    with pytest.raises(NotAPageSourceError,
                       match=r"implement gridcoop\.experiments\.viz\.protocol"):
        as_page_source(object())
