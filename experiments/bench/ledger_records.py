"""Ledger benchmark, columnar records: trades recorded and settled per second.

Each auction of ``TRADES`` trades is one ``AuctionRecord`` (half the members
offer, half bid, each seller sells to one buyer) sealed in a block, then one
``SettlementRecord`` settles it in the next block with a shortfall on every
tenth trade. Figures per signing policy: trade rows per second through append
(build, encode, apply, seal, commit) and through a full re-verification of
the stored chain (decode, recompute every column root, re-apply, check every
signature under ``full``), each counted as auction row plus settlement row.
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any

import numpy as np

from gridcoop.ledger import KeyPair, Ledger, Member
from gridcoop.ledger.columns import ORDER_ROW, SETTLE_ROW, TRADE_ROW

SEED = b"gridcoop-ledger-records-bench"
TRADES = 1_000


def _setup(path: str, signing: str) -> tuple[Ledger, np.ndarray]:
    book = Ledger.create(path, authority=KeyPair.derive(SEED, "market"), signing=signing,
                         key_origin="seed")
    accounts = []
    for i in range(2 * TRADES):
        member, _keys = Member.from_seed(SEED, f"rec-{i:05d}")
        book.register(member)
        accounts.append(member.account)
    for account in accounts:
        book.market.mint(account, "eur_u", 10**12)
    book.seal_block(0)
    return book, np.array([bytes.fromhex(a) for a in accounts], dtype="S16")


def _columns(raw: np.ndarray, auction: int) -> tuple[bytes, bytes, bytes]:
    """Book, trades and settlement rows of auction number ``auction``."""
    sellers, buyers = raw[:TRADES], np.roll(raw[TRADES:], auction)
    energy = 100 + (np.arange(TRADES) * 7 + auction) % 900
    orders = np.empty(2 * TRADES, dtype=[("a", "S16"), ("s", "u1"), ("e", ">i8"),
                                         ("p", ">i8")])
    orders["a"] = np.concatenate([sellers, buyers])
    orders["s"] = np.repeat([0, 1], TRADES)
    orders["e"] = np.concatenate([energy, energy])
    orders["p"] = 80_000
    trades = np.empty(TRADES, dtype=[("s", "S16"), ("b", "S16"), ("e", ">i8"), ("p", ">i8")])
    trades["s"], trades["b"], trades["e"], trades["p"] = sellers, buyers, energy, 85_000
    settle = np.empty(TRADES, dtype=[("d", ">i8"), ("g", ">i8")])
    short = np.where(np.arange(TRADES) % 10 == 0, 3, 0)
    settle["d"], settle["g"] = energy - short, short
    assert orders.itemsize == ORDER_ROW.size and trades.itemsize == TRADE_ROW.size
    assert settle.itemsize == SETTLE_ROW.size
    return orders.tobytes(), trades.tobytes(), settle.tobytes()


def _policy(signing: str, auctions: int, folder: str) -> dict[str, Any]:
    path = os.path.join(folder, f"records-{signing}.sqlite")
    book, raw = _setup(path, signing)
    columns = [_columns(raw, a) for a in range(auctions)]
    began, cpu = time.perf_counter(), time.process_time()
    height = 0
    for a, (orders, trades, settle) in enumerate(columns):
        record = book.market.auction(f"a{a:06d}", a * 3600, (a + 1) * 3600, orders, trades)
        height += 1
        book.seal_block(height)
        book.market.settlement(record.txid_hex, 100_000, settle)
        height += 1
        book.seal_block(height)
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    book.close()
    rows = 2 * TRADES * auctions
    with Ledger.open(path, readonly=True) as reopened:
        began, vcpu = time.perf_counter(), time.process_time()
        report = reopened.verify()
        vseconds, vcpu = time.perf_counter() - began, time.process_time() - vcpu
    if not report.ok:
        raise RuntimeError(f"records benchmark chain failed verification: {report}")
    return {"trade_rows": rows, "append_rows_per_s": round(rows / seconds),
            "append_rows_per_cpu_s": round(rows / cpu),
            "reverify_rows_per_s": round(rows / vseconds),
            "reverify_rows_per_cpu_s_main": round(rows / vcpu)}


def run(quick: bool) -> dict[str, Any]:
    """Trade rows per second for both signing policies (quick: 10 auctions)."""
    auctions = 10 if quick else 200
    with tempfile.TemporaryDirectory(prefix="gridcoop-records-bench-") as folder:
        return {"trades_per_auction": TRADES, "auctions": auctions,
                "block": _policy("block", auctions, folder),
                "full": _policy("full", auctions, folder)}
