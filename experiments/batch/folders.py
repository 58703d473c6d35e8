"""The output folder of a sweep: one folder per run, markers written last and atomically.

Layout of ``DIR``::

    DIR/runs/<key>/      summary.json, ledger.sqlite, tables (*.csv), and then
                         done.json  (a finished run: written last, atomically)
                      or error.txt + error.json (a failed run; it is retried next time)
    DIR/results.parquet, DIR/results.csv, DIR/report.md, DIR/plots/*.png

A run counts as finished only when its ``done.json`` exists, and that file is
renamed into place after every other file of the run is on disk, so a sweep
killed at any moment leaves either a finished run or one that is re-run.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gridcoop.experiments.batch.execute import RunOutcome, fresh_folder
from gridcoop.experiments.batch.spec import RunSpec, SweepError

DONE = "done.json"
ERROR_TEXT = "error.txt"
ERROR_JSON = "error.json"


def run_folder(out_dir: Path, key: str) -> Path:
    """Where run ``key`` keeps its files."""
    return out_dir / "runs" / key


def is_finished(out_dir: Path, key: str) -> bool:
    """A run with a ``done.json`` marker is finished and is not run again."""
    return (run_folder(out_dir, key) / DONE).is_file()


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, flush it to disk, rename it over."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _json_bytes(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")


def record_outcome(out_dir: Path, run: RunSpec, outcome: RunOutcome) -> None:
    """Store a run's result in its folder; the done marker (or the error) comes last."""
    folder = run_folder(out_dir, run.key)
    facts = {**run.describe(), "status": outcome.status, "started_at": outcome.started_at,
             "duration_s": outcome.duration_s, "host": outcome.host, "pid": outcome.pid}
    if outcome.status == "ok":
        if outcome.files is not None:
            fresh_folder(folder)
            for name, data in outcome.files.items():
                (folder / Path(name).name).write_bytes(data)
        for stale in (ERROR_TEXT, ERROR_JSON):
            (folder / stale).unlink(missing_ok=True)
        summary = outcome.summary or {}
        files = sorted(p.name for p in folder.iterdir() if p.is_file() and p.name != DONE
                       and not p.name.startswith("."))
        write_atomic(folder / DONE, _json_bytes({
            **facts, "files": files, "ledger_head_hash": summary.get("ledger_head_hash")}))
        return
    folder.mkdir(parents=True, exist_ok=True)
    error = outcome.error or "unknown error"
    write_atomic(folder / ERROR_TEXT,
                 f"{error}\n\n{outcome.details or ''}".rstrip().encode("utf-8") + b"\n")
    write_atomic(folder / ERROR_JSON, _json_bytes({**facts, "error": error}))


def read_result(out_dir: Path, run: RunSpec) -> dict[str, Any]:
    """What the folder says about ``run``: status, KPIs (when finished), error, duration."""
    folder = run_folder(out_dir, run.key)
    if (folder / DONE).is_file():
        done = json.loads((folder / DONE).read_text(encoding="utf-8"))
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        return {"status": "ok", "error": None, "duration_s": done.get("duration_s"),
                "summary": summary}
    if (folder / ERROR_JSON).is_file():
        failed = json.loads((folder / ERROR_JSON).read_text(encoding="utf-8"))
        return {"status": "failed", "error": failed.get("error"),
                "duration_s": failed.get("duration_s"), "summary": {}}
    return {"status": "missing", "error": "not run (the sweep was interrupted)",
            "duration_s": None, "summary": {}}


@contextlib.contextmanager
def sweep_lock(out_dir: Path) -> Iterator[None]:
    """Hold ``DIR/.lock`` so two sweeps never write the same folder at once."""
    out_dir.mkdir(parents=True, exist_ok=True)
    handle = open(out_dir / ".lock", "a+")  # noqa: SIM115 - held for the whole sweep
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SweepError(f"another gridcoop batch is writing {out_dir}; wait for it to "
                             "finish or choose another --out") from None
        yield
    finally:
        handle.close()


def copy_files(source: Path, target: Path, patterns: tuple[str, ...]) -> list[Path]:
    """Copy the files of ``source`` matching ``patterns`` into ``target``; returns the copies."""
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for pattern in patterns:
        for path in sorted(source.glob(pattern)):
            if path.is_file():
                copied.append(Path(shutil.copy2(path, target / path.name)))
    return copied
