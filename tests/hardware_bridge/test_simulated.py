"""Simulated meters (the default source), the simulated sink, appliance rules, the factory."""

from __future__ import annotations

import numpy as np
import pytest

from gridcoop.hardware_bridge import make_sink, make_source
from gridcoop.hardware_bridge.appliances import ApplianceState
from gridcoop.hardware_bridge.errors import ConfigError
from gridcoop.hardware_bridge.readings import Command, CommandSink, MeterSource
from gridcoop.hardware_bridge.simulated import (
    SimulatedCommandSink,
    SimulatedMeterBank,
    SimulatedMeterSource,
)


def test_bank_from_arrays_polls_interval_by_interval() -> None:
    imports = np.array([[100, 200, 300], [10, 20, 30]])
    exports = np.array([[0, 5, 0], [1, 0, 0]])
    bank = SimulatedMeterBank(
        ["a", "b"], interval_s=900, start_s=3600, import_wh=imports, export_wh=exports
    )
    assert bank.poll(3600 + 899) == []  # the first interval has not ended yet
    first = bank.poll(3600 + 900)
    assert [(r.meter_id, r.interval_start_s, r.import_wh, r.export_wh, r.seq) for r in first] == [
        ("a", 3600, 100, 0, 0),
        ("b", 3600, 10, 1, 0),
    ]
    rest = bank.poll(10**9)  # only what the arrays hold
    assert [(r.meter_id, r.seq, r.import_wh) for r in rest] == [
        ("a", 1, 200),
        ("b", 1, 20),
        ("a", 2, 300),
        ("b", 2, 30),
    ]
    assert all(r.mac_verified and not r.estimated and r.source == "simulated" for r in rest)
    assert bank.poll(10**9) == []


def test_fractional_energy_is_rounded_without_drift() -> None:
    # 0.4 Wh per interval for 10 intervals: cumulative 0.4, 0.8, 1.2, ... 4.0 rounds to
    # 0, 1, 1, 2, 2, 2, 3, 3, 4, 4 -> per interval 0, 1, 0, 1, 0, 0, 1, 0, 1, 0; total 4
    bank = SimulatedMeterBank(["m"], import_wh=np.full((1, 10), 0.4))
    values = [r.import_wh for r in bank.poll(10 * 900)]
    assert values == [0, 1, 0, 1, 0, 0, 1, 0, 1, 0] and sum(values) == 4


def test_bank_from_a_callable_and_blocks() -> None:
    calls: list[int] = []

    def energy(index: int) -> tuple[np.ndarray, float]:
        calls.append(index)
        return np.array([index * 10.0, 1.0, 2.0]), 0.0

    bank = SimulatedMeterBank(["x", "y", "z"], interval_s=300, energy=energy)
    block = bank.poll_block(900)
    assert block.import_wh.tolist() == [[0, 10, 20], [1, 1, 1], [2, 2, 2]]
    assert block.interval_start_s.tolist() == [0, 300, 600] and block.first_seq == 0
    assert calls == [0, 1, 2] and bank.n_intervals is None
    assert bank.poll_block(900).import_wh.shape == (3, 0)


def test_a_callable_polled_interval_by_interval_reads_as_one_block() -> None:
    def energy(index: int) -> tuple[np.ndarray, np.ndarray]:  # fractional Wh, a scalar export
        return np.array([0.4 * (index + 1), 2.5, 0.5]), np.array([0.75, 0.0, 0.25])

    one_by_one = SimulatedMeterBank(["x", "y", "z"], interval_s=60, energy=energy)
    blocks = [one_by_one.poll_block(60 * k) for k in range(1, 5)]
    assert [b.import_wh.shape for b in blocks] == [(3, 1)] * 4
    together = SimulatedMeterBank(["x", "y", "z"], interval_s=60, energy=energy).poll_block(240)
    imports = np.concatenate([b.import_wh for b in blocks], axis=1)
    assert imports.tolist() == together.import_wh.tolist()
    # x: 0.4, 1.2, 2.4, 4.0 cumulative -> 0, 1, 2, 4; y: 2.5, 5, 7.5, 10 -> 3, 5, 8, 10
    assert imports.tolist() == [[0, 1, 1, 2], [3, 2, 3, 2], [1, 0, 1, 0]]
    exports = np.concatenate([b.export_wh for b in blocks], axis=1)
    assert exports.tolist() == together.export_wh.tolist() == [[1, 1, 0, 1], [0] * 4,
                                                               [0, 1, 0, 0]]
    assert [b.first_seq for b in blocks] == [0, 1, 2, 3]


@pytest.mark.parametrize(("value", "message"), [(-1.0, ">= 0 Wh"), (float("nan"), "NaN"),
                                                 (float("inf"), "infinity")])
def test_a_callable_giving_bad_energy_is_refused(value: float, message: str) -> None:
    bank = SimulatedMeterBank(["a", "b"], energy=lambda k: ([1.0, value], 0.0))
    with pytest.raises(ConfigError, match=message):
        bank.poll_block(900)


def test_single_meter_source() -> None:
    source = SimulatedMeterSource("solo", lambda k: (1.5, 0.25), interval_s=60)
    readings = source.poll(240)
    assert [r.import_wh for r in readings] == [2, 1, 2, 1]  # 1.5, 3.0, 4.5, 6.0 rounded
    assert sum(r.export_wh for r in readings) == 1  # 0.25 x 4 = 1.0


def test_month_of_a_thousand_meters_as_one_block() -> None:
    rng = np.random.default_rng(1)
    imports = rng.uniform(0, 500, (1000, 2880))
    bank = SimulatedMeterBank([f"m{i}" for i in range(1000)], import_wh=imports)
    block = bank.poll_block(2880 * 900)
    assert block.import_wh.shape == (1000, 2880)
    assert np.abs(block.import_wh.sum(axis=1) - imports.sum(axis=1)).max() <= 0.5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"import_wh": [[1.0, -2.0]]}, ">= 0 Wh"),
        ({"import_wh": [[1.0, float("nan")]]}, "NaN"),
        ({}, "give energy="),
        ({"import_wh": [[1.0]], "energy": lambda k: (0, 0)}, "not both"),
        ({"import_wh": [[1.0]], "interval_s": 0}, "positive"),
    ],
)
def test_bad_simulated_input(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SimulatedMeterBank(["m"], **kwargs)  # type: ignore[arg-type]


def test_simulated_sink_obeys_and_acks() -> None:
    now = [0.0]
    sink = SimulatedCommandSink(clock=lambda: now[0])
    sink.send(Command("d1", 3, 1, "off"))
    sink.send(Command("d1", 3, 1, "on"))  # same id: acked, not re-applied
    sink.send(Command("d1", 255, 2, "dr_event", 2, duration_min=30))
    sink.send(Command("d1", 3, 3, "on", level=5))  # invalid: on takes no level
    acks = sink.acks()
    assert [(a.command_id, a.status) for a in acks] == [
        (1, "acked"),
        (1, "acked"),
        (2, "acked"),
        (3, "nacked"),
    ]
    assert "not re-applied" in acks[1].detail and acks[3].detail == "bad_arg"
    assert sink.level("d1", 3) == 0 and sink.level("d1", 4) == 50  # DR level 2 caps at 50 %
    now[0] = 30 * 60  # the event ends
    assert sink.level("d1", 4) == 100 and sink.acks() == []


def test_appliance_adjustments() -> None:
    state = ApplianceState()
    state.apply(Command("d", 1, 1, "set_level", 40), 0)
    state.apply(Command("d", 255, 2, "decrease", 30), 0)  # every appliance shifts by -30
    assert (state.level(1, 0), state.level(2, 0)) == (10, 70)
    state.apply(Command("d", 255, 3, "dr_event", 3), 0)  # emergency shed, no end time
    assert not state.relay_on(10**9)
    state.apply(Command("d", 255, 4, "restore"), 0)
    assert state.relay_on(0) and state.level(1, 0) == 100


def test_factory_builds_each_kind() -> None:
    source = make_source("simulated", meter_ids=["a"], import_wh=[[5.0]])
    assert isinstance(source, MeterSource) and source.poll(900)[0].import_wh == 5
    single = make_source("simulated", meter_id="s", energy=lambda k: (1.0, 0.0))
    assert single.poll(900)[0].meter_id == "s"
    sink = make_sink("simulated")
    assert isinstance(sink, CommandSink)
    with pytest.raises(ConfigError, match="unknown; use one of simulated, serial"):
        make_source("zigbee")
    with pytest.raises(ConfigError, match="it takes: url, registry"):
        make_source("serial", port="/dev/ttyACM0")
