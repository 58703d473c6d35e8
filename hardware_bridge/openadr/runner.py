"""An asyncio loop on a thread of its own, so synchronous gridcoop code can run openleadr."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import threading
from collections.abc import Coroutine
from types import ModuleType
from typing import Any, TypeVar

T = TypeVar("T")


def openleadr() -> ModuleType:
    """The ``openleadr`` package, or a clear error saying how to install it."""
    try:
        return importlib.import_module("openleadr")
    except ImportError as exc:
        raise ImportError(
            "OpenADR needs openleadr: pip install 'gridcoop[openadr]'"
        ) from exc


async def _cancel_others() -> None:
    current = asyncio.current_task()
    others = [task for task in asyncio.all_tasks() if task is not current]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)


class LoopThread:
    """One event loop, running until :meth:`stop`; :meth:`call` runs a coroutine on it."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def call(self, coroutine: Coroutine[Any, Any, T], timeout_s: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout_s)

    def stop(self) -> None:
        """Cancel what is still pending (openleadr leaves its report workers), then stop."""
        if self.loop.is_running():
            with contextlib.suppress(TimeoutError, RuntimeError):  # stopping anyway
                self.call(_cancel_others(), timeout_s=10.0)
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        if not self.loop.is_running():
            self.loop.close()
