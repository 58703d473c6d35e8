"""Ed25519 verification of many transactions on all cores.

Why processes: one core verifies about 10,000 signatures per second with
``cryptography``, and the GIL keeps threads from doing better. The ledger hands
a block's (public key, signature, message) triples to a pool of worker
processes and applies the state in the main process meanwhile; the first bad
index comes back. Workers are started with ``spawn`` (safe in threaded
programs), so scripts that sign in ``full`` mode need the usual
``if __name__ == "__main__":`` guard.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Final

from ledger.identity import verify_signature

Item = tuple[bytes, bytes, bytes]  # public key, signature, message
MIN_PARALLEL: Final = 256


def verify_chunk(offset: int, items: Sequence[Item]) -> int | None:
    """Verify items in order; return the absolute index of the first bad one, else None."""
    for index, (public_key, signature, message) in enumerate(items):
        if not verify_signature(public_key, signature, message):
            return offset + index
    return None


class PendingCheck:
    """The outcome of a verification started by ``SignatureVerifier.start``."""

    def __init__(self, items: Sequence[Item], futures: list[Future[int | None]]) -> None:
        self._items = items
        self._futures = futures

    def first_bad(self) -> int | None:
        """Wait for the result: index of the first invalid signature, or None if all valid."""
        if not self._futures:
            return verify_chunk(0, self._items)
        bad = [f.result() for f in self._futures]
        found = [b for b in bad if b is not None]
        return min(found) if found else None


class SignatureVerifier:
    """A lazily started process pool for batch verification (inline for small batches)."""

    def __init__(self, workers: int | None = None, min_parallel: int = MIN_PARALLEL) -> None:
        self.workers = (os.cpu_count() or 1) if workers is None else max(0, workers)
        self.min_parallel = min_parallel
        self._pool: ProcessPoolExecutor | None = None

    def start(self, items: Sequence[Item]) -> PendingCheck:
        """Begin verifying ``items``; returns at once when workers are used."""
        if self.workers < 1 or len(items) < self.min_parallel:
            return PendingCheck(items, [])
        pool = self._pool
        if pool is None:
            context = multiprocessing.get_context("spawn")
            pool = self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        chunks = self.workers * 2
        size = max(64, -(-len(items) // chunks))
        futures = [pool.submit(verify_chunk, start, list(items[start:start + size]))
                   for start in range(0, len(items), size)]
        return PendingCheck(items, futures)

    def close(self) -> None:
        """Stop the worker processes (idempotent)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
