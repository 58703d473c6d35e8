"""The fuzzing budget: examples per hypothesis target in one CI run.

``GRIDCOOP_FUZZ_EXAMPLES`` raises it for a long local campaign; CI keeps the
default so every target runs on every push within a few seconds.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("GRIDCOOP_FUZZ_EXAMPLES", "300"))

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
