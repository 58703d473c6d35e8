"""The built wheel holds ``gridcoop`` and nothing else at its top level, and installs
beside a package that also provides a top-level ``agents`` (``openai-agents``)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLASHING = "openai-agents"


def build_wheel(out: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out),
                    str(ROOT)], check=True)
    (wheel,) = out.glob("gridcoop-*.whl")
    return wheel


@pytest.mark.slow
def test_wheel_has_one_top_level_package_and_lives_beside_openai_agents(
        tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "dist")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert {name.split("/")[0] for name in names} == {
        "gridcoop", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}
    assert "gridcoop/experiments/scenarios/builtin/campus-microgrid.yaml" in names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # gridcoop's own dependencies come from this environment (appended after the fresh
    # venv's site-packages by a .pth file, so the fresh venv's packages win); the
    # clashing package and gridcoop's wheel are installed into the fresh venv itself.
    site = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip())
    (site / "zz_gridcoop_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "-q", CLASHING, str(wheel)],
                   check=True)
    probe = (
        "import agents, gridcoop, gridcoop.agents\n"
        "from gridcoop.agents.model.community import CommunityModel\n"
        "from gridcoop.experiments.scenarios import load_scenario\n"
        "assert hasattr(agents, 'Agent') and hasattr(agents, 'Runner'), agents.__file__\n"
        "assert 'site-packages' in gridcoop.__file__, gridcoop.__file__\n"
        "kind, params = load_scenario('market-only', days=1)\n"
        "summary = CommunityModel(kind, **params).run()\n"
        "print(agents.__file__, summary['ledger_head_hash'])\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the wheel, not a tree
    result = subprocess.run([str(python), "-c", probe], capture_output=True, text=True,
                            cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "site-packages/agents/__init__.py" in result.stdout
