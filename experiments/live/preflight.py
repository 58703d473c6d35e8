"""What a live start needs, checked before it starts (``gridcoop live CONFIG --check``).

Why a separate pass: a missing ``devices.yaml`` or an unset password variable
used to surface as a traceback halfway through opening the network servers,
and ``--check`` only validated the YAML. Here each need is checked on its own
and reported as one line naming the key and the fix: files (device registry,
key files), secrets (the variable or file each ``*_env`` / ``*_file`` names),
where the ledger goes (never inside the installed package, where it would end
up in a wheel), and, with ``network``, that every broker answers.
"""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import gridcoop
from gridcoop.experiments.live.config import LiveConfig, LiveConfigError

CONNECT_TIMEOUT_S = 3.0


def package_roots() -> list[Path]:
    """The installed package's folders (its top-level folders may be symlinks)."""
    top = Path(gridcoop.__file__).resolve().parent
    return [top, *(child.resolve() for child in top.iterdir() if child.is_dir())]


def inside_package(path: Path) -> bool:
    """Whether ``path`` lies inside the gridcoop package (an example config's folder)."""
    resolved = path.resolve()
    return any(resolved.is_relative_to(root) for root in package_roots())


def _secret_file(where: str, path: Path) -> str | None:
    if not path.is_file():
        return f"{where}: {path} does not exist"
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        return f"{where}: {path} is readable by others; chmod 600 {path}"
    return None


def preflight(config: LiveConfig, *, network: bool = True) -> list[str]:
    """Every problem that would stop a start, one line each (empty: ready to start)."""
    problems: list[str] = []
    ledger = config.resolve(config.ledger.path)
    if inside_package(ledger):
        problems.append(f"ledger.path: {ledger} is inside the installed gridcoop package; copy "
                        "the config to a folder of your own (relative paths follow it)")
    for name, server in config.sources.items():
        where = f"sources.{name}"
        registry = config.resolve(server.registry)
        if not registry.is_file():
            problems.append(f"{where}.registry: {registry} does not exist; write it with "
                            f"`gridcoop devices registry --meters N --out {registry}`")
        try:
            server.credentials.password()
        except LiveConfigError as exc:
            problems.append(f"{where}.{exc}")
        if server.credentials.password_file is not None:
            problem = _secret_file(f"{where}.credentials.password_file",
                                   config.resolve(server.credentials.password_file))
            if problem:
                problems.append(problem)
        if server.kind == "serial":
            url = server.url or ""
            if url.startswith("/") and not os.path.exists(url):
                problems.append(f"{where}.url: serial device {url} does not exist")
        elif network:
            try:
                socket.create_connection((server.host, server.port), CONNECT_TIMEOUT_S).close()
            except OSError as exc:
                problems.append(f"{where}: broker {server.host}:{server.port} does not answer "
                                f"({exc.strerror or exc}); start it, or fix host/port")
    if config.bus is not None:
        problem = _secret_file("bus.secret_key_file", config.resolve(config.bus.secret_key_file))
        if problem:
            problems.append(problem)
        for peer in config.bus.peers:
            key = config.resolve(peer.public_key_file)
            if not key.is_file():
                problems.append(f"bus.peers.{peer.name}.public_key_file: {key} does not exist")
    return problems
