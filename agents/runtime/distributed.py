"""One community across processes (and machines): how a multi-process run is built.

Why a factory and not a model subclass: a multi-process run is a
``CommunityModel`` whose ``Regions`` part is
:class:`~gridcoop.agents.runtime.regions.WorkerRegions` (the regions' meters,
members, books and replicas in worker processes, driven over a control
channel); the phases, the central market, settlement, the ledger and the
extensions are the one-process code. Same scenario and seed, same KPIs,
trades and ledger head hash.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gridcoop.agents.bus.messages import MAX_MESSAGE_BYTES
from gridcoop.agents.model.community import CommunityModel
from gridcoop.agents.runtime.keys import load_market_keys, load_worker_keys, make_keys
from gridcoop.agents.runtime.regions import WorkerRegions
from gridcoop.agents.runtime.remote_aggregator import RemoteAggregator
from gridcoop.agents.runtime.worker import WorkerError

__all__ = ["DistributedModel", "RemoteAggregator", "WorkerError", "WorkerRegions",
           "load_market_keys", "load_worker_keys", "make_keys"]


def DistributedModel(scenario: str = "neighbourhood", *, processes: int = 2,
                     remote: int = 0, listen: str = "127.0.0.1:0",
                     curve_dir: str | Path | None = None, timeout_s: float = 60.0,
                     dask: str | None = None, insecure: bool = False,
                     max_message_bytes: int = MAX_MESSAGE_BYTES,
                     **kwargs: Any) -> CommunityModel:
    """A ``CommunityModel`` with its regions hosted by ``processes`` local worker processes
    (or ``processes`` tasks on the Dask cluster at ``dask``, ``"local"`` for a LocalCluster),
    and by ``remote`` workers started elsewhere (``gridcoop worker``) that join at ``listen``
    (``HOST:PORT``; port 0 picks one, see ``model.region_host.control_address``).

    Every socket uses CurveZMQ with fresh keys of this run (``curve_dir``: the market's and
    the remote workers' key files instead); ``insecure=True`` gives plain tcp, for local
    worker processes on a machine nobody else uses. ``max_message_bytes`` bounds one bus
    message (larger ones travel in parts up to it)."""
    regions = WorkerRegions(scenario, kwargs, processes=processes, remote=remote, listen=listen,
                            curve_dir=curve_dir, timeout_s=timeout_s, dask=dask,
                            insecure=insecure, max_message_bytes=max_message_bytes)
    return CommunityModel(scenario, transport="tcp", region_host=regions, **kwargs)
