"""``gridcoop bench peers``: gridcoop against ASSUME 0.6 on identical books (issue 16).

For each size N, ``peer_books.make_books(N, 7, seed)`` is written as gridcoop's
``market-only`` CSVs and as a book file for ``peers_assume.py``; ASSUME, gridcoop
with ``block`` signing and gridcoop with ``full`` signing then run in turn, each
in a fresh process, ``REPEATS`` times interleaved (the machine is shared, so
only ratios from one run compare). Every run's hourly traded volume is checked
against the exact pay-as-clear reference of the books. Reported per run kind:
the loop (the simulation's own run call; wall time, and CPU time of the process
and its helper processes, which a loaded machine distorts less), and the whole
process (interpreter, imports, set-up and output included), the best of the
repeats, agent-hours per
second (2N units × hours / loop seconds) and gridcoop's speed-up over ASSUME.
Larger sizes run gridcoop alone; ``--peer-sizes`` compares others with ASSUME too.

ASSUME is not a gridcoop dependency: the suite runs it with the interpreter
named by ``GRIDCOOP_ASSUME_PYTHON`` (``gridcoop bench peers --assume-python``),
else with a virtual environment it creates once under the user's cache folder
(``python -m venv`` and ``pip install assume-framework==0.6.0``). When neither
works, the figures say why and gridcoop still runs.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from gridcoop.experiments.bench.peer_books import Books, cleared_wh, make_books

ASSUME_VERSION = "0.6.0"
ASSUME_ENV = "GRIDCOOP_ASSUME_PYTHON"
SIZES_ENV = "GRIDCOOP_PEER_SIZES"
SIZES = (50, 200)
"""Sizes per side compared with ASSUME unless ``GRIDCOOP_PEER_SIZES`` (``gridcoop bench
peers --peer-sizes``) names others."""
REPEATS = 2
SEED = 16
RUNNER = Path(__file__).with_name("peers_assume.py")
ALONE = (1000, 2000)
"""Sizes per side run by gridcoop alone (ASSUME would take too long on a shared machine)."""


def assume_python() -> tuple[str | None, str]:
    """The interpreter that has ASSUME, and how it was found (or why there is none)."""
    given = os.environ.get(ASSUME_ENV)
    if given:
        return given, f"{ASSUME_ENV}={given}"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    venv = cache / "gridcoop" / f"assume-{ASSUME_VERSION}"
    python = venv / "bin" / "python"
    if not python.exists():
        made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True,
                              text=True, check=False)
        if made.returncode != 0:
            return None, f"cannot create {venv}: {made.stderr.strip()[-300:]}"
    probe = subprocess.run(  # by its metadata: importing ASSUME writes assume.log in the cwd
        [str(python), "-c", "import importlib.metadata as m; "
         f"assert m.version('assume-framework') == '{ASSUME_VERSION}'"],
        capture_output=True, check=False)
    if probe.returncode != 0:
        installed = subprocess.run([str(python), "-m", "pip", "install", "-q",
                                    f"assume-framework=={ASSUME_VERSION}"],
                                   capture_output=True, text=True, check=False)
        if installed.returncode != 0:
            return None, f"pip install assume-framework=={ASSUME_VERSION} into {venv} " \
                         f"failed: {installed.stderr.strip()[-300:]}"
    return str(python), f"virtual environment {venv}"


def _timed(command: list[str], cwd: Path | None = None) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} failed:\n{done.stderr[-3000:]}")
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return out, wall


def write_scenario(books: Books, folder: Path, signing: str) -> Path:
    """The books as a ``market-only`` scenario file (and its CSVs) in ``folder``.

    The meters read once per market hour: the books are hourly and ASSUME has no
    meters, so a 15-minute meter would add work the peer does not do.
    """
    buyers, sellers = books.write_csvs(folder)
    path = folder / f"peers-{signing}.yaml"
    path.write_text(f"kind: market-only\nname: peers\ndays: {books.hours // 24}\n"
                    f"buyers_csv: {buyers.name}\nsellers_csv: {sellers.name}\n"
                    f"mechanism: pay_as_clear\nsigning: {signing}\nregions: 1\n"
                    "metering_minutes: 60\n")
    return path


def _gridcoop(scenario: Path) -> tuple[dict[str, Any], float]:
    return _timed([sys.executable, "-m", "gridcoop.experiments.bench.peers", str(scenario)])


def parse_sizes(text: str) -> tuple[int, ...]:
    """Sizes per side from ``"50,200,1000"``; ``ValueError`` names what is wrong."""
    parts = [part.strip() for part in text.split(",")]
    if not all(part.isdigit() and int(part) > 0 for part in parts):
        raise ValueError(f"{text!r}: give sizes per side as positive integers separated by "
                         "commas, e.g. 50,200,1000")
    return tuple(int(part) for part in parts)


def compared_sizes() -> tuple[int, ...]:
    """The sizes per side to compare with ASSUME (``SIZES`` unless the environment says)."""
    given = os.environ.get(SIZES_ENV, "").strip()
    return parse_sizes(given) if given else SIZES


def _best(runs: list[tuple[dict[str, Any], float]], reference: list[int]) -> dict[str, Any]:
    """The best run's times, and how every run's hourly volume compares with the reference
    (ASSUME computes in floating-point MW, so a large book may differ by a few Wh)."""
    loop = min(r["loop_s"] for r, _ in runs)
    cpu = min(r["loop_cpu_s"] for r, _ in runs)
    agree = all(r["traded_wh"] == reference for r, _ in runs)
    wrong = [h for h, (a, b) in enumerate(zip(runs[0][0]["traded_wh"], reference, strict=True))
             if a != b]
    largest = max(abs(a - b) for r, _ in runs
                  for a, b in zip(r["traded_wh"], reference, strict=True))
    return {"loop_s": round(loop, 3), "loop_cpu_s": round(cpu, 3),
            "process_s": round(min(w for _, w in runs), 3),
            "volume_agrees_every_hour": agree, "hours_differing": wrong[:10],
            "largest_hourly_difference_wh": largest}


def _compare(n: int, days: int, python: str | None, folder: Path) -> dict[str, Any]:
    books = make_books(n, days, SEED)
    reference = cleared_wh(books).tolist()
    folder.mkdir(parents=True, exist_ok=True)
    books_file = folder / "books.npz"
    books.save(books_file)
    scenarios = {s: write_scenario(books, folder, s) for s in ("block", "full")}
    runs: dict[str, list[tuple[dict[str, Any], float]]] = {"block": [], "full": []}
    if python is not None:
        runs["assume"] = []
    for repeat in range(REPEATS):
        if python is not None:
            runs["assume"].append(_timed([python, str(RUNNER), str(books_file),
                                          str(folder / f"assume-{repeat}")],
                                         cwd=folder))  # ASSUME writes assume.log in its cwd
        for signing, scenario in scenarios.items():
            runs[signing].append(_gridcoop(scenario))
    agent_hours = 2 * n * books.hours
    out: dict[str, Any] = {"agent_hours": agent_hours,
                           "traded_kwh": round(sum(reference) / 1000, 3)}
    for kind, found in runs.items():
        best = _best(found, reference)
        best["agent_hours_per_s"] = round(agent_hours / best["loop_s"])
        out[kind] = best
    if python is not None:
        for signing in ("block", "full"):
            out[f"speedup_{signing}"] = {
                "loop": round(out["assume"]["loop_s"] / out[signing]["loop_s"], 2),
                "loop_cpu": round(out["assume"]["loop_cpu_s"] / out[signing]["loop_cpu_s"], 2),
                "process": round(out["assume"]["process_s"] / out[signing]["process_s"], 2)}
    return out


def _alone(n: int, days: int, folder: Path) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    books = make_books(n, days, SEED)
    reference = cleared_wh(books).tolist()
    out: dict[str, Any] = {"agent_hours": 2 * n * books.hours}
    for signing in ("block", "full"):
        best = _best([_gridcoop(write_scenario(books, folder, signing))], reference)
        best["agent_hours_per_s"] = round(out["agent_hours"] / best["loop_s"])
        out[signing] = best
    return out


def run(quick: bool) -> dict[str, Any]:
    days = 1 if quick else 7
    python, found = assume_python()
    figures: dict[str, Any] = {"load_average_at_start": round(os.getloadavg()[0], 2),
                               "assume": found if python else f"not run: {found}"}
    with tempfile.TemporaryDirectory(prefix="gridcoop-peers-") as tmp:
        for n in (10,) if quick else compared_sizes():
            figures[f"n{n}"] = _compare(n, days, python, Path(tmp) / f"n{n}")
            print(f"peers n={n}: {json.dumps(figures[f'n{n}'])}", file=sys.stderr, flush=True)
        for n in () if quick else ALONE:
            try:
                figures[f"n{n}_gridcoop_alone"] = _alone(n, days, Path(tmp) / f"n{n}")
            except RuntimeError as exc:  # a size this build cannot run says so, the rest stays
                figures[f"n{n}_gridcoop_alone"] = f"failed: {str(exc).splitlines()[-1]}"
    return figures


def run_scenario(scenario: str) -> dict[str, Any]:
    """Run one market-only scenario in this process: loop time and hourly traded volume."""
    from gridcoop.agents.model.community import CommunityModel
    from gridcoop.experiments.scenarios import load_scenario

    kind, params = load_scenario(scenario)
    with tempfile.TemporaryDirectory(prefix="gridcoop-peers-") as folder:
        model = CommunityModel(kind, ledger_path=str(Path(folder) / "ledger.sqlite"), **params)
        started, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
        model.run()
        loop = time.perf_counter() - started
        cpu = time.process_time() - cpu
        hours = model.clock.total_markets
        traded = [0] * hours
        for interval, trades, _ in model.central.trade_log:
            traded[interval] += int(trades.energy_wh.sum())
        model.close()  # reaps the replica process, whose CPU then counts
    cpu += _children_cpu() - children
    return {"loop_s": loop, "loop_cpu_s": cpu, "traded_wh": traded}


def _children_cpu() -> float:
    """CPU seconds of this process's ended children (the replica verifier, signature
    workers) and, while it runs, the replica's (read at the end, after ``close``)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


if __name__ == "__main__":
    print(json.dumps(run_scenario(sys.argv[1])))
