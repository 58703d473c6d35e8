"""``gridcoop bench scale``: what it measures of a run, and how it derives linearity."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gridcoop.experiments.bench import scale
from gridcoop.experiments.bench.scale import (
    _children_from_all,
    _descendants,
    _linearity,
    measure,
)


def test_linearity_is_the_exponent_between_smallest_and_largest() -> None:
    runs = {10: {"cpu_s_all_processes": 1.0}, 100: {"cpu_s_all_processes": 7.0},
            1000: {"cpu_s_all_processes": 100.0}}
    assert _linearity(runs) == 1.0
    runs[1000] = {"cpu_s_all_processes": 1000.0}
    assert _linearity(runs) == 1.5
    assert _linearity({10: runs[10], 100: {"failed": "x"}}) != _linearity(runs)
    assert math.isnan(_linearity({10: runs[10], 100: {"failed": "x"}}))


def test_measure_reports_the_main_process_and_its_replica(tmp_path: Path) -> None:
    figures = measure(["neighbourhood", "--set", "households=500", "--days", "1",
                       "--out", str(tmp_path)], 500, 1)
    assert (tmp_path / "summary.json").exists()
    replica = figures["helpers"]["replica"]  # 200 members or more: a replica process
    assert replica["count"] == 1 and replica["peak_rss_mb"] > 0
    assert 0 < figures["cpu_s_main"] < figures["cpu_s_all_processes"]
    assert figures["peak_rss_mb_main"] > 50
    # the CPU figure is rounded to 10 ms, the cost is not
    assert abs(figures["cost_us_per_member_day"] - figures["cpu_s_all_processes"] / 500 * 1e6) \
        <= 0.005 / 500 * 1e6


def test_a_failing_size_is_recorded_not_raised(tmp_path: Path) -> None:
    figures = measure(["neighbourhood", "--set", "housholds=200", "--out", str(tmp_path)], 1, 1)
    assert figures["failed"] == "Error: unknown parameter 'housholds'; did you mean 'households'?"


def test_the_process_tree_walked_is_the_one_read_from_all_of_proc(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A grandchild is found by the children lists, and by every process's parent where
    the kernel lists no children."""
    child = subprocess.Popen(["sh", "-c", "sleep 5 & sleep 5 & wait"], start_new_session=True)
    try:
        deadline = time.monotonic() + 5
        while len(_children_from_all().get(child.pid, [])) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        walked = sorted(_descendants(child.pid))
        assert walked == sorted([child.pid, *_children_from_all()[child.pid]])
        assert len(walked) == 3
        monkeypatch.setattr(scale, "_children", lambda pid: None)
        assert sorted(_descendants(child.pid)) == walked
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()


FORKS_THEN_EXECS = """
import os, sys, time
held = bytearray(300 * 2**20)
held[::4096] = b"x" * len(held[::4096])  # resident, not only reserved
child = os.fork()
if child == 0:  # its parent's command and memory until exec
    time.sleep(0.5)
    os.execvp("sleep", ["sleep", "0.5"])
os.waitpid(child, 0)
"""


def test_a_helper_counts_from_its_exec_not_while_it_shares_its_parents_memory() -> None:
    """The replica's figure once included the main process's memory: the sampler saw the
    child between fork and exec, when its resident size is its parent's."""
    root = subprocess.Popen([sys.executable, "-c", FORKS_THEN_EXECS])
    sampler = scale._Sampler(root.pid)
    thread = threading.Thread(target=sampler.run, daemon=True)
    thread.start()
    root.wait()
    sampler.stop.set()
    thread.join()
    main = sampler.seen[root.pid]
    helpers = [seen for pid, seen in sampler.seen.items() if pid != root.pid]
    assert main.role == "main" and main.peak_rss_mb > 250
    assert [h.role for h in helpers] == ["helper"]
    assert 0 < helpers[0].peak_rss_mb < 50
    assert helpers[0].command == b"sleep\x000.5\x00"
