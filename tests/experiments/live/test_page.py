"""The live page: the runner's model seen through snapshots, read from other threads."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from gridcoop.experiments.live.community import LiveCommunity
from gridcoop.experiments.live.page import LivePageModel, LivePublisher, PageNotAttachedError
from gridcoop.experiments.viz.source import as_page_source

from .test_community import _config, _inputs


def test_the_page_reads_the_live_model_while_it_steps(tmp_path: Path) -> None:
    publisher = LivePublisher()
    with pytest.raises(PageNotAttachedError, match="not published an interval yet"):
        LivePageModel(publisher)
    community = LiveCommunity(_config(tmp_path), tmp_path / "ledger.sqlite", 0)
    community.publisher = publisher
    for step in range(110):
        community.advance(step, *_inputs(step, silent=False))
    page = LivePageModel(publisher)
    source = as_page_source(page)
    assert source is page  # a PageSource of its own, not mistaken for a simulated model
    model = community.model
    assert source.step_count == int(model.steps) == 111
    assert [m.member_id for m in source.members()] == list(model.population.node_ids)
    ledger = source.ledger()
    assert ledger is not None
    assert (ledger.height, ledger.head_hash) == (model.accounts.ledger.height,
                                                 model.accounts.ledger.head_hash)
    ledger.verify()  # the page's replica accepted every block
    # the live reading of h1 (120 Wh import, 120 Wh export over 5 min) is what the page shows
    flow = next(f for f in source.interval_flows() if f.member_id == "h1")
    assert (flow.import_kwh, flow.export_kwh) == (0.12, 0.12)
    assert any(a.volume_kwh > 0 for a in source.auctions())
    # the page's threads read snapshots while the runner's thread steps: no torn reads
    errors: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        try:
            while not done.is_set():
                page.step()  # Step/Play = take the newest snapshot
                flows = page.interval_flows()
                assert len(flows) == len(page.members())
                assert page.ledger().height >= 0
        except BaseException as exc:  # reported below
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    for step in range(110, 140):
        community.advance(step, *_inputs(step, silent=False))
    done.set()
    for reader in readers:
        reader.join(10)
    assert errors == []
    page.step()
    assert page.step_count == 141 and publisher.published == 140
    community.close()
