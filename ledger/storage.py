"""SQLite storage: one file, WAL, one durable transaction per block.

Why one row per block (header, seals and the framed transactions as blobs):
appending a block is a single insert, so the simulation's append path stays
fast, and a block is either wholly there or not at all. ``synchronous=FULL``
makes SQLite fsync the write-ahead log at every commit: a block reported
committed survives a crash, SIGKILL or a power cut. A simulation's ledger
opts out (``power_safe=False``, ``synchronous=NORMAL``): a committed block
still survives SIGKILL (it is in the operating system's cache), and a power
cut leaves a consistent file that may lack its last blocks; the fsync at every
block was a tenth of a simulated market hour, and a simulation can be re-run.
Snapshots share the block's transaction.
The ``directory`` table holds members' personal profiles and is never part of
the chain (replicas do not receive it).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

from gridcoop.ledger.block import Block
from gridcoop.ledger.codec import parse_json
from gridcoop.ledger.errors import StorageError, UnreadableError
from gridcoop.ledger.identity import Member, Role

FORMAT: Final = "gridcoop-ledger/1"
MEMORY: Final = ":memory:"
_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS blocks (height INTEGER PRIMARY KEY, hash BLOB NOT NULL, "
    "header BLOB NOT NULL, seals BLOB NOT NULL, txs BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS snapshots (height INTEGER PRIMARY KEY, state BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS directory (account TEXT PRIMARY KEY, grid_id TEXT NOT NULL "
    "UNIQUE, display_name TEXT NOT NULL, contact TEXT NOT NULL, public_key BLOB NOT NULL, "
    "role TEXT NOT NULL, salt BLOB NOT NULL)",
)
TABLES: Final = frozenset({"meta", "blocks", "snapshots", "directory"})
META_KEYS: Final = frozenset({"format"})
Row = tuple[int, bytes, bytes, bytes, bytes]  # height, hash, header, seals, txs


def _write_hint(exc: sqlite3.Error) -> str:
    """What to do about a failed write, from SQLite's message."""
    text = str(exc).lower()
    if "full" in text:
        return "the disk is full; free space and retry"
    if "readonly" in text or "read-only" in text:
        return "the file or its file system is read-only; make it writable and retry"
    return "check the file and the disk and retry"


def _blob(value: object, what: str) -> bytes:
    """A stored blob as bytes; text (e.g. after a manual edit) is read as its UTF-8 bytes."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    raise StorageError(f"the {what} column holds {type(value).__name__}, not bytes; the file "
                       "was altered outside gridcoop")


def _as_row(found: tuple[object, ...]) -> Row:
    height = found[0]
    if not isinstance(height, int):
        raise StorageError(f"a block row has the height {height!r}; the file was altered")
    return (height, _blob(found[1], "hash"), _blob(found[2], "header"),
            _blob(found[3], "seals"), _blob(found[4], "txs"))


def _on_read_only_media(path: str) -> bool:
    """True when neither the file nor its folder can be written (e.g. a read-only mount)."""
    folder = os.path.dirname(os.path.abspath(path))
    return not os.access(folder, os.W_OK) and not os.access(path, os.W_OK)


def _open_hint(path: str, exc: sqlite3.Error, readonly: bool) -> str:
    if readonly:
        return "is it a gridcoop ledger?"
    if _on_read_only_media(path) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        return ("the file or its folder is read-only (a read-only file system?); make it "
                "writable, or open it read-only to inspect it")
    return _write_hint(exc)


class Store:
    """The ledger file. Not shared between writers; readers may open it read-only."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = False,
                 readonly: bool = False, power_safe: bool = True) -> None:
        self.path = str(path)
        self.power_safe = power_safe
        memory = self.path == MEMORY
        exists = not memory and Path(self.path).exists()
        if not create and not memory and not exists:
            raise UnreadableError(f"no ledger at {self.path}; create one with "
                                  "Ledger.create(...)")
        try:
            fmt = self._connect(readonly, memory, immutable=False)
        except sqlite3.Error as exc:
            if not (readonly and _on_read_only_media(self.path)):
                raise UnreadableError(f"cannot open ledger file {self.path}: {exc}; "
                                      f"{_open_hint(self.path, exc, readonly)}") from exc
            try:  # a WAL file on read-only media: nobody can write it, read it as is
                fmt = self._connect(readonly, memory, immutable=True)
            except sqlite3.Error as again:
                raise UnreadableError(f"cannot open ledger file {self.path}: {again}; is it "
                                      "a gridcoop ledger?") from again
        if fmt is None and not readonly:
            try:
                self.db.execute("INSERT INTO meta VALUES ('format', ?)", (FORMAT,))
            except sqlite3.Error as exc:
                raise StorageError(f"cannot initialise {self.path}: {exc}; "
                                   f"{_write_hint(exc)}") from exc
        elif fmt is not None and fmt[0] != FORMAT:
            raise StorageError(f"{self.path} has format {fmt[0]!r}, this code reads {FORMAT!r}")

    def _connect(self, readonly: bool, memory: bool, immutable: bool) -> tuple[object] | None:
        """Open the connection (and the schema when writable); the stored format, if any."""
        if readonly and not memory:
            uri = Path(self.path).resolve().as_uri() + ("?immutable=1" if immutable
                                                        else "?mode=ro")
            self.db = sqlite3.connect(uri, uri=True, isolation_level=None,
                                      check_same_thread=False)
        else:
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA busy_timeout = 10000")
        if not readonly:
            if not memory:
                self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute(f"PRAGMA synchronous = {'FULL' if self.power_safe else 'NORMAL'}")
            for statement in _SCHEMA:
                self.db.execute(statement)
        found: tuple[object] | None = self.db.execute(
            "SELECT value FROM meta WHERE key = 'format'").fetchone()
        return found

    @classmethod
    def create(cls, path: str | os.PathLike[str], genesis: Block, snapshot: bytes,
               power_safe: bool = True) -> Store:
        """A new ledger file holding its genesis block, created atomically.

        The file is built under a temporary name and renamed into place, so a
        crash during creation never leaves a half-made ledger at ``path``.
        """
        target = os.fspath(path)
        if target == MEMORY:
            store = cls(MEMORY, create=True)
            store.append(genesis, snapshot)
            return store
        if os.path.exists(target):
            raise StorageError(f"{target} already exists; open it with Ledger.open or choose "
                               "a new path")
        temporary = f"{target}.creating-{os.getpid()}"
        for leftover in (temporary, temporary + "-wal", temporary + "-shm"):
            if os.path.exists(leftover):
                os.remove(leftover)
        store = cls(temporary, create=True)
        try:
            store.append(genesis, snapshot)
            store.db.execute("PRAGMA journal_mode = DELETE")  # fold the WAL into the file
        finally:
            store.close()
        try:
            os.link(temporary, target)  # fails instead of replacing a file created meanwhile
        except FileExistsError as exc:
            os.remove(temporary)
            raise StorageError(f"{target} was created by another process meanwhile") from exc
        except OSError:
            os.rename(temporary, target)  # a filesystem without hard links
        else:
            os.remove(temporary)
        directory = os.open(os.path.dirname(os.path.abspath(target)), os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        return cls(target, power_safe=power_safe)

    # -- writing -----------------------------------------------------------------------------

    def append(self, block: Block, snapshot: bytes | None = None,
               members: Sequence[Member] = ()) -> None:
        """Store a block (and its snapshot and directory entries) in one durable commit."""
        db = self.db
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("INSERT INTO blocks VALUES (?, ?, ?, ?, ?)",
                           (block.height, block.hash, block.header_bytes, block.seals_bytes(),
                            block.tx_section))
                if snapshot is not None:
                    db.execute("INSERT INTO snapshots VALUES (?, ?)", (block.height, snapshot))
                if members:
                    db.executemany(
                        "INSERT OR REPLACE INTO directory VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [(m.account, m.grid_id, m.display_name, m.contact, m.public_key,
                          m.role, m.salt) for m in members])
                db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        except sqlite3.IntegrityError as exc:
            raise StorageError(f"block {block.height} is already stored in {self.path} "
                               f"(another writer?): {exc}") from exc
        except sqlite3.Error as exc:
            raise StorageError(f"cannot write block {block.height} to {self.path}: {exc}; the "
                               f"block was not committed (nothing stored before it is lost); "
                               f"{_write_hint(exc)}") from exc

    def _rollback(self) -> None:
        """Undo an open write, if SQLite has not already (it does on a full disk)."""
        if self.db.in_transaction:
            with contextlib.suppress(sqlite3.Error):  # the original error is the one to report
                self.db.execute("ROLLBACK")

    # -- reading -----------------------------------------------------------------------------

    def head(self) -> Row | None:
        """The highest stored block row, or None for an empty file."""
        return self._row("SELECT height, hash, header, seals, txs FROM blocks "
                         "ORDER BY height DESC LIMIT 1", ())

    def row(self, height: int) -> Row | None:
        """One stored block row."""
        return self._row("SELECT height, hash, header, seals, txs FROM blocks WHERE height = ?",
                         (height,))

    def _row(self, sql: str, args: tuple[int, ...]) -> Row | None:
        try:
            found = self.db.execute(sql, args).fetchone()
        except sqlite3.Error as exc:
            raise UnreadableError(f"cannot read {self.path}: {exc}") from exc
        return None if found is None else _as_row(found)

    def rows(self, start: int = 0, end: int | None = None) -> Iterator[Row]:
        """Stream stored block rows from ``start`` (one at a time: bounded memory)."""
        limit = -1 if end is None else end
        sql = ("SELECT height, hash, header, seals, txs FROM blocks WHERE height >= ? "
               "AND (? < 0 OR height <= ?) ORDER BY height")
        try:
            cursor = self.db.execute(sql, (start, limit, limit))
            while True:
                found = cursor.fetchone()
                if found is None:
                    return
                yield _as_row(found)
        except sqlite3.Error as exc:
            raise UnreadableError(f"cannot read {self.path}: {exc}") from exc

    def block_count(self) -> int:
        """Number of stored blocks."""
        return int(self.db.execute("SELECT COUNT(*) FROM blocks").fetchone()[0])

    def transaction_count(self) -> int:
        """Transactions in all stored blocks (reads the headers only, not the bodies)."""
        total = 0
        for (header,) in self.db.execute("SELECT header FROM blocks"):
            try:
                total += int(parse_json(_blob(header, "header"))["tx_count"])
            except (ValueError, KeyError, TypeError) as exc:
                raise StorageError(f"a stored header cannot be read ({exc}); run `gridcoop "
                                   f"ledger verify {self.path}`") from exc
        return total

    def latest_snapshot(self, at_most: int) -> tuple[int, bytes] | None:
        """The newest snapshot at or below a height."""
        found = self.db.execute("SELECT height, state FROM snapshots WHERE height <= ? "
                                "ORDER BY height DESC LIMIT 1", (at_most,)).fetchone()
        return None if found is None else (int(found[0]), _blob(found[1], "snapshot"))

    def snapshot(self, height: int) -> bytes | None:
        """The snapshot stored at a height, if any."""
        found = self.db.execute("SELECT state FROM snapshots WHERE height = ?",
                                (height,)).fetchone()
        return None if found is None else _blob(found[0], "snapshot")

    def member(self, account: str) -> Member | None:
        """A member's directory profile (operator's copy only)."""
        found = self.db.execute("SELECT grid_id, display_name, contact, public_key, role, salt "
                                "FROM directory WHERE account = ?", (account,)).fetchone()
        if found is None:
            return None
        role: Role = found[4]
        return Member(found[0], found[1], found[2], bytes(found[3]), role, bytes(found[5]))

    def directory_size(self) -> int:
        """Number of directory profiles."""
        return int(self.db.execute("SELECT COUNT(*) FROM directory").fetchone()[0])

    # -- integrity (what ``verify`` checks beyond the chain) ------------------------------------

    def query(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        """Rows of a read-only query, or ``UnreadableError``."""
        try:
            return list(self.db.execute(sql, args).fetchall())
        except sqlite3.Error as exc:
            raise UnreadableError(f"cannot read {self.path}: {exc}") from exc

    def stray_rows(self, head: int, snapshot_interval: int) -> list[str]:
        """Rows no ledger writes: other tables, triggers or views; unknown meta keys; block
        rows outside heights 0..head; snapshots at heights that are not snapshot heights."""
        found = [f"stray {kind} {name!r} in the file" for kind, name in self.query(
            "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_autoindex_%'")
            if kind != "table" or name not in TABLES]
        found += [f"stray meta row {key!r}" for (key,) in self.query("SELECT key FROM meta")
                  if key not in META_KEYS]
        found += [f"stray block row at height {h!r} (the chain is blocks 0..{head})"
                  for (h,) in self.query("SELECT height FROM blocks WHERE typeof(height) != "
                                         "'integer' OR height < 0 OR height > ?", (head,))]
        found += [f"stray snapshot row at height {h!r} (snapshots are taken every "
                  f"{snapshot_interval} blocks up to the head {head})"
                  for (h,) in self.query("SELECT height FROM snapshots")
                  if type(h) is not int or h < 0 or h > head or h % snapshot_interval]
        return found

    def directory_rows(self) -> list[tuple[object, ...]]:
        """Raw directory rows: account, grid id, name, contact, public key, role, salt."""
        return self.query("SELECT account, grid_id, display_name, contact, public_key, role, "
                          "salt FROM directory ORDER BY account")

    def close(self) -> None:
        """Close the file (idempotent)."""
        try:
            self.db.close()
        except sqlite3.Error as exc:
            raise StorageError(f"cannot close {self.path}: {exc}") from exc
