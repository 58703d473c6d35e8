"""The DR community on a real VTN: its SIMPLE events reach VENs over OpenADR 2.0b, every
event and every opt is a ledger record, and a VEN's event gives the model's commands."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from gridcoop.agents.mechanisms.dr.oadr_link import Opt, VtnLink, event_from_wire
from gridcoop.agents.mechanisms.dr.openadr import (
    EventError,
    EventTargets,
    OpenADREvent,
    SignalLevel,
    commands_for_level,
)
from gridcoop.experiments.cli import main
from gridcoop.hardware_bridge.mosquitto import free_port
from gridcoop.hardware_bridge.openadr.records import OpenADRError, SimpleEvent
from gridcoop.hardware_bridge.openadr.ven import Ven
from gridcoop.hardware_bridge.openadr.vtn import Vtn
from gridcoop.ledger.export import export_ledger
from tests.agents.mechanisms.dr.test_openadr import params
from tests.hardware_bridge.conftest import need, wait_until
from tests.ledger.conftest import build_community

try:
    import openleadr
except ImportError:
    openleadr = None

pytestmark = pytest.mark.filterwarnings("ignore:It is recommended to use web.AppKey")
VENS = {"h-a": "VEN-H-A", "h-b": "VEN-H-B"}


def test_community_events_and_opts_over_openadr_are_on_the_ledger(tmp_path: Path) -> None:
    need("ok" if openleadr is not None else None, "openleadr (pip install '.[openadr]')")
    path = tmp_path / "ledger.sqlite"
    c = build_community(path, signing="full")
    origin = datetime.now(UTC)
    fleet = params()
    received: dict[str, list[SimpleEvent]] = {"h-a": [], "h-b": []}

    def household(name: str, accept_from: int) -> Ven:
        def decide(event: SimpleEvent) -> bool:
            received[name].append(event)
            return event.level >= accept_from

        return Ven(name, vtn.url, decide)

    vtn = Vtn(free_port(), poll_s=1, ven_names={h: v for h, v in VENS.items()}).start()
    link = VtnLink(vtn, c.wallet("agg"), vens=VENS,
                   accounts={"h-a": c.accounts["bob"], "h-b": c.accounts["carol"]},
                   origin=origin)  # fmt: skip
    vens = [household("h-a", 2).start(), household("h-b", 3).start()]
    try:
        event = OpenADREvent("evt-7", 5, 3600, level=SignalLevel.HIGH)
        sent = link.publish(event)
        opts: list[Opt] = []
        wait_until(lambda: len(opts.__iadd__(link.pump())) >= 2, 30.0, "both VENs' answers")
    finally:
        for ven in vens:
            ven.stop()
        vtn.stop()
    assert set(link.registered) == set(VENS.values())
    assert sorted((o.household_id, o.event_id, o.opted_in) for o in opts) == [
        ("h-a", "evt-7", True), ("h-b", "evt-7", False)]  # fmt: skip
    c.book.seal_block(3600)
    c.book.close()
    assert CliRunner().invoke(main, ["ledger", "verify", str(path)]).exit_code == 0
    txs = pd.read_csv(export_ledger(path, tmp_path / "out", "csv")["transactions"])
    commands = txs[txs["kind"] == "dr_command"]
    outcomes = txs[txs["kind"] == "dr_outcome"]
    assert sorted(commands["txid"]) == sorted(sent)
    assert set(commands["party"]) == {c.accounts["bob"], c.accounts["carol"]}
    bodies = [json.loads(b) for b in commands["body"]]
    assert {(b["level"], b["action"], b["start_s"], b["duration_s"]) for b in bodies} == {
        (2, "decrease", 5, 3600)}  # fmt: skip
    answers = {row["party"]: (json.loads(row["body"]), row["ref"])
               for _, row in outcomes.iterrows()}  # fmt: skip
    bob, carol = answers[c.accounts["bob"]], answers[c.accounts["carol"]]
    assert (bob[0]["outcome"], bob[0]["via"], carol[0]["outcome"]) == ("opt_in", "household",
                                                                        "opt_out")  # fmt: skip
    assert {bob[1], carol[1]} == set(sent)  # each outcome names its household's command

    # in simulation, what the VEN received gives the household the model's own commands
    for name in ("h-a", "h-b"):
        assert received[name][0].event_id == f"evt-7/{name}"  # one OpenADR event per VEN
        as_model = event_from_wire(received[name][0], name, origin)
        assert (as_model.start_s, as_model.duration_s, as_model.level) == (5, 3600, 2)
        only_here = OpenADREvent("evt-7", 5, 3600, level=SignalLevel.HIGH,
                                 targets=EventTargets(household_ids=(name,)))  # fmt: skip
        assert commands_for_level(as_model, fleet) == commands_for_level(only_here, fleet)
        assert commands_for_level(as_model, fleet)  # both households have something to shed


def test_link_refuses_what_it_cannot_send(tmp_path: Path) -> None:
    c = build_community(tmp_path / "l.sqlite")
    vtn = Vtn(free_port())  # never started: nothing reaches it
    with pytest.raises(EventError, match="no ledger account"):
        VtnLink(vtn, c.wallet("agg"), vens=VENS, accounts={"h-a": c.accounts["bob"]},
                origin=datetime.now(UTC))  # fmt: skip
    link = VtnLink(vtn, c.wallet("agg"), vens={"h-a": "V"}, accounts={"h-a": c.accounts["bob"]},
                   origin=datetime.now(UTC))  # fmt: skip
    with pytest.raises(EventError, match="no VEN for households"):
        link.publish(OpenADREvent("e", 0, 60, level=SignalLevel.MODERATE,
                                  targets=EventTargets(household_ids=("h-z",))))  # fmt: skip
    with pytest.raises(OpenADRError, match="not running"):  # recorded as refused
        link.publish(OpenADREvent("e", 0, 60, level=SignalLevel.MODERATE))
    with pytest.raises(EventError, match="only SIMPLE"):
        link.publish(OpenADREvent("e", 0, 60, signal_name="LOAD_DISPATCH", dispatch_kw=-2.0))
    late = SimpleEvent("e", 0, 1, datetime(2020, 1, 1, tzinfo=UTC), 60, "far", "", (), ())
    with pytest.raises(EventError, match="before the run's origin"):
        event_from_wire(late, "h-a", datetime(2021, 1, 1, tzinfo=UTC))
    c.book.seal_block(60)
    c.book.close()
    txs = pd.read_csv(export_ledger(tmp_path / "l.sqlite", tmp_path / "o", "csv")["transactions"])
    assert list(txs[txs["kind"].str.startswith("dr_")]["kind"]) == ["dr_command", "dr_outcome"]
    assert json.loads(txs[txs["kind"] == "dr_outcome"].iloc[0]["body"])["outcome"] == "refused"
