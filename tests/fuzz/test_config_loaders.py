"""Live config and scenario loaders: any bytes or YAML value gives a value or their own error."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from gridcoop.agents.scenario.schema import ScenarioError
from gridcoop.experiments.live.config import LiveConfigError, load_config, parse_config
from gridcoop.experiments.scenarios import load_scenario
from tests.fuzz.budget import FUZZ

REGRESSIONS = [
    b"\xff\xfe not utf-8",
    b"[" * 100_000,
    b"{a: " * 20_000,
    b"kind: neighbourhood\nhouseholds: 1e999\n",
    b"kind: neighbourhood\nhouseholds: [[[[1]]]]\n",
    b"kind: live\nsources: 5\n",
    b"&a [*a]",
    b"!!python/object/apply:os.system ['true']",
]

yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                 max_size=4),
    max_leaves=20)


def _scenario_or_error(path: Path) -> None:
    with contextlib.suppress(ScenarioError):
        load_scenario(str(path))


def _config_or_error(path: Path) -> None:
    with contextlib.suppress(LiveConfigError):
        load_config(path)


@pytest.mark.parametrize("raw", REGRESSIONS)
def test_regressions_end_in_the_loaders_own_errors(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "input.yaml"
    path.write_bytes(raw)
    _scenario_or_error(path)
    _config_or_error(path)


@pytest.mark.parametrize("value", ["[" * 100_000, "{a: " * 20_000, "1e999", "\udcff"])
def test_set_values_end_in_the_scenario_error(value: str) -> None:
    with pytest.raises(ScenarioError):
        load_scenario("neighbourhood", [f"households={value}"])


@FUZZ
@given(items=st.lists(st.text(max_size=40), max_size=4))
def test_any_set_items(items: list[str]) -> None:
    with contextlib.suppress(ScenarioError):
        load_scenario("neighbourhood", items)


@FUZZ
@given(raw=st.binary(max_size=2_000))
def test_any_bytes(tmp_path_factory: pytest.TempPathFactory, raw: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "input.yaml"
    path.write_bytes(raw)
    _scenario_or_error(path)
    _config_or_error(path)


@FUZZ
@given(data=st.dictionaries(st.sampled_from(
    ["kind", "households", "days", "seed", "mechanism", "mechanism_options", "policies",
     "meters", "tariffs", "strategy", "sources", "meters_file", "ledger", "broker", "name"]),
    yaml_values, max_size=6))
def test_any_mapping(tmp_path_factory: pytest.TempPathFactory, data: dict[str, Any]) -> None:
    with contextlib.suppress(LiveConfigError):
        parse_config(data, tmp_path_factory.mktemp("cfg"))

    path = tmp_path_factory.mktemp("scn") / "s.yaml"
    path.write_text(yaml.safe_dump({"kind": "neighbourhood", **data}), encoding="utf-8")
    _scenario_or_error(path)
