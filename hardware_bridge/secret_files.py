"""Files that hold secrets (device registries, master keys): owner-only, or refused.

Why refuse rather than warn: a device key lets anyone forge that meter's
readings, so a registry or key file that other users can read is treated like
a wrong file. Files are written with mode 0600 through a temporary file in the
same directory, so a crash never leaves a half-written or readable copy.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from gridcoop.hardware_bridge.errors import ConfigError

MASTER_KEY_ENV = "GRIDCOOP_MASTER_KEY"


def read_secret_text(path: Path, what: str, max_bytes: int) -> str:
    """The UTF-8 text of an owner-only file, or ``ConfigError`` saying what to fix."""
    try:
        with path.open("rb") as handle:
            mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
            data = handle.read(max_bytes + 1)
    except FileNotFoundError as exc:
        raise ConfigError(f"{what} {path} does not exist") from exc
    except OSError as exc:
        raise ConfigError(f"{what} {path} cannot be read ({exc.strerror or exc})") from exc
    if os.name == "posix" and mode & 0o077:
        raise ConfigError(
            f"{what} {path} holds keys but other users can access it (mode {mode:04o}); "
            f"run `chmod 600 {path}`"
        )
    if len(data) > max_bytes:
        raise ConfigError(f"{what} {path} is larger than {max_bytes} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} {path} is not UTF-8 text (byte {exc.start})") from exc


def write_secret_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with mode 0600, replacing it atomically."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ConfigError(f"cannot write {path} ({exc.strerror or exc})") from exc


def master_key(path: Path | None, *, env: str = MASTER_KEY_ENV) -> bytes | None:
    """A master key (hex) from an owner-only file, else from ``$env``; None when neither.

    Never from the command line: argv is visible to every user of the machine.
    """
    if path is not None:
        text, where = read_secret_text(path, "master key file", 4096), str(path)
    elif os.environ.get(env):
        text, where = os.environ[env], f"${env}"
    else:
        return None
    try:
        key = bytes.fromhex(text.strip())
    except ValueError as exc:
        raise ConfigError(f"master key in {where} is not hex (64 digits)") from exc
    if len(key) < 16:
        raise ConfigError(f"master key in {where} has {len(key)} bytes; give at least 16")
    return key
