"""The page's front-end assets, served with no internet.

Solara's server proxies its JavaScript and CSS from a public CDN
(``https://cdn.jsdelivr.net/npm/<package>@<version>/<path>``) and caches each
file under ``<cache>/<package>@<version>/<path>``, where ``<cache>`` is
``solara.server.settings.assets.proxy_cache_dir`` (by default
``{sys.prefix}/share/solara/cdn``; the environment variable
``SOLARA_ASSETS_PROXY_CACHE_DIR`` moves it). With no internet the page stays
blank and the server logs ``Could not load URL: ...``.

The cache layout is exactly an unpacked npm package, so this module fills it
from the npm registry, which offline campus servers and CI usually can reach:
``npm pack`` when npm is installed (it honours the machine's npm registry,
proxy and credentials), else a plain HTTPS download of the registry's tarball
checked against the registry's sha512 integrity. Each package is unpacked
into a temporary folder and renamed into place, then marked complete, so an
interrupted run never leaves a half-filled package that looks whole.

Run ``python -m gridcoop.experiments.viz.assets`` (or ``gridcoop viz --prepare-assets``)
once after installing. If the page ever asks for a package this list lacks,
pass the server log with ``--from-log server.log``: every package named in a
``Could not load URL`` line is fetched too.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_REGISTRY = "https://registry.npmjs.org/"
COMPLETE_MARKER = ".gridcoop-complete"
MAX_TARBALL_BYTES = 200 * 1024 * 1024
HTTP_TIMEOUT_S = 60.0


class AssetError(RuntimeError):
    """An asset package could not be fetched, checked or unpacked."""


@dataclass(frozen=True, order=True)
class NpmPackage:
    """One npm package at one exact version, as the CDN path names it."""

    name: str
    version: str

    @property
    def spec(self) -> str:
        """``name@version``: the CDN path segment and the cache folder name."""
        return f"{self.name}@{self.version}"


# What Solara 1.64 with ipyvuetify 1.x (ipywidgets 8) asks for when Mesa's
# SolaraViz renders with matplotlib figures only (read from the server log of
# a page started with an empty cache). pyproject pins solara to 1.64.x; a
# Solara upgrade that changes these shows up as a failing browser test.
SOLARA_PAGE_PACKAGES: tuple[NpmPackage, ...] = (
    NpmPackage("@widgetti/solara-vuetify-app", "10.1.1"),
    NpmPackage("@widgetti/vue-grid-layout", "2.3.13-alpha.2"),
    NpmPackage("font-awesome", "4.5.0"),
    NpmPackage("requirejs", "2.3.6"),
)

_LOG_URL = re.compile(
    r"Could not load URL: '?https?://[^/\s]+/npm/"
    r"(?P<name>(?:@[\w.-]+/)?[\w.-]+)@(?P<version>\d+\.\d+\.\d+(?:-[\w.]+)?)/"
)


def default_cache_dir() -> Path:
    """The folder Solara's asset proxy reads, as the running Solara sees it."""
    from solara.server.settings import assets

    return Path(assets.proxy_cache_dir)


def package_dir(cache_dir: Path, package: NpmPackage) -> Path:
    """Where one package's files live in the cache."""
    return cache_dir / package.spec


def is_cached(cache_dir: Path, package: NpmPackage) -> bool:
    """True when the package was unpacked completely into the cache."""
    return (package_dir(cache_dir, package) / COMPLETE_MARKER).is_file()


def missing_packages(cache_dir: Path, packages: Iterable[NpmPackage]) -> list[NpmPackage]:
    """The packages not yet completely in the cache, in a stable order."""
    return sorted({p for p in packages if not is_cached(cache_dir, p)})


def packages_from_log(text: str) -> list[NpmPackage]:
    """The packages named in a Solara server log's ``Could not load URL`` lines."""
    found = {NpmPackage(m["name"], m["version"]) for m in _LOG_URL.finditer(text)}
    return sorted(found)


def _registry_json(registry: str, name: str) -> dict[str, object]:
    url = registry.rstrip("/") + "/" + urllib.parse.quote(name, safe="@")
    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as response:
            data: dict[str, object] = json.loads(response.read())
    except (OSError, ValueError) as exc:
        raise AssetError(
            f"cannot read the npm registry entry {url}: {exc}; check that the registry "
            "is reachable or pass another one with --registry"
        ) from exc
    return data


def _check_integrity(data: bytes, integrity: str, what: str) -> None:
    algorithm, _, expected = integrity.partition("-")
    if algorithm not in {"sha512", "sha384", "sha256", "sha1"} or not expected:
        raise AssetError(f"{what}: unsupported integrity string {integrity!r}")
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if actual != expected:
        raise AssetError(
            f"{what}: the download does not match the registry's {algorithm} integrity "
            "(a corrupted download or a tampering proxy); nothing was installed"
        )


def download_tarball(package: NpmPackage, registry: str = DEFAULT_REGISTRY) -> bytes:
    """Fetch a package's tarball over HTTP(S) and check it against its integrity."""
    packument = _registry_json(registry, package.name)
    versions = packument.get("versions")
    if not isinstance(versions, dict) or package.version not in versions:
        raise AssetError(f"the registry {registry} has no {package.spec}")
    dist = versions[package.version].get("dist", {})
    tarball_url, integrity = dist.get("tarball"), dist.get("integrity")
    if not isinstance(tarball_url, str) or not isinstance(integrity, str):
        raise AssetError(f"the registry entry for {package.spec} lacks dist.tarball/integrity")
    try:
        with urllib.request.urlopen(tarball_url, timeout=HTTP_TIMEOUT_S) as response:
            data: bytes = response.read(MAX_TARBALL_BYTES + 1)
    except OSError as exc:
        raise AssetError(f"cannot download {tarball_url}: {exc}") from exc
    if len(data) > MAX_TARBALL_BYTES:
        raise AssetError(f"{package.spec}: tarball larger than {MAX_TARBALL_BYTES} bytes")
    _check_integrity(data, integrity, package.spec)
    return data


def npm_pack(package: NpmPackage, registry: str | None = None, npm: str = "npm") -> bytes:
    """Fetch a package's tarball with ``npm pack`` (npm checks its integrity)."""
    with tempfile.TemporaryDirectory(prefix="gridcoop-npm-") as work:
        command = [npm, "pack", package.spec, "--json", "--pack-destination", work]
        if registry:
            command += ["--registry", registry]
        result = subprocess.run(command, capture_output=True, text=True, cwd=work,
                                timeout=600, check=False)
        if result.returncode != 0:
            raise AssetError(f"`{' '.join(command)}` failed:\n{result.stderr.strip()}")
        tarballs = sorted(Path(work).glob("*.tgz"))
        if len(tarballs) != 1:
            raise AssetError(f"`npm pack {package.spec}` wrote {len(tarballs)} tarballs, not 1")
        return tarballs[0].read_bytes()


def install_tarball(cache_dir: Path, package: NpmPackage, tarball: bytes) -> Path:
    """Unpack an npm tarball's ``package/`` folder as ``<cache>/<name>@<version>``.

    Unpacks beside the target and renames, so readers never see a partial
    package; refuses members that would land outside the package folder.
    """
    target = package_dir(cache_dir, package)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
    try:
        try:
            with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:*") as archive:
                members = [m for m in archive.getmembers() if m.isfile() or m.isdir()]
                for member in members:
                    _top, _, rest = member.name.removeprefix("./").partition("/")
                    if not rest:
                        continue
                    member.name = rest
                    archive.extract(member, staging, filter="data")
        except (tarfile.TarError, OSError) as exc:
            raise AssetError(f"{package.spec}: cannot unpack the tarball: {exc}") from exc
        if not (staging / "package.json").is_file():
            raise AssetError(f"{package.spec}: the tarball has no package/package.json")
        (staging / COMPLETE_MARKER).write_text(package.spec + "\n")
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return target


Fetcher = Callable[[NpmPackage], bytes]


def choose_fetcher(registry: str | None = None, use_npm: bool | None = None) -> Fetcher:
    """``npm pack`` when npm exists (or ``use_npm``), else the registry over HTTPS."""
    npm = shutil.which("npm")
    if use_npm is None:
        use_npm = npm is not None
    if use_npm:
        if npm is None:
            raise AssetError("npm is not installed; drop --npm to download over HTTPS")
        return lambda package: npm_pack(package, registry, npm)
    return lambda package: download_tarball(package, registry or DEFAULT_REGISTRY)


def prepare_assets(
    packages: Sequence[NpmPackage] = SOLARA_PAGE_PACKAGES,
    cache_dir: Path | None = None,
    *,
    fetch: Fetcher | None = None,
    force: bool = False,
    log: Callable[[str], None] = print,
) -> list[NpmPackage]:
    """Put every package into the cache; returns those fetched (idempotent)."""
    cache = cache_dir if cache_dir is not None else default_cache_dir()
    todo = sorted(set(packages)) if force else missing_packages(cache, packages)
    fetcher = fetch or choose_fetcher()
    for package in todo:
        log(f"fetching {package.spec} into {cache}")
        install_tarball(cache, package, fetcher(package))
    if not todo:
        log(f"all {len(set(packages))} asset packages already in {cache}")
    return todo


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: fill (or check) the Solara asset cache."""
    parser = argparse.ArgumentParser(
        prog="python -m gridcoop.experiments.viz.assets",
        description="Fill Solara's asset cache so `gridcoop viz` works with no internet.",
    )
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="cache folder (default: the one Solara uses)")
    parser.add_argument("--from-log", type=Path, action="append", default=[],
                        help="also fetch the packages a server log could not load")
    parser.add_argument("--registry", default=None, help="npm registry URL")
    parser.add_argument("--npm", dest="use_npm", action="store_true", default=None,
                        help="require npm pack")
    parser.add_argument("--no-npm", dest="use_npm", action="store_false",
                        help="download over HTTPS even if npm is installed")
    parser.add_argument("--force", action="store_true", help="fetch again even if cached")
    parser.add_argument("--check", action="store_true",
                        help="fetch nothing; exit 1 if a package is missing")
    args = parser.parse_args(argv)
    return run_cli(args.cache_dir, args.from_log, args.registry, args.use_npm,
                   force=args.force, check=args.check)


def run_cli(cache_dir: Path | None, logs: Sequence[Path], registry: str | None,
            use_npm: bool | None, *, force: bool, check: bool) -> int:
    """Shared by ``main`` and ``gridcoop viz --prepare-assets``; returns an exit code."""
    cache = cache_dir if cache_dir is not None else default_cache_dir()
    packages = list(SOLARA_PAGE_PACKAGES)
    for log_path in logs:
        packages += packages_from_log(log_path.read_text(errors="replace"))
    if check:
        missing = missing_packages(cache, packages)
        for package in missing:
            print(f"missing: {package.spec}", file=sys.stderr)
        print(f"{len(set(packages)) - len(missing)}/{len(set(packages))} packages in {cache}")
        return 1 if missing else 0
    try:
        prepare_assets(packages, cache, fetch=choose_fetcher(registry, use_npm), force=force)
    except AssetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
