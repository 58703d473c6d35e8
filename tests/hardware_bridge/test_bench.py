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


@pytest.mark.broker
@pytest.mark.slow
def test_quick_chaos_benchmark_loses_nothing(broker: MosquittoBroker) -> None:
    figures = load_suite("chaos")(True)
    assert figures["records_lost"] == 0
    assert figures["faults_injected"] == 4
    for name in ("chirpstack_json", "uplink_codec", "command_codec", "serial_lines",
                 "registry_yaml"):
        assert figures["decoders"][name]["non_project_errors"] == 0, name
    for server in ("chirpstack", "ttn"):
        part = figures[server]
        assert part["survived"] == part["valid_published"], part
        assert part["duplicates_delivered"] == 0, part
        assert part["energy_wh_matches"], part
    # TTN's parser may still hit a defect (then refused as decoder_fault, at no cost)
    assert figures["chirpstack"]["decoder_faults"] == 0
    assert figures["chirpstack"]["guard_write_failures"] >= 1  # the locked guard file bit
