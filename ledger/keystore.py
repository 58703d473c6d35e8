"""The key store: random Ed25519 keys in owner-only files, found by name, path or environment.

Why here, in the pure ledger package: a key file is part of what the ledger
owns on disk (like its SQLite file), ``KeyPair.save``/``load`` already enforce
mode 0600, and every caller that records real energy or money (live mode, the
``ledger checkpoint`` command) needs the same rules. Keys are generated at
random on first use and never derived from configuration, a name or a seed:
only someone who can read the store's files can sign.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Final

from gridcoop.ledger.errors import KeyFileError
from gridcoop.ledger.identity import KeyPair

STORE_ENV: Final = "GRIDCOOP_KEYSTORE"
"""Environment variable naming a key store directory (overrides a caller's default)."""
_NAME: Final = re.compile(r"[A-Za-z0-9._-]{1,120}")


def key_file_name(name: str) -> str:
    """The file of a key's name (``meter/n1`` -> ``meter__n1.pem``); refuses odd names."""
    stem = name.replace("/", "__")
    if _NAME.fullmatch(stem) is None or stem.startswith("."):
        raise KeyFileError(f"key name {name!r} must be 1-120 characters from [A-Za-z0-9._/-] "
                           "and not start with a dot")
    return f"{stem}.pem"


class KeyStore:
    """A directory of key files, mode 0700, one PKCS#8 PEM file (mode 0600) per key name."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            mode = stat.S_IMODE(self.directory.stat().st_mode)
        except OSError as exc:
            raise KeyFileError(f"cannot use the key store {self.directory}: "
                               f"{exc.strerror}") from exc
        if mode & 0o077:
            raise KeyFileError(f"the key store {self.directory} is accessible by other users "
                               f"(mode {mode:04o}); run `chmod 700 {self.directory}`")

    @classmethod
    def at(cls, default: str | os.PathLike[str]) -> KeyStore:
        """The store named by ``$GRIDCOOP_KEYSTORE``, else ``default``."""
        return cls(os.environ.get(STORE_ENV) or default)

    def path(self, name: str) -> Path:
        """Where the key called ``name`` is kept."""
        return self.directory / key_file_name(name)

    def has(self, name: str) -> bool:
        """True when the store holds a key of this name."""
        return self.path(name).exists()

    def load(self, name: str) -> KeyPair:
        """The stored key (``KeyFileError`` if missing, unreadable or readable by others)."""
        return KeyPair.load(self.path(name))

    def load_or_create(self, name: str) -> KeyPair:
        """The stored key, or a new random one saved (0600) under this name."""
        target = self.path(name)
        if target.exists():
            return KeyPair.load(target)
        keys = KeyPair.generate()
        keys.save(target)
        return keys


def key_from_env_or_path(path: str | os.PathLike[str] | None, env: str) -> KeyPair:
    """A key from an explicit file, else from the file named by environment variable ``env``.

    Secrets are never taken from the command line or a configuration file, only
    from a key file the owner alone can read.
    """
    chosen = os.fspath(path) if path is not None else os.environ.get(env)
    if not chosen:
        raise KeyFileError(f"no key given: pass a key file or set ${env} to one (create it "
                           "with KeyPair.generate().save(path))")
    return KeyPair.load(chosen)
