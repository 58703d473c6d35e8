"""``gridcoop run`` at the limits: the message size option, blocks in parts, many regions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gridcoop.agents.model.community import CommunityModel
from gridcoop.experiments.bench.peer_books import make_books
from gridcoop.experiments.bench.peers import write_scenario
from gridcoop.experiments.cli import main

BLOCK_TRADERS = 6_000  # per side: an hour's ledger block passes 1 MiB (about 1.1 MB)


@pytest.mark.parametrize(("value", "says"), [
    ("0", "0 is not in the range 1<=x<=65536"),
    ("-3", "-3 is not in the range 1<=x<=65536"),
    ("65537", "65537 is not in the range 1<=x<=65536"),
    ("lots", "'lots' is not a valid integer range"),
    ("1.5", "'1.5' is not a valid integer range"),
])
def test_max_message_mib_refuses_nonsense_in_one_line(value: str, says: str,
                                                      tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["run", "market-only", "--max-message-mib", value,
                                       "--out", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert errors == [f"Error: Invalid value for '--max-message-mib': {says}."]
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def big_blocks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A market-only scenario whose daily ledger block passes 1 MiB."""
    folder = tmp_path_factory.mktemp("books")
    return write_scenario(make_books(BLOCK_TRADERS, 1, 7), folder, "block")


def test_a_block_over_the_limit_stops_the_run_in_one_line(big_blocks: Path,
                                                           tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["run", str(big_blocks), "--max-message-mib", "1",
                                       "--out", str(tmp_path), "--quiet"])
    assert result.exit_code == 1, result.output
    [line] = result.output.splitlines()
    assert line.startswith("Error: ledger_block message") and "max_message_bytes=1048576" in line
    assert line.endswith("(here: --max-message-mib)")


@pytest.mark.slow
def test_blocks_over_a_part_travel_in_parts_between_processes(big_blocks: Path,
                                                               tmp_path: Path) -> None:
    runs = {}
    for name, extra in (("one", []), ("workers", ["--processes", "1"])):
        result = CliRunner().invoke(main, ["run", str(big_blocks), "--max-message-mib", "2",
                                           "--out", str(tmp_path / name), "--quiet", *extra])
        assert result.exit_code == 0, result.output
        runs[name] = json.loads((tmp_path / name / "summary.json").read_text())
    assert runs["one"]["ledger_head_hash"] == runs["workers"]["ledger_head_hash"]
    assert runs["one"]["trades"] > BLOCK_TRADERS


def test_a_hundred_regions_start_and_step_in_one_process() -> None:
    model = CommunityModel("neighbourhood", households=200, regions=120, days=1)
    try:
        for _ in range(8):
            model.step()
        assert len(model.aggregators) == 120
        assert len(model.bus.endpoints) > 3 * 120
    finally:
        model.close()
