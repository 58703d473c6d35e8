"""Offline assets: log parsing, unpacking into Solara's cache layout, both fetchers.

The fetchers run against a real HTTP server on loopback that speaks the npm
registry's protocol (packument + tarball), so no internet is needed.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import pytest

from gridcoop.experiments.viz.assets import (
    COMPLETE_MARKER,
    SOLARA_PAGE_PACKAGES,
    AssetError,
    NpmPackage,
    download_tarball,
    install_tarball,
    is_cached,
    missing_packages,
    npm_pack,
    packages_from_log,
    prepare_assets,
    run_cli,
)

PACKAGE = NpmPackage("@demo/widget", "1.2.3-alpha.1")

LOG = """\
Could not load URL: 'https://cdn.jsdelivr.net/npm/@widgetti/solara-vuetify-app@10.1.1/dist/fonts.css' (HTTPSConnectionPool(...))
Could not load URL: 'https://cdn.jsdelivr.net/npm/@widgetti/solara-vuetify-app@10.1.1/dist/main8.css' (status 404)
Could not load URL: 'https://cdn.jsdelivr.net/npm/requirejs@2.3.6/require.js' (...)
Could not load URL: 'https://cdn.jsdelivr.net/npm/@widgetti/vue-grid-layout@2.3.13-alpha.2/dist/vue-grid-layout.umd.min.js'
INFO: something else entirely
"""  # noqa: E501


def make_tarball(files: dict[str, bytes], top: str = "package") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{top}/{name}" if top else name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


GOOD = make_tarball({"package.json": b'{"name": "@demo/widget", "version": "1.2.3-alpha.1"}',
                     "dist/widget.js": b"console.log('hi')"})


class FakeRegistry(BaseHTTPRequestHandler):
    """Serves one package like registry.npmjs.org: ``/<name>`` and its tarball."""

    tarball: bytes = GOOD
    advertised: bytes = GOOD
    requests: list[str]

    def do_GET(self) -> None:
        path = unquote(self.path)
        self.requests.append(path)
        port = self.server.server_address[1]  # type: ignore[index]
        base = f"http://127.0.0.1:{port}"
        if path in (f"/{PACKAGE.name}", f"/{PACKAGE.name}/{PACKAGE.version}"):
            dist = {"tarball": f"{base}/tarballs/widget.tgz",
                    "integrity": integrity(self.advertised),
                    "shasum": hashlib.sha1(self.advertised).hexdigest()}
            version = {"name": PACKAGE.name, "version": PACKAGE.version, "dist": dist}
            body = json.dumps({"name": PACKAGE.name, "dist-tags": {"latest": PACKAGE.version},
                               "versions": {PACKAGE.version: version}}).encode()
            self._send(200, body, "application/json")
        elif path == "/tarballs/widget.tgz":
            self._send(200, self.tarball, "application/octet-stream")
        else:
            self._send(404, b'{"error": "not found"}', "application/json")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def registry() -> Iterator[tuple[str, type[FakeRegistry]]]:
    handler = type("Handler", (FakeRegistry,), {"requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_packages_from_log() -> None:
    assert packages_from_log(LOG) == [
        NpmPackage("@widgetti/solara-vuetify-app", "10.1.1"),
        NpmPackage("@widgetti/vue-grid-layout", "2.3.13-alpha.2"),
        NpmPackage("requirejs", "2.3.6"),
    ]
    assert packages_from_log("nothing to see") == []
    # everything the real page asked for is in the built-in list
    assert set(packages_from_log(LOG)) <= set(SOLARA_PAGE_PACKAGES)


def test_install_tarball_uses_solara_cache_layout(tmp_path: Path) -> None:
    target = install_tarball(tmp_path, PACKAGE, GOOD)
    assert target == tmp_path / "@demo" / "widget@1.2.3-alpha.1"
    assert (target / "dist" / "widget.js").read_bytes() == b"console.log('hi')"
    assert is_cached(tmp_path, PACKAGE)
    assert (target / COMPLETE_MARKER).read_text() == "@demo/widget@1.2.3-alpha.1\n"
    assert missing_packages(tmp_path, [PACKAGE]) == []
    # tarballs whose top folder is not called "package" (old packages) unpack the same way
    other = NpmPackage("old", "1.0.0")
    install_tarball(tmp_path, other, make_tarball({"package.json": b"{}"}, top="old-1.0.0"))
    assert (tmp_path / "old@1.0.0" / "package.json").is_file()


def test_install_tarball_refuses_escapes_and_leaves_no_trace(tmp_path: Path) -> None:
    evil = make_tarball({"package.json": b"{}", "../../escaped.js": b"x"})
    with pytest.raises(AssetError, match="cannot unpack"):
        install_tarball(tmp_path, PACKAGE, evil)
    assert not (tmp_path / "escaped.js").exists()
    assert not is_cached(tmp_path, PACKAGE)
    assert not any(p.name.startswith(".unpack-") for p in (tmp_path / "@demo").iterdir())
    with pytest.raises(AssetError, match=r"no package/package\.json"):
        install_tarball(tmp_path, PACKAGE, make_tarball({"index.js": b"x"}))
    with pytest.raises(AssetError, match="cannot unpack"):
        install_tarball(tmp_path, PACKAGE, b"not a tarball")


def test_prepare_assets_is_idempotent(tmp_path: Path) -> None:
    fetched: list[NpmPackage] = []

    def fetch(package: NpmPackage) -> bytes:
        fetched.append(package)
        return GOOD

    assert prepare_assets([PACKAGE], tmp_path, fetch=fetch, log=lambda _: None) == [PACKAGE]
    assert prepare_assets([PACKAGE], tmp_path, fetch=fetch, log=lambda _: None) == []
    assert fetched == [PACKAGE]
    prepare_assets([PACKAGE], tmp_path, fetch=fetch, force=True, log=lambda _: None)
    assert len(fetched) == 2


def test_download_checks_integrity(registry: tuple[str, type[FakeRegistry]]) -> None:
    url, handler = registry
    assert download_tarball(PACKAGE, url) == GOOD
    assert f"/{PACKAGE.name}" in handler.requests
    handler.tarball = make_tarball({"package.json": b"{}", "evil.js": b"tampered"})
    with pytest.raises(AssetError, match=r"does not match the registry's sha512 integrity"):
        download_tarball(PACKAGE, url)
    with pytest.raises(AssetError, match=r"has no @demo/widget@9\.9\.9"):
        download_tarball(NpmPackage(PACKAGE.name, "9.9.9"), url)
    with pytest.raises(AssetError, match="cannot read the npm registry entry"):
        download_tarball(NpmPackage("absent", "1.0.0"), url)


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_npm_pack_against_a_local_registry(registry: tuple[str, type[FakeRegistry]],
                                           tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    url, _ = registry
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))
    assert npm_pack(PACKAGE, url) == GOOD
    with pytest.raises(AssetError, match="failed"):
        npm_pack(NpmPackage(PACKAGE.name, "9.9.9"), url)


def test_cli_check_and_fill(registry: tuple[str, type[FakeRegistry]], tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    url, _ = registry
    assert run_cli(tmp_path, [], None, None, force=False, check=True) == 1
    assert "missing: requirejs@2.3.6" in capsys.readouterr().err
    # a log naming an unknown package: fetched from the (local) registry over HTTP
    log = tmp_path / "server.log"
    log.write_text("Could not load URL: 'https://cdn.jsdelivr.net/npm/@demo/widget@1.2.3-alpha.1/"
                   "dist/widget.js' (status 404)\n")
    for package in SOLARA_PAGE_PACKAGES:  # pretend the built-in ones are already there
        (tmp_path / package.spec).mkdir(parents=True)
        (tmp_path / package.spec / COMPLETE_MARKER).write_text(package.spec)
    assert run_cli(tmp_path, [log], url, False, force=False, check=False) == 0
    assert is_cached(tmp_path, PACKAGE)
    assert run_cli(tmp_path, [log], None, None, force=False, check=True) == 0
    assert run_cli(tmp_path, [], url, False, force=True, check=False) == 1
    assert "error: cannot read the npm registry entry" in capsys.readouterr().err


@pytest.mark.slow
def test_a_missing_asset_shows_in_the_server_log(tmp_path: Path) -> None:
    """The browser tests' offline check reads the real log line Solara writes.

    `gridcoop viz` fills the cache with the page's own packages before serving, so the
    missing asset asked for here is one the page does not use."""
    import sys
    import urllib.error
    import urllib.request

    from tests.experiments.viz.conftest import free_port, start_server

    port = free_port()
    env = {"SOLARA_ASSETS_PROXY_CACHE_DIR": str(tmp_path / "empty-cache"),
           "SOLARA_ASSETS_CDN": "http://127.0.0.1:9/npm/"}  # nothing listens on port 9
    server = start_server([sys.executable, "-m", "gridcoop.experiments.cli", "viz", "--port",
                           str(port)],
                          tmp_path / "server.log", port, env)
    try:
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{server.url}_solara/cdn/left-pad@1.3.0/index.js",
                                   timeout=60)
    finally:
        server.stop()
    failures = server.asset_failures()
    assert failures and "left-pad@1.3.0/index.js" in failures[0]
    assert packages_from_log("\n".join(failures)) == [NpmPackage("left-pad", "1.3.0")]
