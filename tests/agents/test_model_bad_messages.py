"""Bad frames on a real tcp socket of a running model: rejected, counted, results unchanged."""

from __future__ import annotations

import json
from typing import Any

import zmq

from gridcoop.agents import CommunityModel
from gridcoop.agents.bus.messages import OrderBatch, encode

PARAMS: dict[str, Any] = {"households": 12, "regions": 2, "days": 1, "seed": 8,
                          "replicas": "shared", "transport": "tcp"}


def _summary_without_bus(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in summary.items() if k != "bus_rejected"}


def test_malformed_unknown_oversized_and_forged_frames_are_refused() -> None:
    clean = CommunityModel("neighbourhood", **PARAMS)
    expected = clean.run()
    clean.close()

    model = CommunityModel("neighbourhood", **PARAMS)
    target = model.aggregators[0].name
    address = model.bus.address_of(target).router
    assert address.startswith("tcp://")
    context = zmq.Context()
    intruder = context.socket(zmq.DEALER)
    intruder.setsockopt(zmq.LINGER, 0)
    intruder.connect(address)
    try:
        for _ in range(5):
            model.step()
        intruder.send_multipart([b"Sj1", b"{this is not json"])
        intruder.send_multipart([b"Sj2", json.dumps(
            {"type": "teleport", "id": "intruder:2", "sender": "intruder"}).encode()])
        intruder.send_multipart([b"Sj3", b"[" * (model.bus.part_bytes + 1)])
        forged = OrderBatch(id="intruder:4", sender="central", auction_id="a000002",
                            region_id="r0", order_ids=["x"], participant_ids=["h00"],
                            sides=["bid"], energy_wh=[100_000], price_ueur_per_kwh=[90_000])
        intruder.send_multipart([b"Sj4", encode(forged)])
        # well formed, from itself, but for an auction that is not open: delivered, then refused
        stray = OrderBatch(id="intruder:5", sender="intruder", auction_id="a000002",
                           region_id="r0", order_ids=["y"], participant_ids=["h00"],
                           sides=["bid"], energy_wh=[100_000], price_ueur_per_kwh=[90_000])
        intruder.send_multipart([b"Sj5", encode(stray)])
        intruder.send_multipart([b"garbage-header", b"{}"])
        summary = model.run()
        stats = model.bus.endpoints[target].stats
        assert stats.rejected_malformed >= 2
        assert stats.rejected_unknown_type == 1
        assert stats.rejected_oversized == 1
        assert stats.rejected_sender_mismatch == 1
        assert summary["bus_rejected"] >= 5
        assert any("intruder:5" in r for r in model.aggregators[0].refused)
        # every bad frame that had a reply channel got an error reply
        replies = 0
        while intruder.poll(200):
            intruder.recv_multipart()
            replies += 1
        assert replies >= 5
        # and none of it changed the run
        assert _summary_without_bus(summary) == _summary_without_bus(expected)
    finally:
        intruder.close()
        context.term()
        model.close()
