"""The results table of a sweep: one row per run, read back from the run folders.

Why from the folders and not from the outcomes in memory: a resumed sweep
only executes part of its runs, but its table holds all of them, and the
folders are the record that survives interruptions.

Columns: ``key``, ``scenario``, each swept parameter (named as swept), ``seed``,
``status`` (``ok`` / ``failed``), ``error``, ``duration_s``, then every KPI of
``summary.json`` (nested ones flattened as ``group.name``; a KPI that repeats
a column above, such as ``seed``, is not repeated), ``ledger_head_hash`` last.
Rows are sorted by the swept values, then the seed, so the table is the same
whatever order runs finished in.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gridcoop.experiments.batch.folders import read_result
from gridcoop.experiments.batch.spec import RunSpec

LEADING = ("key", "scenario")
RUN_COLUMNS = ("seed", "status", "error", "duration_s")
HEAD = "ledger_head_hash"


def sort_key(value: Any) -> tuple[int, Any]:
    """Numbers by value, then booleans, then text, then anything else by its JSON text."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA:  # a swept null (pd.NA in a nullable column)
        return (0, 0)
    if isinstance(value, bool):
        return (2, int(value))
    if isinstance(value, int | float):
        return (1, value if not math.isnan(value) else math.inf)
    if isinstance(value, str):
        return (3, value)
    return (4, json.dumps(value, sort_keys=True))


def flatten(summary: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested KPI groups become dotted columns."""
    flat: dict[str, Any] = {}
    for name, value in summary.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat


def typed_column(values: list[Any]) -> pd.Series:
    """One column with a dtype that keeps every value exact and survives Parquet.

    Integers stay integers (nullable ``Int64`` when a failed run leaves a gap),
    mixed or structured values become their JSON text.
    """
    present = [v for v in values if v is not None]
    kinds = {type(v) for v in present}
    if not present:
        return pd.Series(values, dtype="object")
    if kinds == {bool}:
        return pd.Series(values, dtype="boolean")
    if kinds == {int}:
        return pd.Series(values, dtype="Int64")
    if kinds <= {int, float}:
        return pd.Series([math.nan if v is None else float(v) for v in values], dtype="float64")
    if kinds == {str}:
        return pd.Series(values, dtype="object")
    return pd.Series([None if v is None else json.dumps(v, sort_keys=True) for v in values],
                     dtype="object")


def results_table(runs: Iterable[RunSpec], out_dir: Path) -> pd.DataFrame:
    """The table of ``runs`` as their folders under ``out_dir`` record them."""
    runs = sorted(runs, key=lambda r: ([sort_key(v) for _, v in r.params], r.seed, r.key))
    param_names = list(dict.fromkeys(name for run in runs for name, _ in run.params))
    taken = {*LEADING, *param_names, *RUN_COLUMNS, "scenario"}
    rows: list[dict[str, Any]] = []
    kpi_names: dict[str, None] = {}
    for run in runs:
        result = read_result(out_dir, run)
        row: dict[str, Any] = {"key": run.key, "scenario": run.label, **dict(run.params),
                               "seed": run.seed, "status": result["status"],
                               "error": result["error"], "duration_s": result["duration_s"]}
        for name, value in flatten(result["summary"]).items():
            if name not in taken:
                row[name] = value
                kpi_names.setdefault(name)
        rows.append(row)
    kpis = sorted(n for n in kpi_names if n != HEAD) + ([HEAD] if HEAD in kpi_names else [])
    columns = [*LEADING, *param_names, *RUN_COLUMNS, *kpis]
    frame = pd.DataFrame({c: typed_column([row.get(c) for row in rows]) for c in columns})
    frame.attrs["parameters"] = param_names
    frame.attrs["kpis"] = kpis
    return frame


def write_table(frame: pd.DataFrame, out_dir: Path) -> tuple[Path, Path]:
    """``results.parquet`` and ``results.csv``, each replaced atomically."""
    parquet, csv = out_dir / "results.parquet", out_dir / "results.csv"
    tmp_parquet, tmp_csv = out_dir / ".results.parquet.tmp", out_dir / ".results.csv.tmp"
    frame.to_parquet(tmp_parquet, index=False)
    frame.to_csv(tmp_csv, index=False)
    os.replace(tmp_parquet, parquet)
    os.replace(tmp_csv, csv)
    return parquet, csv
