"""Where runs execute: local worker processes, or Dask distributed.

Both give the same thing: ``map_unordered(fn, items, *args)`` yields
``(item, result_or_exception)`` as each finishes. Neither is a scheduler of
our own: local runs use ``concurrent.futures.ProcessPoolExecutor`` with the
``spawn`` start method (a fresh interpreter per worker, so no ZeroMQ context,
SQLite handle or thread is inherited through ``fork``); Dask runs use a
``LocalCluster`` of worker processes or an existing scheduler.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol, TypeVar

from gridcoop.experiments.batch.spec import SweepError

T = TypeVar("T")
Result = Any


class WorkerDiedError(RuntimeError):
    """The process running a task died (killed, out of memory, crashed in C code)."""


class Executor(Protocol):
    """Runs ``fn(item, *args)`` for every item; yields each item with its result or error."""

    description: str
    ships_files: bool

    def map_unordered(self, fn: Callable[..., Result], items: Sequence[T],
                      *args: Any) -> Iterator[tuple[T, Result | BaseException]]: ...

    def close(self) -> None: ...


class LocalProcesses:
    """``workers`` spawned processes on this machine.

    At most ``workers`` tasks are in flight, so when a worker process dies
    (``BrokenProcessPool`` fails every task in flight) only those few are
    suspects: the rest of the queue goes on in a fresh pool, and each suspect
    runs once more alone; only a task that kills its own process is reported
    as failed (``WorkerDiedError``), and the sweep goes on.
    """

    ships_files = False

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.description = f"{self.workers} local worker process(es) (spawn)"

    def map_unordered(self, fn: Callable[..., Result], items: Sequence[T],
                      *args: Any) -> Iterator[tuple[T, Result | BaseException]]:
        queue = deque(items)
        suspects: list[T] = []
        while queue:
            yield from self._until_broken(fn, queue, args, suspects, self.workers)
        for item in suspects:
            again: list[T] = []
            yield from self._until_broken(fn, deque([item]), args, again, 1)
            if again:
                yield item, WorkerDiedError(
                    "the worker process running it died, also when run alone (killed, out of "
                    "memory or a crash in native code); it is run again on the next resume")

    @staticmethod
    def _until_broken(fn: Callable[..., Result], queue: deque[T], args: tuple[Any, ...],
                      broken: list[T], workers: int
                      ) -> Iterator[tuple[T, Result | BaseException]]:
        """Run items off ``queue`` in one pool until it is empty or the pool breaks."""
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(max_workers=min(workers, len(queue)), mp_context=context)
        in_flight: dict[Future[Result], T] = {}
        try:
            while queue or in_flight:
                while queue and len(in_flight) < workers:
                    item = queue.popleft()
                    in_flight[pool.submit(fn, item, *args)] = item
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                before = len(broken)
                for future in done:
                    yield from _settle(future, in_flight.pop(future), broken)
                if len(broken) > before:  # the pool is dead: settle the rest, then stop
                    for future, item in in_flight.items():
                        yield from _settle(future, item, broken)
                    return
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        """Nothing outlives ``map_unordered``: each call opens and shuts its own pool."""


def _settle(future: Future[Result], item: T,
            broken: list[T]) -> Iterator[tuple[T, Result | BaseException]]:
    """Yield a finished task's result or error; a task lost with its pool goes to ``broken``."""
    try:
        yield item, future.result()
    except BrokenProcessPool:
        broken.append(item)
    except Exception as exc:
        yield item, exc


class DaskExecutor:
    """Dask distributed: ``"local"`` starts a ``LocalCluster`` of worker processes (one
    thread each); any other value is a scheduler address (``tcp://host:8786``).

    On a remote scheduler the workers may not see the output folder, so by
    default the run's files come back through Dask (``ships_files``); with
    ``shared_fs=True`` the workers write into the output folder themselves.
    """

    def __init__(self, address: str, workers: int | None = None,
                 shared_fs: bool = False) -> None:
        try:
            distributed: Any = importlib.import_module("distributed")
        except ImportError:
            raise SweepError("--dask needs Dask distributed: pip install 'gridcoop[dist]'") \
                from None
        self._cluster: Any = None
        if address == "local":
            n = max(1, workers or os.cpu_count() or 1)
            self._cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1,
                                                     processes=True, dashboard_address=None)
            self._client = distributed.Client(self._cluster)
            self.ships_files = False
            self.description = f"Dask LocalCluster, {n} worker process(es)"
        else:
            try:
                self._client = distributed.Client(address, timeout="20s")
            except (OSError, TimeoutError) as exc:
                self.close()
                raise SweepError(f"--dask {address}: cannot reach the Dask scheduler ({exc}); "
                                 "start one with `dask scheduler` and `dask worker ADDRESS`, "
                                 "or use --dask local") from None
            self.ships_files = not shared_fs
            nworkers = len(self._client.scheduler_info().get("workers", {}))
            self.description = f"Dask scheduler {address} ({nworkers} worker(s) at start)"

    def map_unordered(self, fn: Callable[..., Result], items: Sequence[T],
                      *args: Any) -> Iterator[tuple[T, Result | BaseException]]:
        from uuid import uuid4

        as_completed: Any = importlib.import_module("distributed").as_completed
        if not items:
            return
        tag = uuid4().hex[:8]
        futures = {}
        for index, item in enumerate(items):
            future = self._client.submit(fn, item, *args, key=f"gridcoop-run-{tag}-{index}",
                                         pure=False)
            futures[future.key] = (future, item)
        try:
            for future in as_completed([f for f, _ in futures.values()]):
                item = futures[future.key][1]
                try:
                    yield item, future.result()
                except Exception as exc:
                    yield item, exc
                finally:
                    future.release()
        finally:
            for future, _ in futures.values():
                future.cancel()

    def close(self) -> None:
        """Close the client, and the cluster if this executor started it."""
        client = getattr(self, "_client", None)
        if client is not None:
            client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(workers: int | None = None, dask: str | None = None,
                  shared_fs: bool = False) -> Executor:
    """The executor the CLI options ask for (local processes unless ``dask`` is given)."""
    if dask is None:
        if shared_fs:
            raise SweepError("--shared-fs only applies with --dask ADDRESS")
        return LocalProcesses(workers)
    if dask != "local" and workers is not None:
        raise SweepError("--workers applies to local processes and --dask local; a Dask "
                         "scheduler's workers are started with `dask worker`")
    return DaskExecutor(dask, workers, shared_fs)
