"""``gridcoop bench scale``: cost and memory of large runs, per process, against size and days.

Each size runs as its own ``gridcoop run`` in a child process, so the figures are
those of the command a user types: the child's whole CPU time (``wait4``), the
peak resident memory of the run's main process and of each helper process
(the ledger replica, signature workers), sampled from ``/proc`` twenty times a
second by walking the run's process tree (twice a second where the kernel lists
no children and all of ``/proc`` must be read), and the wall time. A helper
counts from its ``exec`` on: before it, a forked child's resident memory is its
parent's. Sizes:

* ``neighbourhood``: 1,000 / 10,000 / 100,000 households x 1 and 7 days
  (``block`` signing, the scenario's default);
* ``market-only``: 1,000 / 10,000 / 100,000 buyers and as many sellers x 1 and 7
  days, on the seeded books of ``gridcoop bench peers``;
* ``regions``: 1,000 regions of 10,000 households x 1 day in one process (``--quick``:
  100 regions), past ZeroMQ's default limit of 1,023 sockets.

``cost_us_per_member_day`` is the run's CPU (every process) per member and
simulated day; ``exponent`` fits cost ~ size^k between the smallest and the
largest size (k = 1 is linear); ``replica_rss_growth_7d_over_1d`` compares the
replica's peak memory after 7 days with that after 1 day (bounded memory: near 1).
``--quick`` runs small sizes in seconds; its figures only show that the suite works.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gridcoop.experiments.bench.peer_books import make_books
from gridcoop.experiments.bench.peers import write_scenario

SEED = 7


@dataclass(frozen=True)
class Sizes:
    households: tuple[int, ...]
    traders: tuple[int, ...]  # per side
    days: tuple[int, ...]
    regions: tuple[int, int]  # the many-regions run: (regions, households), one process


FULL = Sizes((1_000, 10_000, 100_000), (1_000, 10_000, 100_000), (1, 7), (1_000, 10_000))
QUICK = Sizes((100, 400), (100, 400), (1, 2), (100, 200))
SAMPLE_S = 0.05
"""Seconds between samples of a run's process tree."""
SLOW_SAMPLE_S = 0.5
"""... where each sample reads all of ``/proc`` (no child lists in the kernel)."""
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20


@dataclass
class _Seen:
    """One process of the run as last sampled, since it began running ``command``."""

    role: str
    command: bytes
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0


@dataclass
class _Sampler:
    """Polls ``/proc`` for the run's process tree: each process's CPU and peak RSS."""

    root: int
    seen: dict[int, _Seen] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        """Sample every ``SAMPLE_S`` where the tree can be walked (a helper living half a
        second is seen); else often at first (helpers start then, and a short run may end
        within a second), then every ``SLOW_SAMPLE_S``, since each sample reads all of
        ``/proc``."""
        self.sample()
        walked = _children(self.root) is not None
        wait_s = SAMPLE_S if walked else 0.02
        while not self.stop.wait(wait_s):
            self.sample()
            wait_s = SAMPLE_S if walked else min(2 * wait_s, SLOW_SAMPLE_S)

    def sample(self) -> None:
        """One look at every process of the tree. A child still running its parent's
        command has not reached ``exec``: it shares its parent's memory (the whole of it
        under ``vfork``), so it is not counted until it runs its own program."""
        commands: dict[int, bytes | None] = {}
        for pid in _descendants(self.root):
            stat, command = _stat(pid), _command(pid)
            commands[pid] = command
            if stat is None or command is None:
                continue
            parent, cpu_s, rss_mb = stat
            entry = self.seen.get(pid)
            if not command:  # ended, not yet reaped (no command line): its last CPU time
                if entry is not None:
                    entry.cpu_s = cpu_s
                continue
            if pid != self.root and command == commands.get(parent):  # parents come first
                continue
            if entry is None or entry.command != command:  # new, or a new program
                entry = self.seen[pid] = _Seen(
                    "main" if pid == self.root else _role(command), command)
            entry.cpu_s = cpu_s
            entry.peak_rss_mb = max(entry.peak_rss_mb, rss_mb)


def _stat(pid: int) -> tuple[int, float, float] | None:
    """(parent, CPU seconds, resident MB) of ``pid`` from ``/proc``, or None once it is
    gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[1]), (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS,
            int(fields[21]) * _PAGE_MB)


def _command(pid: int) -> bytes | None:
    """The command line ``pid`` runs, or None once it is gone."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None


def _children(pid: int) -> list[int] | None:
    """The children of ``pid`` (of any of its threads), or None where the kernel does not
    list them (``/proc/PID/task/TID/children``); ``[]`` once ``pid`` is gone."""
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found: list[int] = []
    for thread in threads:
        try:
            found.extend(int(c) for c in Path(f"/proc/{pid}/task/{thread}/children")
                         .read_text().split())
        except FileNotFoundError:
            if not Path(f"/proc/{pid}/task/{thread}").exists():
                continue  # the thread ended meanwhile
            return None
        except OSError:
            continue
    return found


def _descendants(root: int) -> list[int]:
    """``root`` and every process below it: by walking its children, or from every
    process's parent in ``/proc`` where the kernel does not list children."""
    below: Callable[[int], list[int]]
    if _children(root) is None:
        parents = _children_from_all()
        below = lambda pid: parents.get(pid, [])  # noqa: E731
    else:
        below = lambda pid: _children(pid) or []  # noqa: E731
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(below(pid))
    return found


def _children_from_all() -> dict[int, list[int]]:
    """Every process's children, from every process's parent (all of ``/proc`` read)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                text = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            children.setdefault(int(text.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    return children


def _role(command: bytes) -> str:
    """``replica``, ``signatures`` or ``helper``: what a child of the run is, from its
    command line."""
    if b"replica_worker" in command:
        return "replica"
    if b"signatures" in command:
        return "signatures"
    return "helper"


def measure(args: list[str], members: int, days: int) -> dict[str, Any]:
    """Run ``gridcoop run ARGS`` in a child process; its CPU, peak memory and wall time."""
    command = [sys.executable, "-m", "gridcoop.experiments.cli", "run", *args, "--quiet"]
    started = time.perf_counter()
    with tempfile.TemporaryFile() as stderr:  # a file, not a pipe: a chatty run never blocks
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
        sampler = _Sampler(child.pid)
        thread = threading.Thread(target=sampler.run, daemon=True)
        thread.start()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        sampler.stop.set()
        thread.join()
        child.returncode = os.waitstatus_to_exitcode(status)
        stderr.seek(0)
        error = stderr.read().decode(errors="replace").strip()
    if child.returncode != 0:  # a size that fails is a finding, not the end of the suite
        return {"failed": (error.splitlines() or ["?"])[-1], "wall_s": round(wall, 2),
                "peak_rss_mb_any_process": round(usage.ru_maxrss / 1024, 1)}
    total_cpu = usage.ru_utime + usage.ru_stime
    helpers = [s for pid, s in sampler.seen.items() if pid != child.pid]
    by_role: dict[str, dict[str, float]] = {}
    for seen in helpers:
        role = by_role.setdefault(seen.role, {"count": 0, "cpu_s": 0.0, "peak_rss_mb": 0.0})
        role["count"] += 1
        role["cpu_s"] = round(role["cpu_s"] + seen.cpu_s, 2)
        role["peak_rss_mb"] = max(role["peak_rss_mb"], round(seen.peak_rss_mb, 1))
    main = sampler.seen.get(child.pid, _Seen("main", b""))
    return {
        "wall_s": round(wall, 2),
        "cpu_s_all_processes": round(total_cpu, 2),
        "cpu_s_main": round(total_cpu - sum(s.cpu_s for s in helpers), 2),
        "peak_rss_mb_main": round(main.peak_rss_mb, 1),
        "peak_rss_mb_any_process": round(usage.ru_maxrss / 1024, 1),
        "helpers": by_role,
        "cost_us_per_member_day": round(total_cpu / (members * days) * 1e6, 1),
    }


def _linearity(runs: dict[int, dict[str, Any]]) -> float:
    """k in cost ~ size^k between the smallest and the largest size."""
    runs = {n: r for n, r in runs.items() if "failed" not in r}
    if len(runs) < 2:
        return float("nan")
    small, large = min(runs), max(runs)
    ratio = runs[large]["cpu_s_all_processes"] / max(runs[small]["cpu_s_all_processes"], 1e-9)
    return round(math.log(ratio) / math.log(large / small), 3)


def _series(sizes: tuple[int, ...], days: tuple[int, ...],
            run_one: Callable[[int, int], dict[str, Any]]) -> dict[str, Any]:
    """Every size x days; per days, the exponent; per size, the replica's growth."""
    figures: dict[str, Any] = {}
    for d in days:
        runs = {n: run_one(n, d) for n in sizes}
        figures[f"{d}d"] = {str(n): r for n, r in runs.items()}
        figures[f"{d}d"]["exponent"] = _linearity(runs)
    first, last = f"{days[0]}d", f"{days[-1]}d"
    for n in sizes:
        before, after = (figures[d][str(n)].get("helpers", {}).get("replica", {})
                         .get("peak_rss_mb") for d in (first, last))
        if before and after:
            figures[f"replica_rss_growth_{last}_over_{first}_{n}"] = round(after / before, 2)
    return figures


def run(quick: bool) -> dict[str, Any]:
    sizes = QUICK if quick else FULL
    with tempfile.TemporaryDirectory(prefix="gridcoop-bench-scale-") as tmp:
        folder = Path(tmp)

        def neighbourhood(n: int, d: int) -> dict[str, Any]:
            return measure(["neighbourhood", "--set", f"households={n}", "--days", str(d),
                            "--out", str(folder / "out")], n, d)

        def market_only(n: int, d: int) -> dict[str, Any]:
            books = folder / f"books-{n}-{d}"
            scenario = write_scenario(make_books(n, d, SEED), books, "block")
            try:
                return measure([str(scenario), "--out", str(folder / "out")], 2 * n, d)
            finally:
                for csv in books.glob("*.csv"):
                    csv.unlink()

        regions, members = sizes.regions
        return {
            "neighbourhood": _series(sizes.households, sizes.days, neighbourhood),
            "market_only": _series(sizes.traders, sizes.days, market_only),
            "regions": {"regions": regions, "households": members, **measure(
                ["neighbourhood", "--set", f"households={members}", "--set",
                 f"regions={regions}", "--days", "1", "--out", str(folder / "out")],
                members, 1)},
        }
