"""A full disk or a read-only file system ends in the ledger's own clear error, nothing lost.

The portable cases make SQLite itself fail the way the disk would (``max_page_count``
gives SQLite's own "database or disk is full", ``query_only`` its "readonly
database"); where the machine lets root mount a small tmpfs, the real thing runs too.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gridcoop.ledger import Ledger, StorageError
from tests.ledger.conftest import Community, build_community

MEMO = "x" * 200


def _fill(c: Community, count: int = 200) -> None:
    for _ in range(count):
        c.wallet("alice").transfer(c.accounts["bob"], "eur_u", 1, MEMO)


def _reopened_height(path: Path) -> int:
    with Ledger.open(path, readonly=True, workers=0) as book:
        assert book.verify(workers=0).ok
        return book.height


def test_full_disk_refuses_the_block_keeps_it_pending_and_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    c = build_community(path, signing="full")
    db = c.book.store.db
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages + 2}")
    _fill(c)
    with pytest.raises(StorageError, match="disk is full; free space and retry") as caught:
        c.book.seal_block(60)
    assert "cannot write block 2" in str(caught.value) and "not committed" in str(caught.value)
    assert "rollback" not in str(caught.value)
    assert c.book.height == 1 and c.book.pending_count == 200
    db.execute("PRAGMA max_page_count = 1073741823")  # space freed: the same block commits
    assert c.book.seal_block(60).height == 2
    c.book.close()
    assert _reopened_height(path) == 2


def test_read_only_database_refuses_the_block_clearly(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    c = build_community(path)
    c.book.store.db.execute("PRAGMA query_only = 1")
    _fill(c, 3)
    with pytest.raises(StorageError, match="read-only; make it writable and retry"):
        c.book.seal_block(60)
    assert c.book.pending_count == 3
    c.book.close()
    assert _reopened_height(path) == 1


@pytest.fixture
def small_mount(tmp_path: Path) -> Iterator[Path]:
    """A 300 kB tmpfs (root only); skipped where mounting is not allowed."""
    target = tmp_path / "mnt"
    target.mkdir()
    if os.geteuid() != 0 or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=150k", "tmpfs", str(target)],
            capture_output=True, check=False).returncode:
        pytest.skip("needs root and permission to mount a tmpfs")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def test_real_full_disk_then_read_only_remount(small_mount: Path) -> None:
    path = small_mount / "ledger.sqlite"
    c = build_community(path, signing="full")
    with pytest.raises(StorageError, match="disk is full") as caught:
        for step in range(100):
            _fill(c)
            c.book.seal_block(60 * (step + 1))
    assert "cannot rollback" not in str(caught.value)
    height = c.book.height
    c.book.close()
    subprocess.run(["mount", "-o", "remount,ro", str(small_mount)], check=True)
    with pytest.raises(StorageError, match="read-only"):  # at open, or at the first write
        book = Ledger.open(path, workers=0, signers=list(c.keys.values()))
        try:
            book.market.mint(book.authority, "eur_u", 1)
            book.seal_block(10**6)
        finally:
            book.close()
    assert _reopened_height(path) == height  # read-only media still verify
