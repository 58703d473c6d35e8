"""Ledger benchmark: append and full re-verification under both signing policies.

Each phase runs in a fresh child process so its peak memory (own RSS plus its
verification workers) is measured alone. Figures:

- ``full.append_tx_per_s``: transactions arriving as signed bytes, decoded,
  every signature verified (on all cores), applied, and every block committed
  durably (SQLite WAL, synchronous=FULL); signing by the issuers is not timed.
- ``full.reverify_tx_per_s``: ``verify`` of the whole stored chain from genesis
  (links, seals, Merkle roots, every signature, re-executed state).
- ``block.append_tx_per_s``: the simulation path (bound wallets build, encode
  and apply transactions; validators seal and commit each block).
- ``block.reverify_tx_per_s``: the same full re-verification for that chain.
- ``records``: trades per second through columnar auction and settlement
  records (``ledger_records``).

The machine may be shared: each phase also reports the CPU seconds it used
(main process plus verification workers), the load average, and
``cpu_bound_tx_per_s``, the rate it would reach with every core to itself.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

from gridcoop.experiments.bench import ledger_records as records
from gridcoop.ledger import KeyPair, Ledger, Member
from gridcoop.ledger.envelope import SignedTx
from gridcoop.ledger.transactions import Transfer

SEED = b"gridcoop-ledger-bench"
MEMBERS = 1000
BLOCK_TXS = 2000
SIGN_CHUNK = 50_000


def _keys(index: int) -> KeyPair:
    return Member.from_seed(SEED, f"bench-{index:05d}")[1]


def _transfer(t: int, accounts: list[str]) -> Transfer:
    """Transaction number ``t``: member t % N pays 1 eur_u to a rotating other member."""
    member, rounds = t % MEMBERS, t // MEMBERS
    to = (member + 1 + rounds % (MEMBERS - 1)) % MEMBERS
    return Transfer(accounts[member], rounds, accounts[to], "eur_u", 1, "")


_WORKER_KEYS: list[KeyPair] = []


def _sign_range(start: int, stop: int, chain_id: str) -> list[tuple[bytes, bytes]]:
    """Issuers sign their transactions (runs in a worker; not timed)."""
    if not _WORKER_KEYS:
        _WORKER_KEYS.extend(_keys(i) for i in range(MEMBERS))
    accounts = [k.account for k in _WORKER_KEYS]
    out = []
    for t in range(start, stop):
        stx = SignedTx.build(_transfer(t, accounts), chain_id, _WORKER_KEYS[t % MEMBERS])
        out.append((stx.body, stx.sig))
    return out


def _setup(path: str, signing: str) -> tuple[Ledger, list[str]]:
    market = KeyPair.derive(SEED, "market")
    book = Ledger.create(path, authority=market, signing=signing, key_origin="seed")
    accounts = []
    for i in range(MEMBERS):
        member, keys = Member.from_seed(SEED, f"bench-{i:05d}")
        book.register(member)
        book.add_signer(keys)
        accounts.append(member.account)
    for account in accounts:
        book.market.mint(account, "eur_u", 10**12)
    book.seal_block(0)
    return book, accounts


def _append_full(path: str, total: int) -> dict[str, Any]:
    book, _accounts = _setup(path, "full")
    context = multiprocessing.get_context("spawn")
    timed = main_cpu = 0.0
    blocks = 0
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1, mp_context=context) as signers:
        for chunk_start in range(0, total, SIGN_CHUNK):
            chunk_stop = min(total, chunk_start + SIGN_CHUNK)
            step = -(-(chunk_stop - chunk_start) // 8)
            parts = signers.map(_sign_range, range(chunk_start, chunk_stop, step),
                                [min(chunk_stop, s + step)
                                 for s in range(chunk_start, chunk_stop, step)],
                                ["gridcoop"] * 8)
            wire = [pair for part in parts for pair in part]
            began, cpu_began = time.perf_counter(), time.process_time()
            for offset in range(0, len(wire), BLOCK_TXS):
                batch = [SignedTx.from_parts(body, sig)
                         for body, sig in wire[offset:offset + BLOCK_TXS]]
                book.submit_many(batch)
                blocks += 1
                book.seal_block(blocks)
            timed += time.perf_counter() - began
            main_cpu += time.process_time() - cpu_began
    signers_cpu = _children_cpu()
    head = book.head_hash
    book.close()  # reaps the verification workers
    workers_cpu = _children_cpu() - signers_cpu
    return {"transactions": total, "seconds": timed, "tx_per_s": total / timed,
            "blocks": blocks, "head_hash": head, **_cpu_figures(total, main_cpu, workers_cpu)}


def _append_block(path: str, total: int) -> dict[str, Any]:
    book, accounts = _setup(path, "block")
    wallets = [book.wallet(a) for a in accounts]
    began, cpu_began = time.perf_counter(), time.process_time()
    blocks = 0
    for t in range(total):
        member, rounds = t % MEMBERS, t // MEMBERS
        wallets[member].transfer(accounts[(member + 1 + rounds % (MEMBERS - 1)) % MEMBERS],
                                 "eur_u", 1)
        if (t + 1) % BLOCK_TXS == 0 or t + 1 == total:
            blocks += 1
            book.seal_block(blocks)
    seconds = time.perf_counter() - began
    cpu = time.process_time() - cpu_began
    head = book.head_hash
    book.close()
    return {"transactions": total, "seconds": seconds, "tx_per_s": total / seconds,
            "blocks": blocks, "head_hash": head, **_cpu_figures(total, cpu, 0.0)}


def _reverify(path: str, _total: int) -> dict[str, Any]:
    began = time.perf_counter()
    with Ledger.open(path, readonly=True) as book:
        opened = time.perf_counter() - began
        began, cpu_began = time.perf_counter(), time.process_time()
        report = book.verify()
        seconds = time.perf_counter() - began
        main_cpu = time.process_time() - cpu_began
    if not report.ok:
        raise RuntimeError(f"benchmark chain failed verification: {report}")
    return {"transactions": report.transactions, "blocks": report.blocks, "seconds": seconds,
            "tx_per_s": report.transactions / seconds, "open_seconds": opened,
            **_cpu_figures(report.transactions, main_cpu, _children_cpu())}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cpu_figures(transactions: int, main_cpu: float, workers_cpu: float) -> dict[str, float]:
    """CPU used by the phase (main process and its verification workers).

    ``cpu_bound_tx_per_s`` is the rate if the phase had every core to itself
    (the work spread over the cores, but never faster than the main process
    alone): the machine is shared, so wall-clock rates vary with others' load.
    """
    cores = os.cpu_count() or 1
    floor_s = max(main_cpu, (main_cpu + workers_cpu) / cores, 1e-9)
    return {"cpu_seconds": main_cpu + workers_cpu, "main_cpu_seconds": main_cpu,
            "cpu_bound_tx_per_s": transactions / floor_s,
            "load_average_1min": os.getloadavg()[0]}


_PHASES: dict[str, Callable[[str, int], dict[str, Any]]] = {
    "append_full": _append_full, "append_block": _append_block, "reverify": _reverify}


def _child(phase: str, path: str, total: int, conn: Connection) -> None:
    try:
        figures = _PHASES[phase](path, total)
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        figures["peak_rss_mb"] = own
        figures["peak_rss_worker_mb"] = workers
        figures["peak_rss_total_mb_upper_bound"] = own + workers * (os.cpu_count() or 1)
        conn.send(("ok", figures))
    except BaseException as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        raise


def _in_child(phase: str, path: str, total: int) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(phase, path, total, send))
    process.start()
    status, payload = receive.recv()
    process.join()
    if status != "ok":
        raise RuntimeError(f"ledger benchmark phase {phase} failed: {payload}")
    result: dict[str, Any] = payload
    return result


def _policy(signing: str, total: int, folder: str) -> dict[str, Any]:
    path = os.path.join(folder, f"{signing}.sqlite")
    append = _in_child(f"append_{signing}", path, total)
    size_mb = sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p)) / 2**20
    reverify = _in_child("reverify", path, total)
    return {"append_tx_per_s": append["tx_per_s"], "reverify_tx_per_s": reverify["tx_per_s"],
            "append_cpu_bound_tx_per_s": append["cpu_bound_tx_per_s"],
            "reverify_cpu_bound_tx_per_s": reverify["cpu_bound_tx_per_s"],
            "reverify_peak_rss_mb": reverify["peak_rss_total_mb_upper_bound"],
            "file_mb": size_mb, "append": append, "reverify": reverify}


def run(quick: bool) -> dict[str, Any]:
    """Figures for ``gridcoop bench ledger`` (quick: 20,000 transactions per chain)."""
    total = 20_000 if quick else 1_000_000
    folder = tempfile.mkdtemp(prefix="gridcoop-ledger-bench-")
    try:
        return {"transactions_per_chain": total, "members": MEMBERS, "block_txs": BLOCK_TXS,
                "cores": os.cpu_count(), "full": _policy("full", total, folder),
                "block": _policy("block", total, folder), "records": records.run(quick)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
