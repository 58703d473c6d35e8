"""What a sweep runs: the scenario, swept parameters, seeds, days, fixed overrides.

A ``Sweep`` is validated with pydantic (from the CLI or a YAML sweep file) and
expanded by ``plan`` into ``RunSpec`` items, one per parameter combination and
seed. Each run's key is a SHA-256 of exactly what determines its result
(scenario name and file text, swept values, seed, days, overrides), so a
re-run of the same sweep finds the runs it already finished, and a changed
input never reuses an old result.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gridcoop.agents.scenario.schema import ScenarioError, merge_params
from gridcoop.experiments.scenarios import builtin_scenarios, describe_parameters, load_scenario

KEY_VERSION = 1
RESERVED_NAMES = ("seed", "key", "status", "error", "duration_s", "scenario")
ModelT = TypeVar("ModelT", bound=BaseModel)


class SweepError(ValueError):
    """A sweep that cannot run as given; the message names the bad key and what to do."""


class Sweep(BaseModel):
    """A parameter sweep of one scenario: every combination of ``params`` times every seed."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    scenario: str = Field(min_length=1)
    params: dict[str, list[Any]] = Field(default_factory=dict)
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    days: int | None = Field(default=None, ge=1, le=3660)
    overrides: dict[str, Any] = Field(default_factory=dict, alias="set")

    @field_validator("seeds", mode="before")
    @classmethod
    def _count_to_list(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            if value < 1:
                raise ValueError(f"seeds={value}: give a count >= 1 or a list of seeds")
            return list(range(value))
        return value

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError(f"seeds {value} repeat a seed; list each seed once")
        return value

    @field_validator("params")
    @classmethod
    def _values(cls, value: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for name, values in value.items():
            if not name or name != name.strip():
                raise ValueError(f"parameter name {name!r} is empty or has spaces around it")
            if name in RESERVED_NAMES:
                hint = "use seeds" if name == "seed" else "it names a column of the results"
                raise ValueError(f"'{name}' cannot be swept as a parameter ({hint})")
            if not values:
                raise ValueError(f"{name}: give at least one value")
            texts = [_canonical(v) for v in values]
            if len(set(texts)) != len(texts):
                raise ValueError(f"{name}: the values {values} repeat a value")
        return value

    @field_validator("overrides")
    @classmethod
    def _nested_overrides(cls, value: dict[str, Any]) -> dict[str, Any]:
        return nest(value)

    @property
    def scenario_label(self) -> str:
        """The scenario's name as shown in tables: a built-in name, or the file's stem."""
        return self.scenario if self.scenario in builtin_scenarios() else Path(self.scenario).stem

    def size(self) -> int:
        """How many runs the sweep holds."""
        return math.prod(len(v) for v in self.params.values()) * len(self.seeds)


SWEEP_KEYS = ("scenario", "params", "seeds", "days", "set")


def sweep_from_dict(data: Any, source: str = "sweep") -> Sweep:
    """Validate a mapping (a parsed YAML sweep file or CLI options); errors name the bad key."""
    if not isinstance(data, dict):
        raise SweepError(f"{source} must be a mapping with at least 'scenario', "
                         f"got {type(data).__name__}")
    reject_unknown_keys(data, SWEEP_KEYS, source)
    return validate_model(Sweep, data, source)


def reject_unknown_keys(data: dict[str, Any], known: tuple[str, ...], source: str) -> None:
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.5)
            hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known)}"
            raise SweepError(f"{source}: unknown key '{key}'; {hint}")


def validate_model(model: type[ModelT], data: dict[str, Any], source: str) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False)[:5]:
            where = ".".join(str(p) for p in err["loc"]) or "(sweep)"
            message = err["msg"].removeprefix("Value error, ")
            problems.append(f"{where}: {message} (got {err.get('input')!r})")
        raise SweepError(f"{source}: " + "; ".join(problems)) from None


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """``{"mix.prosumer": 0.5}`` -> ``{"mix": {"prosumer": 0.5}}`` (nested dicts merge)."""
    out: dict[str, Any] = {}
    for name, value in flat.items():
        *parents, leaf = str(name).split(".")
        node: dict[str, Any] = {}
        top = node
        for part in parents:
            node[part] = {}
            node = node[part]
        node[leaf] = nest(value) if isinstance(value, dict) else value
        out = merge_params(out, top)
    return out


def _canonical(value: Any) -> str:
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"value {value!r} is not plain data (numbers, text, lists, maps): "
                         f"{exc}") from None


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: picklable, so it travels to a worker process or a Dask worker."""

    key: str
    scenario: str
    label: str
    params: tuple[tuple[str, Any], ...]
    seed: int
    days: int | None
    overrides: dict[str, Any] = field(default_factory=dict)

    def model_params(self) -> dict[str, Any]:
        """The keyword overrides for ``load_scenario``: fixed overrides, then swept values."""
        return merge_params(self.overrides, nest(dict(self.params)))

    def describe(self) -> dict[str, Any]:
        """JSON-able identity of the run (written to its ``done.json``)."""
        return {"key": self.key, "scenario": self.label, "params": dict(self.params),
                "seed": self.seed, "days": self.days, "overrides": self.overrides}


def scenario_identity(scenario: str) -> dict[str, str]:
    """The scenario's name and a hash of its file's text (a changed file gives new keys)."""
    builtins = builtin_scenarios()
    path = builtins.get(scenario, Path(scenario))
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise SweepError(f"scenario: cannot read {path}: {exc.strerror}") from None
    name = scenario if scenario in builtins else path.stem
    return {"name": name, "sha256": hashlib.sha256(text).hexdigest()}


def run_key(identity: dict[str, str], params: dict[str, Any], seed: int, days: int | None,
            overrides: dict[str, Any]) -> str:
    """Stable 16-hex-digit key of one run (independent of the order parameters were given)."""
    payload = {"v": KEY_VERSION, "scenario": identity, "params": params, "seed": seed,
               "days": days, "overrides": overrides}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def check_names(sweep: Sweep) -> None:
    """Fail before any run if the scenario, an override or a swept name is unknown.

    Values are not checked here: a value that makes the scenario invalid fails
    only its own runs, which the results table reports.
    """
    if sweep.days is not None and "days" in sweep.params:
        raise SweepError("days is given both as --days and as a swept parameter; keep one")
    clash = sorted(set(sweep.params) & set(_flat_names(sweep.overrides)))
    if clash:
        raise SweepError(f"{', '.join(clash)} is both swept and fixed by --set/set; keep one")
    try:
        kind, base = load_scenario(sweep.scenario, (), days=sweep.days, **sweep.overrides)
        known = describe_parameters(kind, base)
    except ScenarioError as exc:
        fixed = " with the fixed overrides (--set)" if sweep.overrides else ""
        raise SweepError(f"scenario '{sweep.scenario}'{fixed}: {exc}") from None
    groups = {".".join(k.split(".")[:i]) for k in known for i in range(1, k.count(".") + 1)}
    names = set(known) | groups
    for name in sweep.params:
        if name not in names:
            close = difflib.get_close_matches(name, sorted(names), n=1, cutoff=0.5)
            hint = f"did you mean '{close[0]}'?" if close else \
                f"see them with `gridcoop scenarios {sweep.scenario} --all`"
            raise SweepError(f"params: unknown parameter '{name}' of scenario "
                             f"'{sweep.scenario}'; {hint}")


def _flat_names(nested: dict[str, Any], prefix: str = "") -> list[str]:
    names = []
    for key, value in nested.items():
        names.append(f"{prefix}{key}")
        if isinstance(value, dict):
            names.extend(_flat_names(value, f"{prefix}{key}."))
    return names


def plan(sweep: Sweep) -> list[RunSpec]:
    """Every run of the sweep, in the order given (parameters, then seeds)."""
    identity = scenario_identity(sweep.scenario)
    scenario = sweep.scenario
    if scenario not in builtin_scenarios():
        scenario = str(Path(scenario).resolve())
    names = list(sweep.params)
    runs = []
    for values in itertools.product(*(sweep.params[n] for n in names)):
        params = tuple(zip(names, values, strict=True))
        for seed in sweep.seeds:
            key = run_key(identity, dict(params), seed, sweep.days, sweep.overrides)
            runs.append(RunSpec(key=key, scenario=scenario, label=identity["name"],
                                params=params, seed=seed, days=sweep.days,
                                overrides=sweep.overrides))
    return runs
