"""``gridcoop bench model``: the community model's speed and memory (issue 4's figures).

Each configuration runs in a fresh Python process (the built-in scenario file
with the sizes below as overrides), so its peak memory is its own and no cache
from a previous run helps. Child processes (the aggregators' replica, and under
``full`` signing the ledger's signature-verification workers) are reported
beside the main process: their CPU time summed, the largest one's peak memory.
Wall time depends on what else the machine runs, so CPU times and the load
average at the start are reported too.

Figures:

* ``neighbourhood_1000``: 1,000 households (40 % prosumers, 20 % EV owners,
  40 % DR households), 10 regions, 30 days, 15-minute metering, hourly auctions,
  every trade settled on the ledger, with ``block`` and with ``full`` signing
  (issue 16's targets: 10 s and 30 s, 1 GB);
* ``per_day``: seconds per simulated day for 250 / 500 / 1,000 / 2,000
  households (block signing), and the growth ratio per household;
* ``campus_3_months``: ``campus-microgrid`` for 91 days (target: 10 s);
* ``per_agent_policy``: what a per-agent Python bidding policy costs (a member
  subclass whose ``step()`` decides, run through Mesa's ``AgentSet``): the
  neighbourhood's members bidding through
  ``gridcoop.agents.behaviour.examples:MidSpread`` against its vectorised twin
  (``strategy: fixed``, the same orders), as µs of CPU per agent-step (one
  member's order for one gate, forecast included).

``quick=True`` runs small sizes for a smoke check.

Before and after in one run: with ``GRIDCOOP_BENCH_BEFORE`` naming another
source tree of gridcoop (e.g. a ``git worktree`` of the previous commit), each
neighbourhood configuration also runs on that tree, interleaved with this one,
and its figures appear under ``before`` beside this tree's under ``after``
(the machine is shared: compare the ratio, not the seconds).
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

MIX = {"prosumer": 0.4, "ev_owner": 0.2, "dr_household": 0.4}


def _one(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one configuration in this process and measure it."""
    from gridcoop.agents.model.community import CommunityModel
    from gridcoop.experiments.scenarios import load_scenario

    with tempfile.TemporaryDirectory(prefix="gridcoop-bench-") as folder:
        kind, params = load_scenario(spec["scenario"], **spec["params"])
        started_wall, started_cpu = time.perf_counter(), time.process_time()
        model = CommunityModel(kind, ledger_path=str(Path(folder) / "ledger.sqlite"), **params)
        summary = model.run()
        wall = time.perf_counter() - started_wall
        cpu = time.process_time() - started_cpu
        txs = sum(block.header.tx_count for block in model.accounts.ledger.blocks())
        model.close()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "wall_s": round(wall, 2),
        "cpu_s_main_process": round(cpu, 2),
        "cpu_s_child_processes": round(children.ru_utime + children.ru_stime, 2),
        "peak_rss_mb_main": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_rss_mb_largest_child": round(children.ru_maxrss / 1024, 1),
        "days": summary["days"],
        "members": summary["members"],
        "trades": summary["trades"],
        "ledger_blocks": summary["ledger_height"] + 1,
        "ledger_transactions": txs,
        "local_traded_kwh": summary["local_traded_kwh"],
    }


BEFORE_ENV = "GRIDCOOP_BENCH_BEFORE"


def _spawn(scenario: str, tree: str | None = None, **params: Any) -> dict[str, Any]:
    """Run ``_one`` in a fresh interpreter (on source ``tree`` if given); return its figures."""
    spec = json.dumps({"scenario": scenario, "params": params})
    command = [sys.executable, "-m", "gridcoop.experiments.bench.model", spec]
    env = None
    if tree is not None:  # that tree's gridcoop first on the path of the run and of every
        # process it starts (the replica verifier must read that tree's ledger format)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            p for p in (tree, os.environ.get("PYTHONPATH")) if p))
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark run {spec} failed:\n{done.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _neighbourhood(households: int, days: int, signing: str) -> dict[str, Any]:
    """This tree's figures, or (with a before tree) both, interleaved, and their ratio."""
    def one(tree: str | None) -> dict[str, Any]:
        return _spawn("neighbourhood", tree, households=households, regions=10, days=days,
                      signing=signing, mix=MIX, metering_minutes=15, market_minutes=60)

    before = os.environ.get(BEFORE_ENV)
    if not before:
        return one(None)
    figures = {"before": one(before), "after": one(None)}
    figures["cpu_ratio_before_over_after"] = round(
        figures["before"]["cpu_s_main_process"] / figures["after"]["cpu_s_main_process"], 2)
    figures["wall_ratio_before_over_after"] = round(
        figures["before"]["wall_s"] / figures["after"]["wall_s"], 2)
    return figures


def run(quick: bool) -> dict[str, Any]:
    load = os.getloadavg()[0]
    big, days = (200, 3) if quick else (1000, 30)
    sizes = (50, 100, 200) if quick else (250, 500, 1000, 2000)
    scale_days = 1 if quick else 2
    figures: dict[str, Any] = {"load_average_at_start": round(load, 2)}
    figures[f"neighbourhood_{big}"] = {
        "block": _neighbourhood(big, days, "block"),
        "full": _neighbourhood(big, days, "full"),
    }
    per_day: dict[str, Any] = {}
    for n in sizes:
        result = _spawn("neighbourhood", households=n, regions=10, days=scale_days,
                        signing="block", mix=MIX, metering_minutes=15, market_minutes=60)
        per_day[str(n)] = {"wall_s_per_day": round(result["wall_s"] / scale_days, 3),
                           "cpu_s_per_day": round(result["cpu_s_main_process"] / scale_days, 3)}
    first, last = sizes[0], sizes[-1]
    per_day["cpu_growth_vs_linear"] = round(
        (per_day[str(last)]["cpu_s_per_day"] / per_day[str(first)]["cpu_s_per_day"])
        / (last / first), 3)
    figures["per_day"] = per_day
    figures["campus_3_months"] = _spawn("campus-microgrid", days=7 if quick else 91)
    figures["per_agent_policy"] = per_agent_policy(200 if quick else 1000, 10 if quick else 40)
    return figures


def per_agent_policy(households: int, gates: int) -> dict[str, Any]:
    """µs per agent-step of a per-agent Python bidding policy, and of its vectorised twin.

    Both models are built alike (``strategy: fixed`` at 0.5, which ``MidSpread``
    mirrors) and asked for the members' orders of the same ``gates`` delivery
    intervals, alternately, so the machine's load hits both the same.
    """
    from gridcoop.agents.model.community import CommunityModel

    fixed = {"kind": "fixed", "fixed_share": 0.5}
    per_agent: dict[str, Any] = {"bidding": {"all": "gridcoop.agents.behaviour.examples:MidSpread"}}
    models = {name: CommunityModel("neighbourhood", households=households, regions=10, days=2,
                                   mix=MIX, strategy=fixed, policies=policies)
              for name, policies in (("vectorised", None), ("per_agent", per_agent))}
    spent = dict.fromkeys(models, 0.0)
    same = True
    try:
        for interval in range(1, gates + 1):
            arrays = {}
            for name, model in models.items():
                started = time.process_time()
                arrays[name] = model.orders.arrays(interval)
                spent[name] += time.process_time() - started
            same = same and all(
                (a == b).all() for a, b in zip(arrays["vectorised"].as_arrays().values(),
                                              arrays["per_agent"].as_arrays().values(),
                                              strict=True))
    finally:
        for model in models.values():
            model.close()
    steps = households * gates
    return {"households": households, "gates": gates, "same_orders": bool(same),
            "us_per_agent_step_vectorised": round(spent["vectorised"] / steps * 1e6, 3),
            "us_per_agent_step_per_agent": round(spent["per_agent"] / steps * 1e6, 3)}

if __name__ == "__main__":
    print(json.dumps(_one(json.loads(sys.argv[1]))))
