"""CurveZMQ key files of a multi-process run: the market's pair and one pair per worker.

Why files: workers on other machines authenticate with their key pair and
check the market's public key; copying ``market.key`` and one worker pair to
each machine is the whole set-up.
"""

from __future__ import annotations

from pathlib import Path

import zmq

from gridcoop.agents.bus.curve import CurveKeyPair


def make_keys(directory: Path, workers: int = 1) -> list[Path]:
    """Write ``market.key[_secret]`` and ``worker-<i>.key[_secret]`` into ``directory``.

    Copy the market's public key and one worker pair to each worker machine."""
    written = list(CurveKeyPair.generate().save(directory, "market"))
    for i in range(workers):
        written.extend(CurveKeyPair.generate().save(directory, f"worker-{i}"))
    return written


def load_market_keys(directory: Path) -> tuple[CurveKeyPair, list[bytes]]:
    """The market's pair and the public keys of every authorised worker (``worker-*.key``)."""
    keys = CurveKeyPair.load(directory / "market.key_secret")
    workers = [_public(p) for p in sorted(directory.glob("worker-*.key"))]
    return keys, workers


def load_worker_keys(directory: Path, name: str) -> tuple[CurveKeyPair, bytes]:
    """A worker's pair (``NAME.key_secret``) and the market's public key (``market.key``)."""
    return CurveKeyPair.load(directory / f"{name}.key_secret"), _public(directory / "market.key")


def _public(path: Path) -> bytes:
    public, _ = zmq.auth.load_certificate(str(path))
    return public
