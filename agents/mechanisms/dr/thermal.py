"""A first-order (one resistance, one capacitance) thermal model, vectorised.

Why first order: it is the smallest model in which switching a heater, an air
conditioner or a fridge off for a while has a predictable cost in degrees, and
it has an exact discrete-time solution, so the comfort check of a command and
its execution compute the very same temperatures.

    C dT/dt = (T_amb - T) / R + s * cop * P - L

``s`` is +1 for a heater and -1 for a cooler, ``cop`` the heat moved per kWh
of electricity, ``L`` a constant heat draw (hot water used). Over a step of
``dt_h`` hours with constant power ``P``:

    T(t + dt) = T_inf + (T - T_inf) * exp(-dt / (R C)),   T_inf = T_amb + R (s cop P - L)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


class ThermalParamsError(ValueError):
    """Thermal parameters that make no physical sense."""


@dataclass(frozen=True, slots=True)
class ThermalParams:
    """One thermal zone (room, fridge cabinet, water tank) and its comfort band."""

    mode: int  # +1 heats, -1 cools
    resistance_c_per_kw: float
    capacitance_kwh_per_c: float
    cop: float
    ambient_c: float
    band_low_c: float
    band_high_c: float
    initial_c: float
    heat_draw_kw: float = 0.0

    def __post_init__(self) -> None:
        if self.mode not in (1, -1):
            raise ThermalParamsError(f"mode must be +1 (heat) or -1 (cool); got {self.mode}")
        for name in ("resistance_c_per_kw", "capacitance_kwh_per_c", "cop"):
            if not getattr(self, name) > 0:
                raise ThermalParamsError(f"{name} must be > 0; got {getattr(self, name)}")
        if not self.band_low_c < self.band_high_c:
            raise ThermalParamsError(
                f"comfort band must have band_low_c < band_high_c; got "
                f"{self.band_low_c}..{self.band_high_c}"
            )
        if self.heat_draw_kw < 0:
            raise ThermalParamsError(f"heat_draw_kw must be >= 0; got {self.heat_draw_kw}")


# Defaults. A classroom HVAC unit standing for a 3 kW house: UA 0.2 kW/°C, 5 h
# time constant, winter ambient 12 °C, band 19-23 °C (duty ~60 % at 21 °C).
HOUSE_HVAC = ThermalParams(
    mode=1,
    resistance_c_per_kw=5.0,
    capacitance_kwh_per_c=1.0,
    cop=1.0,
    ambient_c=12.0,
    band_low_c=19.0,
    band_high_c=23.0,
    initial_c=21.0,
)
# Air conditioner of the DOMAIN table (1 kW, COP 3) cooling a room on a warm evening
# (1.5 h time constant, duty ~67 % at 24 °C).
ROOM_AC = ThermalParams(
    mode=-1,
    resistance_c_per_kw=3.0,
    capacitance_kwh_per_c=0.5,
    cop=3.0,
    ambient_c=30.0,
    band_low_c=22.0,
    band_high_c=26.0,
    initial_c=24.0,
)
# Refrigerator (0.125 kW, COP 3): cabinet 2-6 °C in a 20 °C kitchen, ~6 h time constant.
FRIDGE = ThermalParams(
    mode=-1,
    resistance_c_per_kw=80.0,
    capacitance_kwh_per_c=0.08,
    cop=3.0,
    ambient_c=20.0,
    band_low_c=2.0,
    band_high_c=6.0,
    initial_c=4.0,
)
# 150 l water heater (1.5 kW resistive): 0.174 kWh/°C, standby loss ~1.5 kWh/day,
# 4.5 kWh/day of hot water drawn (the table's 3 h x 1.5 kW), band 45-60 °C.
WATER_TANK = ThermalParams(
    mode=1,
    resistance_c_per_kw=640.0,
    capacitance_kwh_per_c=0.174,
    cop=1.0,
    ambient_c=18.0,
    band_low_c=45.0,
    band_high_c=60.0,
    initial_c=55.0,
    heat_draw_kw=0.1875,
)


def next_temperature_c(
    temp_c: FloatArray,
    power_kw: FloatArray,
    dt_h: float,
    mode: FloatArray,
    resistance: FloatArray,
    capacitance: FloatArray,
    cop: FloatArray,
    ambient_c: FloatArray,
    heat_draw_kw: FloatArray,
) -> FloatArray:
    """Temperature after ``dt_h`` hours at constant ``power_kw`` (exact solution)."""
    decay = np.exp(-dt_h / (resistance * capacitance))
    settle = ambient_c + resistance * (mode * cop * power_kw - heat_draw_kw)
    result: FloatArray = settle + (temp_c - settle) * decay
    return result


def band_distance_c(temp_c: FloatArray, low_c: FloatArray, high_c: FloatArray) -> FloatArray:
    """How far outside its comfort band each temperature is (0 inside)."""
    result: FloatArray = np.maximum(low_c - temp_c, 0.0) + np.maximum(temp_c - high_c, 0.0)
    return result
