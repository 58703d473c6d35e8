"""Find, read and validate scenario files; apply ``--set name=value`` overrides.

Why params and not a model object: ``CommunityModel`` takes plain keyword
arguments (so SolaraViz and batch runs can rebuild it); a scenario file is
turned into ``(kind, params)`` and validated once here, so a typo fails before
any work starts, naming the key and the closest known one.
"""

from __future__ import annotations

import difflib
import math
from pathlib import Path
from typing import Any

import yaml

from gridcoop.agents.scenario.registry import KINDS, build_scenario
from gridcoop.agents.scenario.schema import ScenarioError, merge_params

BUILTIN_DIR = Path(__file__).parent / "builtin"
_PATH_KEYS = ("buyers_csv", "sellers_csv", "pv_profile_csv", "load_profile_csv")


def builtin_scenarios() -> dict[str, Path]:
    """Built-in scenario names and their YAML files."""
    return {p.stem: p for p in sorted(BUILTIN_DIR.glob("*.yaml"))}


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario file {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path} is not UTF-8 text (byte {exc.start})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path} is not valid YAML: {exc}") from None
    except RecursionError:  # PyYAML composes nested collections recursively
        raise ScenarioError(f"{path} nests its values too deeply to be a scenario") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path} must hold a mapping of scenario parameters, "
                            f"got {type(data).__name__}")
    return data


def _locate(name_or_path: str) -> Path:
    builtins = builtin_scenarios()
    if name_or_path in builtins:
        return builtins[name_or_path]
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise ScenarioError(f"scenario file {path} does not exist")
        return path
    close = difflib.get_close_matches(name_or_path, list(builtins), n=1, cutoff=0.4)
    hint = f"did you mean '{close[0]}'?" if close else "give a YAML file path instead"
    raise ScenarioError(f"unknown scenario '{name_or_path}'; built in: "
                        f"{', '.join(builtins)}; {hint}")


def _number(value: Any) -> Any:
    """``1e2`` (a string to YAML, which wants ``1.0e2``) and ``100.0`` are the number 100;
    a whole float becomes an int so integer parameters take it."""
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        if not math.isfinite(number):
            return value
        value = number
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    return value


def parse_sets(items: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """``["households=1000", "mix.prosumer=0.5"]`` -> nested dict; values are read as YAML."""
    out: dict[str, Any] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ScenarioError(f"--set {item!r} must look like name=value, e.g. households=1000")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        except RecursionError:
            raise ScenarioError(f"--set {name}: the value nests too deeply") from None
        value = _number(value)
        if name in _PATH_KEYS and isinstance(value, str) and value:
            value = str(Path(value).resolve())
        node = out
        *parents, leaf = name.split(".")
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ScenarioError(f"--set {item!r}: {part} was already set to a value")
            node = child
        node[leaf] = value
    return out


def load_scenario(name_or_path: str, sets: list[str] | tuple[str, ...] = (),
                  **overrides: Any) -> tuple[str, dict[str, Any]]:
    """Read a built-in scenario or a YAML file, apply ``--set`` items and keyword overrides,
    validate the result, and return ``(kind, params)`` for ``CommunityModel(kind, **params)``."""
    path = _locate(name_or_path)
    data = _read_yaml(path)
    kind = data.pop("kind", None)
    if not isinstance(kind, str):
        raise ScenarioError(f"{path} has no 'kind'; use one of {', '.join(KINDS)}")
    data.setdefault("name", path.stem)
    if kind in ("market-only", "neighbourhood"):
        data.setdefault("base_dir", str(path.parent.resolve()))
    params = merge_params(data, parse_sets(sets))
    params = merge_params(params, {k: v for k, v in overrides.items() if v is not None})
    build_scenario(kind, params)  # validate now, with messages that name the key
    return kind, params


def describe_parameters(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """Every parameter of the scenario with its effective value, as flat dotted keys."""
    scenario = build_scenario(kind, params)
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{prefix}{key}.", sub)
        else:
            flat[prefix.rstrip(".")] = value

    walk("", scenario.model_dump(mode="json"))
    return flat
