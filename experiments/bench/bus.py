"""``gridcoop bench bus``: how fast messages cross the ZeroMQ bus.

Every throughput figure is the whole path the model pays for: build nothing
(messages are made before the clock starts), then encode, send, receive,
validate, queue, acknowledge, read the ack and drain, in rounds of ``ROUND``
sends followed by ``bus.settle()`` and ``drain()``, the way the model's phases
use the bus. The endpoints share one process, so ``inproc``, ``tcp`` and
``tcp_curve`` run with ``handover=False``: every message is encoded and
decoded, as between processes. ``inproc_handover`` is what one process pays
by default (the receiver takes the sender's object; nothing is encoded for a
reliable send). ``model_step_us`` is one 15-minute metering phase of the
1,000-household benchmark community (10 regions each sending one 100-reading
batch to the market, then settle and drain); ``model_30_days_s`` multiplies it
by the 2,880 steps of 30 days. Best of three runs, garbage collector paused.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable
from typing import Any

from gridcoop.agents.bus.curve import CurveConfig, CurveKeyPair
from gridcoop.agents.bus.messages import (
    Ack,
    Bid,
    Envelope,
    LedgerBlock,
    MeterReading,
    MeterReadingBatch,
    decode,
    encode,
)
from gridcoop.agents.bus.transport import Bus

ROUND = 10
STEPS_30_DAYS = 30 * 96
REGIONS = 10


def _reading(i: int) -> MeterReading:
    return MeterReading(
        sim_time_s=900 * i,
        meter_id="meter-0001",
        interval_start_s=900 * i,
        interval_s=900,
        import_wh=312 + i % 7,
        export_wh=i % 3,
        counter=i,
    )


def _batch(region: str, n: int = 100) -> MeterReadingBatch:
    return MeterReadingBatch(
        sim_time_s=900,
        region_id=region,
        interval_start_s=0,
        interval_s=900,
        meter_ids=[f"{region}-meter-{k:04d}" for k in range(n)],
        import_wh=[(37 * k) % 900 for k in range(n)],
        export_wh=[(11 * k) % 400 for k in range(n)],
        counters=[41] * n,
    )


def _best(call: Callable[[], float], repeats: int = 3) -> float:
    """Best (smallest) of ``repeats`` timings in seconds, collector paused during each."""
    times = []
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        try:
            times.append(call())
        finally:
            gc.enable()
    return min(times)


def _codec_us(message: Envelope, codec: str, n: int) -> dict[str, float]:
    data = encode(message, codec)  # type: ignore[arg-type]

    def enc() -> float:
        start = time.perf_counter()
        for _ in range(n):
            encode(message, codec)  # type: ignore[arg-type]
        return time.perf_counter() - start

    def dec() -> float:
        start = time.perf_counter()
        for _ in range(n):
            decode(data, codec)  # type: ignore[arg-type]
        return time.perf_counter() - start

    return {
        "encode_us": _best(enc) / n * 1e6,
        "decode_us": _best(dec) / n * 1e6,
        "bytes": float(len(data)),
    }


def _throughput(bus: Bus, make: Callable[[int], Envelope], n: int) -> float:
    """Reliable messages per second from one sender to one receiver, settled every ROUND."""
    sender, receiver = bus.endpoint("sender"), bus.endpoint("receiver")
    messages = [[make(i) for i in range(n)] for _ in range(3)]
    runs = iter(messages)

    def once() -> float:
        batch = next(runs)
        received = 0
        start = time.perf_counter()
        for i, message in enumerate(batch):
            message.id = ""
            sender.send("receiver", message)
            if i % ROUND == ROUND - 1:
                bus.settle()
                received += len(receiver.drain())
        bus.settle()
        received += len(receiver.drain())
        elapsed = time.perf_counter() - start
        assert received == n, (received, n)
        return elapsed

    return n / _best(once)


def _model_step_us(bus: Bus, steps: int) -> float:
    regions = [bus.endpoint(f"region-{r:02d}") for r in range(REGIONS)]
    market = bus.endpoint("market")
    batches = [[_batch(region.name) for region in regions] for _ in range(steps)]

    def once() -> float:
        start = time.perf_counter()
        for step in batches:
            for region, batch in zip(regions, step, strict=True):
                batch.id = ""
                region.send("market", batch)
            bus.settle()
            assert len(market.drain()) == REGIONS
        return time.perf_counter() - start

    return _best(once) / steps * 1e6


def _request_us(bus: Bus, n: int) -> float:
    client, server = bus.endpoint("client"), bus.endpoint("server")
    server.serve("bid", lambda m: Ack(acked_ids=[m.id]))
    bids = [
        Bid(
            auction_id="a",
            order_id=f"o{i}",
            participant_id="p",
            energy_wh=1_000,
            price_ueur_per_kwh=80_000,
        )
        for i in range(3 * n)
    ]
    runs = iter([bids[k * n : (k + 1) * n] for k in range(3)])

    def once() -> float:
        start = time.perf_counter()
        for bid in next(runs):
            client.request("server", bid)
        return time.perf_counter() - start

    return _best(once) / n * 1e6


def _publish_per_s(bus: Bus, n: int, subscribers: int) -> float:
    market = bus.endpoint("market")
    replicas = [bus.endpoint(f"replica-{k}") for k in range(subscribers)]
    for replica in replicas:
        replica.subscribe("market", "ledger")
    block = LedgerBlock(height=1, block_hash="ab" * 32, block_bytes=b"\x07" * 2_000)

    def once() -> float:
        start = time.perf_counter()
        for i in range(n):
            block.id = ""
            market.publish("ledger", block)
            if i % ROUND == ROUND - 1:
                bus.settle()
                for replica in replicas:
                    replica.drain()
        bus.settle()
        for replica in replicas:
            replica.drain()
        return time.perf_counter() - start

    return n / _best(once)


def run(quick: bool) -> dict[str, Any]:
    n_codec = 200 if quick else 5_000
    n_single = 300 if quick else 10_000
    n_batch = 100 if quick else 2_000
    steps = 20 if quick else 300
    batch = _batch("region-01")
    figures: dict[str, Any] = {
        "codec": {
            "reading_json": _codec_us(_reading(1), "json", n_codec),
            "batch100_json": _codec_us(batch, "json", n_codec),
            "batch100_msgpack": _codec_us(batch, "msgpack", n_codec),
        },
    }
    figures["codec"]["batch100_json"]["bytes_per_reading"] = (
        figures["codec"]["batch100_json"]["bytes"] / 100
    )
    keys = CurveKeyPair.generate()
    setups: dict[str, Callable[[], Bus]] = {
        "inproc": lambda: Bus("inproc", handover=False),
        "tcp": lambda: Bus("tcp", handover=False),
        "tcp_curve": lambda: Bus("tcp", curve=CurveConfig(keys), handover=False),
        "inproc_handover": lambda: Bus("inproc"),
    }
    for name, make_bus in setups.items():
        result: dict[str, float] = {}
        with make_bus() as bus:
            result["single_msgs_per_s"] = _throughput(bus, _reading, n_single)
        with make_bus() as bus:
            per_s = _throughput(bus, lambda i: _batch("sender"), n_batch)
            result["batch100_msgs_per_s"] = per_s
            result["batch100_readings_per_s"] = per_s * 100
        with make_bus() as bus:
            result["request_reply_us"] = _request_us(bus, max(n_single // 10, 50))
        with make_bus() as bus:
            result["publish_2kB_to_3_subscribers_per_s"] = _publish_per_s(bus, n_batch, 3)
        with make_bus() as bus:
            step_us = _model_step_us(bus, steps)
            result["model_step_us"] = step_us
            result["model_30_days_s"] = step_us * STEPS_30_DAYS / 1e6
        figures[name] = result
    figures["round"] = ROUND
    figures["load_average_1min"] = os.getloadavg()[0]  # the machine is shared: read with care
    figures["note"] = "best of 3 runs; " + ("quick sizes" if quick else "full sizes")
    return figures
