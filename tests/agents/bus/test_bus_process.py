"""Two real processes joined over tcp with CurveZMQ: reliable sends, a request, publications."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from gridcoop.agents.bus.curve import CurveConfig, CurveKeyPair
from gridcoop.agents.bus.messages import GateClosed, LedgerBlock, Reward
from gridcoop.agents.bus.transport import Bus, PeerAddress

# The market process: prints its address, publishes one ledger block per message it drains,
# answers a Reward request with the number drained so far, stops on a GateClosed "stop".
MARKET = textwrap.dedent(
    """
    import json, sys
    from gridcoop.agents.bus.transport import Bus
    from gridcoop.agents.bus.curve import CurveConfig, CurveKeyPair
    from gridcoop.agents.bus.messages import GateClosed, LedgerBlock, Reward

    setup = json.loads(sys.stdin.readline())
    keys = CurveKeyPair(setup["public"].encode(), setup["secret"].encode())
    config = CurveConfig(keys, allowed_clients={setup["client"].encode(): {"ra-1"}})
    with Bus("tcp", curve=config) as bus:
        market = bus.endpoint("market")
        received = []

        def take():
            for message in market.drain():
                received.append(message)
                market.publish("ledger", LedgerBlock(height=len(received), block_hash="00" * 32,
                                                     block_bytes=message.id.encode()))

        def count(request):
            take()  # sends that came before the request are in the inbox already (FIFO)
            return Reward(reward_id="count", member_id=request.member_id, tokens=len(received))

        market.serve("reward", count)
        address = bus.address_of("market")
        print(json.dumps([address.router, address.pub]), flush=True)
        while not any(m.auction_id == "stop" for m in received):
            bus.pump(0.01)
            take()
        bus.settle(timeout_s=10)
    print(json.dumps([m.auction_id for m in received]), flush=True)
    """
)


def test_two_processes_exchange_reliable_messages_requests_and_publications() -> None:
    market_keys, client_keys = CurveKeyPair.generate(), CurveKeyPair.generate()
    process = subprocess.Popen(
        [sys.executable, "-c", MARKET],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdin is not None and process.stdout is not None
        setup = {
            "public": market_keys.public.decode(),
            "secret": market_keys.secret.decode(),
            "client": client_keys.public.decode(),
        }
        process.stdin.write(json.dumps(setup) + "\n")
        process.stdin.flush()
        router, pub = json.loads(process.stdout.readline())
        with Bus("tcp", curve=CurveConfig(client_keys), ack_timeout_s=10) as bus:
            bus.add_peer("market", PeerAddress(router, pub, market_keys.public))
            ra = bus.endpoint("ra-1")
            ra.subscribe("market", "ledger")
            ra.send("market", GateClosed(auction_id="warm-up", order_count=0))
            ra.wait_acks()
            sent = [
                ra.send("market", GateClosed(auction_id=f"a{i}", order_count=i)) for i in range(100)
            ]
            ra.wait_acks()
            reply = ra.request("market", Reward(reward_id="q", member_id="ra-1", tokens=0))
            assert isinstance(reply, Reward)
            assert reply.tokens == 101  # every reliable message arrived before the request
            blocks: list[LedgerBlock] = []
            for _ in range(1_000):
                bus.pump(0.01)
                blocks += [m for m in ra.drain() if isinstance(m, LedgerBlock)]
                if blocks and blocks[-1].block_bytes == sent[-1].encode():
                    break
            # the warm-up's block may have gone out before the subscription reached the
            # market; every block published after it arrives, in order
            payloads = [b.block_bytes.decode() for b in blocks if b.height > 1]
            assert payloads == sent
            ra.send("market", GateClosed(auction_id="stop", order_count=0))
            ra.wait_acks()
            assert bus.stats.rejected == 0
        out, _ = process.communicate(timeout=30)
        assert json.loads(out) == ["warm-up", *[f"a{i}" for i in range(100)], "stop"]
        assert process.returncode == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
