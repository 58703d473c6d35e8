"""Fixtures for the page's browser tests: a real page server and headless Chromium.

The server runs as a subprocess on a free loopback port, with its output in a
log file; a test fails if that log says ``Could not load URL`` (a front-end
asset missing from the offline cache). Chromium is Debian's ``/usr/bin/chromium``
driven by Playwright; without it the browser tests skip with a reason, except
under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
ARTIFACTS = REPO / "test-artifacts" / "viz"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ASSET_FAILURE = "Could not load URL"
SERVER_START_TIMEOUT_S = 90.0


def chromium_path() -> str | None:
    """Debian's Chromium, or the one named by ``GRIDCOOP_CHROMIUM``."""
    wanted = os.environ.get("GRIDCOOP_CHROMIUM")
    if wanted:
        return wanted if Path(wanted).exists() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def skip_or_fail(reason: str) -> None:
    """Skip with the reason; under CI=true a missing browser is a failure."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: browser tests must run; see .ci/setup.d/viz.sh)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class PageServer:
    """A page server process, its URL and its log."""

    url: str
    log_path: Path
    process: subprocess.Popen[bytes]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def asset_failures(self) -> list[str]:
        return [line for line in self.log().splitlines() if ASSET_FAILURE in line]

    def _answers(self) -> bool:
        """True once the page answers 200; a refused or timed-out request means not yet."""
        try:
            with urllib.request.urlopen(self.url, timeout=5) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def check_running(self) -> None:
        """Raise with the server's exit code and log tail if it has died: a browser only
        says the connection was refused, not why."""
        if self.process.poll() is not None:
            raise RuntimeError(f"page server exited with {self.process.returncode}:\n"
                               + self.log()[-4000:])

    def open(self, page: Any, timeout_ms: float) -> None:
        """Point the browser ``page`` at the server, which must still be running."""
        self.check_running()
        page.goto(self.url, timeout=timeout_ms)

    def wait_until_serving(self, timeout_s: float = SERVER_START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.check_running()
            if self._answers():
                return
            time.sleep(0.3)
        raise RuntimeError(f"page server not serving {self.url} after {timeout_s:.0f} s:\n"
                           + self.log()[-4000:])

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)


def start_server(command: list[str], log_path: Path, port: int,
                 extra_env: dict[str, str] | None = None) -> PageServer:
    """Start ``command`` (which must serve on ``port``) in its own process group."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
           **(extra_env or {})}
    env.pop("PYTEST_CURRENT_TEST", None)
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
                                   env=env, start_new_session=True)
    server = PageServer(f"http://127.0.0.1:{port}/", log_path, process)
    try:
        server.wait_until_serving()
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """A headless Debian Chromium driven by Playwright, shared by a module's tests."""
    path = chromium_path()
    if path is None:
        skip_or_fail("Chromium not found (install Debian's `chromium` or set GRIDCOOP_CHROMIUM)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS,
                                             headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Any]:
    """A fresh page that records console errors and failed requests in ``page.problems``."""
    context = chromium.new_context(viewport={"width": 1400, "height": 2200})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda message: problems.append(f"console error: {message.text}")
            if message.type == "error" else None)
    page.on("requestfailed", lambda req: problems.append(f"request failed: {req.url}"))
    page.on("response", lambda resp: problems.append(f"HTTP {resp.status}: {resp.url}")
            if resp.status >= 400 else None)
    page.problems = problems
    try:
        yield page
    finally:
        context.close()
