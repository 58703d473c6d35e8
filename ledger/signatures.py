"""Ed25519 verification of many transactions on all cores.

Why worker processes: one core verifies about 10,000 signatures per second with
``cryptography``, and the GIL keeps threads from doing better. Why plain
subprocesses (running ``worker_main``) talking a small binary protocol
over pipes, not ``multiprocessing``: they never re-import the host program's
``__main__`` (a Mesa model, a notebook, a script without a main guard) and are
safe to start from a threaded process. The ledger hands a block's (public key,
signature, message) triples to the workers and applies the state in the main
process meanwhile; the first bad index comes back.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Final

from gridcoop.ledger.errors import LedgerError
from gridcoop.ledger.identity import verify_signature

Item = tuple[bytes, bytes, bytes]  # public key, signature, message
MIN_PARALLEL: Final = 256
_COUNT: Final = struct.Struct(">I")
_RESULT: Final = struct.Struct(">q")
_ITEM_HEAD: Final = struct.Struct(">I")


def local_share(workers: int) -> float:
    """Share of a batch the calling process verifies itself.

    It also decodes and applies the batch (about 15% of a verification's cost per
    transaction), so with W workers an equal finish needs (1 - 0.15 W) / (W + 1).
    """
    return max(0.0, (1.0 - 0.15 * workers) / (workers + 1))


def verify_chunk(offset: int, items: Sequence[Item]) -> int | None:
    """Verify items in order; return the absolute index of the first bad one, else None."""
    for index, (public_key, signature, message) in enumerate(items):
        if not verify_signature(public_key, signature, message):
            return offset + index
    return None


def _encode(items: Sequence[Item]) -> bytes:
    parts = [_COUNT.pack(len(items))]
    for public_key, signature, message in items:
        if len(public_key) != 32 or len(signature) != 64:
            parts.append(bytes(32) + bytes(64) + _ITEM_HEAD.pack(0))  # verifies as invalid
            continue
        parts.append(public_key + signature + _ITEM_HEAD.pack(len(message)) + message)
    return b"".join(parts)


def _read_exact(stream: IO[bytes], size: int) -> bytes | None:
    data = stream.read(size)
    if data is None or len(data) < size:
        return None
    return data


def _decode_from(stream: IO[bytes]) -> list[Item] | None:
    head = _read_exact(stream, _COUNT.size)
    if head is None:
        return None
    (count,) = _COUNT.unpack(head)
    items: list[Item] = []
    for _ in range(count):
        fixed = _read_exact(stream, 100)
        if fixed is None:
            return None
        (length,) = _ITEM_HEAD.unpack_from(fixed, 96)
        message = _read_exact(stream, length) if length else b""
        if message is None:
            return None
        items.append((fixed[:32], fixed[32:96], message))
    return items


def worker_main() -> None:
    """Serve verification requests on stdin/stdout until stdin closes."""
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    while True:
        items = _decode_from(source)
        if items is None:
            return
        bad = verify_chunk(0, items)
        sink.write(_RESULT.pack(-1 if bad is None else bad))
        sink.flush()


class _Worker:
    def __init__(self) -> None:
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        command = "from gridcoop.ledger.signatures import worker_main; worker_main()"
        self.process = subprocess.Popen([sys.executable, "-c", command],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        env=env)

    def send(self, payload: bytes) -> None:
        stdin = self.process.stdin
        if stdin is None:
            raise LedgerError("signature worker has no input pipe")
        try:
            stdin.write(payload)
            stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise LedgerError(f"signature worker exited unexpectedly ({exc}); the verifier "
                              "restarts it on the next batch") from exc

    def receive(self) -> int | None:
        stdout = self.process.stdout
        data = _read_exact(stdout, _RESULT.size) if stdout is not None else None
        if data is None:
            raise LedgerError(f"signature worker exited unexpectedly (code "
                              f"{self.process.poll()}); the verifier restarts it on the next "
                              "batch")
        (bad,) = _RESULT.unpack(data)
        return None if bad < 0 else int(bad)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


class PendingCheck:
    """The outcome of a verification started by ``SignatureVerifier.start``.

    The workers check their shares meanwhile; the items from ``local_from`` on
    are checked by the calling process itself in ``first_bad`` (after it has
    applied the state), so its otherwise idle wait does useful work.
    """

    def __init__(self, items: Sequence[Item], jobs: list[tuple[_Worker, int]],
                 local_from: int = 0) -> None:
        self._items = items
        self._jobs = jobs
        self._local_from = local_from
        self._result: int | None = None
        self._done = False

    def first_bad(self) -> int | None:
        """Wait for the result: index of the first invalid signature, or None if all valid."""
        if self._done:
            return self._result
        found: list[int] = []
        local = verify_chunk(self._local_from, self._items[self._local_from:])
        if local is not None:
            found.append(local)
        failure: LedgerError | None = None
        for worker, offset in self._jobs:
            try:
                bad = worker.receive()
            except LedgerError as exc:
                failure = exc
                continue
            if bad is not None:
                found.append(offset + bad)
        self._done = True
        if failure is not None:
            raise failure
        self._result = min(found) if found else None
        return self._result


class SignatureVerifier:
    """Verification workers started on first use (inline for small batches or workers=0)."""

    def __init__(self, workers: int | None = None, min_parallel: int = MIN_PARALLEL) -> None:
        self.workers = (os.cpu_count() or 1) if workers is None else max(0, workers)
        self.min_parallel = min_parallel
        self._pool: list[_Worker] = []
        self._outstanding: PendingCheck | None = None

    def start(self, items: Sequence[Item]) -> PendingCheck:
        """Begin verifying ``items``; returns at once when workers are used."""
        self._drain()
        if self.workers < 1 or len(items) < self.min_parallel:
            return PendingCheck(items, [], 0)
        if len(self._pool) != self.workers or not all(w.alive() for w in self._pool):
            self.close()
            self._pool = [_Worker() for _ in range(self.workers)]
        local = int(len(items) * local_share(self.workers))
        shared = len(items) - local
        size = -(-shared // len(self._pool))
        jobs = []
        for worker, start in zip(self._pool, range(0, shared, size), strict=False):
            worker.send(_encode(items[start:min(start + size, shared)]))
            jobs.append((worker, start))
        pending = PendingCheck(items, jobs, shared)
        self._outstanding = pending
        return pending

    def _drain(self) -> None:
        """Read results nobody collected, so replies never get out of step."""
        pending, self._outstanding = self._outstanding, None
        if pending is not None:
            try:
                pending.first_bad()
            except LedgerError:
                self.close()

    def close(self) -> None:
        """Stop the worker processes (idempotent)."""
        self._outstanding = None
        pool, self._pool = self._pool, []
        for worker in pool:
            worker.stop()
