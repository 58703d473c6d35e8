"""`gridcoop viz` in headless Chromium: loads offline, steps, resets, every scenario renders.

One page server for the module (started as `python -m gridcoop.experiments.cli viz` on a
free port); each test opens its own browser context, i.e. its own session and
model. Screenshots go to test-artifacts/viz/.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from gridcoop.experiments.scenarios import builtin_scenarios
from gridcoop.experiments.viz.controls import PageCommunity, PageSettings, page_model_params
from gridcoop.experiments.viz.page import initial_values
from gridcoop.experiments.viz.source import as_page_source
from tests.experiments.viz.conftest import ARTIFACTS, PageServer, free_port, start_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PANELS = ("network", "prices", "balance", "ledger", "leaderboard", "tokens", "ev", "dr")
ERROR_TEXT = re.compile(r"Traceback|Error|error in step|exception", re.IGNORECASE)
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def viz_server(chromium: Any) -> Iterator[PageServer]:
    """`gridcoop viz` on a free port for the whole module; fails on any asset not loaded."""
    port = free_port()
    server = start_server([sys.executable, "-m", "gridcoop.experiments.cli", "viz", "--host",
                           "127.0.0.1", "--port", str(port), "--set", "days=2"],
                          ARTIFACTS / "gridcoop-viz.log", port)
    yield server
    server.stop()
    failures = server.asset_failures()
    if failures:
        pytest.fail("the page could not load front-end assets (run "
                    "`python -m gridcoop.experiments.viz.assets`):\n" + "\n".join(failures[:10]))


def open_page(browser_page: Any, server: PageServer) -> Any:
    server.open(browser_page, TIMEOUT_MS)
    browser_page.get_by_role("button", name="Step").wait_for(timeout=TIMEOUT_MS)
    for key in PANELS:
        browser_page.locator(f".gridcoop-{key}").wait_for(timeout=TIMEOUT_MS)
    return browser_page


def assert_clean(page: Any, server: PageServer) -> None:
    """No error text on the page, no failed request or script error, no missing asset."""
    text = page.inner_text("body")
    assert not ERROR_TEXT.search(text), ERROR_TEXT.search(text)
    assert page.problems == []
    assert server.asset_failures() == []


def summary(page: Any, key: str) -> str:
    text: str = page.locator(f".gridcoop-{key} .gridcoop-summary").inner_text()
    return text


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def step(page: Any, to: int) -> None:
    page.get_by_role("button", name="Step").click()
    page.get_by_text(f"Step: {to}", exact=True).wait_for(timeout=TIMEOUT_MS)


def test_page_loads_offline_steps_and_changes_the_price_chart(
        viz_server: PageServer, browser_page: Any) -> None:
    page = open_page(browser_page, viz_server)
    page.get_by_text("Step: 0", exact=True).wait_for()
    assert summary(page, "network") == "100 members in 4 aggregator regions"
    assert summary(page, "prices").startswith("0 auctions")
    assert summary(page, "ev") == "EV community: not in this scenario"
    assert summary(page, "dr") == "DR community: not in this scenario"
    chart = page.locator(".gridcoop-prices .gridcoop-chart")
    before = chart.screenshot()
    step(page, 1)
    # the first gate clears the auction for the next hour: the chart now shows it
    wait_for(lambda: summary(page, "prices").startswith("1 auctions"), "the first auction")
    wait_for(lambda: chart.screenshot() != before, "the price chart to change")
    step(page, 2)
    badge = page.locator(".gridcoop-ledger .gridcoop-badge")
    wait_for(lambda: badge.inner_text().startswith("verified: chain verified up to block"),
             "the verified badge")
    assert "verified" in (badge.get_attribute("class") or "").split()
    # Mesa's render interval: one click on Step now runs 49 steps, to 13:00
    set_render_interval(page, 49)
    step(page, 51)
    wait_for(lambda: summary(page, "prices").startswith("13 auctions"), "13 auctions")
    assert "volume-weighted mean price -" not in summary(page, "prices")  # midday trades
    assert_clean(page, viz_server)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "page-neighbourhood.png"), full_page=True)


def set_render_interval(page: Any, steps: int) -> None:
    """Mesa's render interval: one click on Step then runs ``steps`` steps."""
    interval = page.locator(".gridcoop-control", has_text="Render Interval")
    interval.locator("[role=slider]").focus()
    page.keyboard.press("Home")
    for _ in range(steps - 1):
        page.keyboard.press("ArrowRight")
    interval.get_by_text(f"Render Interval (steps): {steps}").wait_for(timeout=TIMEOUT_MS)


def choose(page: Any, label: str, option: str) -> None:
    """Pick ``option`` in the Vuetify select labelled ``label``."""
    page.locator(".v-select", has_text=label).click()
    exact = re.compile(rf"^\s*{re.escape(option)}\s*$")  # "ev-community" is not "...-large"
    page.locator(".v-menu__content .v-list-item").filter(has_text=exact).first.click()


def test_changing_a_parameter_and_resetting_rebuilds_the_model(
        viz_server: PageServer, browser_page: Any) -> None:
    page = open_page(browser_page, viz_server)
    step(page, 1)
    households = page.locator(".gridcoop-control", has_text="Households (neighbourhood)")
    households.locator("[role=slider]").focus()
    page.keyboard.press("Home")  # the slider's minimum: 10 households
    page.get_by_role("button", name="Reset").click()
    page.get_by_text("Step: 0", exact=True).wait_for(timeout=TIMEOUT_MS)
    wait_for(lambda: summary(page, "network") == "10 members in 4 aggregator regions",
             "the rebuilt community")
    step(page, 1)
    # Play: the model steps in a thread while the panels redraw; then pause
    page.get_by_role("button", name="▶").click()
    page.get_by_text(re.compile(r"^Step: ([5-9]|\d\d+)$")).wait_for(timeout=TIMEOUT_MS)
    page.get_by_role("button", name="❚❚").click()
    page.get_by_role("button", name="Step").wait_for(state="visible")
    wait_for(lambda: page.get_by_role("button", name="Step").is_enabled(), "the pause")
    assert_clean(page, viz_server)


def test_every_builtin_scenario_renders(viz_server: PageServer, browser_page: Any) -> None:
    page = open_page(browser_page, viz_server)
    # consecutive scenarios differ in their network summary, so a stale page cannot pass
    expected = {"campus-microgrid": "8 members in 1 aggregator regions",
                "market-only": "9 members in 1 aggregator regions",
                "campus-footprint": "2 members in 1 aggregator regions",  # 2 classrooms
                "neighbourhood": "100 members in 4 aggregator regions",
                "campus-lighting": "2 members in 1 aggregator regions",
                "ev-community": "7 members in 1 aggregator regions",  # the pilot's 7 Leafs
                "ev-community-large": "400 members in 4 aggregator regions",
                # the pilot's 17 DR households and the renewable plant in its own region
                "dr-community": "18 members in 2 aggregator regions",
                "dr-community-large": "1001 members in 9 aggregator regions"}
    assert set(expected) == set(builtin_scenarios())
    step(page, 1)
    for scenario, network in expected.items():
        choose(page, "Scenario", scenario)
        page.get_by_role("button", name="Reset").click()
        page.get_by_text("Step: 0", exact=True).wait_for(timeout=TIMEOUT_MS)
        assert summary(page, "network") == network
        for count in (1, 2, 3):
            step(page, count)
        assert_clean(page, viz_server)
        page.screenshot(path=str(ARTIFACTS / f"page-{scenario}.png"), full_page=True)


def test_every_token_kind_transaction_kind_kpis_member_view_and_csv(
        viz_server: PageServer, browser_page: Any) -> None:
    page = open_page(browser_page, viz_server)
    choose(page, "Scenario", "dr-community")
    # only the chosen scenario's controls: no household sliders for the DR pilot
    wait_for(lambda: page.locator(".gridcoop-control", has_text="Households").count() == 0,
             "the neighbourhood's controls to go")
    page.get_by_role("button", name="Reset").click()
    page.get_by_text("Step: 0", exact=True).wait_for(timeout=TIMEOUT_MS)
    set_render_interval(page, 100)
    for count in (100, 200, 300):  # 5-minute metering: past the first evening's events
        step(page, count)
    wait_for(lambda: not summary(page, "dr").startswith("0 events"), "DR events")
    # the DR tokens are on the leaderboard, behind their own filter button
    page.locator(".gridcoop-token-filter").get_by_role("button", name="DR").click()
    wait_for(lambda: "(DR;" in summary(page, "leaderboard"), "the DR filter")
    first = page.locator(".gridcoop-leaderboard table tbody tr").first.inner_text()
    assert int(first.split()[-1].replace(",", "")) > 0, first
    assert "DR" in page.locator(".gridcoop-tokens .gridcoop-chart").inner_html()
    # every transaction row names both parties and an amount (or what it records)
    rows = page.locator(".gridcoop-ledger table").nth(1).locator("tbody tr")
    for index in range(rows.count()):
        cells = rows.nth(index).locator("td").all_inner_texts()
        assert all(cell.strip() for cell in cells), cells
        assert "µ€" not in cells[-1]
    # KPI tiles and the ledger's verification
    tiles = page.locator(".gridcoop-kpis").inner_text()
    for label in ("self-sufficiency", "self-consumption", "savings vs grid-only",
                  "peak grid import", "ledger"):
        assert label in tiles
    assert "NOT verified" not in tiles and "verified" in tiles
    # the member view: the first DR household's bill and its ledger transactions
    member = page.locator(".gridcoop-member")
    assert "bill so far" in member.inner_text()
    # hover values: every data point of the balance chart carries a tooltip
    assert page.locator(".gridcoop-balance .gridcoop-hover title").count() > 0
    # the CSV of the ledger card is what the card shows
    with page.expect_download() as download:
        page.locator(".gridcoop-ledger").get_by_role("button", name="CSV").click()
    text = download.value.path().read_text(encoding="utf-8")
    assert text.splitlines()[0] == "tx,kind,from,to,amount"
    assert_clean(page, viz_server)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "page-dr-community-tokens.png"), full_page=True)


def first_ev_owner() -> str:
    """The first member of the page's first community (built the same way) with an EV."""
    model = PageCommunity(**initial_values(page_model_params(PageSettings("neighbourhood",
                                                                          ("days=2",)))))
    try:
        source = as_page_source(model)
        return next(m.member_id for m in source.members()
                    if any(name == "EV state of charge"
                           for name, _ in source.member_facts(m.member_id)))
    finally:
        model.close()


def test_time_range_and_the_member_view(viz_server: PageServer, browser_page: Any) -> None:
    page = open_page(browser_page, viz_server)
    for count in range(1, 6):  # render interval 1: the page records every interval
        step(page, count)
    # the range control: every time-series chart and the member view follow it
    assert summary(page, "balance").endswith("(last 3 days)")
    page.locator(".gridcoop-range-select").get_by_role("button", name="last day").click()
    wait_for(lambda: summary(page, "balance").endswith("(last 1 day)"), "the day range")
    assert summary(page, "prices").endswith("(last 1 day)")
    chart = page.locator(".gridcoop-balance .gridcoop-chart")
    wait_for(lambda: "last 1 day:" in chart.inner_html(), "the balance chart's title")
    page.locator(".gridcoop-range-select").get_by_role("button", name="whole run").click()
    wait_for(lambda: summary(page, "balance").endswith("(whole run)"), "the whole run")
    # the member view: load, production, orders, over the range, of a member with an EV
    owner = first_ev_owner()
    choose(page, "Member", owner)
    member = page.locator(".gridcoop-member")
    facts = ("load this interval", "production this interval", "bid (last gate)",
             "offer (last gate)", "EV state of charge", "bill so far")
    # the heading re-renders before the member's table: wait for the whole view (a
    # loaded CI machine showed the new heading over the previous member's table)
    wait_for(lambda: f"Member {owner}" in member.inner_text()
             and all(fact in member.inner_text() for fact in facts), f"member {owner}'s view")
    text = member.inner_text()
    for fact in facts:
        assert fact in text, fact
    assert re.search(r"load, production \(whole run\)\s+[\d.,]+ kWh used, [\d.,]+ kWh "
                     r"produced \(5 intervals\)", text), text
    assert_clean(page, viz_server)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "page-range-and-member.png"), full_page=True)


def test_two_thousand_households_render_with_no_console_error(chromium: Any,
                                                               browser_page: Any) -> None:
    port = free_port()
    server = start_server([sys.executable, "-m", "gridcoop.experiments.cli", "viz", "--host",
                           "127.0.0.1", "--port", str(port), "--set", "days=1", "--set",
                           "households=2000", "--set", "regions=10"],
                          ARTIFACTS / "gridcoop-viz-2000.log", port)
    try:
        page = open_page(browser_page, server)
        assert summary(page, "network") == "2000 members in 10 aggregator regions"
        step(page, 1)
        step(page, 2)
        assert page.locator(".gridcoop-kpis").inner_text().count("verified") == 1
        assert_clean(page, server)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "page-2000-households.png"), full_page=True)
    finally:
        server.stop()
