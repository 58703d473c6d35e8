"""Hostile inputs for the chaos suite: valid messages broken the ways an attacker would.

Why generated from valid ones: a message that is almost right reaches deeper
into the decoders than random bytes do. Every variant is meant to be refused;
the chaos suite counts how each one ended. Seeded, so a run is repeatable.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable, Iterator
from typing import Any

POISON_LITERALS: tuple[bytes, ...] = (
    b"1e999",
    b"-1e999",
    b"9" * 400,
    b"-" + b"9" * 5000,
    b"NaN",
    b"Infinity",
    b"1e30",
    b"1000000000000000000000000000000",
    b"4294967296",
    b"-1",
    b"0.5",
    b'"' + b"9" * 400 + b'"',
    b'"\\ud800"',
    b"[" * 200_000 + b"]" * 200_000,
    b'{"a":' * 40 + b"1" + b"}" * 40,
    b"{}",
    b"[]",
    b"null",
    b"true",
    b'"' + b"A" * 70_000 + b'"',
)
_MARKER = "@@HOSTILE@@"


def _fields(body: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value inside a decoded JSON body."""
    if isinstance(body, dict):
        for key, value in body.items():
            yield (*path, key)
            yield from _fields(value, (*path, key))
    elif isinstance(body, list):
        for index, value in enumerate(body):
            yield (*path, index)
            yield from _fields(value, (*path, index))


def with_literal(body: bytes, path: tuple[Any, ...], literal: bytes) -> bytes:
    """``body`` with the value at ``path`` replaced by raw JSON text ``literal``."""
    data = json.loads(body)
    target = data
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = _MARKER
    return json.dumps(data).encode().replace(f'"{_MARKER}"'.encode(), literal)


def _flip_payload_bit(body: bytes, rng: random.Random) -> bytes:
    """A forged frame: one bit of the base64 radio payload changed (the MAC must catch it)."""
    data = json.loads(body)
    holder, key = (data["uplink_message"], "frm_payload") if "uplink_message" in data else (
        data, "data")
    raw = bytearray(base64.b64decode(holder[key]))
    raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
    holder[key] = base64.b64encode(bytes(raw)).decode()
    return json.dumps(data).encode()


def _junk(rng: random.Random) -> bytes:
    size = rng.choice([0, 1, 7, 64, 1000])
    return bytes(rng.randrange(256) for _ in range(size))


def mutations(body: bytes, rng: random.Random) -> list[Callable[[], bytes]]:
    """Ways to break one valid message (each a thunk, so only the chosen one is built)."""
    paths = list(_fields(json.loads(body)))
    return [
        lambda: with_literal(body, rng.choice(paths), rng.choice(POISON_LITERALS)),
        lambda: with_literal(body, rng.choice(paths), rng.choice(POISON_LITERALS)),
        lambda: with_literal(body, rng.choice(paths), rng.choice(POISON_LITERALS)),
        lambda: _flip_payload_bit(body, rng),
        lambda: body[: rng.randrange(max(len(body), 1))],
        lambda: _junk(rng),
        lambda: rng.choice(POISON_LITERALS),
    ]


def hostile_variants(
    messages: list[tuple[str, bytes]], count: int, seed: int
) -> list[tuple[str, bytes]]:
    """``count`` broken copies of randomly chosen ``messages`` (same topics)."""
    rng = random.Random(seed)
    out: list[tuple[str, bytes]] = []
    for _ in range(count):
        topic, body = rng.choice(messages)
        out.append((topic, rng.choice(mutations(body, rng))()))
    return out


def interleave(
    valid: list[tuple[str, bytes]], hostile: list[tuple[str, bytes]], seed: int
) -> list[tuple[str, bytes]]:
    """Both lists merged at random positions, each keeping its own order."""
    rng = random.Random(seed)
    slots = [True] * len(valid) + [False] * len(hostile)
    rng.shuffle(slots)
    good, bad = iter(valid), iter(hostile)
    return [next(good) if is_valid else next(bad) for is_valid in slots]
