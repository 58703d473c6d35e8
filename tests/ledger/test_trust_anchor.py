"""``gridcoop ledger verify`` with and without a trust anchor: every attack of the trust issue.

Each case edits a copy of one small chain the way an attacker with write access
to the file would, and checks the exit status (0 valid, 1 invalid, 2
unreadable) and that the report names the block or row.
"""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gridcoop.experiments.cli import main
from gridcoop.ledger import KeyPair, Ledger, Seal
from gridcoop.ledger.checkpoint import Checkpoint
from gridcoop.ledger.verify import (
    LEGACY_KEYS_NOTE,
    NO_CHECKPOINT_NOTE,
    NO_KEYS_NOTE,
    SEED_KEYS_NOTE,
)
from tests.ledger.conftest import Community, build_community

TRANSFERS = 4
HEAD = TRANSFERS + 1  # block 1 registers the community


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Community]:
    """Six blocks under ``full`` signing with random keys, a snapshot every 2 blocks."""
    folder = tmp_path_factory.mktemp("anchor")
    c = build_community(folder / "ledger.sqlite", signing="full", snapshot_interval=2,
                        key_origin="random")
    for b in range(TRANSFERS):
        c.wallet("alice").transfer(c.accounts["bob"], "eur_u", 100 + b)
        c.book.seal_block(900 * (b + 1))
    c.keys["market"].save(folder / "market.pem")
    (folder / "validators.txt").write_text(f"# the market\n{c.keys['market'].public_key.hex()}\n")
    c.book.close()
    return folder / "ledger.sqlite", c


@pytest.fixture
def copy(original: tuple[Path, Community], tmp_path: Path) -> Path:
    target = tmp_path / "ledger.sqlite"
    shutil.copy(original[0], target)
    return target


def _cli(*args: str) -> Result:
    return CliRunner().invoke(main, ["ledger", *args])


def _verify(path: Path, *anchor: str) -> Result:
    return _cli("verify", "--workers", "0", *anchor, str(path))


def _checkpoint(original: tuple[Path, Community], out: Path) -> Path:
    path, _c = original
    result = _cli("checkpoint", str(path), "--out", str(out), "--key",
                  str(path.parent / "market.pem"))
    assert result.exit_code == 0, result.output
    assert f"checkpoint of block {HEAD}" in result.output
    return out


def _sql(path: Path, *statements: str) -> None:
    with sqlite3.connect(path) as db:
        for statement in statements:
            db.execute(statement)


def test_valid_chain_without_anchor_says_what_was_not_checked(copy: Path) -> None:
    result = _verify(copy)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"ok: {HEAD + 1} blocks")
    assert NO_KEYS_NOTE in result.output and NO_CHECKPOINT_NOTE in result.output
    assert SEED_KEYS_NOTE not in result.output


def test_seed_derived_chain_is_reported(tmp_path: Path) -> None:
    c = build_community(tmp_path / "seeded.sqlite")
    c.book.close()
    result = _verify(tmp_path / "seeded.sqlite")
    assert result.exit_code == 0 and SEED_KEYS_NOTE in result.output


def test_truncated_tail_is_invalid_only_against_a_checkpoint(
        original: tuple[Path, Community], copy: Path, tmp_path: Path) -> None:
    point = _checkpoint(original, tmp_path / "head.checkpoint")
    assert _verify(copy, "--checkpoint", str(point)).exit_code == 0
    _sql(copy, f"DELETE FROM blocks WHERE height >= {HEAD - 1}",
         f"DELETE FROM snapshots WHERE height >= {HEAD - 1}")
    without = _verify(copy)
    assert without.exit_code == 0 and NO_CHECKPOINT_NOTE in without.output, without.output
    result = _verify(copy, "--checkpoint", str(point))
    assert result.exit_code == 1
    assert f"INVALID at block {HEAD - 1}: missing: the signed checkpoint names block {HEAD}" \
        in result.output and "2 block(s) were deleted" in result.output


def _rebuilt(tmp_path: Path, seed: bytes) -> Path:
    """The same community and transfers, rebuilt from scratch by someone with other keys."""
    c = build_community(tmp_path / "rebuilt.sqlite", signing="full", snapshot_interval=2,
                        seed=seed, key_origin="random")
    for b in range(TRANSFERS):
        c.wallet("alice").transfer(c.accounts["bob"], "eur_u", 100 + b)
        c.book.seal_block(900 * (b + 1))
    c.book.close()
    return tmp_path / "rebuilt.sqlite"


def test_rebuilt_history_is_caught_by_every_anchor(original: tuple[Path, Community],
                                                     tmp_path: Path) -> None:
    path, _c = original
    rebuilt = _rebuilt(tmp_path, b"mallory")
    assert _verify(rebuilt).exit_code == 0  # consistent with itself: only an anchor helps
    validators = path.parent / "validators.txt"
    genesis = _genesis_hash(path)
    point = _checkpoint(original, tmp_path / "cp")
    for anchor, words in ((("--validators", str(validators)), "not among the trusted"),
                          (("--genesis-hash", genesis), "is not the trusted"),
                          (("--checkpoint", str(point)), "belongs to another chain")):
        result = _verify(rebuilt, *anchor)
        assert result.exit_code == 1, result.output
        assert "INVALID at block 0" in result.output and words in result.output


def _genesis_hash(path: Path) -> str:
    with sqlite3.connect(path) as db:
        value: bytes = db.execute("SELECT hash FROM blocks WHERE height = 0").fetchone()[0]
    return value.hex()


def test_history_resealed_by_a_validator_is_caught_by_the_checkpoint(
        original: tuple[Path, Community], copy: Path, tmp_path: Path) -> None:
    """The operator's own key rewrites block 2 and reseals every block after it."""
    point = _checkpoint(original, tmp_path / "cp")
    _sql(copy, "DELETE FROM blocks WHERE height >= 2", "DELETE FROM snapshots WHERE height >= 2")
    market = KeyPair.load(original[0].parent / "market.pem")
    _path, c = original
    with Ledger.open(copy, signers=[market, *c.keys.values()], workers=0) as book:
        for b in range(1, HEAD):
            book.wallet(c.accounts["alice"]).transfer(c.accounts["carol"], "eur_u", 5_000 + b)
            book.seal_block(900 * (b + 1))
    assert _verify(copy).exit_code == 0
    result = _verify(copy, "--checkpoint", str(point))
    assert result.exit_code == 1
    assert f"INVALID at block {HEAD}" in result.output and "signed checkpoint" in result.output


def test_forged_checkpoint_is_refused(original: tuple[Path, Community], copy: Path,
                                      tmp_path: Path) -> None:
    point = Checkpoint.load(_checkpoint(original, tmp_path / "cp"))
    mallory = KeyPair.generate()
    unsigned = dataclasses.replace(point, seals=())
    forged = dataclasses.replace(point, seals=(Seal(mallory.public_key,
                                                    mallory.sign(unsigned.message())),))
    forged.save(tmp_path / "forged")
    result = _verify(copy, "--checkpoint", str(tmp_path / "forged"))
    assert result.exit_code == 1 and "0 valid seal(s)" in result.output


EDITS: dict[str, tuple[Callable[[Community], str], str]] = {
    "public key": (lambda c: f"UPDATE directory SET public_key = x'{'11' * 32}' WHERE account "
                             f"= '{c.accounts['alice']}'", "public key differs"),
    "role": (lambda c: f"UPDATE directory SET role = 'market' WHERE account = "
                       f"'{c.accounts['bob']}'", "role 'market' differs"),
    "contact": (lambda c: f"UPDATE directory SET contact = 'evil@example.org' WHERE account = "
                          f"'{c.accounts['carol']}'", "differs from the digest"),
    "stray directory": (lambda c: f"INSERT INTO directory VALUES ('{'ab' * 16}', 'g-x', 'X', "
                                  f"'', x'{'22' * 32}', 'member', x'00')", "no such account"),
    "stray snapshot": (lambda c: "INSERT INTO snapshots VALUES (3, x'7b7d')",
                       "stray snapshot row at height 3"),
    "snapshot past head": (lambda c: "INSERT INTO snapshots VALUES (6, x'7b7d')",
                           "stray snapshot row at height 6"),
    "stray meta": (lambda c: "INSERT INTO meta VALUES ('owner', 'me')", "stray meta row 'owner'"),
    "stray table": (lambda c: "CREATE TABLE notes (x)", "stray table 'notes'"),
    "stray trigger": (lambda c: "CREATE TRIGGER t AFTER INSERT ON blocks BEGIN SELECT 1; END",
                      "stray trigger 't'"),
    "stray block": (lambda c: "INSERT INTO blocks VALUES (-1, x'00', x'00', x'', x'')",
                    "stray block row at height -1"),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_edited_or_stray_rows_are_named(original: tuple[Path, Community], copy: Path,
                                        edit: str) -> None:
    statement, words = EDITS[edit]
    _sql(copy, statement(original[1]))
    result = _verify(copy)
    assert result.exit_code == 1, result.output
    assert result.output.startswith("INVALID") and words in result.output


def test_unreadable_files_and_anchors_exit_2(copy: Path, tmp_path: Path) -> None:
    (tmp_path / "junk.sqlite").write_bytes(b"not a database at all" * 100)
    half = tmp_path / "half.sqlite"
    half.write_bytes(copy.read_bytes()[:4096 + 100])
    (tmp_path / "bad.checkpoint").write_bytes(b"[" * 100_000)
    for args in ((str(tmp_path / "missing.sqlite"),), (str(tmp_path / "junk.sqlite"),),
                 (str(tmp_path),), (str(half),),
                 ("--checkpoint", str(tmp_path / "bad.checkpoint"), str(copy)),
                 ("--checkpoint", str(tmp_path / "absent"), str(copy)),
                 ("--validators", str(tmp_path / "junk.sqlite"), str(copy)),
                 ("--genesis-hash", "xyz", str(copy))):
        result = _cli("verify", "--workers", "0", *args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output and result.exception is not None


def test_checkpoint_command_takes_keys_from_env_and_refuses_open_key_files(
        original: tuple[Path, Community], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, _c = original
    monkeypatch.setenv("GRIDCOOP_LEDGER_KEY", str(path.parent / "market.pem"))
    assert _cli("checkpoint", str(path), "--out", str(tmp_path / "cp")).exit_code == 0
    loose = tmp_path / "loose.pem"
    loose.write_bytes((path.parent / "market.pem").read_bytes())
    loose.chmod(0o644)
    result = _cli("checkpoint", str(path), "--out", str(tmp_path / "cp2"), "--key", str(loose))
    assert result.exit_code == 2 and "accessible by other users" in result.output
    stranger = KeyPair.generate().save(tmp_path / "stranger.pem")
    result = _cli("checkpoint", str(path), "--out", str(tmp_path / "cp3"), "--key",
                  str(stranger))
    assert result.exit_code == 1 and "0 valid seal(s)" in result.output
    assert not (tmp_path / "cp3").exists()


def test_a_genesis_from_before_key_origins_still_verifies(tmp_path: Path) -> None:
    c = build_community(tmp_path / "old.sqlite", key_origin="")
    with sqlite3.connect(tmp_path / "old.sqlite") as db:
        (txs,) = db.execute("SELECT txs FROM blocks WHERE height = 0").fetchone()
    assert b"key_origin" not in txs
    c.book.close()
    result = _verify(tmp_path / "old.sqlite")
    assert result.exit_code == 0 and LEGACY_KEYS_NOTE in result.output
