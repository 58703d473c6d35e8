"""One run of a sweep, as executed in a worker process (local or on a Dask worker).

``execute_run`` never raises for a failing run: it returns a ``RunOutcome``
with the error, so one bad parameter value cannot stop a sweep. The run
builds its own ``CommunityModel`` (its own ZeroMQ context and SQLite files)
inside the worker, so nothing is shared across processes.

Two ways to hand back the files: with ``runs_dir`` the worker writes straight
into ``runs_dir/<key>/`` (same machine, or a shared filesystem); without it
the run happens in a scratch folder and the files travel back in the outcome,
for Dask workers on other machines that cannot see the output folder.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gridcoop.experiments.batch.spec import RunSpec

# One core per run: a sweep's parallelism is across runs, so helper processes
# inside a run (a replica verifier, signature workers) would only compete for
# the same cores. The results do not depend on these options.
RUN_OPTIONS: dict[str, Any] = {"replicas": "shared", "ledger_workers": 0}


@dataclass
class RunOutcome:
    """What happened to one run; ``files`` is set only when the run was shipped back."""

    key: str
    status: str
    started_at: str
    duration_s: float
    host: str
    pid: int
    summary: dict[str, Any] | None = None
    error: str | None = None
    details: str | None = None
    files: dict[str, bytes] | None = None


def simulate(run: RunSpec, folder: Path) -> dict[str, Any]:
    """Run the model for ``run`` and write summary.json, ledger.sqlite and tables to ``folder``.

    The same public calls as ``gridcoop run``: ``load_scenario`` then
    ``CommunityModel(...).run()`` then the run command's ``write_outputs``.
    """
    from gridcoop.agents.model.community import CommunityModel
    from gridcoop.experiments.commands.run import write_outputs
    from gridcoop.experiments.scenarios import load_scenario

    kind, params = load_scenario(run.scenario, (), days=run.days, seed=run.seed,
                                 **run.model_params())
    model = CommunityModel(kind, ledger_path=str(folder / "ledger.sqlite"), **RUN_OPTIONS,
                           **params)
    try:
        summary = model.run()
        write_outputs(model, summary, folder)
    finally:
        model.close()
    return summary


def fresh_folder(folder: Path) -> None:
    """Empty a run folder left by an unfinished attempt (never one with a done marker)."""
    if (folder / "done.json").exists():
        raise FileExistsError(f"{folder} holds a finished run (done.json); it is not re-run")
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)


def execute_run(run: RunSpec, runs_dir: str | None) -> RunOutcome:
    """Run one sweep item; failures come back as ``status="failed"`` with the error."""
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    started = time.perf_counter()
    try:
        if runs_dir is None:
            with tempfile.TemporaryDirectory(prefix=f"gridcoop-run-{run.key}-") as scratch:
                summary = simulate(run, Path(scratch))
                files = {p.name: p.read_bytes() for p in sorted(Path(scratch).iterdir())
                         if p.is_file()}
        else:
            folder = Path(runs_dir) / run.key
            fresh_folder(folder)
            summary = simulate(run, folder)
            files = None
    except Exception as exc:
        return _outcome(run, "failed", started_at, started, error=f"{type(exc).__name__}: {exc}",
                        details=traceback.format_exc())
    return _outcome(run, "ok", started_at, started, summary=summary, files=files)


def _outcome(run: RunSpec, status: str, started_at: str, started: float,
             **result: Any) -> RunOutcome:
    return RunOutcome(key=run.key, status=status, started_at=started_at,
                      duration_s=round(time.perf_counter() - started, 3),
                      host=socket.gethostname(), pid=os.getpid(), **result)
