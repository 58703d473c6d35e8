"""Fixtures shared by the market's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gridcoop.market import registry as registry_module


@pytest.fixture
def scratch_registry() -> Iterator[None]:
    """Let a test register mechanisms and take them away again."""
    saved = dict(registry_module._MECHANISMS)
    saved_signatures = dict(registry_module._SIGNATURES)
    saved_crossing = set(registry_module._CROSSING_ONLY)
    yield
    registry_module._MECHANISMS.clear()
    registry_module._MECHANISMS.update(saved)
    registry_module._SIGNATURES.clear()
    registry_module._SIGNATURES.update(saved_signatures)
    registry_module._CROSSING_ONLY.clear()
    registry_module._CROSSING_ONLY.update(saved_crossing)
