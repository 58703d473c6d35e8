"""YAML sweep files: the sweep itself plus where and how to run it.

Example (every key but ``scenario`` is optional)::

    scenario: neighbourhood        # a built-in name, or a scenario YAML path
    days: 1
    seeds: 3                       # a count (0, 1, 2) or a list: [4, 8, 15]
    set: {households: 50, regions: 2}
    params:
      mechanism: [average_bid, pay_as_clear]
      mix: [{prosumer: 0.5, ev_owner: 0.1, dr_household: 0.4},
            {prosumer: 0.2, ev_owner: 0.4, dr_household: 0.4}]
    out: results/mechanisms        # relative to this file's folder
    workers: 2                     # or dask: local / tcp://scheduler:8786

Relative paths (``scenario``, ``out``) are read from the sweep file's folder,
so a sweep file and its scenario can move together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from gridcoop.experiments.batch.spec import (
    SWEEP_KEYS,
    Sweep,
    SweepError,
    reject_unknown_keys,
    sweep_from_dict,
    validate_model,
)
from gridcoop.experiments.scenarios import builtin_scenarios

OPTION_KEYS = ("out", "workers", "dask", "shared_fs")


class SweepOptions(BaseModel):
    """Where and how to run a sweep (the CLI's flags override these)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    out: str | None = None
    workers: int | None = Field(default=None, ge=1, le=1024)
    dask: str | None = Field(default=None, min_length=1)
    shared_fs: bool = False


def is_sweep_file(target: str) -> bool:
    """A YAML file with a top-level ``scenario`` key (scenario files have ``kind`` instead)."""
    path = Path(target)
    if target in builtin_scenarios() or path.suffix not in (".yaml", ".yml") \
            or not path.is_file():
        return False
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and "scenario" in data and "kind" not in data


def load_sweep_file(path: str | Path) -> tuple[Sweep, SweepOptions]:
    """Read and validate a sweep file; a bad key or value raises ``SweepError`` naming it."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SweepError(f"cannot read sweep file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SweepError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise SweepError(f"{path} must hold a mapping with at least 'scenario', "
                         f"got {type(data).__name__}")
    reject_unknown_keys(data, (*SWEEP_KEYS, *OPTION_KEYS), str(path))
    options_data: dict[str, Any] = {k: data.pop(k) for k in OPTION_KEYS if k in data}
    options = validate_model(SweepOptions, options_data, str(path))
    base = path.parent
    scenario = data.get("scenario")
    if isinstance(scenario, str) and scenario not in builtin_scenarios() \
            and not Path(scenario).is_absolute():
        data["scenario"] = str(base / scenario)
    if options.out is not None and not Path(options.out).is_absolute():
        options = options.model_copy(update={"out": str(base / options.out)})
    return sweep_from_dict(data, str(path)), options
