"""Deeply nested JSON anywhere the ledger decodes ends in the ledger's own error."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridcoop.jsondepth import json_depth, nests_deeper
from gridcoop.ledger import Block, Ledger, LedgerError
from gridcoop.ledger.block import BlockHeader
from gridcoop.ledger.codec import MAX_JSON_DEPTH, U32, parse_json
from gridcoop.ledger.envelope import decode_body
from gridcoop.ledger.errors import MalformedBlockError, MalformedTransactionError, StorageError
from gridcoop.ledger.state import State
from tests.ledger.conftest import build_community

DEEP = b"[" * 200_000 + b"]" * 200_000
DEEP_OBJECT = b'{"a":' * 100_000 + b"1" + b"}" * 100_000


def test_depth_is_counted_without_recursion_and_skips_strings() -> None:
    assert json_depth(b'[[1,"[[[\\"[",{"a":[2]}]]') == 4
    assert json_depth(DEEP) == 200_000
    assert json_depth(DEEP, stop_above=16) == 17  # the scan stops once past the limit
    assert json_depth(b'["unterminated [[[[') == 1  # an open string runs to the end
    assert not nests_deeper(b"[[[]]]", 3) and nests_deeper(b"[[[[]]]]", 3)
    assert parse_json(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH) is not None
    for data in (DEEP, DEEP_OBJECT, b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1)):
        with pytest.raises(ValueError, match="nested deeper"):
            parse_json(data)


def test_nested_header_body_and_snapshot_give_ledger_errors() -> None:
    with pytest.raises(MalformedBlockError, match="header cannot be parsed"):
        BlockHeader.from_bytes(DEEP)
    with pytest.raises(MalformedTransactionError, match="not JSON"):
        decode_body(DEEP_OBJECT)
    with pytest.raises(StorageError, match="snapshot cannot be decoded"):
        State.from_snapshot(DEEP)


def test_replica_refuses_a_block_with_a_nested_header(tmp_path: Path) -> None:
    c = build_community(tmp_path / "w.sqlite")
    replica = Ledger.replica(":memory:", c.book.block(0).to_bytes(), workers=0)
    wire = b"".join((b"GCB1", U32.pack(len(DEEP)), DEEP, U32.pack(0), U32.pack(0)))
    with pytest.raises(LedgerError, match="header cannot be parsed"):
        replica.apply_block(wire)
    with pytest.raises(LedgerError):
        Block.from_bytes(wire)
    replica.apply_block(c.book.block(1).to_bytes())  # still usable, nothing lost
    assert replica.head_hash == c.book.head_hash
    replica.close()
    c.book.close()
