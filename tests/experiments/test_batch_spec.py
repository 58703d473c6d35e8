"""Sweep specification, run keys, sweep files and table helpers: no model runs here."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from gridcoop.experiments.batch import (
    Sweep,
    SweepError,
    load_sweep_file,
    plan,
    run_key,
    sweep_from_dict,
)
from gridcoop.experiments.batch.spec import check_names, nest, scenario_identity
from gridcoop.experiments.batch.sweepfile import is_sweep_file
from gridcoop.experiments.batch.table import flatten, sort_key, typed_column
from gridcoop.experiments.cli import main
from gridcoop.experiments.commands.batch import parse_param
from gridcoop.experiments.scenarios import builtin_scenarios

IDENTITY = {"name": "neighbourhood", "sha256": "0" * 64}


def test_run_key_is_the_sha256_of_the_canonical_json() -> None:
    # Worked by hand: the payload below, keys sorted, no spaces, first 16 hex digits.
    text = ('{"days":1,"overrides":{"regions":2},"params":{"households":10,'
            '"mechanism":"pay_as_clear"},"scenario":{"name":"neighbourhood","sha256":"'
            + "0" * 64 + '"},"seed":3,"v":1}')
    expected = hashlib.sha256(text.encode()).hexdigest()[:16]
    key = run_key(IDENTITY, {"mechanism": "pay_as_clear", "households": 10}, 3, 1,
                  {"regions": 2})
    assert key == expected


scalars = st.one_of(st.integers(-1000, 1000), st.booleans(), st.text(max_size=5),
                    st.floats(allow_nan=False, allow_infinity=False))


@given(st.dictionaries(st.text(min_size=1, max_size=6), scalars, min_size=1, max_size=5),
       st.integers(0, 2**31), st.randoms())
def test_run_key_ignores_the_order_parameters_are_given_in(params: dict[str, object],
                                                           seed: int, rnd: object) -> None:
    items = list(params.items())
    rnd.shuffle(items)  # type: ignore[attr-defined]
    shuffled = dict(items)
    assert run_key(IDENTITY, params, seed, None, {}) == run_key(IDENTITY, shuffled, seed, None,
                                                                 {})
    assert run_key(IDENTITY, params, seed, None, {}) != run_key(IDENTITY, params, seed + 1,
                                                                 None, {})


def test_run_key_changes_with_every_input() -> None:
    base = run_key(IDENTITY, {"households": 10}, 0, 1, {})
    assert len({base,
                run_key(IDENTITY, {"households": 11}, 0, 1, {}),
                run_key(IDENTITY, {"households": 10}, 0, 2, {}),
                run_key(IDENTITY, {"households": 10}, 0, None, {}),
                run_key(IDENTITY, {"households": 10}, 0, 1, {"regions": 2}),
                run_key({**IDENTITY, "sha256": "1" * 64}, {"households": 10}, 0, 1, {})}) == 6


def test_scenario_identity_hashes_the_file_text(tmp_path: Path) -> None:
    builtin = scenario_identity("neighbourhood")
    text = builtin_scenarios()["neighbourhood"].read_bytes()
    assert builtin == {"name": "neighbourhood", "sha256": hashlib.sha256(text).hexdigest()}
    copy = tmp_path / "mine.yaml"
    copy.write_bytes(text)
    assert scenario_identity(str(copy)) == {"name": "mine", "sha256": builtin["sha256"]}
    copy.write_bytes(text + b"\n# edited\n")
    assert scenario_identity(str(copy))["sha256"] != builtin["sha256"]


def test_plan_expands_every_combination_in_the_given_order() -> None:
    sweep = Sweep(scenario="neighbourhood", params={"households": [10, 20],
                                                    "mechanism": ["average_bid",
                                                                  "pay_as_clear"]},
                  seeds=[5, 7], days=1)
    runs = plan(sweep)
    assert sweep.size() == len(runs) == 8
    assert [(dict(r.params)["households"], dict(r.params)["mechanism"], r.seed)
            for r in runs[:3]] == [(10, "average_bid", 5), (10, "average_bid", 7),
                                   (10, "pay_as_clear", 5)]
    assert len({r.key for r in runs}) == 8
    assert plan(sweep) == runs  # stable


def test_seed_count_and_overrides_are_normalised() -> None:
    sweep = Sweep(scenario="neighbourhood", seeds=3,
                  overrides={"mix.prosumer": 0.5, "mix": {"ev_owner": 0.1}, "regions": 2})
    assert sweep.seeds == [0, 1, 2]
    assert sweep.overrides == {"mix": {"prosumer": 0.5, "ev_owner": 0.1}, "regions": 2}
    assert plan(sweep)[0].model_params() == sweep.overrides
    assert nest({"a.b.c": 1, "a.b.d": 2, "e": 3}) == {"a": {"b": {"c": 1, "d": 2}}, "e": 3}


@pytest.mark.parametrize(("data", "message"), [
    ({"scenario": "neighbourhood", "parms": {}}, "unknown key 'parms'; did you mean 'params'"),
    ({"scenario": "neighbourhood", "params": {"seed": [1, 2]}}, "'seed' cannot be swept"),
    ({"scenario": "neighbourhood", "params": {"households": []}}, "households: give at least"),
    ({"scenario": "neighbourhood", "params": {"households": [1, 1]}}, "repeat a value"),
    ({"scenario": "neighbourhood", "params": {"households": 5}}, "params.households"),
    ({"scenario": "neighbourhood", "seeds": 0}, "give a count >= 1"),
    ({"scenario": "neighbourhood", "seeds": [1, 1]}, "repeat a seed"),
    ({"scenario": "neighbourhood", "days": 0}, "days"),
    ({"params": {}}, "scenario"),
])
def test_bad_sweeps_name_the_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(SweepError) as info:
        sweep_from_dict(data, "my.yaml")
    assert message in str(info.value)
    assert str(info.value).startswith("my.yaml")


@pytest.mark.parametrize(("sweep", "message"), [
    (Sweep(scenario="neighbourhood", params={"housholds": [1]}),
     "unknown parameter 'housholds' of scenario 'neighbourhood'; did you mean 'households'"),
    (Sweep(scenario="neighbourhood", params={"mix.prosumr": [0.5]}), "'mix.prosumer'"),
    (Sweep(scenario="nieghbourhood"), "did you mean 'neighbourhood'"),
    (Sweep(scenario="neighbourhood", params={"days": [1, 2]}, days=3), "days is given both"),
    (Sweep(scenario="neighbourhood", params={"regions": [1]}, overrides={"regions": 2}),
     "regions is both swept and fixed"),
    (Sweep(scenario="neighbourhood", overrides={"housholds": 2}), "--set"),
])
def test_unknown_names_fail_before_any_run(sweep: Sweep, message: str) -> None:
    with pytest.raises(SweepError) as info:
        check_names(sweep)
    assert message in str(info.value)


def test_groups_and_nested_names_are_known() -> None:
    check_names(Sweep(scenario="neighbourhood", params={
        "mix": [{"prosumer": 0.5, "ev_owner": 0.1, "dr_household": 0.4}],
        "strategy.jitter": [0.0, 0.1], "households": [5, 10]}))


def test_sweep_file_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "sweeps"
    folder.mkdir()
    (folder / "scn.yaml").write_bytes(builtin_scenarios()["neighbourhood"].read_bytes())
    path = folder / "s.yaml"
    path.write_text("scenario: scn.yaml\nseeds: 2\nparams: {households: [5, 6]}\n"
                    "set: {regions: 1}\nout: results\nworkers: 2\ndask: local\n")
    sweep, options = load_sweep_file(path)
    assert sweep.scenario == str(folder / "scn.yaml")
    assert sweep.scenario_label == "scn"
    assert options.out == str(folder / "results") and options.workers == 2
    assert options.dask == "local" and options.shared_fs is False
    assert is_sweep_file(str(path))
    assert not is_sweep_file(str(folder / "scn.yaml"))  # a scenario file: it has a kind
    assert not is_sweep_file("neighbourhood")


def test_sweep_file_errors_name_the_key(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("scenario: neighbourhood\nworkrs: 2\n")
    with pytest.raises(SweepError, match="unknown key 'workrs'; did you mean 'workers'"):
        load_sweep_file(path)
    path.write_text("scenario: neighbourhood\nworkers: 0\n")
    with pytest.raises(SweepError, match="workers: Input should be greater than or equal"):
        load_sweep_file(path)
    path.write_text("- just a list\n")
    with pytest.raises(SweepError, match="must hold a mapping"):
        load_sweep_file(path)
    path.write_text("scenario: [unclosed\n")
    with pytest.raises(SweepError, match="not valid YAML"):
        load_sweep_file(path)


def test_cli_param_values_are_read_as_yaml() -> None:
    assert parse_param("households=50,100") == ("households", [50, 100])
    assert parse_param("mechanism=average_bid, pay_as_clear") == \
        ("mechanism", ["average_bid", "pay_as_clear"])
    assert parse_param("strategy.jitter=0,0.1") == ("strategy.jitter", [0, 0.1])


@pytest.mark.parametrize(("args", "message"), [
    (["neighbourhood", "--param", "households"], "must look like name=value1,value2"),
    (["neighbourhood", "--param", "households=1,,2"], "empty value between commas"),
    (["neighbourhood", "--param", "housholds=1,2"], "did you mean 'households'"),
    (["neighbourhood", "--param", "seed=1,2"], "'seed' cannot be swept as a parameter (use seeds)"),
    (["campus-cases", "--param", "households=1,2"], "--param and --set do not apply"),
    (["neighbourhood", "--case", "campus-microgrid"], "--case only applies to campus-cases"),
    (["neighbourhood", "--shared-fs"], "--shared-fs only applies with --dask ADDRESS"),
    (["neighbourhood", "--dask", "tcp://127.0.0.1:1", "--workers", "2"],
     "--workers applies to local processes"),
])
def test_cli_rejects_bad_options_with_exit_2(args: list[str], message: str,
                                             tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["batch", *args, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not (tmp_path / "o" / "runs").exists()


def test_sort_key_orders_numbers_then_flags_then_text() -> None:
    values = ["b", 2.5, True, 1, "a", {"x": 1}, False]
    assert sorted(values, key=sort_key) == [1, 2.5, False, True, "a", "b", {"x": 1}]
    assert sort_key(math.nan) > sort_key(1e300)


def test_typed_columns_keep_values_exact() -> None:
    assert str(typed_column([1, None, 3]).dtype) == "Int64"
    assert str(typed_column([True, False]).dtype) == "boolean"
    floats = typed_column([0.1, None, 2])
    assert floats.dtype == "float64" and floats[0] == 0.1 and math.isnan(floats[1])
    assert typed_column([1, "a"]).tolist() == ["1", '"a"']
    assert typed_column([{"b": 1, "a": 2}, None]).tolist() == ['{"a": 2, "b": 1}', None]
    frame = pd.DataFrame({"n": typed_column([2**62 + 1, None])})
    assert frame["n"][0] == 2**62 + 1  # no float rounding of large integers


def test_flatten_nested_kpis() -> None:
    assert flatten({"a": 1, "cap": {"min_kw": 2, "mean": {"x": 3}}}) == \
        {"a": 1, "cap.min_kw": 2, "cap.mean.x": 3}
    assert json.loads(json.dumps(flatten({}))) == {}
