"""The documentation: the site builds strictly, the README stays a front door, and
every file the docs, README and code cite exists in the repository."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP_DIRS = {".git", ".venv", "build", "site", "node_modules", "__pycache__", ".mypy_cache",
             ".ruff_cache", ".pytest_cache", ".hypothesis", "test-artifacts", "out"}
QUICK_START = (
    "python3 -m venv .venv && . .venv/bin/activate && pip install -e . && "
    "gridcoop run campus-microgrid --out out/campus",
    "bash .ci/run",
)
# Documents outside the repository that nothing may cite (spelt in parts so this
# file does not cite them either).
OUTSIDE_DOCS = ("DOMAIN" + ".md", "ARCHITECTURE" + ".md")
TOP_FOLDERS = (r"(?:agents|market|ledger|hardware_bridge|experiments|gridcoop"
               r"|tests|docs|examples|\.ci)")
CODE_SPAN_PATH = re.compile(rf"`({TOP_FOLDERS}/[A-Za-z0-9_./*-]*)")
DOCS_PAGE = re.compile(r"\bdocs/[A-Za-z0-9_/-]+\.md\b")

needs_checkout = pytest.mark.skipif(not (ROOT / "mkdocs.yml").exists(),
                                    reason="not a checkout: mkdocs.yml and docs/ are absent")


def _files(*suffixes: str) -> list[Path]:
    found = []
    for folder, dirs, names in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        found += [Path(folder, name) for name in names if name.endswith(suffixes)]
    return found


def _exists(cited: str) -> bool:
    cited = cited.rstrip(".")
    if any(ch in cited for ch in "*?["):
        return any(ROOT.glob(cited))
    return (ROOT / cited).exists()


@needs_checkout
def test_site_builds_strictly(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                           "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "index.html").exists()
    assert (tmp_path / "site" / "architecture" / "index.html").exists()


def test_readme_is_a_short_front_door() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in QUICK_START:
        assert f"```sh\n{command}\n```" in readme, f"quick-start command missing: {command}"
    assert len(readme.splitlines()) <= 250


@needs_checkout
def test_readme_links_resolve() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme)
    local = [t for t in targets if "://" not in t]
    assert local, "the README links into docs/"
    missing = [t for t in local if not (ROOT / t).exists()]
    assert not missing, f"README links to missing files: {missing}"


def test_nothing_cites_documents_outside_the_repository() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in _files(".py", ".md", ".yml", ".yaml", ".toml", ".ipynb")
        for name in OUTSIDE_DOCS
        if name in path.read_text(encoding="utf-8", errors="replace")
    ]
    assert not offenders, offenders


@needs_checkout
def test_paths_in_docs_and_readme_exist() -> None:
    missing = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for cited in CODE_SPAN_PATH.findall(path.read_text(encoding="utf-8")):
            if not _exists(cited):
                missing.append(f"{path.relative_to(ROOT)}: {cited}")
    assert not missing, missing


@needs_checkout
def test_docs_pages_cited_in_code_exist() -> None:
    missing = []
    for path in _files(".py", ".yaml", ".yml", ".ipynb"):
        for cited in DOCS_PAGE.findall(path.read_text(encoding="utf-8", errors="replace")):
            if not (ROOT / cited).exists():
                missing.append(f"{path.relative_to(ROOT)}: {cited}")
    assert not missing, missing
