"""Reading a live ledger back: any file gives the journal's rows or the ledger's own error."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridcoop.experiments.live.journal import appliance_number, journal_rows
from gridcoop.ledger.errors import LedgerError
from tests.fuzz.budget import FUZZ


@pytest.mark.parametrize(
    ("text", "number"),
    [("0", 0), ("7", 7), ("255", 255), ("256", None), ("²", None), ("١", None), ("", None),
     ("9" * 5000, None), ("-1", None), ("all", None), (" 7", None)],
)
def test_appliance_numbers(text: str, number: int | None) -> None:
    assert appliance_number(text) == number


@FUZZ
@given(st.text(max_size=10))
def test_appliance_number_any_text(text: str) -> None:
    number = appliance_number(text)
    assert number is None or 0 <= number <= 255


@pytest.mark.parametrize("content", [b"", b"junk" * 100, b"SQLite format 3\x00" + bytes(200)])
def test_a_file_that_is_not_a_ledger_is_a_ledger_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "live.sqlite"
    path.write_bytes(content)
    with pytest.raises(LedgerError, match=r"live\.sqlite"):
        journal_rows(path)


def test_a_missing_ledger_is_a_ledger_error(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="no ledger"):
        journal_rows(tmp_path / "missing.sqlite")
