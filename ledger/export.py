"""Export a ledger to tables (CSV or Parquet) for analysis: blocks, transactions, balances.

Why flat tables with a fixed schema: researchers load them into pandas or a
spreadsheet; every kind maps onto the same columns (party, asset, amount,
energy, reference) and the full canonical body is kept as JSON text, so nothing
is lost. Rows are written in chunks, so a chain of millions of transactions is
exported with bounded memory.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq

from gridcoop.ledger.envelope import SignedTx
from gridcoop.ledger.errors import LedgerError
from gridcoop.ledger.ledger import Ledger

FORMATS: Final = ("csv", "parquet")
BLOCK_COLUMNS: Final[dict[str, Any]] = {
    "height": pa.int64(), "hash": pa.string(), "prev_hash": pa.string(),
    "merkle_root": pa.string(), "time_s": pa.int64(), "tx_count": pa.int64(),
    "state_hash": pa.string(), "validators": pa.string()}
TX_COLUMNS: Final[dict[str, Any]] = {
    "height": pa.int64(), "index": pa.int64(), "time_s": pa.int64(), "txid": pa.string(),
    "kind": pa.string(), "issuer": pa.string(), "nonce": pa.int64(), "party": pa.string(),
    "party2": pa.string(), "asset": pa.string(), "amount": pa.int64(),
    "energy_wh": pa.int64(), "ref": pa.string(), "signed": pa.bool_(), "body": pa.string()}
BALANCE_COLUMNS: Final[dict[str, Any]] = {
    "account": pa.string(), "role": pa.string(), "asset": pa.string(), "balance": pa.int64()}
_PARTY: Final = ("to", "payee", "seller", "account", "target", "subject", "owner")
_AMOUNT: Final = ("amount", "amount_eur_u")
_ENERGY: Final = ("energy_wh", "delivered_wh", "import_wh")
_REF: Final = ("listing_id", "escrow_id", "resource_id", "appliance", "command_txid")
_ASSET_BY_KIND: Final = {"trade": "eur_u", "grid_settlement": "eur_u", "reward": "token"}


def _first(tx: object, names: tuple[str, ...]) -> Any:
    for name in names:
        if hasattr(tx, name):
            return getattr(tx, name)
    return None


def _tx_row(height: int, index: int, time_s: int, stx: SignedTx) -> dict[str, Any]:
    tx = stx.tx
    return {"height": height, "index": index, "time_s": time_s, "txid": stx.txid_hex,
            "kind": tx.kind, "issuer": tx.issuer, "nonce": tx.nonce,
            "party": _first(tx, _PARTY), "party2": getattr(tx, "buyer", None),
            "asset": getattr(tx, "asset", _ASSET_BY_KIND.get(tx.kind)),
            "amount": _first(tx, _AMOUNT), "energy_wh": _first(tx, _ENERGY),
            "ref": _first(tx, _REF), "signed": bool(stx.sig),
            "body": stx.head.decode("ascii")}  # a columnar record: its signed JSON head


class _TableWriter:
    """Append rows to one CSV or Parquet file in chunks."""

    def __init__(self, path: Path, columns: dict[str, Any], fmt: str) -> None:
        self.path = path
        self.columns = columns
        self.fmt = fmt
        self.rows: list[dict[str, Any]] = []
        self.count = 0
        self._parquet: Any = None
        self._csv_file: Any = None
        self._csv: Any = None
        if fmt == "csv":
            self._csv_file = path.open("w", newline="", encoding="utf-8")
            self._csv = csv.DictWriter(self._csv_file, fieldnames=list(columns))
            self._csv.writeheader()
        else:
            schema = pa.schema(list(columns.items()))
            self._parquet = pq.ParquetWriter(str(path), schema)

    def add(self, row: dict[str, Any], chunk_rows: int) -> None:
        self.rows.append(row)
        if len(self.rows) >= chunk_rows:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        if self._csv is not None:
            self._csv.writerows(self.rows)
        else:
            table = pa.Table.from_pylist(self.rows, schema=self._parquet.schema)
            self._parquet.write_table(table)
        self.count += len(self.rows)
        self.rows = []

    def close(self) -> None:
        self.flush()
        if self._csv_file is not None:
            self._csv_file.close()
        if self._parquet is not None:
            self._parquet.close()


def _rows(book: Ledger) -> Iterator[tuple[str, dict[str, Any]]]:
    for block in book.blocks():
        h = block.header
        yield "blocks", {"height": h.height, "hash": block.hash.hex(),
                         "prev_hash": h.prev_hash.hex(), "merkle_root": h.merkle_root.hex(),
                         "time_s": h.time_s, "tx_count": h.tx_count,
                         "state_hash": h.state_hash.hex(),
                         "validators": ",".join(s.validator_key.hex() for s in block.seals)}
        for index, stx in enumerate(block.transactions()):
            yield "transactions", _tx_row(h.height, index, h.time_s, stx)
    for (account, asset), amount in sorted(book.state.balances.items()):
        member = book.state.members.get(account)
        yield "balances", {"account": account, "role": member.role if member else "external",
                           "asset": asset, "balance": amount}


def export_ledger(path: str | os.PathLike[str], out_dir: str | os.PathLike[str],
                  fmt: str = "csv", chunk_rows: int = 50_000) -> dict[str, Path]:
    """Write ``blocks``, ``transactions`` and ``balances`` tables; return their paths."""
    if fmt not in FORMATS:
        raise LedgerError(f"unknown export format {fmt!r}; choose one of {FORMATS}")
    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    tables = {"blocks": BLOCK_COLUMNS, "transactions": TX_COLUMNS, "balances": BALANCE_COLUMNS}
    with Ledger.open(path, readonly=True, workers=0) as book:
        writers = {name: _TableWriter(target / f"{name}.{fmt}", columns, fmt)
                   for name, columns in tables.items()}
        try:
            for name, row in _rows(book):
                writers[name].add(row, chunk_rows)
        finally:
            for writer in writers.values():
                writer.close()
    return {name: writer.path for name, writer in writers.items()}
