"""The worked example in ``gridcoop.ledger.ledger``'s docstring runs as written."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import gridcoop.ledger.ledger as ledger_module


def test_docstring_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run").mkdir()
    doc = ledger_module.__doc__
    assert doc is not None
    namespace: dict[str, object] = {}
    exec(textwrap.dedent(doc.split("::", 1)[1]), namespace)
    book = namespace["book"]
    assert isinstance(book, ledger_module.Ledger)
    alice = namespace["alice"]
    assert book.balance(alice.account) == 34_000  # type: ignore[attr-defined]
    for name in ("book", "replica"):
        namespace[name].close()  # type: ignore[attr-defined]
