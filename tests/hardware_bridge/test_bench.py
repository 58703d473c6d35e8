"""The bridge benchmark still runs (its figures are read from ``gridcoop bench bridge``)."""

from __future__ import annotations

import pytest

from gridcoop.experiments.bench import load_suite
from gridcoop.hardware_bridge.mosquitto import MosquittoBroker


@pytest.mark.broker
def test_quick_bridge_benchmark_runs(broker: MosquittoBroker) -> None:
    figures = load_suite("bridge")(True)
    assert figures["codec"]["decode_uplinks_per_s"] > 0
    for name in ("end_to_end_chirpstack_qos1", "end_to_end_ttn_qos0"):
        assert figures[name]["meters"] == 1000 and figures[name]["lost"] == 0, figures[name]
        assert figures[name]["rejected"] == 0
