"""CurveZMQ keys and the rule of who may connect, for buses that leave the machine.

Why one key pair per bus (per process): every endpoint both binds (its ROUTER
and XPUB act as CurveZMQ servers) and connects (its DEALERs and SUB act as
clients), so one pair covers both roles. The peer's public key is pinned when
the peer is added; a client whose public key is not listed is refused during
the handshake by a ZAP handler (pyzmq's ``ThreadAuthenticator``), and a listed
key may only speak for the endpoint names it is listed with.

Usage::

    from gridcoop.agents.bus.curve import CurveConfig, CurveKeyPair

    server_keys, client_keys = CurveKeyPair.generate(), CurveKeyPair.generate()
    server = CurveConfig(server_keys, allowed_clients={client_keys.public: {"region-1"}})
    client = CurveConfig(client_keys, allowed_clients={server_keys.public: {"market"}})
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator

from gridcoop.agents.bus.errors import CurveConfigError

ANY_NAME = "*"
"""Listed as a key's allowed name, lets that key speak for any endpoint name."""

ZAP_DOMAIN = "gridcoop"


def _check_key(key: bytes, what: str) -> bytes:
    if not isinstance(key, bytes) or len(key) != 40:
        raise CurveConfigError(
            f"{what} must be a 40-byte Z85-encoded CurveZMQ key (zmq.curve_keypair() makes them), "
            f"got {key!r:.60}"
        )
    try:
        zmq.utils.z85.decode(key)
    except Exception:
        raise CurveConfigError(f"{what} is not valid Z85: {key!r}") from None
    return key


@dataclass(frozen=True)
class CurveKeyPair:
    """A Z85-encoded CurveZMQ key pair (40 bytes each)."""

    public: bytes
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        _check_key(self.public, "public key")
        _check_key(self.secret, "secret key")

    @classmethod
    def generate(cls) -> CurveKeyPair:
        public, secret = zmq.curve_keypair()
        return cls(public, secret)

    def save(self, directory: Path, name: str) -> tuple[Path, Path]:
        """Write ``name.key`` (public) and ``name.key_secret`` in ZeroMQ's certificate format."""
        directory.mkdir(parents=True, exist_ok=True)
        public_path = directory / f"{name}.key"
        secret_path = directory / f"{name}.key_secret"
        public_line = f'    public-key = "{self.public.decode()}"\n'
        secret_line = f'    secret-key = "{self.secret.decode()}"\n'
        public_path.write_text(f"# gridcoop bus public key\nmetadata\ncurve\n{public_line}")
        # made 0600 before the secret is written, also when the file was there already
        descriptor = os.open(secret_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w") as secret_file:
            secret_file.write(
                f"# gridcoop bus secret key: keep private\nmetadata\ncurve\n{public_line}"
                f"{secret_line}"
            )
        return public_path, secret_path

    @classmethod
    def load(cls, secret_path: Path) -> CurveKeyPair:
        """Read a pair written by :meth:`save` (or by ``zmq.auth.create_certificates``).

        Refuses a secret key file that others may read (it must be 0600 or stricter):
        a key others can read proves nothing about who holds it.
        """
        try:
            public, secret = zmq.auth.load_certificate(str(secret_path))
            mode = Path(secret_path).stat().st_mode
        except (OSError, ValueError, zmq.ZMQError) as exc:
            raise CurveConfigError(f"cannot read the CurveZMQ key {secret_path}: {exc}") from None
        if secret is None:
            raise CurveConfigError(f"{secret_path} holds no secret key; pass the .key_secret file")
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise CurveConfigError(
                f"{secret_path} may be read by others (mode {stat.S_IMODE(mode):o}); "
                f"chmod 600 {secret_path}"
            )
        return cls(public, secret)


class CurveConfig:
    """This bus's key pair and the client keys it accepts, each with the names it may use.

    The allow-list may grow while the bus runs (:meth:`allow`): a run learns its
    workers' public keys as they start. The ZAP thread reads it, hence the lock.
    """

    def __init__(self, keys: CurveKeyPair,
                 allowed_clients: Mapping[bytes, Collection[str]] | None = None) -> None:
        self.keys = keys
        self._lock = threading.Lock()
        self._allowed: dict[bytes, frozenset[str]] = {}
        for key, names in (allowed_clients or {}).items():
            self.allow(key, names)

    def allow(self, key: bytes, names: Collection[str]) -> None:
        """Accept ``key`` from now on, speaking for ``names`` (replacing what it had)."""
        _check_key(key, "allowed client key")
        with self._lock:
            self._allowed[key] = frozenset(names)

    @property
    def allowed_clients(self) -> dict[bytes, frozenset[str]]:
        with self._lock:
            return dict(self._allowed)

    def is_allowed(self, key: bytes) -> bool:
        """Whether a client with ``key`` may complete the handshake (ours always may)."""
        with self._lock:
            return key == self.keys.public or key in self._allowed

    def names_for(self, key: bytes) -> Collection[str] | None:
        """Names a client key may speak for (our own key may speak for our own endpoints)."""
        with self._lock:
            return self._allowed.get(key)


class CurveGuard:
    """Runs the ZAP handler for one context and counts the handshakes it refused."""

    def __init__(self, context: zmq.Context[zmq.Socket[bytes]], config: CurveConfig) -> None:
        self._config = config
        self._lock = threading.Lock()
        self.refused = 0
        self._auth = ThreadAuthenticator(context)
        self._auth.start()
        self._auth.configure_curve_callback(domain=ZAP_DOMAIN, credentials_provider=self)

    def callback(self, domain: str, key: bytes) -> bool:
        """ZAP credentials provider: allow our own key and the listed client keys only."""
        allowed = self._config.is_allowed(key)
        if not allowed:
            with self._lock:
                self.refused += 1
        return allowed

    def arm_server(self, socket: zmq.Socket[bytes]) -> None:
        socket.curve_secretkey = self._config.keys.secret
        socket.curve_publickey = self._config.keys.public
        socket.curve_server = True
        socket.zap_domain = ZAP_DOMAIN.encode()

    def arm_client(self, socket: zmq.Socket[bytes], server_key: bytes) -> None:
        socket.curve_secretkey = self._config.keys.secret
        socket.curve_publickey = self._config.keys.public
        socket.curve_serverkey = server_key

    def stop(self) -> None:
        self._auth.stop()
