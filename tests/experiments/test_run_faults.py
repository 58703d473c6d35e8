"""``gridcoop run`` on a full disk or a read-only folder: one line, no traceback; every block
the ledger reported sealed is still there and verifies."""

from __future__ import annotations

import subprocess
from pathlib import Path

from click.testing import CliRunner

from gridcoop.experiments.cli import main
from gridcoop.ledger import Ledger
from tests.ledger.test_faults import small_mount

__all__ = ["small_mount"]


def test_full_disk_and_read_only_folder(small_mount: Path) -> None:
    out = small_mount / "out"
    result = CliRunner().invoke(main, ["run", "market-only", "--out", str(out), "--quiet"])
    assert result.exit_code == 1, result.output
    assert "disk is full" in result.output and "Traceback" not in result.output
    with Ledger.open(out / "ledger.sqlite", readonly=True, workers=0) as book:
        assert book.height >= 1 and book.verify(workers=0).ok
    subprocess.run(["mount", "-o", "remount,ro", str(small_mount)], check=True)
    for target in (out, small_mount / "new"):
        result = CliRunner().invoke(main, ["run", "market-only", "--out", str(target), "--quiet"])
        assert result.exit_code == 2 and "Read-only file system" in result.output
