"""Assemble the page: Mesa's SolaraViz (controls, step / play / reset) plus gridcoop's panels.

``GridcoopPage`` is model-agnostic: it takes the model class and the control
specification, so the same page serves a simulated community and (through the
same :class:`~gridcoop.experiments.viz.protocol.PageSource`) a live one.

Each browser session builds its own model: a module-level model instance, as
in Mesa's examples, would be shared (and stepped) by every visitor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import solara as _solara
from mesa.visualization import SolaraViz

from gridcoop.experiments.viz.components import PAGE_COMPONENTS, component

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


@component
def GridcoopPage(model_class: Callable[..., Any], model_params: Mapping[str, Any],
                 name: str = "gridcoop") -> None:
    """SolaraViz with the gridcoop panels on one grid, for a model built from ``model_params``.

    Mesa's Reset replaces the model in ``model``; the effect closes the one it
    replaced (and the last one when the session ends).
    """
    first = solara.use_memo(lambda: model_class(**initial_values(model_params)), [])
    model = solara.use_reactive(first)

    def close_when_replaced() -> Callable[[], None]:
        current = model.value
        return lambda: close_model(current)

    solara.use_effect(close_when_replaced, [model.value])
    solara.Title(name)
    SolaraViz(model, components=[(panel, 0) for panel in PAGE_COMPONENTS],
              model_params=dict(model_params), name=name, play_interval=PLAY_INTERVAL_MS)
