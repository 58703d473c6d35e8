"""Assemble the page: Mesa's step / play / reset controller, the scenario's controls, the panels.

``GridcoopPage`` is model-agnostic: it takes the model class and the control
specification, so the same page serves a simulated community and (through the
same :class:`~gridcoop.experiments.viz.protocol.PageSource`) a live one.

Why not Mesa's whole ``SolaraViz``: its grid of fixed-height cells clipped the
network and let Solara's badge cover the ledger table, it added a tab per
"page", showed every control whatever the scenario, and its step counter
counts page refreshes, not the live model's intervals. The page keeps Mesa's
``ModelController`` (the Step, Play and Reset logic) and lays out the rest
itself.

Each browser session builds its own model: a module-level model instance, as
in Mesa's examples, would be shared (and stepped) by every visitor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import solara as _solara
from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import update_counter

from gridcoop.experiments.viz.components import PageBody, component
from gridcoop.experiments.viz.controls import applies, scenario_kind
from gridcoop.experiments.viz.formatting import format_sim_time
from gridcoop.experiments.viz.source import as_page_source

# Solara re-exports its API implicitly, which mypy does not see; the page uses it untyped.
solara: Any = _solara

PLAY_INTERVAL_MS = 300


def initial_values(model_params: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of the first model: each control's value, or the fixed value."""
    return {name: spec["value"] if isinstance(spec, dict) and "type" in spec else spec
            for name, spec in model_params.items()}


def close_model(model: Any) -> None:
    """Release what a replaced model holds (its bus sockets, its ledger file)."""
    close = getattr(model, "close", None)
    if callable(close):
        close()


def shown_value(value: Any) -> str:
    """A control's value as its label shows it."""
    return f"{value:.2f}" if isinstance(value, float) else str(value)


@component
def ScenarioControls(model_params: Mapping[str, Any], values: Any) -> None:
    """The chosen scenario's controls, each label showing its value; Reset applies them."""
    kind = solara.use_memo(lambda: scenario_kind(str(values.value.get("scenario", ""))),
                           [values.value.get("scenario")])

    def setter(name: str) -> Callable[[Any], None]:
        return lambda value: values.set({**values.value, name: value})

    for name, spec in model_params.items():
        if not (isinstance(spec, dict) and "type" in spec) or not applies(name, kind):
            continue
        value = values.value.get(name, spec["value"])
        with solara.Column(gap="0px", classes=["gridcoop-control", f"gridcoop-control-{name}"]):
            if spec["type"] == "Select":
                solara.Select(spec["label"], value=value, values=spec["values"],
                              on_value=setter(name))
                continue
            # The label on its own line: beside the slider a long label left it 0 px wide.
            solara.Text(f"{spec['label']}: {shown_value(value)}", style={"font-size": "13px"})
            slider = solara.SliderFloat if spec["type"] == "SliderFloat" else solara.SliderInt
            slider("", value=value, min=spec["min"], max=spec["max"], step=spec["step"],
                   on_value=setter(name), thumb_label=True)
    solara.Text("Reset builds a new community with these values.",
                style={"font-size": "12px", "color": "#666"})


@component
def StepInfo(model: Any, live: bool) -> None:
    """The model's own step (interval) count and simulated time."""
    update_counter.get()
    source = as_page_source(model)
    if live:
        solara.Text(f"Live interval: {source.step_count}", classes=["gridcoop-live-steps"])
    else:
        solara.Text(f"Step: {model.steps}")
    solara.Text(f"simulated time {format_sim_time(source.time_s)}",
                style={"font-size": "12px", "color": "#666"})


@component
def GridcoopPage(model_class: Callable[..., Any], model_params: Mapping[str, Any],
                 name: str = "gridcoop", live: bool = False) -> None:
    """Controller, controls and panels for a model built from ``model_params``.

    Reset replaces the model in ``model``; the effect closes the one it replaced
    (and the last one when the session ends).
    """
    first = solara.use_memo(lambda: model_class(**initial_values(model_params)), [])
    model = solara.use_reactive(first)
    values = solara.use_reactive(initial_values(model_params))
    play_interval = solara.use_reactive(PLAY_INTERVAL_MS)
    render_interval = solara.use_reactive(1)
    use_threads = solara.use_reactive(False)

    def close_when_replaced() -> Callable[[], None]:
        current = model.value
        return lambda: close_model(current)

    solara.use_effect(close_when_replaced, [model.value])
    solara.Title(name)
    with solara.AppBar():
        solara.AppBarTitle(name)
        if live:
            solara.v.Chip(children=["LIVE: real meters"], color="red", text_color="white",
                          class_="gridcoop-live-badge")
    with solara.Sidebar(), solara.Column():
        with solara.Card("Run" if not live else "Live"):
            if live:
                solara.Text("This page follows a live community: Step and Play fetch its "
                            "newest interval; they do not drive it.",
                            style={"font-size": "12px"})
            for label, reactive, low, high, step in (
                    ("Play Interval (ms)", play_interval, 50, 2000, 50),
                    ("Render Interval (steps)", render_interval, 1, 100, 1)):
                with solara.Column(gap="0px", classes=["gridcoop-control"]):
                    solara.Text(f"{label}: {reactive.value}", style={"font-size": "13px"})
                    solara.SliderInt("", value=reactive, min=low, max=high, step=step)
            ModelController(model, model_parameters=values, play_interval=play_interval,
                            render_interval=render_interval, use_threads=use_threads)
            StepInfo(model.value, live)
        if not live and model_params:
            with solara.Card("Scenario"):
                ScenarioControls(model_params, values)
    PageBody(model.value)
