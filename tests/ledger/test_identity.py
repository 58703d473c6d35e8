"""Key pairs, key files, pseudonymous ids and member profiles."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gridcoop.ledger import KeyFileError, KeyPair, MalformedTransactionError, Member, WrongKeyError
from gridcoop.ledger.identity import account_id, is_account_id, verify_signature


def test_derived_keys_are_deterministic_and_independent() -> None:
    a1 = KeyPair.derive(b"seed-1", "alice")
    a2 = KeyPair.derive(b"seed-1", "alice")
    assert a1.public_key == a2.public_key and a1.seed == a2.seed
    assert KeyPair.derive(b"seed-1", "bob").public_key != a1.public_key
    assert KeyPair.derive(b"seed-2", "alice").public_key != a1.public_key
    # Ed25519 signatures are deterministic too: same key, same message, same bytes
    assert a1.sign(b"m") == a2.sign(b"m")


def test_seed_round_trip_and_wrong_length() -> None:
    pair = KeyPair.generate()
    assert KeyPair.from_seed(pair.seed).public_key == pair.public_key
    with pytest.raises(WrongKeyError, match="32 bytes"):
        KeyPair.from_seed(b"short")
    with pytest.raises(WrongKeyError, match="empty"):
        KeyPair.derive(b"", "x")


def test_account_id_is_a_pseudonymous_hash_of_the_key() -> None:
    pair = KeyPair.derive(b"s", "n")
    assert pair.account == account_id(pair.public_key)
    assert is_account_id(pair.account) and len(pair.account) == 32
    assert pair.public_key.hex() not in pair.account
    assert not is_account_id("ABCDEF" * 5 + "00")


def test_verify_signature() -> None:
    pair = KeyPair.derive(b"s", "n")
    sig = pair.sign(b"hello")
    assert verify_signature(pair.public_key, sig, b"hello")
    assert not verify_signature(pair.public_key, sig, b"hello!")
    assert not verify_signature(pair.public_key, sig[:63], b"hello")
    assert not verify_signature(b"\x00" * 31, sig, b"hello")


def test_key_file_is_owner_only_and_round_trips(tmp_path: Path) -> None:
    pair = KeyPair.derive(b"s", "file")
    path = pair.save(tmp_path / "market.key")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert KeyPair.load(path).public_key == pair.public_key
    assert KeyPair.load(path, expected_account=pair.account).account == pair.account
    with pytest.raises(KeyFileError, match="already exists"):
        pair.save(path)


def test_key_file_with_passphrase(tmp_path: Path) -> None:
    pair = KeyPair.derive(b"s", "locked")
    path = pair.save(tmp_path / "k.pem", passphrase=b"correct horse")
    assert KeyPair.load(path, passphrase=b"correct horse").seed == pair.seed
    with pytest.raises(KeyFileError, match="passphrase"):
        KeyPair.load(path, passphrase=b"wrong")
    with pytest.raises(KeyFileError):
        KeyPair.load(path)


def test_missing_key_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="no key file"):
        KeyPair.load(tmp_path / "absent.key")


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = KeyPair.generate().save(tmp_path / "k.pem")
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        KeyPair.load(path)


def test_wrong_key_is_named(tmp_path: Path) -> None:
    path = KeyPair.derive(b"s", "bob").save(tmp_path / "bob.pem")
    alice = KeyPair.derive(b"s", "alice").account
    with pytest.raises(WrongKeyError, match=alice):
        KeyPair.load(path, expected_account=alice)


def test_garbage_and_foreign_key_files(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"not a key")
    junk.chmod(0o600)
    with pytest.raises(KeyFileError, match="PKCS#8"):
        KeyPair.load(junk)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    foreign = tmp_path / "ec.pem"
    foreign.write_bytes(ec_key.private_bytes(serialization.Encoding.PEM,
                                             serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
    foreign.chmod(0o600)
    with pytest.raises(KeyFileError, match="not an Ed25519 key"):
        KeyPair.load(foreign)


def test_member_profiles_are_deterministic_from_a_seed() -> None:
    m1, k1 = Member.from_seed(b"seed", "grid-7", "Ana", "ana@example.org")
    m2, k2 = Member.from_seed(b"seed", "grid-7", "Ana", "ana@example.org")
    assert m1 == m2 and k1.seed == k2.seed
    assert m1.account == k1.account
    assert m1.profile_digest() == m2.profile_digest()
    renamed = Member(m1.grid_id, "Ana B.", m1.contact, m1.public_key, m1.role, m1.salt)
    assert renamed.profile_digest() != m1.profile_digest()
    fresh = Member.new("grid-7", "Ana", "ana@example.org", k1.public_key)
    assert fresh.salt != m1.salt  # random salt: the digest cannot be confirmed by guessing


def test_member_validation() -> None:
    key = KeyPair.derive(b"s", "m").public_key
    with pytest.raises(MalformedTransactionError, match="role"):
        Member("g", "n", "c", key, "admin", b"")  # type: ignore[arg-type]
    with pytest.raises(MalformedTransactionError, match="grid id"):
        Member("", "n", "c", key, "member", b"")
    with pytest.raises(MalformedTransactionError, match="32 bytes"):
        Member("g", "n", "c", key[:16], "member", b"")
