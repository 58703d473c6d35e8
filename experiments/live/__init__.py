"""Live mode: the community attached to real meters and appliances (``gridcoop live``).

Public faces: ``load_config`` / ``LiveConfig`` (the validated YAML),
``LiveRunner`` (paces steps to wall time, reads meters through the hardware
bridge, estimates silent meters, sends commands, writes the durable journal
ledger), ``CommandQueue`` (where aggregators push ``hardware_bridge.Command``
objects) and ``ImportThresholdRule`` (a DR rule: shed an appliance when the
community imports too much).
"""

from gridcoop.experiments.live.commands import CommandQueue, ImportThresholdRule, QueuedCommand
from gridcoop.experiments.live.config import LiveConfig, LiveConfigError, load_config
from gridcoop.experiments.live.runner import LiveRunner

__all__ = [
    "CommandQueue",
    "ImportThresholdRule",
    "LiveConfig",
    "LiveConfigError",
    "LiveRunner",
    "QueuedCommand",
    "load_config",
]
